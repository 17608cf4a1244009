// Answering a window from a node's stored rows plus its log: which parts come from where, and how
// the pieces add up into the window's buckets.

import { BUCKET_MS, bucketEnd, bucketStart, splitIntoBuckets, type Bucket, type BucketSize } from './buckets.ts';
import { msInWindow, type Interval } from './intervals.ts';
import { exactUntil, span, type Progress, type Span } from './model.ts';
import { addStateMs, type StateMs } from './state-time.ts';
import type { Window } from './windows.ts';

/** What a node's rows can answer: hour rows and day rows complete over these spans. */
export interface Stored {
  hours: Span;
  days: Span;
}

export function storedSpans(progress: Progress | null, pendingFrom: number | null): Stored | null {
  if (progress === null) return null;
  const exact = exactUntil(progress, pendingFrom);
  return {
    hours: span(progress.hoursFrom, exact),
    days: span(progress.daysFrom, bucketStart(exact, 'day')),
  };
}

export type Source = 'day' | 'hour' | 'log';

export interface Segment extends Span {
  source: Source;
}

/** Smallest bucket boundary at or after `t`. */
function boundaryAtOrAfter(t: number, size: BucketSize): number {
  return bucketStart(t, size) === t ? t : bucketEnd(t, size);
}

/** The whole `size` buckets inside [start, end) that `stored` covers, or null. */
function storedBuckets(start: number, end: number, size: BucketSize, stored: Span): Span | null {
  const lo = Math.max(boundaryAtOrAfter(start, size), stored.start);
  const hi = Math.min(bucketStart(end, size), stored.end);
  return lo < hi ? { start: lo, end: hi } : null;
}

/**
 * Splits a window into the parts read from day rows, from hour rows and from the state log, in
 * time order: whole stored days, whole stored hours around them, and the rest from the log — the
 * partial hours at the edges, time not rolled up yet, time whose rows retention removed. Time before
 * the node existed counts nothing, so a window reaching back past creation is read from the start
 * of that day, where the rows begin. With `useDays` false day rows are left out (an hour-by-hour
 * breakdown cannot split them).
 */
export function planWindow(window: Window, createdAt: number, stored: Stored | null, useDays: boolean): Segment[] {
  if (window.to <= createdAt) return [];
  const from = window.from > createdAt ? window.from : bucketStart(createdAt, 'day');
  const to = window.to;
  const segments: Segment[] = [];
  const push = (source: Source, start: number, end: number) => {
    if (start < end) segments.push({ source, start, end });
  };
  const hoursAndLog = (start: number, end: number) => {
    const hours = stored && storedBuckets(start, end, 'hour', stored.hours);
    if (!hours) return push('log', start, end);
    push('log', start, hours.start);
    push('hour', hours.start, hours.end);
    push('log', hours.end, end);
  };

  const days = stored && useDays ? storedBuckets(from, to, 'day', stored.days) : null;
  if (!days) {
    hoursAndLog(from, to);
    return segments;
  }
  hoursAndLog(from, days.start);
  push('day', days.start, days.end);
  hoursAndLog(days.end, to);
  return segments;
}

/**
 * A segment the progress row answers by itself, reading no row and no log: the closed hours of the
 * stored end's day, and the time from the stored end on when no transition came after it. Null
 * otherwise, and always while a transition is pending (the rows are then not exact to their end).
 */
export function fromProgress(segment: Segment, progress: Progress, pendingFrom: number | null, createdAt: number, now: number): StateMs | null {
  if (pendingFrom !== null) return null;
  const today = closedToday(segment, progress);
  if (today) return today;
  const quiet = quietAfter(segment, progress, createdAt, now);
  return quiet && msInWindow([quiet], segment.start, segment.end);
}

/**
 * What `fromProgress` answers, bucket by bucket: the closed hours of the stored end's day as one
 * piece (for day buckets only: the progress row keeps them summed), and the quiet time after the
 * stored end split at `size`. Null where `fromProgress` is, and for those hours in hour buckets.
 */
export function piecesFromProgress(segment: Segment, progress: Progress, pendingFrom: number | null, createdAt: number, now: number, size: BucketSize): Bucket[] | null {
  if (pendingFrom !== null) return null;
  const today = size === 'day' ? closedToday(segment, progress) : null;
  if (today) return [{ start: segment.start, ms: today }];
  const quiet = quietAfter(segment, progress, createdAt, now);
  return quiet && splitIntoBuckets([quiet], size, segment.start, segment.end);
}

/** The closed hours of the stored end's day, when `segment` is exactly those hours. */
function closedToday(segment: Segment, progress: Progress): StateMs | null {
  const end = progress.closedUntil;
  return segment.source === 'hour' && segment.start === bucketStart(end, 'day') && segment.end === end ? progress.today : null;
}

/** The state held from the stored end on, when `segment` starts there and no transition came since. */
function quietAfter(segment: Segment, progress: Progress, createdAt: number, now: number): Interval | null {
  const end = progress.closedUntil;
  if (segment.source !== 'log' || segment.start !== end || (progress.lastAt !== null && progress.lastAt >= end)) return null;
  return { state: progress.closedState, start: Math.max(createdAt, end), end: Math.min(now, segment.end) };
}

/** The running totals before `day` when the progress row holds them (the stored end's day), else null. */
export function runningBefore(day: number, progress: Progress, pendingFrom: number | null): StateMs | null {
  if (pendingFrom !== null || progress.daysRunning === null) return null;
  return day === bucketStart(progress.closedUntil, 'day') ? progress.daysRunning : null;
}

/**
 * The window's `size` buckets (as `splitIntoBuckets` lists them) filled from pieces that each lie
 * inside one bucket: stored hours and days, and the log's time already split at `size`. Pieces
 * before the window's first bucket come only from before the node existed and are all zero.
 */
export function breakdown(window: Window, size: BucketSize, pieces: readonly Bucket[]): Bucket[] {
  const buckets = splitIntoBuckets([], size, window.from, window.to);
  const first = buckets[0]?.start ?? 0;
  for (const piece of pieces) {
    const bucket = buckets[(bucketStart(piece.start, size) - first) / BUCKET_MS[size]];
    if (bucket) bucket.ms = addStateMs(bucket.ms, piece.ms);
  }
  return buckets;
}
