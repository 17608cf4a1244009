import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { openQueueBackend } from '../../src/queue/backend.ts';
import { buildApp, send, START } from '../helpers/app.ts';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../helpers/db.ts';
import { QUEUE_BACKENDS } from '../helpers/oncall.ts';
import { until } from '../helpers/wait.ts';

// /readyz with the engine's real queue backends: it names where the queues run, and says so when
// that store stops answering (here: its connections closed under it).
describe('/readyz names the queue backend', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(() => db.drop());

  for (const name of QUEUE_BACKENDS) {
    it(`answers ready with queue "${name}", then unavailable naming ${name} once its store does not answer`, async () => {
      const backend = await openQueueBackend({
        redisUrl: name === 'redis' ? REDIS_URL : undefined,
        databaseUrl: db.url,
        prefix: `lifeline-test-${randomBytes(4).toString('hex')}`,
      });
      const { app } = buildApp({ sql: db.sql, clock: new ManualClock(START), buffer: new HeartbeatBuffer(), queue: backend });
      let closed = false;
      try {
        // A new Redis connection answers once it is up.
        await until(`${name} to answer`, () => backend.ping().then(() => true, () => undefined));
        const res = await send(app, 'GET', '/readyz');
        // (It may also carry `warnings` about the setup, which are not this test's business.)
        const ready = (await res.json()) as { status: string; queue: string };
        assert.deepEqual([res.status, ready.status, ready.queue], [200, 'ready', name]);
        await backend.close();
        closed = true;
        const down = await send(app, 'GET', '/readyz');
        assert.deepEqual([down.status, await down.json()], [503, { status: 'unavailable', queue: name, down: [name] }]);
      } finally {
        if (!closed) await backend.close();
      }
    });
  }
});
