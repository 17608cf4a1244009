import type { Clock } from '../src/clock.ts';
import type { Sql } from '../src/db/client.ts';
import type { Events } from '../src/events.ts';
import type { HeartbeatBuffer } from '../src/ingest/buffer.ts';
import { IngestFlusher } from '../src/ingest/flusher.ts';
import type { Logger } from '../src/logger.ts';
import { Loop } from '../src/loop.ts';

export interface IngestWorkerOptions {
  sql: Sql;
  buffer: HeartbeatBuffer;
  clock: Clock;
  log: Logger;
  /** Where flushes, refused rows and loop errors are announced (metrics count them). */
  events?: Events;
  flushMs: number;
  coverageGapMs: number;
}

/** Flushes the heartbeat buffer on a short timer; on stop, one last flush so every 202 holds. */
export function startIngestFlusher(o: IngestWorkerOptions) {
  const log = o.log.child({ role: 'ingest' });
  const flusher = new IngestFlusher({
    sql: o.sql,
    buffer: o.buffer,
    clock: o.clock,
    log,
    gapMs: o.coverageGapMs,
    ...(o.events ? { events: o.events } : {}),
  });
  const loop = new Loop({
    name: 'ingest-flush',
    kind: 'ingest',
    log,
    intervalMs: o.flushMs,
    runOnce: async () => void (await flusher.runOnce()),
    ...(o.events ? { events: o.events } : {}),
  });
  loop.start();
  return {
    flusher,
    async stop() {
      await loop.stop();
      await flusher.close();
    },
  };
}
