import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { generateWebhookSecret } from '../../alerting/webhook.ts';
import { ManualClock } from '../helpers/clock.ts';
import { NOTIFICATIONS_QUEUE } from '../../src/notifications/queue.ts';
import { openQueueBackend } from '../../src/queue/backend.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { createOnCall, deliveriesOf, incidentsOf, type OnCall } from '../helpers/oncall.ts';
import { createPipeline } from '../helpers/pipeline.ts';
import { startPrivateRedis } from '../helpers/redis-server.ts';
import { startWebhookReceiver, type ReceivedRequest, type WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { until } from '../helpers/wait.ts';

const T0 = new Date('2026-11-21T10:00:00.000Z');
// The requirement: after Redis comes back empty, what it lost is sent within a minute.
const AFTER_REDIS_RETURNS_MS = 60_000;

const type = (r: ReceivedRequest) => JSON.parse(r.body).type as string;

describe('notifications when Redis restarts or loses its data', () => {
  let db: TestDatabase;
  let redis: Awaited<ReturnType<typeof startPrivateRedis>>;
  let p: ReturnType<typeof createPipeline>;
  let oc: OnCall;
  let hook: WebhookReceiver;
  let jobs: Queue;
  let clock: ManualClock;
  const secret = generateWebhookSecret();

  before(async () => {
    [db, redis] = await Promise.all([createTestDatabase(), startPrivateRedis()]);
  });
  after(() => Promise.all([redis.stop(), db.drop()]));
  beforeEach(async () => {
    // Each test brings its own node, channel and default policy (a new default demotes the old one).
    clock = new ManualClock(T0);
    p = createPipeline(db, clock);
    oc = await createOnCall(db, clock, { redisUrl: redis.url, backoffCapMs: 30_000 });
    hook = await startWebhookReceiver({ secret });
    jobs = new Queue(NOTIFICATIONS_QUEUE, { connection: { url: redis.url }, prefix: oc.prefix });
  });
  afterEach(async () => {
    await jobs.close();
    await oc.close();
    await p.close();
    await hook.close();
  });

  /** A node goes down; its page fails once and waits, delayed in Redis, for the 10 s the receiver asked. */
  const pageWaitingForRetry = async (name: string) => {
    hook.script({ status: 500, headers: { 'retry-after': '10' } });
    const ch = await oc.webhook(`${name}-hook`, hook.url, secret);
    await oc.policy(`${name}-policy`, [{ after_seconds: 0, channel_ids: [ch.id] }], { isDefault: true });
    const node = await p.addNodeGoneDown(name);
    await oc.drain();
    const refused = await hook.waitFor((r) => type(r) === 'incident.opened');
    const [incident] = await incidentsOf(db, node);
    const page = await until('the page to wait for its retry in Redis', async () => {
      const [d] = await deliveriesOf(db, incident!.id);
      return d?.status === 'failed' && (await jobs.getJobState(d.id)) === 'delayed' ? d : undefined;
    });
    const [row] = await db.sql<{ next_attempt_at: Date }[]>`select next_attempt_at from deliveries where id = ${page.id}`;
    return { node, incident: incident!, page, refused, retryAt: row!.next_attempt_at };
  };

  it('sends a page waiting for its retry, then its resolve, each accepted once, not before the page was due', async () => {
    const { node, incident, refused, retryAt } = await pageWaitingForRetry('db-1');
    // The node recovers: the resolve is enqueued and waits behind its page.
    p.beat(node);
    await p.tick();
    await oc.drain();
    await until('the resolve to be enqueued', async () => {
      const [row] = await db.sql`select 1 from deliveries where incident_id = ${incident.id} and event = 'resolved' and enqueued_at is not null`;
      return row !== undefined;
    });

    await redis.stop();
    await redis.start(); // it keeps nothing on disk: every job is gone

    const resolved = await hook.waitFor((r) => type(r) === 'incident.resolved', AFTER_REDIS_RETURNS_MS);
    const ds = await until('both deliveries settled', async () => {
      const rows = await deliveriesOf(db, incident.id);
      return rows.every((d) => d.status === 'sent') ? rows : undefined;
    });
    assert.deepEqual(ds.map((d) => [d.event, d.status, d.attempts]), [
      ['opened', 'sent', 2],
      ['resolved', 'sent', 1],
    ]);
    const byId = (r: ReceivedRequest) => hook.requests.filter((q) => q.headers['webhook-id'] === r.headers['webhook-id']);
    const [first, accepted] = byId(refused);
    assert.equal(first, refused);
    assert.ok(accepted, 'the page was sent again');
    assert.equal(byId(refused).length, 2, 'the page: one refused attempt, one accepted');
    assert.equal(byId(resolved).length, 1, 'the resolve: accepted once');
    assert.ok(hook.requests.indexOf(accepted) < hook.requests.indexOf(resolved), 'the resolve never overtakes its page');
    assert.ok(hook.requests.every((r) => r.verified));
    // The re-added job kept the ledger's retry time instead of running as soon as Redis was back.
    assert.ok(
      Number(accepted.headers['webhook-timestamp']) >= Math.floor(retryAt.getTime() / 1000),
      `the page was retried at ${accepted.headers['webhook-timestamp']} s, before it was due (${retryAt.toISOString()})`,
    );
  });

  it('sends a page Redis held once the engine runs on Postgres instead (REDIS_URL unset), when it is due', async () => {
    const { incident, refused, retryAt } = await pageWaitingForRetry('db-4');
    // The engine restarts without REDIS_URL: its job is left behind in Redis, only the ledger knows.
    const { secretKey } = oc;
    await oc.close();
    oc = await createOnCall(db, clock, { redisUrl: undefined, secretKey, backoffCapMs: 30_000 });
    const again = await hook.waitFor((r) => r !== refused && r.headers['webhook-id'] === refused.headers['webhook-id'], AFTER_REDIS_RETURNS_MS);
    const [d] = await until('the page settled', async () => {
      const rows = await deliveriesOf(db, incident.id);
      return rows[0]?.status === 'sent' ? rows : undefined;
    });
    assert.deepEqual([d!.event, d!.status, d!.attempts], ['opened', 'sent', 2]);
    assert.equal(hook.requests.filter((r) => r.headers['webhook-id'] === refused.headers['webhook-id']).length, 2, 'one refused attempt, one accepted');
    assert.ok(
      Number(again.headers['webhook-timestamp']) >= Math.floor(retryAt.getTime() / 1000),
      `the page was retried at ${again.headers['webhook-timestamp']} s, before it was due (${retryAt.toISOString()})`,
    );
  });

  it('opens incidents in a process started while Redis is down, and pages once Redis is up', async () => {
    const ch = await oc.webhook('db-3-hook', hook.url, secret);
    await oc.policy('db-3-policy', [{ after_seconds: 0, channel_ids: [ch.id] }], { isDefault: true });
    const node = await p.addNodeGoneDown('db-3');
    await redis.stop();
    // An outbox process that never saw Redis: its fan-out must fail fast like any other, not hold
    // the loop (and every later incident event) until Redis answers.
    const late = await createOnCall(db, clock, { redisUrl: redis.url, prefix: oc.prefix, secretKey: oc.secretKey, worker: false });
    let drained = false;
    const draining = late.drain().then(() => {
      drained = true;
    });
    const drainedWhileDown = await until('the outbox to get through its events while Redis is down', async () => drained).then(
      () => true,
      () => false,
    );
    const [incident] = await incidentsOf(db, node);
    const [row] = await db.sql<{ status: string; enqueued_at: Date | null }[]>`
      select status, enqueued_at from deliveries where incident_id = ${incident!.id}`;
    // Either way Redis comes back (a held enqueue lets go only then) and the page goes out.
    await redis.start();
    await draining;
    const page = await hook.waitFor((r) => type(r) === 'incident.opened', AFTER_REDIS_RETURNS_MS);
    await late.close();
    assert.equal(drainedWhileDown, true, 'no enqueue held the outbox while Redis was down');
    assert.equal(incident!.status, 'open');
    assert.deepEqual([row?.status, row?.enqueued_at], ['pending', null], 'written to the ledger, left for the sweeper');
    assert.equal(JSON.parse(page.body).data.incident.id, incident!.id);
  });

  it('leaves a job Redis still holds as it is when it re-adds every unfinished delivery', async () => {
    const { page } = await pageWaitingForRetry('db-2');
    const before = await jobs.getJob(page.id);
    // Without the marker the sweeper re-adds everything, as after a restart that kept the data.
    const client = new Redis(redis.url);
    try {
      const marker = `${oc.prefix}:${NOTIFICATIONS_QUEUE}:synced-run-id`;
      await until('the sweeper to sync this Redis once', async () => (await client.get(marker)) !== null);
      await client.del(marker);
      await until('the sweeper to re-add every unfinished delivery', async () => (await client.get(marker)) !== null);
      const afterwards = await jobs.getJob(page.id);
      assert.equal(await jobs.getJobState(page.id), 'delayed', 'still waiting for its retry');
      assert.deepEqual(
        [afterwards?.timestamp, afterwards?.delay, afterwards?.attemptsMade],
        [before?.timestamp, before?.delay, before?.attemptsMade],
      );
      assert.equal(hook.requests.length, 1, 'not retried early');
    } finally {
      client.disconnect();
    }
  });

  // BullMQ's own schedule for the worker's connections waits e^attempt seconds, up to 20 s: after
  // a 40 s outage the sweeper had every delivery back in Redis within 2 s of it answering, and the
  // jobs then waited 17-19 s more (3 runs of 3) for the worker's next try.
  it('has every connection of the queues, the worker’s blocking one too, retry a Redis that went away at least every 2 s', async () => {
    const backend = await openQueueBackend({ redisUrl: redis.url, databaseUrl: db.url, prefix: oc.prefix });
    const queue = backend.queue('reconnect-schedule', {});
    const worker = backend.worker('reconnect-schedule', async () => {}, { autorun: false });
    try {
      // The ioredis clients BullMQ built, with the options it gave them.
      type Clients = { client: Promise<Redis>; blockingClient?: Promise<Redis> };
      const clients = [(queue.backend as unknown as Clients).client, (worker.backend as unknown as Clients).client, (worker.backend as unknown as Clients).blockingClient];
      const attempts = Array.from({ length: 1000 }, (_, i) => i + 1);
      for (const [i, client] of clients.entries()) {
        const retry = (await client)?.options.retryStrategy;
        assert.ok(retry, `connection ${i} reconnects`);
        const longest = Math.max(...attempts.map((n) => Number(retry(n))));
        assert.ok(longest <= 2000, `connection ${i} waits up to ${longest} ms between attempts`);
      }
    } finally {
      await worker.close();
      await queue.close();
      await backend.close();
    }
  });
});
