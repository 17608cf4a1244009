import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { UnrecoverableError, type Job } from 'bullmq';
import { generateWebhookSecret } from '../../alerting/webhook.ts';
import { ManualClock } from '../helpers/clock.ts';
import { groupJobId, NOTIFICATIONS_QUEUE, rowsOf } from '../../src/notifications/queue.ts';
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

  /** A pending page for a new incident (its id `incidentId` when given), to this webhook channel; its ledger id. */
  async function page(channelId: string, name: string, incidentId: string = randomUUID()): Promise<string> {
    const [row] = await db.sql<{ id: string }[]>`
      with i as (
        insert into incidents (id, node_id, node_name, category, severity, status, title, reason, opened_at)
        values (${incidentId}, gen_random_uuid(), ${name}, 'node_down', 'critical', 'open', ${`${name} is down`}, 'no heartbeat for 90s', now())
        returning id, opened_at)
      insert into deliveries (id, incident_id, event, event_key, channel_id, channel_type, status, occurred_at, created_at)
      select i.id || '.opened.' || ${channelId}, i.id, 'opened', 'opened', ${channelId}::uuid, 'webhook', 'pending', i.opened_at, i.opened_at from i
      returning id`;
    return row!.id;
  }

  /**
   * A worker of another process takes the next job and ends it as `end` does, unseen by the
   * notifier; `add` puts the job in the store (as the notifier's queue does unless given).
   */
  async function takeAndEnd(id: string, end: (job: Job, token: string) => Promise<unknown>, add = () => oc.queue.enqueue([{ id }])) {
    await add();
    const worker = store.worker(NOTIFICATIONS_QUEUE, async () => {}, { autorun: false });
    const token = randomUUID();
    const job = await worker.getNextJob(token);
    assert.deepEqual(rowsOf(job.data), [id]);
    await end(job, token);
    await worker.close();
  }

  const sweepAt = (msFromNow: number, overdue = { afterId: '' }) =>
    sweepDeliveries({ sql: db.sql, clock: new ManualClock(new Date(Date.now() + msFromNow)), queue: oc.queue, log: testLog, overdue });
  const stateOf = (id: string) => jobs.getJobState(id);
  // The job of a group of one row, as `enqueue` names it; the row's own id names a job of it alone.
  const groupOf = (id: string) => groupJobId([id]);
  const statusOf = async (id: string) => (await db.sql<{ status: string }[]>`select status from deliveries where id = ${id}`)[0]?.status;

  it('sends once the page whose job failed by stalling, re-adds a lost job, and leaves healthy jobs alone', async () => {
    const ch = await oc.webhook('ops', hook.url, secret);
    const stalled = await page(ch.id, 'stalled');
    const [completed, kept, missing, waiting, delayed] = [
      await page(ch.id, 'completed'),
      await page(ch.id, 'kept'),
      await page(ch.id, 'missing'),
      await page(ch.id, 'waiting'),
      await page(ch.id, 'delayed'),
    ];

    // A worker takes the page's job and loses it the way a second stall does: the job ends in
    // the failed set, and no 'failed' handler of the notifier sees it.
    await takeAndEnd(stalled, (job, token) => job.moveToFailed(new UnrecoverableError('job stalled more than allowable limit'), token));
    assert.equal(await stateOf(groupOf(stalled)), 'failed');
    // A job that completed while the ledger says its row is not done (a database restored to an
    // earlier point, say): the store dropped it on completion, and the ledger wins.
    await takeAndEnd(completed, (job, token) => job.moveToCompleted('done', token, false));
    assert.equal(await stateOf(groupOf(completed)), 'unknown');
    // The same, its job kept on completion as versions before removing them did (7 days).
    const keptAdd = async () => {
      await jobs.add('deliver', { id: kept }, { jobId: kept, removeOnComplete: false });
      await db.sql`update deliveries set enqueued_at = now() where id = ${kept}`;
    };
    await takeAndEnd(kept, (job, token) => job.moveToCompleted('done', token, false), keptAdd);
    assert.equal(await stateOf(kept), 'completed');

    // One job lost from the store, one waiting for a worker, one waiting for its retry in an hour.
    await db.sql`update deliveries set status = 'failed', attempts = 1, next_attempt_at = ${new Date(Date.now() + HOUR_MS)} where id = ${delayed}`;
    await oc.queue.enqueue([{ id: missing }]);
    await oc.queue.enqueue([{ id: waiting }]);
    await oc.queue.enqueue([{ id: delayed, delayMs: HOUR_MS }]);
    await (await jobs.getJob(groupOf(missing)))!.remove();
    assert.deepEqual(await Promise.all([groupOf(missing), groupOf(waiting), delayed].map(stateOf)), ['unknown', 'waiting', 'delayed']);

    // Two hours on, every one of these rows is overdue.
    await sweepAt(2 * HOUR_MS);
    assert.deepEqual(
      await Promise.all([stalled, completed, kept, missing, delayed].map(stateOf)),
      ['waiting', 'waiting', 'waiting', 'waiting', 'delayed'],
      'the failed and the kept completed jobs are run again and the lost ones added alone; the delayed job keeps its state',
    );
    // A row of a group has no job under its own id: it is added alone beside its waiting group,
    // which keeps its state; the two runs send it once (below).
    assert.deepEqual(await Promise.all([groupOf(waiting), waiting].map(stateOf)), ['waiting', 'waiting']);

    await oc.restartNotifier();
    const due = [stalled, completed, kept, missing, waiting];
    await until('the five due pages sent', async () => (await Promise.all(due.map(statusOf))).every((s) => s === 'sent'));
    assert.deepEqual(
      hook.requests.map((r) => [r.headers['webhook-id'], r.verified]).sort(),
      [...due].sort().map((id) => [id, true]),
      'each page received once',
    );
    assert.equal(await stateOf(delayed), 'delayed', 'the retry an hour away is not run early');
  });

  it('drops a job once its row is sent, and sends nothing when the row is added again', async () => {
    const ch = await oc.webhook('ops', hook.url, secret);
    const id = await page(ch.id, 'sent');
    await oc.queue.enqueue([{ id }]);
    await oc.restartNotifier();
    const ended = () => until('the job to end', async () => ((await stateOf(groupOf(id))) === 'completed' || (await stateOf(groupOf(id))) === 'unknown' ? stateOf(groupOf(id)) : undefined));
    await until('the page sent', async () => (await statusOf(id)) === 'sent');
    assert.equal(await ended(), 'unknown', 'the completed job is not kept');

    // A producer adding the row again gets a new job, whose run finds the row final.
    await oc.queue.enqueue([{ id }]);
    assert.equal(await ended(), 'unknown');
    assert.equal(hook.requests.filter((r) => r.headers['webhook-id'] === id).length, 1, 'received once');
    const [row] = await db.sql<{ attempts: number }[]>`select attempts from deliveries where id = ${id}`;
    assert.equal(row!.attempts, 1);
  });

  it('reaches a failed job behind a full pass of late but healthy ones on the next pass', async () => {
    const ch = await oc.webhook('ops', hook.url, secret);
    // Its id sorts after every other: a pass looks at the first 100 in id order.
    const stalled = await page(ch.id, 'stalled', 'ffffffff-ffff-4fff-bfff-ffffffffffff');
    await takeAndEnd(stalled, (job, token) => job.moveToFailed(new UnrecoverableError('job stalled more than allowable limit'), token));
    const waiting: string[] = [];
    for (let i = 0; i < 100; i++) waiting.push(await page(ch.id, `waiting-${i}`));
    await oc.queue.enqueue(waiting.map((id) => ({ id })));

    const overdue = { afterId: '' };
    await sweepAt(HOUR_MS, overdue);
    assert.equal(await stateOf(stalled), 'unknown', 'the first pass looks at the 100 waiting ones');
    await sweepAt(HOUR_MS, overdue);
    assert.equal(await stateOf(stalled), 'waiting', 'then the stalled one, added alone');

    await oc.restartNotifier();
    const all = [...waiting, stalled];
    await until('every page sent', async () => (await Promise.all(all.map(statusOf))).every((s) => s === 'sent'));
    assert.deepEqual(hook.requests.map((r) => r.headers['webhook-id']).sort(), all.sort(), 'each page received once');
  });
});
