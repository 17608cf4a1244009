// The heartbeat loop shared by `lifeline agent` and the demo's simulated fleet: collect checks,
// post them, wait for the next beat; on a network or server error back off, never sending
// faster than the interval; stop when the signal aborts.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Checks } from './agent-checks.ts';
import { ApiRequestError, retryable, type Client } from './client.ts';

export interface AgentOptions {
  client: Client;
  /** Needed with an ingest key; with a node token the token names the node. */
  node?: string | undefined;
  intervalMs: number;
  collect(): Checks | Promise<Checks>;
  signal: AbortSignal;
  onBeat?(beat: Beat): void;
}

export type Beat =
  | { ok: true; count: number; seq: number; checks: Checks }
  | { ok: false; count: number; seq: number; error: Error; retryInMs: number };

// Past a minute of failures, retrying less often helps no one: the node is already down.
const MAX_BACKOFF_MS = 60_000;

/**
 * How long after a failed attempt's start the next one goes: the interval, doubling with each
 * consecutive failure up to a minute (or the interval, if that is longer), plus up to 20 % of
 * jitter so a fleet that lost the engine together does not return in lockstep. Never less than
 * the interval, and never less than what a 429's Retry-After asked for.
 */
export function retryDelayMs(intervalMs: number, failures: number, retryAfterMs = 0, random: () => number = Math.random): number {
  const backoff = Math.min(intervalMs * 2 ** (failures - 1), Math.max(intervalMs, MAX_BACKOFF_MS));
  return Math.max(Math.round(backoff * (1 + 0.2 * random())), retryAfterMs);
}

/** Resolves when the signal aborts; rejects on an error retrying cannot fix (a bad token, 403, 400). */
export async function runAgent(opts: AgentOptions): Promise<void> {
  const { client, signal } = opts;
  let seq = 0;
  let count = 0;
  let failures = 0;
  while (!signal.aborted) {
    const started = Date.now();
    // Epoch milliseconds, kept increasing: the engine ignores a seq lower than one it has seen,
    // so a counter from 1 would have a restarted agent's heartbeats ignored.
    seq = Math.max(seq + 1, started);
    count++;
    let wait = opts.intervalMs;
    try {
      const checks = await opts.collect();
      // interval_seconds: a node this heartbeat registers (an ingest key naming a new node) is
      // judged on the interval the agent really sends at, not the default 30 s.
      const body = {
        ...(opts.node ? { node: opts.node } : {}),
        status: 'ok',
        // No checks (`--checks none`) is a plain "alive", judged on its status alone.
        ...(Object.keys(checks).length ? { checks } : {}),
        sent_at: new Date(started).toISOString(),
        seq,
        interval_seconds: Math.max(1, Math.round(opts.intervalMs / 1000)),
      };
      await client.post('/v1/heartbeats', body, signal);
      failures = 0;
      opts.onBeat?.({ ok: true, count, seq, checks });
    } catch (err) {
      if (signal.aborted) break;
      if (!retryable(err)) throw err;
      failures++;
      wait = retryDelayMs(opts.intervalMs, failures, err instanceof ApiRequestError ? err.retryAfterMs : undefined);
      opts.onBeat?.({ ok: false, count, seq, error: err, retryInMs: wait });
    }
    // Counted from the attempt's start, so a slow answer does not stretch the interval.
    await sleep(Math.max(0, started + wait - Date.now()), undefined, { signal }).catch(() => {});
  }
}
