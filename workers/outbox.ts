import type { Clock } from '../src/clock.ts';
import type { Sql } from '../src/db/client.ts';
import { OUTBOX_CHANNEL } from '../src/outbox/store.ts';
import type { Logger } from '../src/logger.ts';
import { Loop } from '../src/loop.ts';
import type { Metrics } from '../src/metrics.ts';
import { OutboxDispatcher } from '../src/outbox/dispatcher.ts';
import type { HandlerRegistry } from '../src/outbox/registry.ts';

export interface OutboxWorkerOptions {
  sql: Sql;
  registry: HandlerRegistry;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  workers: number;
  pollMs: number;
  maxAttempts: number;
  backoffBaseMs?: number;
  onIdle?: () => void;
}

/**
 * The outbox role: `workers` dispatch loops sharing the pool. NOTIFY wakes them as soon as an event
 * commits; the poll interval is what guarantees progress if a notification is missed (LISTEN
 * reconnecting, delayed retries coming due).
 */
export async function startOutboxWorkers(o: OutboxWorkerOptions) {
  const log = o.log.child({ role: 'outbox' });
  const loops = Array.from({ length: o.workers }, (_, i) => {
    const dispatcher = new OutboxDispatcher({
      sql: o.sql,
      registry: o.registry,
      clock: o.clock,
      log,
      maxAttempts: o.maxAttempts,
      ...(o.backoffBaseMs !== undefined ? { backoffBaseMs: o.backoffBaseMs } : {}),
      onEvent: (type, result) => o.metrics.outboxEvents.inc({ type, result }),
      onLatency: (s) => o.metrics.outboxLatency.observe(s),
    });
    return new Loop({
      name: `outbox-${i}`,
      log,
      intervalMs: o.pollMs,
      // A full batch means more is waiting: go again at once.
      runOnce: async () => ((await dispatcher.runOnce()) > 0 ? 0 : undefined),
      onError: () => o.metrics.loopErrors.inc({ loop: 'outbox' }),
      ...(o.onIdle ? { onIdle: o.onIdle } : {}),
    });
  });
  const listener = await o.sql.listen(OUTBOX_CHANNEL, () => {
    for (const l of loops) l.wake();
  });
  for (const l of loops) l.start();
  return {
    async stop() {
      await listener.unlisten().catch(() => {});
      await Promise.all(loops.map((l) => l.stop()));
    },
  };
}
