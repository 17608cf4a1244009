import type { IncidentView, ReasonChanged, StateChanged } from '../api/shapes.ts';

// What the live feed tells its listeners (GET /v1/events, the console), and how writers announce
// changes to it across processes: a NOTIFY on one channel, committed with the change. Payloads carry
// ids only; each listening process reads the rows it reports, so a payload is small and bounded.

export const LIVE_CHANNEL = 'lifeline_live';

export const EVENT_TYPES = ['node.state_changed', 'node.reason_changed', 'incident.changed'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export type LiveEvent =
  | { type: 'node.state_changed'; data: StateChanged }
  | { type: 'node.reason_changed'; data: ReasonChanged }
  | { type: 'incident.changed'; data: IncidentView };

/** A node's transition to this version, or (a reason notice) its new reason at this version. */
export interface NodeChange {
  nodeId: string;
  version: number;
}

export type Notice = { kind: 'nodes'; changes: NodeChange[] } | { kind: 'reasons'; changes: NodeChange[] } | { kind: 'incidents'; ids: string[] };

/** Ids per NOTIFY: 100 × at most 48 bytes stays well under Postgres's 8,000-byte payload limit. */
const PER_NOTICE = 100;

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += PER_NOTICE) out.push(items.slice(i, i + PER_NOTICE));
  return out;
}

const changeNotices = (prefix: string, changes: NodeChange[]): string[] => chunks(changes).map((c) => `${prefix}${c.map((x) => `${x.nodeId}:${x.version}`).join(',')}`);

export const nodeNotices = (changes: NodeChange[]): string[] => changeNotices('n', changes);

/**
 * Nodes left in their state for a new reason, at the version they stay at (no transition moved it):
 * the reader drops one whose version moved on since, as the transition that moved it carries its
 * reason. A process of an earlier version ignores these, and says so in its log.
 */
export const reasonNotices = (changes: NodeChange[]): string[] => changeNotices('r', changes);

export function incidentNotices(ids: string[]): string[] {
  return chunks([...new Set(ids)]).map((c) => `i${c.join(',')}`);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The notice a payload holds; undefined for anything this version does not understand. */
export function parseNotice(payload: string): Notice | undefined {
  const items = payload.slice(1).split(',');
  if (payload[0] === 'i' && items.every((id) => UUID.test(id))) return { kind: 'incidents', ids: items };
  const kind = payload[0] === 'n' ? 'nodes' : payload[0] === 'r' ? 'reasons' : undefined;
  if (!kind) return undefined;
  const changes: NodeChange[] = [];
  for (const item of items) {
    const [nodeId, version] = item.split(':');
    if (!nodeId || !UUID.test(nodeId) || !/^\d{1,9}$/.test(version ?? '')) return undefined;
    changes.push({ nodeId, version: Number(version) });
  }
  return { kind, changes };
}
