// Time spent per node state, the unit all uptime arithmetic works in.
//
// Everything under src/uptime that is not a store, a pass or a report is pure: the current time is
// always a parameter, so the same code serves the exact-to-the-request API answer, the hourly/daily
// rollups and fixed-clock tests.
//
// Times are integer milliseconds since the epoch (UTC). A JS number holds every integer up to 2^53
// exactly, which as milliseconds is about 285,000 years, so adding up a year of a node's time, or a
// year of 10k nodes' time for the fleet figure (~3 × 10^14 ms), never loses a millisecond.

export const NODE_STATES = ['healthy', 'degraded', 'down', 'maintenance', 'unknown'] as const;
export type NodeState = (typeof NODE_STATES)[number];

/** Milliseconds spent in each state. */
export type StateMs = Record<NodeState, number>;

/**
 * Builds a per-state record with keys in the order the API lists states, so JSON output reads the
 * same everywhere and the type checker proves no state is forgotten.
 */
export function perState(value: (state: NodeState) => number): StateMs {
  return {
    healthy: value('healthy'),
    degraded: value('degraded'),
    down: value('down'),
    maintenance: value('maintenance'),
    unknown: value('unknown'),
  };
}

export function emptyStateMs(): StateMs {
  return perState(() => 0);
}

export function addStateMs(a: StateMs, b: StateMs): StateMs {
  return perState((state) => a[state] + b[state]);
}

/** `a − b`: the time between two running totals. */
export function subtractStateMs(a: StateMs, b: StateMs): StateMs {
  return perState((state) => a[state] - b[state]);
}

/**
 * Sums pieces of accounting that cover disjoint time, e.g. the stored whole buckets inside a
 * window plus `msInWindow` over the partial buckets at its two edges. Durations simply add, so
 * nothing else is needed to combine rollups with exact edges.
 */
export function combine(parts: readonly StateMs[]): StateMs {
  return parts.reduce(addStateMs, emptyStateMs());
}
