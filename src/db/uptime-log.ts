import type { Queryable } from './client.ts';
import { epochMs } from './uptime-rollups.ts';
import type { NodeState, Transition } from '../uptime/accounting.ts';

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

/**
 * Reads, for each requested span, the state at its start and the transitions inside it: two index
 * probes on (node_id, at, state_version) per span, in one statement for all of them. Results are
 * in request order.
 *
 * Times go in as text[] cast in SQL, here and in the other uptime queries: a parameter declared
 * timestamptz[] makes postgres.js parse every string into a Date and format it back, which cost
 * ~60 ms of a 10k-node fleet report.
 */
export async function readLogSpans(sql: Queryable, spans: readonly LogSpanRequest[]): Promise<LogSpan[]> {
  const out: LogSpan[] = spans.map(() => ({ initialState: null, transitions: [] }));
  if (spans.length === 0) return out;
  const rows = await sql<{ ord: number; initial_state: NodeState | null; from_state: NodeState | null; to_state: NodeState | null; at: number | null }[]>`
    select s.ord::int as ord, prev.to_state as initial_state, l.from_state, l.to_state, ${epochMs(sql, 'l.at')} as at
    from unnest(${spans.map((s) => s.nodeId)}::uuid[],
                ${spans.map((s) => new Date(s.start).toISOString())}::text[]::timestamptz[],
                ${spans.map((s) => new Date(s.end).toISOString())}::text[]::timestamptz[])
         with ordinality as s(node_id, lo, hi, ord)
    left join lateral (
      select p.to_state from node_state_log p
      where p.node_id = s.node_id and p.at < s.lo
      order by p.at desc, p.state_version desc
      limit 1
    ) prev on true
    left join lateral (
      select l.from_state, l.to_state, l.at, l.state_version from node_state_log l
      where l.node_id = s.node_id and l.at >= s.lo and l.at < s.hi
    ) l on true
    order by s.ord, l.state_version`;
  for (const r of rows) {
    const span = out[r.ord - 1]!;
    span.initialState = r.initial_state;
    if (r.at !== null) span.transitions.push({ from: r.from_state!, to: r.to_state!, at: r.at });
  }
  return out;
}
