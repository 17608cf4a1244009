import type { Queryable, Sql } from '../db/client.ts';
import { BUCKET_MS, bucketEnd, bucketStart, DAY_MS, HOUR_MS, splitIntoBuckets, type Bucket, type BucketSize } from './buckets.ts';
import { intervalsFromLog, msInWindow } from './intervals.ts';
import { combine, subtractStateMs, type StateMs } from './state-time.ts';
import { readLogSpans, type LogSpan } from './store-log.ts';
import {
  listUptimeNodes,
  readRunning,
  sumDays,
  sumHours,
  type DaySumRequest,
  type HourSumRequest,
  type RunningRequest,
  type UptimeNodeFilter,
  type UptimeNodeRow,
} from './store-report.ts';
import { toProgress } from './store-rollups.ts';
import { breakdown, fromProgress, piecesFromProgress, planWindow, runningBefore, storedSpans, type Segment } from './window-plan.ts';
import type { Window } from './windows.ts';

export interface NodeUptime {
  id: string;
  name: string;
  ms: StateMs;
}

// One snapshot for every read of a report, so rows and log agree even while a rollup pass commits.
const SNAPSHOT = 'isolation level repeatable read read only';


function logMs(node: UptimeNodeRow, segment: Segment, log: LogSpan, now: number) {
  return intervalsFromLog({
    createdAt: Math.max(node.created_at, segment.start),
    initialState: log.initialState,
    transitions: log.transitions,
    until: Math.min(now, segment.end),
  });
}

function missingRows(node: UptimeNodeRow, segment: Segment): never {
  throw new Error(
    `uptime ${segment.source} rows missing for node ${node.id} in ` +
      `[${new Date(segment.start).toISOString()}, ${new Date(segment.end).toISOString()}); npm run uptime:rebuild repairs them`,
  );
}

/**
 * A segment of hours as one request per `size` bucket it touches (a day row holds a day of hours,
 * so a request never spans two rows).
 */
function hourRequests(nodeId: string, segment: Segment, size: BucketSize): HourSumRequest[] {
  const requests: HourSumRequest[] = [];
  for (let start = bucketStart(segment.start, size); start < segment.end; start += BUCKET_MS[size]) {
    const from = Math.max(segment.start, start);
    const to = Math.min(segment.end, start + BUCKET_MS[size]);
    const day = bucketStart(from, 'day');
    requests.push({ nodeId, day, fromHour: (from - day) / HOUR_MS, toHour: (to - day) / HOUR_MS });
  }
  return requests;
}

/**
 * Milliseconds per state over the window for each node, exact to `now`. Whole stored days are the
 * difference of two running totals, whole stored hours two elements of a row, both read in
 * Postgres; the rest comes from the log. The progress row answers the stored end by itself for a
 * node with nothing pending: the last running totals, the current day's closed hours, and the time
 * since when no transition came. Three statements for any number of nodes, pipelined on the
 * snapshot's connection: for a quiet 10k-node fleet, 30 days is 3 row or log probes per node.
 */
async function windowMs(tx: Queryable, nodes: readonly UptimeNodeRow[], window: Window, now: number): Promise<StateMs[]> {
  const running: RunningRequest[] = [];
  const hourSums: HourSumRequest[] = [];
  const logSpans: Array<{ nodeId: string; start: number; end: number }> = [];
  // Each segment queues its reads and returns how to turn their answers into milliseconds. Reads
  // are queued in node id order, the order passes write rows in, so the probes walk indexes and
  // heap forwards (measured: 10k day-row probes 52 ms sorted, 60-104 ms in name order).
  const parts: Array<Array<() => StateMs[]>> = [];
  const byId = nodes.map((_, i) => i).sort((a, b) => (nodes[a]!.id < nodes[b]!.id ? -1 : 1));
  for (const i of byId) {
    const node = nodes[i]!;
    const progress = toProgress(node);
    const segments = planWindow(window, node.created_at, storedSpans(progress, node.pending_from), true);
    parts[i] = segments.map((s): (() => StateMs[]) => {
      const known = progress && fromProgress(s, progress, node.pending_from, node.created_at, now);
      if (known) return () => [known];
      if (s.source === 'day') {
        const first = running.push({ nodeId: node.id, day: s.start, through: false }) - 1;
        const stored = progress && runningBefore(s.end, progress, node.pending_from);
        const last = stored ? -1 : running.push({ nodeId: node.id, day: s.end - DAY_MS, through: true }) - 1;
        return () => [subtractStateMs(stored ?? totals[last] ?? missingRows(node, s), totals[first] ?? missingRows(node, s))];
      }
      if (s.source === 'hour') {
        const requests = hourRequests(node.id, s, 'day');
        const k = hourSums.push(...requests) - requests.length;
        return () => requests.map((_, j) => hours[k + j] ?? missingRows(node, s));
      }
      const k = logSpans.push({ nodeId: node.id, start: s.start, end: s.end }) - 1;
      return () => [msInWindow(logMs(node, s, logs[k]!, now), s.start, s.end)];
    });
  }
  const [totals, hours, logs] = await Promise.all([readRunning(tx, running), sumHours(tx, hourSums), readLogSpans(tx, logSpans)]);
  return parts.map((segments) => combine(segments.flatMap((resolve) => resolve())));
}

