import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { generateWebhookSecret } from '../../alerting/webhook.ts';
import { ManualClock } from '../helpers/clock.ts';
import { groupJobId, heldJobId, NOTIFICATIONS_QUEUE, ROWS_PER_JOB } from '../../src/notifications/queue.ts';
import { openQueueBackend, type AnyQueue, type QueueBackend } from '../../src/queue/backend.ts';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../helpers/db.ts';
import { createOnCall, QUEUE_BACKENDS } from '../helpers/oncall.ts';
import { pendingPages } from '../helpers/pending-pages.ts';
import { until } from '../helpers/wait.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

// Rows due at once share a job (`{ ids }`); each row is settled on its own: one that must wait goes
// back as a job of its own, one that failed for another reason keeps the group's job for a rerun.

for (const backend of QUEUE_BACKENDS) describe(`deliveries grouped in jobs (queues on ${backend})`, () => {
  const redisUrl = backend === 'redis' ? REDIS_URL : undefined;
  let db: TestDatabase;
  let oc: Awaited<ReturnType<typeof createOnCall>>;
  let store: QueueBackend;
  let jobs: AnyQueue;
  let hook: WebhookReceiver;
  let secret: string;

  before(async () => {
    db = await createTestDatabase();
  });
  after(() => db.drop());

  beforeEach(async () => {
    await db.sql`truncate deliveries, incident_timeline, incidents, channels cascade`;
    secret = generateWebhookSecret();
    hook = await startWebhookReceiver({ secret });
    // Retries up to 2 s apart, so a Retry-After of 1 s is honoured.
    oc = await createOnCall(db, new ManualClock(new Date()), { redisUrl, backoffCapMs: 2000 });
    store = await openQueueBackend({ redisUrl, databaseUrl: db.url, prefix: oc.prefix });
    jobs = store.queue(NOTIFICATIONS_QUEUE, {});
  });
  afterEach(async () => {
    await oc.close();
    await jobs.close();
    await store.close();
    await hook.close();
  });

  const pages = async (n: number, to = hook) => pendingPages(db.sql, (await oc.webhook(`hook-${Math.random()}`, to.url, secret)).id, n, new Date());
  const status = async (id: string) => (await db.sql<{ status: string }[]>`select status from deliveries where id = ${id}`)[0]!.status;
  const received = (r: WebhookReceiver) => r.requests.map((q) => String(q.headers['webhook-id'])).sort();
  // A producer fails fast until the job store's connection is first ready: try until it is.
  const enqueue = (ids: string[]) => until('the jobs added', () => oc.queue.enqueue(ids.map((id) => ({ id }))).then(() => true, () => undefined));
  const allSent = (ids: string[]) =>
    until('every row sent', async () => (await db.sql<{ n: number }[]>`select count(*)::int as n from deliveries where id = any(${ids}::text[]) and status = 'sent'`)[0]!.n === ids.length);

  it('retries a row whose receiver failed on its own, on the ledger’s schedule, and sends the group’s other rows once', async () => {
    const slow = await startWebhookReceiver({ secret });
    try {
      const ok = await pages(3);
      const [bad] = await pages(1, slow);
      const ids = [...ok, bad!];
      slow.script({ status: 429, headers: { 'retry-after': '1' } });
      await enqueue(ids);
      // The group's job completed while the failed row waits in a job of its own.
      await until('the failed row back on its own, the group done', async () =>
        (await jobs.getJobState(bad!)) === 'delayed' && (await jobs.getJobState(groupJobId(ids))) === 'unknown' && (await status(bad!)) === 'failed');
      const [failed] = await db.sql<{ next: Date }[]>`select next_attempt_at as next from deliveries where id = ${bad!}`;
      await allSent(ids);
      const [retried] = await db.sql<{ attempts: number; sent_at: Date }[]>`select attempts, sent_at from deliveries where id = ${bad!}`;
      assert.equal(retried!.attempts, 2, 'the refusal and the send');
      assert.ok(retried!.sent_at >= failed!.next, 'not sent again before the Retry-After');
      assert.deepEqual(received(hook), [...ok].sort(), 'the other rows sent once');
      assert.deepEqual(received(slow), [bad, bad], 'the failed row twice: the refusal, then its retry');
    } finally {
      await slow.close();
    }
  });

  it('sends a row back on its own as soon as it failed, while another row of its group still hangs at its receiver', async () => {
    const stuck = await startWebhookReceiver({ secret });
    const throttled = await startWebhookReceiver({ secret });
    try {
      const [s] = await pages(1, stuck);
      const [t] = await pages(1, throttled);
      stuck.script('hang');
      throttled.script({ status: 429, headers: { 'retry-after': '1' } });
      await enqueue([s!, t!]);
      // Before, the throttled row went back only once every row of its group had settled.
      await until('the throttled row retried and sent', async () => (await status(t!)) === 'sent');
      assert.equal(stuck.hanging.length, 1, 'while the other row still hangs');
      assert.equal(await status(s!), 'pending');
      stuck.release(200);
      await allSent([s!, t!]);
      assert.deepEqual(received(throttled), [t, t], 'the refusal, then its retry');
      assert.deepEqual(received(stuck), [s], 'the hanging row once');
    } finally {
      await stuck.close();
      await throttled.close();
    }
  });

  /**
   * In place of this suite's notifier (which on Postgres would share the queue), one with 16 sends
   * in flight: at most 128 rows, two groups, held.
   */
  const sixteenSends = async () => {
    await oc.close();
    await jobs.close();
    await store.close();
    const clock = new ManualClock(new Date());
    oc = await createOnCall(db, clock, { redisUrl, backoffCapMs: 2000, concurrency: 16 });
    store = await openQueueBackend({ redisUrl, databaseUrl: db.url, prefix: oc.prefix });
    jobs = store.queue(NOTIFICATIONS_QUEUE, {});
    // Its sweeper's first pass adds every unfinished row (a job store new to it): done before the
    // test's rows exist, so only the test's groups carry them.
    await until('the new store synced', () => oc.queue.unsynced().then((token) => token === undefined, () => false));
    return clock;
  };

  it('takes no more groups than its rows cap while its sends hang, leaving the others to another process', async () => {
    const clock = await sixteenSends();
    let second: Awaited<ReturnType<typeof createOnCall>> | undefined;
    try {
      const ids = await pages(6 * ROWS_PER_JOB);
      hook.answerAll('hang');
      await enqueue(ids);
      await until('the first process’s sends all hanging', async () => hook.hanging.length === 16);
      assert.equal(await jobs.getActiveCount(), 2, 'two groups taken, not one a send slot');
      second = await createOnCall(db, clock, { redisUrl, prefix: oc.prefix, secretKey: oc.secretKey, concurrency: 16 });
      await until('the second process’s sends hanging too', async () => hook.hanging.length === 32);
      assert.equal(await jobs.getActiveCount(), 4);
      assert.equal(await jobs.getWaitingCount(), 2, 'the rest still in the queue for whichever process frees rows first');
      hook.answerAll(200);
      hook.release(200);
      await allSent(ids);
      assert.deepEqual(received(hook), ids, 'each row once');
    } finally {
      hook.answerAll(200);
      hook.release(200);
      await second?.close();
    }
  });

  it('takes another group as soon as a group’s worth of rows settled, while each group it holds waits on a hanging row', async () => {
    await sixteenSends();
    const stuck = await startWebhookReceiver({ secret });
    try {
      const [s1, s2] = await pages(2, stuck);
      const ok = await pages(3 * ROWS_PER_JOB - 2);
      stuck.answerAll('hang');
      const first = [s1!, ...ok.slice(0, ROWS_PER_JOB - 1)];
      const second = [s2!, ...ok.slice(ROWS_PER_JOB - 1, 2 * ROWS_PER_JOB - 2)];
      const third = ok.slice(2 * ROWS_PER_JOB - 2);
      await enqueue([...first, ...second, ...third]);
      // The two groups held never end while their rows hang: the third is taken on the rows that settled.
      await allSent(ok);
      assert.equal(stuck.hanging.length, 2, 'while both hanging rows still hang');
      // The third group's job completes just after its rows' `sent` commits.
      await until('the third group done', async () => (await jobs.getJobState(groupJobId(third))) === 'unknown');
      assert.equal(await jobs.getActiveCount(), 2, 'their groups still running');
      stuck.answerAll(200);
      stuck.release(200);
      await allSent([s1!, s2!]);
      assert.deepEqual(received(hook), [...ok].sort(), 'each row once');
    } finally {
      stuck.answerAll(200);
      stuck.release(200);
      await stuck.close();
    }
  });

  it('puts back on its own a row of the group that another sender holds, and sends it once that lease ended', async () => {
    const ids = await pages(4);
    const held = ids[2]!;
    await db.sql`update deliveries set lease_until = now() + interval '1 second', lease_token = gen_random_uuid() where id = ${held}`;
    await enqueue(ids);
    await until('the held row back on its own, the others sent', async () => (await jobs.getJobState(heldJobId(held))) === 'delayed' && received(hook).length === 3);
    assert.deepEqual(received(hook), ids.filter((id) => id !== held));
    await allSent(ids);
    assert.deepEqual(received(hook), ids, 'each row once');
  });

  it('sends nothing twice when a group is added again, while its job exists or after it completed', async () => {
    const ids = await pages(ROWS_PER_JOB + 2);
    await enqueue(ids);
    await enqueue(ids);
    await allSent(ids);
    await until('the groups’ jobs completed', async () => (await Promise.all([ids.slice(0, ROWS_PER_JOB), ids.slice(ROWS_PER_JOB)].map((g) => jobs.getJobState(groupJobId(g))))).every((s) => s === 'unknown'));
    await enqueue(ids);
    await until('the groups added again ran', async () => (await Promise.all([ids.slice(0, ROWS_PER_JOB), ids.slice(ROWS_PER_JOB)].map((g) => jobs.getJobState(groupJobId(g))))).every((s) => s === 'unknown'));
    assert.deepEqual(received(hook), ids, 'each row once');
  });

  it('still runs a job of one row in the shape of the versions before groups', async () => {
    const [id] = await pages(1);
    await jobs.add('deliver', { id }, { jobId: id! });
    await allSent([id!]);
    assert.deepEqual(received(hook), [id]);
  });

  it('runs a group again only for its rows that failed, and marks them dead once its attempts are spent', async () => {
    const [good, bad, held] = await pages(3);
    const ids = [good!, bad!, held!];
    // Taking the bad row's lease fails (as when the database refuses a statement), whatever batch it is in.
    await db.sql.unsafe(`
      create function refuse_lease() returns trigger language plpgsql as $$
      begin
        if new.lease_token is not null and old.lease_token is null then raise exception 'lease refused'; end if;
        return new;
      end $$;
      create trigger refuse_lease before update on deliveries for each row when (new.id = '${bad}') execute function refuse_lease();`);
    try {
      await db.sql`update deliveries set lease_until = now() + interval '1 hour', lease_token = gen_random_uuid() where id = ${held!}`;
      await enqueue(ids);
      await until('the bad row dead', async () => (await status(bad!)) === 'dead');
      const job = await jobs.getJob(groupJobId(ids));
      assert.equal(await job!.getState(), 'failed');
      assert.deepEqual(job!.data, { ids: [bad], id: bad }, 'the rerun and the dead mark cover only the failed row');
      assert.deepEqual(received(hook), [good], 'the good row sent once, at the first run');
      assert.equal(await jobs.getJobState(heldJobId(held!)), 'delayed', 'the held row waits in a job of its own');
      const [dead] = await db.sql<{ last_error: string }[]>`select last_error from deliveries where id = ${bad!}`;
      assert.match(dead!.last_error, /^gave up: .*lease refused/);
    } finally {
      await db.sql.unsafe('drop trigger refuse_lease on deliveries; drop function refuse_lease()');
    }
  });
});
