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

/** One node's heartbeats since the last flush, coalesced (see buffer.ts). */
export interface CoalescedHeartbeat {
  nodeId: string;
  at: Date;
  status: string;
  checks: unknown;
  seq: number | null;
  okRun: number;
  /** A non-ok report broke the run: the stored streak restarts, and the node may change state. */
  reset: boolean;
  count: number;
}
