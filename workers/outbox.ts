import type { Clock } from '../src/clock.ts';
import type { Sql } from '../src/db/client.ts';
import { OUTBOX_CHANNEL } from '../src/outbox/store.ts';
import { Events } from '../src/events.ts';
import type { Logger } from '../src/logger.ts';
import { Loop } from '../src/loop.ts';
import { OutboxDispatcher } from '../src/outbox/dispatcher.ts';
import type { HandlerRegistry } from '../src/outbox/registry.ts';

export interface OutboxWorkerOptions {
  sql: Sql;
  registry: HandlerRegistry;
  clock: Clock;
  log: Logger;
  /** Where the dispatchers and their loops announce outcomes (metrics count them). */
  events?: Events;
  workers: number;
  pollMs: number;
  maxAttempts: number;
  backoffBaseMs?: number;
}

/**
 * The outbox role: `workers` dispatch loops sharing the pool. NOTIFY wakes them as soon as an event
 * commits; the poll interval is what guarantees progress if a notification is missed (LISTEN
 * reconnecting, delayed retries coming due).
 */
export async function startOutboxWorkers(o: OutboxWorkerOptions) {
  const log = o.log.child({ role: 'outbox' });
  const events = o.events ?? new Events();
  const loops = Array.from({ length: o.workers }, (_, i) => {
    const dispatcher = new OutboxDispatcher({
      sql: o.sql,
      registry: o.registry,
      clock: o.clock,
      log,
      maxAttempts: o.maxAttempts,
      ...(o.backoffBaseMs !== undefined ? { backoffBaseMs: o.backoffBaseMs } : {}),
      events,
    });
    return new Loop({
      name: `outbox-${i}`,
      kind: 'outbox',
      log,
      intervalMs: o.pollMs,
      // Anything claimed: go again at once (see OutboxDispatcher.runOnce); nothing: sleep.
      runOnce: async () => ((await dispatcher.runOnce()) > 0 ? 0 : undefined),
      events,
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
