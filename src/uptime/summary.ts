import { NODE_STATES, perState, type StateMs } from './state-time.ts';

/** The figures the uptime endpoints report for a window (README, "Uptime"). */
export interface UptimeSummary {
  uptime_ratio: number | null;
  up_seconds: number;
  monitored_seconds: number;
  seconds: StateMs;
}

/**
 * Up = healthy + degraded; monitored = total − maintenance − unknown; ratio = up / monitored, or
 * `null` when nothing was monitored (no ratio is more honest than a made-up 0 or 1). The ratio is
 * taken from integer milliseconds so it does not inherit any rounding of the reported seconds,
 * which carry millisecond precision (ms / 1000).
 */
export function summarize(ms: StateMs): UptimeSummary {
  const total = NODE_STATES.reduce((sum, state) => sum + ms[state], 0);
  const up = ms.healthy + ms.degraded;
  const monitored = total - ms.maintenance - ms.unknown;
  return {
    uptime_ratio: monitored === 0 ? null : up / monitored,
    up_seconds: up / 1000,
    monitored_seconds: monitored / 1000,
    seconds: perState((state) => ms[state] / 1000),
  };
}
