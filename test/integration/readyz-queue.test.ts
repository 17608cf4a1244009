import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../helpers/clock.ts';
import type { Sql } from '../../src/db/client.ts';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { NO_DEFAULT_POLICY } from '../../src/oncall/setup-warnings.ts';
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
        // A fresh database has no default escalation policy, which a ready engine says too.
        assert.deepEqual([res.status, await res.json()], [200, { status: 'ready', queue: name, warnings: [NO_DEFAULT_POLICY] }]);
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

// The setup warnings are read after the probes, from the same Postgres: one that answers the probe
// and then stalls or fails must not turn /readyz into a hang or a 500.
describe('/readyz answers 200 or 503 whatever its warnings do', () => {
  /** A Postgres that answers the probe (`select 1`) and then gives `warnings` for any other query; `asked` settles once one is made. */
  function stubSql(warnings: () => Promise<never>) {
    let asked!: () => void;
    const reached = new Promise<void>((resolve) => (asked = resolve));
    // Lazy like postgres.js: a query runs when awaited, so a fragment nested in another (built
    // with the same tag, never awaited on its own) neither counts as asked nor rejects unheard.
    const sql = (strings: TemplateStringsArray) => {
      if (strings.join('?').trim() === 'select 1') return Promise.resolve([{ '?column?': 1 }]);
      return {
        then: (onFulfilled: (v: never) => unknown, onRejected: (e: unknown) => unknown) => {
          asked();
          return warnings().then(onFulfilled, onRejected);
        },
      };
    };
    return { sql: sql as unknown as Sql, reached };
  }

  it('leaves out warnings whose query fails', async () => {
    const { sql } = stubSql(() => Promise.reject(new Error('connection terminated')));
    const { app } = buildApp({ sql, clock: new ManualClock(START), buffer: new HeartbeatBuffer() });
    const res = await send(app, 'GET', '/readyz');
    assert.deepEqual([res.status, await res.json()], [200, { status: 'ready', queue: 'redis' }]);
  });

  it('leaves out warnings whose query stalls, once the probes’ 2 s have passed', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { sql, reached } = stubSql(() => new Promise<never>(() => {}));
    const { app } = buildApp({ sql, clock: new ManualClock(START), buffer: new HeartbeatBuffer() });
    const answer = send(app, 'GET', '/readyz');
    await reached;
    t.mock.timers.tick(2000);
    const res = await answer;
    assert.deepEqual([res.status, await res.json()], [200, { status: 'ready', queue: 'redis' }]);
  });
});
