import type { Queryable } from './client.ts';
import type { Checks, HeartbeatStatus, State } from '../health/decide.ts';

export interface DueRow {
  node_id: string;
  name: string;
  heartbeat_interval_seconds: number;
  grace_seconds: number;
  failures_for_down: number;
  successes_for_recovery: number;
  state: State;
  since: Date;
  version: number;
  received_at_entry: number;
  last_heartbeat_at: Date | null;
  last_status: HeartbeatStatus | null;
  checks: Checks | null;
  ok_streak: number;
  received: number;
  wake: number;
  due_at: Date;
}

export interface DueCursor {
  dueAt: Date;
  nodeId: string;
}

/** Nodes whose due time has come, in due order, resuming after `cursor` within one tick. */
export async function loadDue(sql: Queryable, now: Date, cursor: DueCursor | undefined, limit: number): Promise<DueRow[]> {
  return sql<DueRow[]>`
    select d.node_id, n.name, n.heartbeat_interval_seconds, n.grace_seconds, n.failures_for_down,
           n.successes_for_recovery, h.state, h.since, h.version, h.received_at_entry::float8 as received_at_entry,
           hb.last_heartbeat_at, hb.last_status, hb.checks, hb.ok_streak, hb.received::float8 as received,
           d.wake::float8 as wake, d.due_at
    from node_due d
    join nodes n on n.id = d.node_id
    join node_health h on h.node_id = d.node_id
    join node_heartbeats hb on hb.node_id = d.node_id
    where d.due_at <= ${now}
      ${cursor ? sql`and (d.due_at, d.node_id) > (${cursor.dueAt}, ${cursor.nodeId}::uuid)` : sql``}
    order by d.due_at, d.node_id
    limit ${limit}`;
}

export async function earliestDue(sql: Queryable): Promise<Date | null> {
  const [row] = await sql<{ due_at: Date }[]>`select due_at from node_due where due_at <> 'infinity' order by due_at limit 1`;
  return row?.due_at ?? null;
}

export interface HealthWrite {
  nodeId: string;
  expectedVersion: number;
  state: State;
  since: Date;
  reason: string;
  receivedAtEntry: number;
  transitions: Array<{ from: State; to: State; at: Date; reason: string; payload: Record<string, unknown> }>;
}

/**
 * Writes state changes, their log rows and their outbox rows in one statement, as a compare-and-set
 * on version: a node whose version moved since it was read (another writer won) is skipped whole —
 * no log row, no event. Returns the ids that were written.
 */
export async function writeTransitions(tx: Queryable, writes: HealthWrite[], now: Date): Promise<Set<string>> {
  if (writes.length === 0) return new Set();
  const t = writes.flatMap((w) =>
    w.transitions.map((tr, i) => ({ nodeId: w.nodeId, version: w.expectedVersion + i + 1, ...tr })),
  );
  const rows = await tx<{ node_id: string }[]>`
    with v as (
      select * from unnest(
        ${writes.map((w) => w.nodeId)}::uuid[], ${writes.map((w) => w.expectedVersion)}::int[],
        ${writes.map((w) => w.transitions.length)}::int[], ${writes.map((w) => w.state)}::text[],
        ${writes.map((w) => w.since.toISOString())}::timestamptz[], ${writes.map((w) => w.reason)}::text[],
        ${writes.map((w) => w.receivedAtEntry)}::bigint[]
      ) as v(node_id, expected, n, state, since, reason, entry)
    ), won as (
      update node_health h
      set state = v.state, since = v.since, reason = v.reason, version = h.version + v.n, received_at_entry = v.entry
      from v
      where h.node_id = v.node_id and h.version = v.expected
      returning h.node_id
    ), t as (
      select t.* from unnest(
        ${t.map((x) => x.nodeId)}::uuid[], ${t.map((x) => x.version)}::int[], ${t.map((x) => x.from)}::text[],
        ${t.map((x) => x.to)}::text[], ${t.map((x) => x.at.toISOString())}::timestamptz[],
        ${t.map((x) => x.reason)}::text[], ${t.map((x) => JSON.stringify(x.payload))}::text[]::jsonb[]
      ) with ordinality as t(node_id, state_version, from_state, to_state, at, reason, payload, ord)
      where t.node_id in (select node_id from won)
    ), log as (
      insert into node_state_log (node_id, state_version, from_state, to_state, at, reason)
      select node_id, state_version, from_state, to_state, at, reason from t
    ), events as (
      insert into outbox (topic, key, payload, created_at, available_at)
      select 'node.state_changed', node_id::text, payload, ${now}, ${now} from t order by ord
    )
    select node_id from won`;
  return new Set(rows.map((r) => r.node_id));
}

export interface Reschedule {
  nodeId: string;
  dueAt: Date | null;
  wake: number;
}

/** Pushes due times back, only where ingest has not woken the node since it was read. */
export async function reschedule(tx: Queryable, items: Reschedule[]): Promise<void> {
  if (items.length === 0) return;
  await tx`
    update node_due d set due_at = v.due_at
    from unnest(${items.map((i) => i.nodeId)}::uuid[],
                ${items.map((i) => (i.dueAt ? i.dueAt.toISOString() : 'infinity'))}::text[]::timestamptz[],
                ${items.map((i) => i.wake)}::bigint[]) as v(node_id, due_at, wake)
    where d.node_id = v.node_id and d.wake = v.wake`;
}
