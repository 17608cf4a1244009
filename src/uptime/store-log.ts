// node_state_log, read for uptime: the log decides a node's time wherever rows do not.

import type { Queryable } from '../db/client.ts';
import type { Transition } from './intervals.ts';
import type { NodeState } from './state-time.ts';
import { epochMs } from './store-rollups.ts';

export interface LogSpanRequest {
  nodeId: string;
  start: number;
  end: number;
}

/** The part of a node's log that decides its time in a span. */
export interface LogSpan {
  /** The state when the span starts: the `to` of the last transition before it (null: none). */
  initialState: NodeState | null;
  /** The transitions stamped inside the span, in state_version order. */
  transitions: Transition[];
}

const times = (xs: readonly number[]) => xs.map((t) => new Date(t).toISOString());

/**
 * Reads, for each requested span, the state at its start and the transitions inside it, in
 * request order. Most spans of a report hold no transition, so the first statement asks only for
 * each node's last transition before the span ends — one index-only probe on (node_id, at,
 * state_version) INCLUDE (to_state) per span; when that transition is before the span, it is the
 * whole answer. Only spans that do hold transitions are read again in full.
 *
 * Times go in as text[] cast in SQL, here and in the other uptime queries: a parameter declared
 * timestamptz[] makes postgres.js parse every string into a Date and format it back, which cost
 * ~60 ms of a 10k-node fleet report.
 */
export async function readLogSpans(sql: Queryable, spans: readonly LogSpanRequest[]): Promise<LogSpan[]> {
  const out: LogSpan[] = spans.map(() => ({ initialState: null, transitions: [] }));
  if (spans.length === 0) return out;
  const lasts = await sql<{ ord: number; to_state: NodeState; at: number }[]>`
    select s.ord::int as ord, last.to_state, ${epochMs(sql, 'last.at')} as at
    from unnest(${spans.map((s) => s.nodeId)}::uuid[], ${times(spans.map((s) => s.end))}::text[]::timestamptz[])
         with ordinality as s(node_id, hi, ord)
    cross join lateral (
      select l.to_state, l.at from node_state_log l
      where l.node_id = s.node_id and l.at < s.hi
      order by l.at desc, l.state_version desc
      limit 1
    ) last`;
  const busy: number[] = [];
  for (const r of lasts) {
    if (r.at < spans[r.ord - 1]!.start) out[r.ord - 1]!.initialState = r.to_state;
    else busy.push(r.ord - 1);
  }
  if (busy.length === 0) return out;

  const rows = await sql<{ ord: number; initial_state: NodeState | null; from_state: NodeState; to_state: NodeState; at: number }[]>`
    select s.ord::int as ord, prev.to_state as initial_state, l.from_state, l.to_state, ${epochMs(sql, 'l.at')} as at
    from unnest(${busy.map((i) => spans[i]!.nodeId)}::uuid[],
                ${times(busy.map((i) => spans[i]!.start))}::text[]::timestamptz[],
                ${times(busy.map((i) => spans[i]!.end))}::text[]::timestamptz[])
         with ordinality as s(node_id, lo, hi, ord)
    left join lateral (
      select p.to_state from node_state_log p
      where p.node_id = s.node_id and p.at < s.lo
      order by p.at desc, p.state_version desc
      limit 1
    ) prev on true
    join node_state_log l on l.node_id = s.node_id and l.at >= s.lo and l.at < s.hi
    order by s.ord, l.state_version`;
  for (const r of rows) {
    const span = out[busy[r.ord - 1]!]!;
    span.initialState = r.initial_state;
    span.transitions.push({ from: r.from_state, to: r.to_state, at: r.at });
  }
  return out;
}

export interface LogHead {
  /**
   * When the first transition newer than the given version happened (null: none): the earliest of
   * them, the log being monotonic, found by one probe of the primary key.
   */
  pendingFrom: number | null;
  /** The node's latest state version (0: it never changed state), and when it happened. */
  latest: number;
  latestAt: number | null;
}

/** Per node: what changed since `version`, and the latest version. In request order. */
export async function readLogHeads(tx: Queryable, nodes: ReadonlyArray<{ nodeId: string; version: number }>): Promise<LogHead[]> {
  if (nodes.length === 0) return [];
  const rows = await tx<{ pending_from: number | null; latest: number | null; latest_at: number | null }[]>`
    select (select ${epochMs(tx, 'l.at')} from node_state_log l where l.node_id = s.node_id and l.state_version > s.version
            order by l.state_version limit 1) as pending_from,
           last.state_version as latest, ${epochMs(tx, 'last.at')} as latest_at
    from unnest(${nodes.map((n) => n.nodeId)}::uuid[], ${nodes.map((n) => n.version)}::int[]) with ordinality as s(node_id, version, ord)
    left join lateral (
      select l.state_version, l.at from node_state_log l where l.node_id = s.node_id order by l.state_version desc limit 1
    ) last on true
    order by s.ord`;
  return rows.map((r) => ({ pendingFrom: r.pending_from, latest: r.latest ?? 0, latestAt: r.latest_at }));
}