/** Every node the filter selects, in name order, with its milliseconds per state over the window. */
export async function fleetUptime(sql: Sql, filter: UptimeNodeFilter, window: Window, now: number): Promise<NodeUptime[]> {
  return sql.begin(SNAPSHOT, async (tx) => {
    const nodes = await listUptimeNodes(tx, filter);
    const ms = await windowMs(tx, nodes, window, now);
    return nodes.map((node, i) => ({ id: node.id, name: node.name, ms: ms[i]! }));
  }) as Promise<NodeUptime[]>;
}

export interface GroupBreakdown {
  /** How many of the group's nodes exist. */
  nodes: number;
  /** The window's buckets (as `splitIntoBuckets` lists them), each the sum over the group's nodes. */
  buckets: Bucket[];
}

/**
 * Groups of nodes (a status page's components) bucket by bucket, each bucket the sum of the
 * group's nodes: stored days (for day buckets) summed per group in Postgres, stored hours, and the
 * log's time split at the bucket size. One snapshot and four statements for any number of nodes and
 * groups; a node in several groups is planned and read once (its days once per group).
 */
export async function groupBreakdown(
  sql: Sql,
  groups: ReadonlyArray<readonly string[]>,
  window: Window,
  size: BucketSize,
  now: number,
): Promise<GroupBreakdown[]> {
  return sql.begin(SNAPSHOT, async (tx) => {
    const ids = [...new Set(groups.flat())];
    const nodes = ids.length === 0 ? [] : await listUptimeNodes(tx, { nodeIds: ids });
    const groupsOf = new Map<string, number[]>();
    groups.forEach((members, g) => new Set(members).forEach((id) => groupsOf.set(id, [...(groupsOf.get(id) ?? []), g])));

    const days: DaySumRequest[] = [];
    const hourSums: HourSumRequest[] = [];
    const logSpans: Array<{ nodeId: string; start: number; end: number }> = [];
    // Each node's hour and log pieces, resolved once the reads are back. In node id order, the
    // order passes write rows in (see windowMs).
    const pieces: Array<{ groups: number[]; resolve: Array<() => Bucket[]> }> = [];
    for (const node of [...nodes].sort((a, b) => (a.id < b.id ? -1 : 1))) {
      const member = groupsOf.get(node.id)!;
      const progress = toProgress(node);
      const segments = planWindow(window, node.created_at, storedSpans(progress, node.pending_from), size === 'day');
      const resolve = segments.flatMap((s): Array<() => Bucket[]> => {
        const known = progress && piecesFromProgress(s, progress, node.pending_from, node.created_at, now, size);
        if (known) return [() => known];
        if (s.source === 'day') {
          for (const group of member) days.push({ group, nodeId: node.id, start: s.start, end: s.end });
          return [];
        }
        if (s.source === 'hour') {
          const requests = hourRequests(node.id, s, size);
          const k = hourSums.push(...requests) - requests.length;
          return [() => requests.map((r, j) => ({ start: r.day + r.fromHour * HOUR_MS, ms: hours[k + j] ?? missingRows(node, s) }))];
        }
        const k = logSpans.push({ nodeId: node.id, start: s.start, end: s.end }) - 1;
        return [() => splitIntoBuckets(logMs(node, s, logs[k]!, now), size, s.start, s.end)];
      });
      pieces.push({ groups: member, resolve });
    }
    const [sums, hours, logs] = await Promise.all([sumDays(tx, days), sumHours(tx, hourSums), readLogSpans(tx, logSpans)]);

    checkDaySums(window, groups.length, days, sums);
    const out = groups.map((): { nodes: number; pieces: Bucket[] } => ({ nodes: 0, pieces: [] }));
    for (const sum of sums) out[sum.group]!.pieces.push({ start: sum.day, ms: sum.ms });
    for (const node of pieces) {
      const buckets = node.resolve.flatMap((read) => read());
      for (const group of node.groups) {
        out[group]!.nodes += 1;
        out[group]!.pieces.push(...buckets);
      }
    }
    return out.map((g) => ({ nodes: g.nodes, buckets: breakdown(window, size, g.pieces) }));
  }) as Promise<GroupBreakdown[]>;
}

/**
 * Every requested day row was there: a sum over fewer rows than asked for would under-count. The
 * expected count of each group's day is a prefix sum over the requests' day ranges.
 */
function checkDaySums(window: Window, groups: number, requests: readonly DaySumRequest[], sums: readonly { group: number; day: number; rows: number }[]): void {
  const first = bucketStart(window.from, 'day');
  const days = (bucketEnd(window.to - 1, 'day') - first) / DAY_MS;
  const expected = Array.from({ length: groups }, () => new Int32Array(days + 1));
  for (const r of requests) {
    expected[r.group]![(r.start - first) / DAY_MS]! += 1;
    expected[r.group]![(r.end - first) / DAY_MS]! -= 1;
  }
  const found = Array.from({ length: groups }, () => new Int32Array(days));
  for (const s of sums) found[s.group]![(s.day - first) / DAY_MS] = s.rows;
  expected.forEach((diffs, g) => {
    let want = 0;
    for (let d = 0; d < days; d++) {
      want += diffs[d]!;
      if (found[g]![d] !== want) {
        throw new Error(`uptime day rows missing on ${new Date(first + d * DAY_MS).toISOString()} (${found[g]![d]} of ${want}); npm run uptime:rebuild repairs them`);
      }
    }
  });
}

/** One node's window bucket by bucket. Undefined if the node is gone. */
export async function nodeBreakdown(sql: Sql, nodeId: string, window: Window, size: BucketSize, now: number): Promise<Bucket[] | undefined> {
  const [node] = await groupBreakdown(sql, [[nodeId]], window, size, now);
  return node!.nodes === 0 ? undefined : node!.buckets;
}
