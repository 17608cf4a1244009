import type { Checks, HeartbeatStatus } from '../health/decide.ts';

// A heartbeat as ingest holds it between its request and the flush that writes it: as received,
// then coalesced per node.

export interface Heartbeat {
  nodeId: string;
  /** Receive time: the only time trusted for deadlines. */
  at: Date;
  status: HeartbeatStatus;
  checks: Checks | null;
  seq: number | null;
}

/** An ok report with every check ok: only such heartbeats count towards recovery. */
export function isOk(hb: Pick<Heartbeat, 'status' | 'checks'>): boolean {
  if (hb.status !== 'ok') return false;
  for (const c of Object.values(hb.checks ?? {})) if (c.status !== 'ok') return false;
  return true;
}

/** A report as a coalesced heartbeat keeps it: its receive time, status and checks. */
export interface Report {
  at: Date;
  status: string;
  checks: unknown;
}

/** One node's heartbeats since the last flush, coalesced (see buffer.ts). */
export interface CoalescedHeartbeat extends Report {
  nodeId: string;
  seq: number | null;
  okRun: number;
  /** A non-ok report broke the run: the stored streak restarts, and the node may change state. */
  reset: boolean;
  count: number;
  /**
   * The worst non-ok report that a later one replaced (the first of those alike): a failure the
   * latest report alone would hide (a `failing` then an `ok`), or the last flush's non-ok latest
   * report when this flush's first is ok (see HeartbeatBuffer). Null when none, the common case.
   */
  failure: Report | null;
}

/** The entry's latest report when it is not ok (okRun counts the ok reports since the last non-ok one). */
export const failureOf = (e: CoalescedHeartbeat): Report | null => (e.okRun === 0 ? { at: e.at, status: e.status, checks: e.checks } : null);

/** How bad a non-ok report is: `failing` (down) over `degraded` over an ok with bad checks. */
const severity = (r: Report) => (r.status === 'failing' ? 2 : r.status === 'degraded' ? 1 : 0);

/**
 * Of a kept failure and a later one, the one to keep: the later only when it is worse, so a
 * `degraded` then a `failing` then an `ok` keeps the failing one (the down is paged), while two
 * failures alike keep the first (the outage starts there).
 */
export const worseFailure = (kept: Report | null, later: Report | null): Report | null =>
  later === null || (kept !== null && severity(later) <= severity(kept)) ? kept : later;

/** What an api process's flusher holds, read by the metrics at each scrape (no query): see IngestFlusher.state. */
export interface IngestState {
  /** Heartbeats and pings buffered, those a flush still in progress took included. */
  buffered: number;
  /** When the last flush committed (the process's start before the first one). */
  lastFlushAt: Date;
}
