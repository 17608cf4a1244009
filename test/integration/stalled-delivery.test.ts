import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { UnrecoverableError, type Job } from 'bullmq';
import { generateWebhookSecret } from '../../alerting/webhook.ts';
import { ManualClock } from '../../src/clock.ts';
import { NOTIFICATIONS_QUEUE } from '../../src/notifications/queue.ts';
import { sweepDeliveries } from '../../src/notifications/sweep.ts';
import { openQueueBackend, type AnyQueue, type QueueBackend } from '../../src/queue/backend.ts';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../helpers/db.ts';
import { testLog } from '../helpers/log.ts';
import { createOnCall, QUEUE_BACKENDS, type OnCall } from '../helpers/oncall.ts';
import { until } from '../helpers/wait.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

// A job that stalls more than BullMQ's maxStalledCount lands in the failed set without the
// worker's 'failed' event: nothing marks its ledger row, and adding the job again is a no-op while
// the failed job is kept. The sweeper finds such rows once they are overdue and asks the job store.

const HOUR_MS = 3_600_000;

for (const backend of QUEUE_BACKENDS) describe(`overdue deliveries (queues on ${backend})`, () => {
  const redisUrl = backend === 'redis' ? REDIS_URL : undefined;
  const secret = generateWebhookSecret();
  let db: TestDatabase;
  let oc: OnCall;
  let hook: WebhookReceiver;
  // A second view of the job store, as another process (a worker that took a job and stalled) has.
  let store: QueueBackend;
  let jobs: AnyQueue;

  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db.drop();
  });
  beforeEach(async () => {
    hook = await startWebhookReceiver({ secret });
    // No notifier yet: the test puts the jobs in the states it needs first.
    oc = await createOnCall(db, new ManualClock(new Date()), { redisUrl, worker: false });
    store = await openQueueBackend({ redisUrl, databaseUrl: db.url, prefix: oc.prefix });
    jobs = store.queue(NOTIFICATIONS_QUEUE, {});
    // This job store has every job the ledger knows of: no resync pass re-adds jobs below.
    const { token } = await until('the job store to answer', () => oc.queue.unsynced().then((t) => ({ token: t }), () => undefined));
    if (token) await oc.queue.markSynced(token);
  });
  afterEach(async () => {
    await oc.close();
    await jobs.close();
    await store.close();
    await hook.close();
    await db.sql`truncate incidents, deliveries, channels cascade`;
  });

  /** A pending page for a new incident, to this webhook channel; its ledger id. */
  async function page(channelId: string, name: string): Promise<string> {
    const [row] = await db.sql<{ id: string }[]>`
      with i as (
        insert into incidents (node_id, node_name, category, severity, status, title, reason, opened_at)
        values (gen_random_uuid(), ${name}, 'node_down', 'critical', 'open', ${`${name} is down`}, 'no heartbeat for 90s', now())
        returning id, opened_at)
      insert into deliveries (id, incident_id, event, event_key, channel_id, channel_type, status, occurred_at, created_at)
      select i.id || '.opened.' || ${channelId}, i.id, 'opened', 'opened', ${channelId}::uuid, 'webhook', 'pending', i.opened_at, i.opened_at from i
      returning id`;
    return row!.id;
  }

  /** The resolve answering this page, pending, written a second after it. */
  async function resolveOf(pageId: string): Promise<string> {
    const [row] = await db.sql<{ id: string }[]>`
      insert into deliveries (id, incident_id, event, event_key, channel_id, channel_type, status, occurred_at, created_at)
      select incident_id || '.resolved.' || channel_id, incident_id, 'resolved', 'resolved', channel_id, channel_type, 'pending',
             created_at + interval '1 second', created_at + interval '1 second'
      from deliveries where id = ${pageId}
      returning id`;
    return row!.id;
  }

  /** A worker of another process takes the next job and ends it as `end` does, unseen by the notifier. */
  async function takeAndEnd(id: string, end: (job: Job, token: string) => Promise<unknown>) {
    await oc.queue.enqueue([{ id }]);
    const worker = store.worker(NOTIFICATIONS_QUEUE, async () => {}, { autorun: false });
    const token = randomUUID();
    const job = await worker.getNextJob(token);
    assert.equal(job?.id, id);
    await end(job, token);
    await worker.close();
  }

  const sweepAt = (msFromNow: number) =>
    sweepDeliveries({ sql: db.sql, clock: new ManualClock(new Date(Date.now() + msFromNow)), queue: oc.queue, log: testLog });
  const stateOf = (id: string) => jobs.getJobState(id);
  const statusOf = async (id: string) => (await db.sql<{ status: string }[]>`select status from deliveries where id = ${id}`)[0]?.status;

  it('sends once the page whose job failed by stalling, re-adds a lost job, and leaves healthy jobs alone', async () => {
    const ch = await oc.webhook('ops', hook.url, secret);
    const stalled = await page(ch.id, 'stalled');
    const [completed, missing, waiting, delayed] = [await page(ch.id, 'completed'), await page(ch.id, 'missing'), await page(ch.id, 'waiting'), await page(ch.id, 'delayed')];

    // A worker takes the page's job and loses it the way a second stall does: the job ends in
    // the failed set, and no 'failed' handler of the notifier sees it.
    await takeAndEnd(stalled, (job, token) => job.moveToFailed(new UnrecoverableError('job stalled more than allowable limit'), token));
    assert.equal(await stateOf(stalled), 'failed');
    // A job the store says is done while the ledger says it is not (a database restored to an
    // earlier point, say): the ledger wins.
    await takeAndEnd(completed, (job, token) => job.moveToCompleted('done', token, false));
    assert.equal(await stateOf(completed), 'completed');

    // One job lost from the store, one waiting for a worker, one waiting for its retry in an hour.
    await db.sql`update deliveries set status = 'failed', attempts = 1, next_attempt_at = ${new Date(Date.now() + HOUR_MS)} where id = ${delayed}`;
    await oc.queue.enqueue([{ id: missing }, { id: waiting }, { id: delayed, delayMs: HOUR_MS }]);
    await (await jobs.getJob(missing))!.remove();
    assert.deepEqual(await Promise.all([missing, waiting, delayed].map(stateOf)), ['unknown', 'waiting', 'delayed']);

    // Two hours on, every one of these rows is overdue.
    await sweepAt(2 * HOUR_MS);
    assert.deepEqual(
      await Promise.all([stalled, completed, missing, waiting, delayed].map(stateOf)),
      ['waiting', 'waiting', 'waiting', 'waiting', 'delayed'],
      'the failed job is run again and the lost one added; the waiting and delayed jobs keep their state',
    );

    await oc.restartNotifier();
    const due = [stalled, completed, missing, waiting];
    await until('the four due pages sent', async () => (await Promise.all(due.map(statusOf))).every((s) => s === 'sent'));
    assert.deepEqual(
      hook.requests.map((r) => [r.headers['webhook-id'], r.verified]).sort(),
      [...due].sort().map((id) => [id, true]),
      'each page received once',
    );
    assert.equal(await stateOf(delayed), 'delayed', 'the retry an hour away is not run early');
  });

  it('leaves a resolve held behind its page in flight to the page, and brings back its lost job once the page is done', async () => {
    const ch = await oc.webhook('ops', hook.url, secret);
    const pageId = await page(ch.id, 'retrying');
    const resolve = await resolveOf(pageId);
    // The page waits for its retry in an hour; the resolve's job, held behind it, is lost.
    await db.sql`update deliveries set status = 'failed', attempts = 1, next_attempt_at = ${new Date(Date.now() + HOUR_MS)} where id = ${pageId}`;
    await oc.queue.enqueue([{ id: pageId, delayMs: HOUR_MS }, { id: resolve }]);
    await (await jobs.getJob(resolve))!.remove();

    await sweepAt(10 * 60_000);
    assert.equal(await stateOf(resolve), 'unknown', 'not overdue while its page is in flight');
    await db.sql`update deliveries set status = 'sent', next_attempt_at = null where id = ${pageId}`;
    await sweepAt(10 * 60_000);
    assert.equal(await stateOf(resolve), 'waiting');
    await oc.restartNotifier();
    await until('the resolve sent', async () => (await statusOf(resolve)) === 'sent');
    assert.deepEqual(hook.requests.map((r) => r.headers['webhook-id']), [resolve]);
  });
});
