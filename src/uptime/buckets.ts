// Aligned UTC buckets: the hours and days rollups store and breakdowns report.

import type { Interval } from './intervals.ts';
import { emptyStateMs, type StateMs } from './state-time.ts';

export type BucketSize = 'hour' | 'day';

// UTC has no daylight-saving shifts and epoch milliseconds do not represent leap seconds, so every
// UTC hour and day has the same length and bucket boundaries are plain integer arithmetic.
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const BUCKET_MS: Record<BucketSize, number> = { hour: HOUR_MS, day: DAY_MS };

/** Start of the UTC hour or day containing `t`. */
export function bucketStart(t: number, size: BucketSize): number {
  const length = BUCKET_MS[size];
  // `%` keeps the sign of `t`; the second modulo makes this exact for times before 1970 too.
  return t - (((t % length) + length) % length);
}

/** End (exclusive) of the UTC hour or day containing `t`. */
export function bucketEnd(t: number, size: BucketSize): number {
  return bucketStart(t, size) + BUCKET_MS[size];
}

export interface Bucket {
  start: number;
  ms: StateMs;
}

/**
 * Per-bucket milliseconds for every aligned bucket that overlaps [from, to), in order, with the
 * time counted in each bucket clipped to [from, to). A bucket the intervals do not reach (before
 * the node existed, say) is still returned, all zero: the list of buckets depends on the window
 * alone, so a chart's axis does not shift with a node's age.
 */
export function splitIntoBuckets(
  intervals: readonly Interval[],
  size: BucketSize,
  from: number,
  to: number,
): Bucket[] {
  // An empty window overlaps no bucket, not even the one containing `from`.
  if (to <= from) return [];
  const length = BUCKET_MS[size];
  const first = bucketStart(from, size);
  const buckets: Bucket[] = [];
  for (let start = first; start < to; start += length) buckets.push({ start, ms: emptyStateMs() });

  for (const interval of intervals) {
    let t = Math.max(interval.start, from);
    const end = Math.min(interval.end, to);
    while (t < end) {
      // from <= t < to and buckets cover [first, to), so the index is always in range.
      const bucket = buckets[(bucketStart(t, size) - first) / length]!;
      const cut = Math.min(end, bucket.start + length);
      bucket.ms[interval.state] += cut - t;
      t = cut;
    }
  }
  return buckets;
}
