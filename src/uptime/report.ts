import type { Queryable, Sql } from '../db/client.ts';
import { readLogSpans, type LogSpan } from '../db/uptime-log.ts';
import { listUptimeNodes, sumDays, sumHours, type DaySumRequest, type HourSumRequest, type UptimeNodeFilter, type UptimeNodeRow } from '../db/uptime-reads.ts';
import { readDayRows, readHourRows, toProgress } from '../db/uptime-rollups.ts';
import {
  breakdown,
  bucketEnd,
  bucketStart,
  combine,
  hoursOf,
  intervalsFromLog,
  msInWindow,
  planWindow,
  splitIntoBuckets,
  storedSpans,
  type Bucket,
  type BucketSize,
  type Segment,
  type StateMs,
  type Window,
} from './accounting.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export interface NodeUptime {
  id: string;
  name: string;
  ms: StateMs;
}

// One snapshot for every read of a report, so rows and log agree even while a rollup pass commits.
const SNAPSHOT = 'isolation level repeatable read read only';

function segmentsOf(node: UptimeNodeRow, window: Window, useDays: boolean): Segment[] {
  return planWindow(window, node.created_at, storedSpans(toProgress(node), node.pending_from), useDays);
}

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

/** A segment of hours as one request per day row it touches. */
function hourRequests(nodeId: string, segment: Segment): HourSumRequest[] {
  const requests: HourSumRequest[] = [];
  for (let day = bucketStart(segment.start, 'day'); day < segment.end; day += DAY_MS) {
    const from = Math.max(segment.start, day);
    const to = Math.min(segment.end, day + DAY_MS);
    requests.push({ nodeId, day, fromHour: (from - day) / HOUR_MS, toHour: (to - day) / HOUR_MS });
  }
  return requests;
}

/**
 * Milliseconds per state over the window for each node, exact to `now`: whole stored days and whole
 * stored hours summed in Postgres from their running totals (two row reads each), and the rest
 * from the log. Three statements for any number of nodes, pipelined on the snapshot's connection.
 */
async function windowMs(tx: Queryable, nodes: readonly UptimeNodeRow[], window: Window, now: number): Promise<StateMs[]> {
  const daySums: DaySumRequest[] = [];
  const hourSums: HourSumRequest[] = [];
  const logSpans: Array<{ nodeId: string; start: number; end: number }> = [];
  // Each segment queues its reads and returns how to turn their answers into milliseconds.
  const parts = nodes.map((node) =>
    segmentsOf(node, window, true).map((s): (() => StateMs[]) => {
      if (s.source === 'day') {
        const k = daySums.push({ nodeId: node.id, start: s.start, end: s.end }) - 1;
        return () => [days[k] ?? missingRows(node, s)];
      }
      if (s.source === 'hour') {
        const requests = hourRequests(node.id, s);
        const k = hourSums.push(...requests) - requests.length;
        return () => requests.map((_, j) => hours[k + j] ?? missingRows(node, s));
      }
      const k = logSpans.push({ nodeId: node.id, start: s.start, end: s.end }) - 1;
      return () => [msInWindow(logMs(node, s, logs[k]!, now), s.start, s.end)];
    }),
  );
  const [days, hours, logs] = await Promise.all([sumDays(tx, daySums), sumHours(tx, hourSums), readLogSpans(tx, logSpans)]);
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

/**
 * One node's window bucket by bucket: stored days (for day buckets), stored hours, and the log's
 * time split at the bucket size, each added into the window's buckets. Undefined if the node is gone.
 */
export async function nodeBreakdown(sql: Sql, nodeId: string, window: Window, size: BucketSize, now: number): Promise<Bucket[] | undefined> {
  return sql.begin(SNAPSHOT, async (tx) => {
    const [node] = await listUptimeNodes(tx, { nodeId });
    if (!node) return undefined;
    const pieces = await Promise.all(
      segmentsOf(node, window, size === 'day').map(async (s): Promise<Bucket[]> => {
        if (s.source === 'day') {
          const rows = await readDayRows(tx, node.id, s.start, s.end);
          if (rows.length !== (s.end - s.start) / DAY_MS) missingRows(node, s);
          return rows.map((row) => ({ start: row.day, ms: row.ms }));
        }
        if (s.source === 'hour') {
          const rows = await readHourRows(tx, node.id, bucketStart(s.start, 'day'), bucketEnd(s.end - 1, 'day'));
          const hours = rows.flatMap((row) => hoursOf(row, s));
          if (hours.length !== (s.end - s.start) / HOUR_MS) missingRows(node, s);
          return hours;
        }
        const [log] = await readLogSpans(tx, [{ nodeId: node.id, start: s.start, end: s.end }]);
        return splitIntoBuckets(logMs(node, s, log!, now), size, s.start, s.end);
      }),
    );
    return breakdown(window, size, pieces.flat());
  }) as Promise<Bucket[] | undefined>;
}
