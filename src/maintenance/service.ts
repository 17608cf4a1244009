import { type Acting } from '../audit/model.ts';
import { audit } from '../audit/service.ts';
import type { Sql, Tx } from '../db/client.ts';
import { validationFailed, type ErrorDetail } from '../errors.ts';
import { findNodeRefs } from '../nodes/store.ts';
import { announcePublicChange } from '../statuspages/store.ts';
import { windowCovers, windowProblems, type MaintenanceRow, type NewMaintenance } from './model.ts';
import * as store from './store.ts';

/** Node ids or names to nodes (id → name), in order and without repeats; each unknown one is a problem. */
async function resolveNodes(tx: Tx, refs: string[], problems: ErrorDetail[]): Promise<Map<string, string>> {
  if (refs.length === 0) return new Map();
  const found = await findNodeRefs(tx, refs);
  const nodes = refs.map((ref, i) => {
    // An id wins over a name that happens to look like one, as in GET /v1/nodes/{id}.
    const node = found.find((n) => n.id === ref) ?? found.find((n) => n.name === ref);
    if (!node) problems.push({ field: `node_ids.${i}`, message: 'is not a node' });
    return node;
  });
  return new Map(nodes.filter((n) => n !== undefined).map((n) => [n.id, n.name]));
}

/**
 * A new window over the nodes `node_ids` names (ids or names) and those carrying all its labels.
 * The nodes it covers are woken at its start in the same transaction, so the evaluator moves them
 * into `maintenance` at its start (at once for one begun now) instead of at their next deadline.
 */
export async function createWindow(sql: Sql, input: NewMaintenance, now: Date, acting: Acting): Promise<MaintenanceRow> {
  return sql.begin(async (tx) => {
    const problems = windowProblems(input, now);
    const nodes = await resolveNodes(tx, input.node_ids, problems);
    if (problems.length > 0) throw validationFailed(problems);
    const created = await store.insertMaintenance(tx, { ...input, node_ids: [...nodes.keys()] }, now);
    await store.wakeCoveredNodes(tx, created, created.starts_at);
    const target = { type: 'maintenance', id: created.id, name: windowCovers(created, nodes) };
    await audit(tx, acting, { action: 'maintenance.create', target, detail: { node_ids: created.node_ids, labels: created.labels, time_zone: created.time_zone } }, now);
    // Status pages list windows ahead and say until when one lasts: every api process forgets them.
    await announcePublicChange(tx, ['pages']);
    return created;
  });
}

/**
 * Ends a window now (one not yet begun is cancelled: it ends where it starts) and wakes the nodes
 * it covered, so they leave `maintenance` at once. The window is kept. One already over
 * (isOverAt) is left as it is, with no audit entry and no wake: `ended` is false. Undefined when
 * there is no such window.
 */
export async function endWindow(sql: Sql, id: string, now: Date, acting: Acting): Promise<{ window: MaintenanceRow; ended: boolean } | undefined> {
  return sql.begin(async (tx) => {
    const result = await store.endMaintenance(tx, id, now);
    if (!result?.ended) return result;
    await store.wakeCoveredNodes(tx, result.window, now);
    const names = new Map((await findNodeRefs(tx, result.window.node_ids)).map((n) => [n.id, n.name]));
    await audit(tx, acting, { action: 'maintenance.end', target: { type: 'maintenance', id, name: windowCovers(result.window, names) } }, now);
    await announcePublicChange(tx, ['pages']);
    return result;
  });
}
