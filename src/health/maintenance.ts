import type { Queryable } from '../db/client.ts';
import { activeMaintenance, nextMaintenanceStart } from '../maintenance/store.ts';
import type { MaintenanceSpan } from './machine.ts';

/** Maintenance spans for a batch of due nodes: two set-wise queries per evaluator batch. */
export async function maintenanceSpans(tx: Queryable, nodeIds: string[], now: Date): Promise<Map<string, MaintenanceSpan>> {
  const [active, next] = await Promise.all([activeMaintenance(tx, nodeIds, now), nextMaintenanceStart(tx, nodeIds, now)]);
  const out = new Map<string, MaintenanceSpan>();
  for (const id of new Set([...active.keys(), ...next.keys()])) {
    const a = active.get(id);
    out.set(id, { from: a?.from ?? null, until: a?.until ?? null, nextStart: next.get(id) ?? null });
  }
  return out;
}
