import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CONNECTIONS_PER_RECEIVER } from '../../alerting/post-json.ts';
import { generateWebhookSecret } from '../../alerting/webhook.ts';
import { ManualClock } from '../helpers/clock.ts';
import { NOTIFICATIONS_QUEUE } from '../../src/notifications/queue.ts';
import { openQueueBackend } from '../../src/queue/backend.ts';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../helpers/db.ts';
import { createOnCall, QUEUE_BACKENDS } from '../helpers/oncall.ts';
import { pendingPages } from '../helpers/pending-pages.ts';
import { until } from '../helpers/wait.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';

// A rolling restart under load: every connection to a receiver is held by an exchange not answered
// yet, more sends wait for one, and the notifier stops. The waiting sends must free their rows for
// another process at once, not when a connection comes free or their lease lapses, and their jobs
// go back to the queue unspent; the stop itself still waits for the exchanges under way.

for (const backend of QUEUE_BACKENDS) describe(`a notifier stopping with sends waiting for a connection (queues on ${backend})`, () => {
  const redisUrl = backend === 'redis' ? REDIS_URL : undefined;
  let db: TestDatabase;

  before(async () => {
    db = await createTestDatabase();
  });
  after(() => db.drop());

  /**
   * A receiver holding every exchange, `n` pages due to it and added to the queue of a notifier
   * with these options; `end` answers the held exchanges and closes everything.
   */
  async function scene(n: number, o: { concurrency?: number } = {}) {
    await db.sql`truncate deliveries, incident_timeline, incidents, channels cascade`;
    const secret = generateWebhookSecret();
    const hook = await startWebhookReceiver({ secret });
    const oc = await createOnCall(db, new ManualClock(new Date()), { redisUrl, ...o });
    const store = await openQueueBackend({ redisUrl, databaseUrl: db.url, prefix: oc.prefix });
    const jobs = store.queue(NOTIFICATIONS_QUEUE, {});
    let stopping: Promise<void> | undefined;
    const end = async () => {
      hook.answerAll(200);
      hook.release(200);
      await (stopping ?? oc.close());
      await jobs.close();
      await store.close();
      await hook.close();
    };
    try {
      const ch = await oc.webhook('ops', hook.url, secret);
      const ids = await pendingPages(db.sql, ch.id, n, new Date());
      hook.answerAll('hang');
      // A producer fails fast until the job store's connection is first ready: try until it is.
      await until('the jobs added', () => oc.queue.enqueue(ids.map((id) => ({ id }))).then(() => true, () => undefined));
      return { hook, jobs, ids, stop: () => void (stopping = oc.close()), end };
    } catch (err) {
      await end();
      throw err;
    }
  }

  it('gives the waiting sends’ leases back at once and puts their jobs back unspent, while the exchanges under way finish', async () => {
    const { hook, jobs, ids, stop, end } = await scene(CONNECTIONS_PER_RECEIVER + 3);
    try {
      const leased = async (of: string[]) => (await db.sql<{ n: number }[]>`select count(*)::int as n from deliveries where id = any(${of}::text[]) and lease_token is not null`)[0]!.n;
      await until('every connection held, and every row leased', async () => hook.hanging.length === CONNECTIONS_PER_RECEIVER && (await leased(ids)) === ids.length);
      const started = new Set(hook.requests.map((r) => r.headers['webhook-id']));
      const waiters = ids.filter((id) => !started.has(id));
      assert.equal(waiters.length, 3);

      // The notifier's stop comes first; it waits for the exchanges under way.
      stop();
      await until('the waiting sends’ leases given back', async () => (await leased(waiters)) === 0);
      assert.equal(hook.hanging.length, CONNECTIONS_PER_RECEIVER, 'while every connection is still held');
      const rows = await db.sql<{ status: string; attempts: number }[]>`select status, attempts from deliveries where id = any(${waiters}::text[])`;
      assert.deepEqual(
        rows.map((r) => [r.status, r.attempts]),
        waiters.map(() => ['pending', 0]),
        'no attempt spent',
      );
      await until('their jobs back in the queue', async () => (await Promise.all(waiters.map((id) => jobs.getJobState(id)))).every((s) => s === 'delayed'));
    } finally {
      await end();
    }
    const [sent] = await db.sql<{ n: number }[]>`select count(*)::int as n from deliveries where status = 'sent'`;
    assert.equal(sent!.n, CONNECTIONS_PER_RECEIVER, 'the exchanges under way finished and were recorded');
    assert.equal(new Set(hook.requests.map((r) => r.headers['webhook-id'])).size, CONNECTIONS_PER_RECEIVER, 'nothing of the waiting sends reached the receiver');
  });

  it('puts back at once, unspent, the rows of its groups still waiting for a send slot, while the sends under way finish', async () => {
    // Two sends in flight: the other two rows of the group wait for a slot, leasing nothing.
    const { hook, jobs, ids, stop, end } = await scene(4, { concurrency: 2 });
    try {
      await until('both slots held by exchanges under way', async () => hook.hanging.length === 2);
      const started = new Set(hook.requests.map((r) => r.headers['webhook-id']));
      const waiters = ids.filter((id) => !started.has(id));
      assert.equal(waiters.length, 2);

      // Before, they waited for the exchanges ahead of them, up to the HTTP deadline.
      stop();
      await until('the waiting rows back in jobs of their own', async () => (await Promise.all(waiters.map((id) => jobs.getJobState(id)))).every((s) => s === 'delayed'));
      assert.equal(hook.hanging.length, 2, 'while both exchanges are still held');
      const rows = await db.sql<{ status: string; attempts: number; leased: boolean }[]>`
        select status, attempts, lease_token is not null as leased from deliveries where id = any(${waiters}::text[])`;
      assert.deepEqual(
        rows.map((r) => [r.status, r.attempts, r.leased]),
        waiters.map(() => ['pending', 0, false]),
        'no attempt spent, no lease held',
      );
    } finally {
      await end();
    }
    assert.equal(new Set(hook.requests.map((r) => r.headers['webhook-id'])).size, 2, 'nothing of the waiting rows reached the receiver');
  });
});
