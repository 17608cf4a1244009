// A worker process for the crash test: handles outbox events slowly, announcing each batch it
// has started, so the parent can SIGKILL it mid-batch.
import { systemClock } from '../../src/clock.ts';
import { createSql } from '../../src/db/client.ts';
import { OutboxDispatcher } from '../../src/outbox/dispatcher.ts';
import { HandlerRegistry } from '../../src/outbox/registry.ts';
import { recordEffects } from './outbox-effects.ts';
import { testLog } from './log.ts';

const sql = createSql(process.env.DATABASE_URL!, { max: 2 });
const registry = new HandlerRegistry().on('test.effect', 'effects', async (events, { tx }) => {
  await recordEffects(tx, events, 'child');
  process.stdout.write(JSON.stringify({ msg: 'batch effects written, not committed', n: events.length }) + '\n');
  // Hold the transaction open long enough to be killed inside it.
  await tx`select pg_sleep(30)`;
});
const dispatcher = new OutboxDispatcher({ sql, registry, clock: systemClock, log: testLog, maxAttempts: 5, batchSize: 50 });
await dispatcher.runOnce();
