// Changing what an open incident was paged through, or escalates by: a channel or person it paged
// stays until its resolve is written, and a policy edited or deleted after opening still decides
// when (and whether) the next level pages.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { generateWebhookSecret } from '../../alerting/webhook.ts';
import { deleteChannel } from '../../src/channels/service.ts';
import { ManualClock } from '../helpers/clock.ts';
import { Refusal } from '../../src/errors.ts';
import { errorAnswer } from '../../src/http/errors.ts';
import type { PolicyLevel, PolicyRow } from '../../src/oncall/model.ts';
import { createSql, type Tx } from '../../src/db/client.ts';
import { lockExisting, lockForDelete } from '../../src/db/named-rows.ts';
import { escalate, resolve as resolveIncident } from '../../src/incidents/service.ts';
import { addOverride, deleteSchedule } from '../../src/oncall/schedules.ts';
import { deleteUser as deleteUserRow } from '../../src/oncall/store-users.ts';
import { settleDeadEvent } from '../../src/outbox/dead.ts';
import { buryOutbox, replayDeadOutbox } from '../../src/outbox/store.ts';
import { PAGE_AFTER_RESOLVE } from '../../src/notifications/fanout.ts';
import { holdingIncidents } from '../../src/notifications/holding-incidents.ts';
import { deletePolicy, updatePolicy } from '../../src/oncall/service.ts';
import { updatePolicy as writePolicyRow } from '../../src/oncall/store.ts';
import { deleteUser } from '../../src/oncall/users.ts';
import { TEST_ACTING } from '../helpers/acting.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { afterQuery, holdOpen, waitsOnLock } from '../helpers/locks.ts';
import { until } from '../helpers/wait.ts';
import { createOnCall, incidentsOf, nodeGoingDown as goingDown, settledDeliveries, type OnCall } from '../helpers/oncall.ts';
import { createPipeline } from '../helpers/pipeline.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

const T0 = new Date('2026-11-21T10:00:00.000Z');

describe('open incidents across edits of what paged them', () => {
  let db: TestDatabase;
  let sink: SmtpSink;
  let clock: ManualClock;
  let p: ReturnType<typeof createPipeline>;
  let oc: OnCall;
  let hooks: WebhookReceiver[];
  const secret = generateWebhookSecret();

  before(async () => {
    db = await createTestDatabase();
    sink = await startSmtpSink();
  });
  after(async () => {
    await sink.close();
    await db.drop();
  });
  beforeEach(async () => {
    await db.sql`truncate nodes, node_state_log, outbox, outbox_dead, ingest_coverage, ingest_presence, incidents, deliveries, channels, escalation_policies, users, schedules cascade`;
    clock = new ManualClock(T0);
    p = createPipeline(db, clock);
    oc = await createOnCall(db, clock, { redisUrl: undefined, smtpUrl: sink.url });
    hooks = [];
    await p.flush();
  });
  afterEach(async () => {
    await oc.close();
    await p.close();
    await Promise.all(hooks.map((h) => h.close()));
  });

  const hook = async (name: string) => {
    const h = await startWebhookReceiver({ secret });
    hooks.push(h);
    return { h, channel: await oc.webhook(name, h.url, secret) };
  };
  const nodeGoingDown = (name: string, policyId: string | null) => goingDown({ p, oc, clock }, name, policyId);
  const recover = async (id: string) => {
    p.beat(id);
    await p.tick();
    await oc.drain();
  };
  const refusal = async (work: Promise<unknown>) => {
    const err = await work.then(
      () => assert.fail('not refused'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof Refusal, String(err));
    return { status: errorAnswer(err).status, message: err.message };
  };
  const edit = (policy: PolicyRow, levels: PolicyLevel[]) => updatePolicy(db.sql, policy, { levels }, clock.now(), TEST_ACTING);
  /** When the incident's waiting escalation timer is due, as its outbox row says. */
  const timerDue = async (incidentId: string) => {
    const rows = await db.sql<{ available_at: Date }[]>`
      select available_at from outbox where topic = 'incident.escalation_due' and key = ${`incident:${incidentId}`}`;
    assert.equal(rows.length, 1, 'one waiting timer');
    return rows[0]!.available_at;
  };
  /** A node down whose page to P went out, its policy since moved from P to Q. */
  const pagedThenMoved = async (name: string) => {
    const p1 = await hook('pagerduty-p');
    const q = await hook('pagerduty-q');
    const policy = await oc.policy('l0', [{ after_seconds: 0, channel_ids: [p1.channel.id] }]);
    const node = await nodeGoingDown(name, policy.id);
    const [incident] = await incidentsOf(db, node);
    await settledDeliveries(db, incident!.id, 1);
    await edit(policy, [{ after_seconds: 0, channel_ids: [q.channel.id] }]);
    return { p1, node, incident: incident! };
  };
  /** A node down with a two-level policy (level 1 after `secondAfter` s) and its incident. */
  const twoLevels = async (name: string, secondAfter: number) => {
    const first = await hook('first');
    const second = await hook('second');
    const policy = await oc.policy('two', [
      { after_seconds: 0, channel_ids: [first.channel.id] },
      { after_seconds: secondAfter, channel_ids: [second.channel.id] },
    ]);
    const node = await nodeGoingDown(name, policy.id);
    const [incident] = await incidentsOf(db, node);
    return { first, second, policy, node, incident: incident!, opened: incident!.opened_at };
  };
  const after_ = (openedAt: Date, s: number) => new Date(openedAt.getTime() + s * 1000);
  const level = async (nodeId: string) => (await incidentsOf(db, nodeId))[0]!.escalation_level;
  /**
   * A node down whose level 1 (at 60 s) names Cal and Cal's rota, where an override puts Bea on
   * call until 120 s: `step` fires level 1 at 60 s, paging both, and from `deleteAt` (120 s) no
   * schedule holds Bea any more, so she can be deleted.
   */
  const beaOnCallUntil120 = async (name: string) => {
    const first = await hook('first');
    const bea = await oc.user('Bea', 'bea@example.com');
    const cal = await oc.user('Cal', 'cal@example.com');
    const rota = await oc.schedule('cal-rota', [{ name: 'primary', user_ids: [cal.id], starts_at: T0, rotation: 'P1D' }]);
    const policy = await oc.policy('people', [
      { after_seconds: 0, channel_ids: [first.channel.id] },
      { after_seconds: 60, channel_ids: [], user_ids: [cal.id], schedule_ids: [rota.id] },
    ]);
    const node = await nodeGoingDown(name, policy.id);
    const [incident] = await incidentsOf(db, node);
    const deleteAt = after_(incident!.opened_at, 120);
    await addOverride(db.sql, rota.id, { user_id: bea.id, starts_at: T0, ends_at: deleteAt }, clock.now(), TEST_ACTING);
    const step = (tx: Tx) => escalate(tx, [{ incidentId: incident!.id, step: 1, atOnce: false }], after_(incident!.opened_at, 60), true);
    return { first, bea, cal, incident: incident!, step, deleteAt };
  };
  /** beaOnCallUntil120, its step committed and its `incident.escalated` event (naming Bea and Cal) failed for good. */
  const buriedEscalation = async (name: string) => {
    const setup = await beaOnCallUntil120(name);
    await db.sql.begin(setup.step);
    const [page] = await db.sql<{ id: string }[]>`select id::text as id from outbox where topic = 'incident.escalated'`;
    await db.sql.begin((tx) => buryOutbox(tx, page!.id, 'failed on every attempt', clock.now()));
    return { ...setup, page: page!.id };
  };
  /** The refusal to delete a person while the one dead outbox event `page` of the incident names them. */
  const parkedPage = (page: string, node: string, incidentId: string) => ({
    status: 409,
    message:
      `Dead outbox event ${page} (incident "${node} is down", ${incidentId}) would still message the user once replayed; ` +
      `an admin replays (POST /v1/outbox/dead/${page}/replay: delete the user once its messages are delivered) ` +
      `or discards (DELETE /v1/outbox/dead/${page}: its messages are never sent) it first.`,
  });
  let sessions: ReturnType<typeof createSql>[] = [];
  let held: Array<Awaited<ReturnType<typeof holdOpen>>> = [];
  /** A session of its own named `application` (for waitsOnLock), ended after the test. */
  const session = (application: string) => {
    const sql = createSql(db.url, { dedicated: true, applicationName: application });
    sessions.push(sql);
    return sql;
  };
  /** holdOpen, rolled back after the test unless it committed: a failed test leaves no lock behind. */
  const hold = async (fn: (tx: Tx) => Promise<unknown>) => {
    const h = await holdOpen(db, fn);
    held.push(h);
    return h;
  };
  afterEach(async () => {
    await Promise.all(held.map((h) => h.release()));
    await Promise.all(sessions.map((s) => s.end({ timeout: 1 })));
    [held, sessions] = [[], []];
  });

  it('refuses to delete a channel an open incident paged, even after the policy moved on, and sends it the resolve', async () => {
    const { p1, node, incident } = await pagedThenMoved('api-1');
    const refused = await refusal(deleteChannel(db.sql, p1.channel.id, clock.now(), TEST_ACTING));
    assert.equal(refused.status, 409);
    assert.equal(refused.message, `The channel was paged for open incident "api-1 is down" (${incident!.id}); delete it once that is resolved, so its resolve reaches the channel.`);

    await recover(node);
    const ds = await settledDeliveries(db, incident!.id, 2);
    assert.deepEqual(
      ds.map((d) => [d.event, d.channel_id, d.status]),
      [
        ['opened', p1.channel.id, 'sent'],
        ['resolved', p1.channel.id, 'sent'],
      ],
    );
    await p1.h.waitFor((r) => JSON.parse(r.body).type === 'incident.resolved');
    await deleteChannel(db.sql, p1.channel.id, clock.now(), TEST_ACTING);
  });

  it('refuses to delete a channel until the resolve it is owed is delivered', async () => {
    const { p1, incident } = await pagedThenMoved('api-2');

    // Resolved, its resolve still an outbox event: the incident is no longer open.
    await resolveIncident(db.sql, incident!.id, { by: 'tester' }, clock, TEST_ACTING);
    const owed = `Messages of incident "api-2 is down" (${incident!.id}) to the channel are not all delivered yet; delete it once they are.`;
    assert.deepEqual(await refusal(deleteChannel(db.sql, p1.channel.id, clock.now(), TEST_ACTING)), { status: 409, message: owed });

    // Written, and its receiver hanging: the row is not final yet.
    p1.h.answerAll('hang');
    await oc.drain();
    await until('the resolve sent', async () => p1.h.hanging.length > 0 || undefined);
    assert.deepEqual(await refusal(deleteChannel(db.sql, p1.channel.id, clock.now(), TEST_ACTING)), { status: 409, message: owed });

    p1.h.answerAll(200);
    p1.h.release(200);
    const ds = await settledDeliveries(db, incident!.id, 2);
    assert.deepEqual(ds.map((d) => [d.event, d.status]), [['opened', 'sent'], ['resolved', 'sent']]);
    await deleteChannel(db.sql, p1.channel.id, clock.now(), TEST_ACTING);
  });

  it('refuses to delete a channel a dead resolve would message once replayed, naming the event to replay', async () => {
    const { p1, incident } = await pagedThenMoved('api-4');
    await resolveIncident(db.sql, incident.id, { by: 'tester' }, clock, TEST_ACTING);
    // Its handler failed on every attempt: parked in outbox_dead until an operator replays it.
    const [resolve] = await db.sql<{ id: string }[]>`select id::text as id from outbox where topic = 'incident.resolved'`;
    await db.sql.begin((tx) => buryOutbox(tx, resolve!.id, 'failed on every attempt', clock.now()));
    assert.deepEqual(await refusal(deleteChannel(db.sql, p1.channel.id, clock.now(), TEST_ACTING)), {
      status: 409,
      message:
        `Dead outbox event ${resolve!.id} (incident "api-4 is down", ${incident.id}) would still message the channel once replayed; ` +
        `an admin replays (POST /v1/outbox/dead/${resolve!.id}/replay: delete the channel once its messages are delivered) ` +
        `or discards (DELETE /v1/outbox/dead/${resolve!.id}: its messages are never sent) it first.`,
    });

    await db.sql.begin((tx) => replayDeadOutbox(tx, resolve!.id, clock.now()));
    await oc.drain();
    const ds = await settledDeliveries(db, incident.id, 2);
    assert.deepEqual(
      ds.map((d) => [d.event, d.channel_id, d.status]),
      [
        ['opened', p1.channel.id, 'sent'],
        ['resolved', p1.channel.id, 'sent'],
      ],
    );
    await deleteChannel(db.sql, p1.channel.id, clock.now(), TEST_ACTING);
  });

  it('a dead resolve replayed while a deletion reads what holds the channel is seen in one table or the other', async () => {
    const { p1, incident } = await pagedThenMoved('api-12');
    await resolveIncident(db.sql, incident.id, { by: 'tester' }, clock, TEST_ACTING);
    const [resolve] = await db.sql<{ id: string }[]>`select id::text as id from outbox where topic = 'incident.resolved'`;
    await db.sql.begin((tx) => buryOutbox(tx, resolve!.id, 'failed on every attempt', clock.now()));
    // The replay moves the event from outbox_dead to outbox, not committed yet; it commits right
    // after the deletion's second read (the first asks for open incidents paging the channel).
    const replay = await hold((tx) => replayDeadOutbox(tx, resolve!.id, clock.now()));
    const why = await db.sql.begin((tx) => holdingIncidents(afterQuery(tx, 2, () => replay.commit()), 'channel', p1.channel.id));
    assert.match(why?.message ?? 'nothing holds it', new RegExp(`^Dead outbox event ${resolve!.id} \\(incident "api-12 is down"`));
  });

  it('refuses to delete a person a dead escalation names, until an admin discards it', async () => {
    const { bea, incident, deleteAt, page } = await buriedEscalation('api-7');
    assert.deepEqual(await refusal(deleteUser(db.sql, bea.id, deleteAt, TEST_ACTING)), parkedPage(page, 'api-7', incident.id));
    await settleDeadEvent(db.sql, page, 'discard', deleteAt, TEST_ACTING);
    await deleteUser(db.sql, bea.id, deleteAt, TEST_ACTING);
    assert.equal((await db.sql`select 1 from outbox_dead`).length, 0);
    // The incident says a page it made was given up, in the discard's transaction.
    const entries = await db.sql<{ at: Date; detail: unknown }[]>`select at, detail from incident_timeline where incident_id = ${incident.id} and kind = 'outbox_discarded'`;
    assert.deepEqual([...entries], [{ at: deleteAt, detail: { topic: 'incident.escalated', event_id: page } }]);
  });

  it('a dead page replayed while its resolve is being handled waits for that handling, then pages nobody', async () => {
    const { incident, page } = await buriedEscalation('api-11');
    await resolveIncident(db.sql, incident.id, { by: 'tester' }, clock, TEST_ACTING);
    const [resolve] = await db.sql<{ id: string }[]>`select id::text as id from outbox where topic = 'incident.resolved'`;
    // The resolve's worker, as OutboxDispatcher: claimed, handled (whom to tell chosen without the
    // page, which lay dead), its row deleted; not committed yet.
    const resolving = await hold(async (tx) => {
      await tx`select 1 from outbox where id = ${resolve!.id} for update`;
      await tx`delete from outbox where id = ${resolve!.id}`;
    });
    await settleDeadEvent(db.sql, page, 'replay', clock.now(), TEST_ACTING);
    let drained = false;
    const draining = oc.drain().then(() => (drained = true));
    await waitsOnLock(db, 'lifeline-test', () => drained);
    await resolving.commit();
    await draining;
    assert.equal((await db.sql`select 1 from outbox where topic = 'incident.escalated'`).length, 0, 'the replayed page was handled');
    assert.equal((await db.sql`select 1 from deliveries where incident_id = ${incident.id} and event = 'escalated'`).length, 0, 'nobody paged after the resolve');
    const [skipped] = await db.sql<{ detail: unknown }[]>`select detail from incident_timeline where incident_id = ${incident.id} and kind = 'not_notified'`;
    assert.deepEqual(skipped?.detail, { event: 'escalated', reason: PAGE_AFTER_RESOLVE });
  });

  it('a dead page replayed after its incident’s resolve went out pages nobody, and the timeline says why', async () => {
    const { first, bea, incident, deleteAt, page } = await buriedEscalation('api-8');
    await resolveIncident(db.sql, incident.id, { by: 'tester' }, clock, TEST_ACTING);
    await oc.drain();
    await settledDeliveries(db, incident.id, 2);

    await settleDeadEvent(db.sql, page, 'replay', clock.now(), TEST_ACTING);
    await oc.drain();
    assert.equal((await db.sql`select 1 from outbox where topic = 'incident.escalated'`).length, 0, 'the replayed page was handled');
    const ds = await settledDeliveries(db, incident.id, 2);
    assert.deepEqual(
      ds.map((d) => [d.event, d.channel_id, d.status]),
      [
        ['opened', first.channel.id, 'sent'],
        ['resolved', first.channel.id, 'sent'],
      ],
    );
    const [skipped] = await db.sql<{ detail: unknown }[]>`select detail from incident_timeline where incident_id = ${incident.id} and kind = 'not_notified'`;
    assert.deepEqual(skipped?.detail, { event: 'escalated', reason: PAGE_AFTER_RESOLVE });
    // Replayed, it owes Bea nothing any more.
    await deleteUser(db.sql, bea.id, deleteAt, TEST_ACTING);
  });

  it('a dead page of an incident whose resolve went out holds nobody: replayed, it would page no one', async () => {
    const { bea, incident, deleteAt, page } = await buriedEscalation('api-13');
    await resolveIncident(db.sql, incident.id, { by: 'tester' }, clock, TEST_ACTING);
    await oc.drain();
    await settledDeliveries(db, incident.id, 2);

    // Still parked, naming Bea; the fan-out would leave it unsent, so the deletion need not wait for it.
    await deleteUser(db.sql, bea.id, deleteAt, TEST_ACTING);
    assert.equal((await db.sql`select 1 from outbox_dead where id = ${page}`).length, 1, 'the page is still parked');
    await settleDeadEvent(db.sql, page, 'replay', clock.now(), TEST_ACTING);
    await oc.drain();
    assert.equal((await db.sql`select 1 from deliveries where incident_id = ${incident.id} and event = 'escalated'`).length, 0, 'nobody paged after the resolve');
  });

  it('a dead page holds its person while its incident’s resolve is parked too, and not once the resolve went out', async () => {
    const { bea, incident, deleteAt, page } = await buriedEscalation('api-14');
    await resolveIncident(db.sql, incident.id, { by: 'tester' }, clock, TEST_ACTING);
    const [resolve] = await db.sql<{ id: string }[]>`select id::text as id from outbox where topic = 'incident.resolved'`;
    await db.sql.begin((tx) => buryOutbox(tx, resolve!.id, 'failed on every attempt', clock.now()));
    // The resolve tells only whom the ledger paged, not Bea; but replayed first and waiting in the
    // outbox, it would let the page (replayed after it, handled before it) be sent to her.
    assert.deepEqual(await refusal(deleteUser(db.sql, bea.id, deleteAt, TEST_ACTING)), parkedPage(page, 'api-14', incident.id));

    await settleDeadEvent(db.sql, resolve!.id, 'replay', clock.now(), TEST_ACTING);
    await oc.drain();
    await settledDeliveries(db, incident.id, 2);
    await deleteUser(db.sql, bea.id, deleteAt, TEST_ACTING);
  });

  const heldTooLong = {
    user: 'The user is held by work naming it (an escalation paging it, or an edit naming it) longer than a deletion waits; nothing was deleted, try again in 1 s.',
    channel: 'The channel is held by an edit naming it (an escalation policy or a user being saved) longer than a deletion waits; nothing was deleted, try again in 1 s.',
    schedule:
      'The schedule is held by an edit naming or changing it (an escalation policy, an override or the schedule being saved) longer than a deletion waits; nothing was deleted, try again in 1 s.',
  };
  it('a schedule deletion held by an edit naming the schedule longer than its bound is refused, to retry, and deletes nothing', async () => {
    const cal = await oc.user('Cal', 'cal@example.com');
    const rota = await oc.schedule('cal-rota', [{ name: 'primary', user_ids: [cal.id], starts_at: T0, rotation: 'P1D' }]);
    // A policy or an override being saved that names the schedule, as checkReferences and addOverride lock it.
    await hold((tx) => lockExisting(tx, 'schedules', [rota.id]));
    const err = await deleteSchedule(db.sql, rota.id, clock.now(), TEST_ACTING, 50).then(
      () => assert.fail('not refused'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof Refusal, String(err));
    const { status, headers, body } = errorAnswer(err);
    assert.deepEqual([status, headers, body.error.message], [409, { 'retry-after': '1' }, heldTooLong.schedule]);
    assert.equal((await db.sql`select 1 from schedules where id = ${rota.id}`).length, 1, 'nothing was deleted');
  });
  it('a deletion that waits on a step holding the person longer than its bound is refused, to retry', async () => {
    const { bea, first } = await beaOnCallUntil120('api-9');
    // A step's batch holding Bea and the channel FOR KEY SHARE, as whomLevelsPage does.
    await hold(async (tx) => {
      await lockExisting(tx, 'users', [bea.id]);
      await lockExisting(tx, 'channels', [first.channel.id]);
    });
    for (const [what, work] of [
      ['user', () => deleteUser(db.sql, bea.id, clock.now(), TEST_ACTING, 50)],
      ['channel', () => deleteChannel(db.sql, first.channel.id, clock.now(), TEST_ACTING, 50)],
    ] as const) {
      const err = await work().then(() => assert.fail('not refused'), (e: unknown) => e);
      assert.ok(err instanceof Refusal, String(err));
      const { status, headers, body } = errorAnswer(err);
      assert.deepEqual([status, headers, body.error.message], [
        409,
        { 'retry-after': '1' },
        heldTooLong[what],
      ]);
    }
  });

  it('a deletion waits at most its bound in all while holders of the person take turns, each gone before the bound', async () => {
    const { bea } = await beaOnCallUntil120('api-10');
    const holder = async () => {
      let pid = 0;
      const h = await hold(async (tx) => {
        await lockExisting(tx, 'users', [bea.id]);
        const [me] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid`;
        pid = me!.pid;
      });
      return { ...h, pid };
    };
    let current = await holder();
    let settled = false;
    const deletion = deleteUser(session('lifeline-test-deleter'), bea.id, clock.now(), TEST_ACTING, 200).then(
      () => assert.fail('not refused'),
      (e: unknown) => e,
    );
    void deletion.then(() => (settled = true));
    /** Once the deletion waits on `pid` alone (or has settled). */
    const waitsOn = (pid: number) =>
      until('the deletion to wait on the next holder', async () => {
        if (settled) return true;
        const [row] = await db.sql<{ pids: number[] }[]>`
          select pg_blocking_pids(pid) as pids from pg_stat_activity where application_name = 'lifeline-test-deleter' and wait_event_type = 'Lock'`;
        return (row?.pids.length === 1 && row.pids[0] === pid) || undefined;
      });
    await waitsOn(current.pid);
    // A step's batch after another: the next takes KEY SHARE beside the last (granted while the
    // FOR UPDATE queues), then the last commits; the deletion then waits for the next. Without a
    // bound on the whole wait, this goes on for as long as batches keep coming.
    let turns = 0;
    while (!settled) {
      const next = await holder();
      await current.commit();
      current = next;
      await waitsOn(current.pid);
      turns += 1;
      // The server's clock: how long the deletion's statement has waited. Far past its bound, it
      // is waiting per holder, not in all.
      const [waited] = await db.sql<{ ms: number }[]>`
        select coalesce(extract(epoch from clock_timestamp() - max(query_start)) * 1000, 0)::float8 as ms
        from pg_stat_activity where application_name = 'lifeline-test-deleter' and state = 'active'`;
      if (!settled && waited!.ms > 25 * 200) assert.fail(`still waiting after ${turns} holders in turn (${Math.round(waited!.ms)} ms)`);
    }
    const err = await deletion;
    assert.ok(err instanceof Refusal, String(err));
    const { status, headers, body } = errorAnswer(err);
    assert.deepEqual([status, headers, body.error.message], [409, { 'retry-after': '1' }, heldTooLong.user]);
    assert.equal((await db.sql`select 1 from users where id = ${bea.id}`).length, 1, 'nothing was deleted');
  });

  it('a person deleted while a step paging them is being written waits for its commit, then is refused', async () => {
    const { bea, cal, incident, step, deleteAt } = await beaOnCallUntil120('api-5');
    const stepping = await hold(step);
    let settled = false;
    const deletion = refusal(deleteUser(session('lifeline-test-deleter'), bea.id, deleteAt, TEST_ACTING));
    void deletion.catch(() => {}).then(() => (settled = true));
    await waitsOnLock(db, 'lifeline-test-deleter', () => settled);
    assert.equal(settled, false, 'the deletion waits for the step');
    await stepping.commit();
    assert.deepEqual(await deletion, {
      status: 409,
      message: `Messages of incident "api-5 is down" (${incident.id}) to the user are not all delivered yet; delete it once they are.`,
    });

    clock.set(deleteAt);
    await oc.drain();
    const ds = await settledDeliveries(db, incident.id, 3);
    assert.deepEqual(
      ds.filter((d) => d.event === 'escalated').map((d) => [d.user_id, d.status]).sort(),
      [
        [cal.id, 'sent'],
        [bea.id, 'sent'],
      ].sort(),
    );
  });

  it('a step reading a person on call as their deletion commits pages the level’s others, never the deleted person', async () => {
    const { first, bea, cal, incident, step, deleteAt } = await beaOnCallUntil120('api-6');
    // Bea locked and deleted as deleteUser does, not committed yet.
    const deletion = await hold(async (tx) => {
      assert.ok(await lockForDelete(tx, 'users', bea.id));
      assert.ok(await deleteUserRow(tx, bea.id));
    });
    let stepped = false;
    const stepping = session('lifeline-test-step').begin(step);
    void stepping.catch(() => {}).then(() => (stepped = true));
    await waitsOnLock(db, 'lifeline-test-step', () => stepped);
    assert.equal(stepped, false, 'the step waits for the deletion');
    await deletion.commit();
    await stepping;

    const [escalated] = await db.sql<{ payload: { recipients: { users: Array<{ user_id: string }> } } }[]>`
      select payload from outbox where topic = 'incident.escalated'`;
    assert.deepEqual(escalated!.payload.recipients.users.map((u) => u.user_id), [cal.id]);
    clock.set(deleteAt);
    await oc.drain();
    const ds = await settledDeliveries(db, incident.id, 2);
    assert.deepEqual(
      ds.map((d) => [d.event, d.channel_id, d.user_id, d.status]),
      [
        ['opened', first.channel.id, null, 'sent'],
        ['escalated', null, cal.id, 'sent'],
      ],
    );
  });

  it('refuses to delete a channel or person an escalation paged before that page is written', async () => {
    const first = await hook('first');
    const p1 = await hook('second-p');
    const q = await hook('second-q');
    const bob = await oc.user('Bob', 'bob@example.com');
    const policy = await oc.policy('two', [
      { after_seconds: 0, channel_ids: [first.channel.id] },
      { after_seconds: 60, channel_ids: [p1.channel.id], user_ids: [bob.id] },
    ]);
    const node = await nodeGoingDown('api-3', policy.id);
    const [incident] = await incidentsOf(db, node);
    // The step fires; its page waits in the outbox for the next run to write its rows.
    clock.set(after_(incident!.opened_at, 60));
    await oc.dispatcher.runOnce();
    assert.equal(await level(node), 1);
    await edit(policy, [
      { after_seconds: 0, channel_ids: [first.channel.id] },
      { after_seconds: 60, channel_ids: [q.channel.id] },
    ]);

    const owed = (what: string) => `Messages of incident "api-3 is down" (${incident!.id}) to the ${what} are not all delivered yet; delete it once they are.`;
    assert.deepEqual(await refusal(deleteChannel(db.sql, p1.channel.id, clock.now(), TEST_ACTING)), { status: 409, message: owed('channel') });
    assert.deepEqual((await refusal(deleteUser(db.sql, bob.id, clock.now(), TEST_ACTING))).status, 409);

    await oc.drain();
    const paged = await p1.h.waitFor((r) => JSON.parse(r.body).type === 'incident.escalated');
    assert.equal(JSON.parse(paged.body).data.incident.id, incident!.id);
  });

  it('refuses to delete a person an open incident paged until it is resolved', async () => {
    const own = await hook('alice-phone');
    const alice = await oc.user('Alice', 'alice@example.com', [own.channel.id]);
    const policy = await oc.policy('people', [{ after_seconds: 0, channel_ids: [], user_ids: [alice.id] }]);
    const n1 = await nodeGoingDown('db-1', policy.id);
    const n2 = await nodeGoingDown('db-2', policy.id);
    const [i1] = await incidentsOf(db, n1);
    const [i2] = await incidentsOf(db, n2);
    await edit(policy, [{ after_seconds: 0, channel_ids: [own.channel.id] }]);

    const refused = await refusal(deleteUser(db.sql, alice.id, clock.now(), TEST_ACTING));
    assert.equal(refused.status, 409);
    assert.match(refused.message, /^The user was paged for 2 open incidents: /);
    assert.ok(refused.message.includes(i1!.id) && refused.message.includes(i2!.id), refused.message);

    await recover(n1);
    await recover(n2);
    // Her email and her own channel, each paged and then told of the resolve.
    await settledDeliveries(db, i1!.id, 4);
    await settledDeliveries(db, i2!.id, 4);
    await deleteUser(db.sql, alice.id, clock.now(), TEST_ACTING);
  });

  it('locks the new and the old default in id order when making a policy the default', async () => {
    // Escalations share-lock the policies they read in id order; a writer locking the old default
    // before a new one with a lower id could deadlock with a batch holding the new one.
    const x = await oc.policy('x', [{ after_seconds: 0, channel_ids: [] }]);
    const y = await oc.policy('y', [{ after_seconds: 0, channel_ids: [] }]);
    const [low, high] = x.id < y.id ? [x, y] : [y, x];
    await updatePolicy(db.sql, high, { is_default: true }, clock.now(), TEST_ACTING);

    const held = db.sql.reserve();
    const gate = await held;
    await gate`begin`;
    await gate`select id from escalation_policies where id = ${low.id} for share`;
    const writing = updatePolicy(db.sql, low, { is_default: true }, clock.now(), TEST_ACTING);
    await until('the writer waiting for a lock', async () => {
      const [row] = await db.sql<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query like '%escalation_policies%' and pid <> pg_backend_pid()`;
      return row!.n > 0 || undefined;
    });
    // Waiting for the lower id, the writer holds nothing on the old default yet.
    const [free] = await db.sql<{ id: string }[]>`
      select id from escalation_policies where id = ${high.id} for share skip locked`;
    await gate`commit`;
    gate.release();
    await writing;
    assert.equal(free?.id, high.id, 'the old default was locked before the new one');
  });

  it('pages at the time a lengthened level now gives, not the one its timer was armed with', async () => {
    const { first, second, policy, node, incident, opened } = await twoLevels('web-1', 300);

    const edited = await edit(policy, [
      { after_seconds: 0, channel_ids: [first.channel.id] },
      { after_seconds: 3600, channel_ids: [second.channel.id] },
    ]);
    assert.deepEqual(await timerDue(incident!.id), after_(opened, 3600));

    // A timer armed by the policy as it read before (an escalation firing as the edit committed)
    // is put back when it comes due early.
    await db.sql`update outbox set available_at = ${after_(opened, 300)} where key = ${`incident:${incident!.id}`}`;
    clock.set(after_(opened, 300));
    await oc.drain();
    assert.equal(await level(node), 0, 'not paged at the old 300 s');
    assert.deepEqual(await timerDue(incident!.id), after_(opened, 3600));

    // Shortened again after that (3600 → 1800): the timer put back is re-timed like any other.
    await edit(edited, [edited.levels[0]!, { ...edited.levels[1]!, after_seconds: 1800 }]);
    clock.set(after_(opened, 1799));
    await oc.drain();
    assert.equal(await level(node), 0, 'not paged before 1800 s');
    clock.set(after_(opened, 1800));
    await oc.drain();
    assert.equal(await level(node), 1);
    await second.h.waitFor((r) => JSON.parse(r.body).type === 'incident.escalated');
  });

  it('pages at the time a shortened level now gives', async () => {
    const { first, second, policy, node, incident, opened } = await twoLevels('web-2', 3600);

    await edit(policy, [
      { after_seconds: 0, channel_ids: [first.channel.id] },
      { after_seconds: 60, channel_ids: [second.channel.id] },
    ]);
    assert.deepEqual(await timerDue(incident!.id), after_(opened, 60));
    clock.set(after_(opened, 60));
    await oc.drain();
    assert.equal(await level(node), 1);
    await second.h.waitFor((r) => JSON.parse(r.body).type === 'incident.escalated');
  });

  it('re-times the incident an edit shortening its policy waited for as it opened', async () => {
    const first = await hook('first');
    const second = await hook('second');
    const policy = await oc.policy('two', [
      { after_seconds: 0, channel_ids: [first.channel.id] },
      { after_seconds: 3600, channel_ids: [second.channel.id] },
    ]);
    const node = await p.addNode('web-3', { escalation_policy_id: policy.id });
    p.beat(node);
    await p.tick();
    await oc.drain();
    await p.runUntil(new Date(clock.now().getTime() + 20_000));
    await p.tick();

    // An edit in progress (uncommitted) while the node's incident opens.
    const gate = await db.sql.reserve();
    await gate`begin`;
    await gate`select id from escalation_policies where id = ${policy.id} for no key update`;
    let opened = false;
    const opening = oc.drain().then(() => (opened = true));
    await until('the opening done or waiting for the policy', async () => {
      const [row] = await db.sql<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and pid <> pg_backend_pid()`;
      return opened || row!.n > 0 || undefined;
    });
    await writePolicyRow(gate, policy.id, { levels: [policy.levels[0]!, { ...policy.levels[1]!, after_seconds: 60 }] }, clock.now());
    await gate`commit`;
    gate.release();
    await opening;

    const [incident] = await incidentsOf(db, node);
    assert.deepEqual(await timerDue(incident!.id), after_(incident!.opened_at, 60));
  });

  it('escalates by the default policy once the incident’s own is deleted, and by its edits', async () => {
    const first = await hook('first');
    const own = await hook('own-level-1');
    const fallback = await hook('default-level-1');
    const byDefault = await oc.policy(
      'default',
      [
        { after_seconds: 0, channel_ids: [first.channel.id] },
        { after_seconds: 3600, channel_ids: [fallback.channel.id] },
      ],
      { isDefault: true },
    );
    const policy = await oc.policy('own', [
      { after_seconds: 0, channel_ids: [first.channel.id] },
      { after_seconds: 600, channel_ids: [own.channel.id] },
    ]);
    const node = await nodeGoingDown('cache-1', policy.id);
    const [incident] = await incidentsOf(db, node);
    const opened = incident!.opened_at;

    assert.equal(await deletePolicy(db.sql, policy.id, clock.now(), TEST_ACTING), true);
    assert.deepEqual(await timerDue(incident!.id), after_(opened, 3600));
    // It follows the default as its own now: an edit of the default re-times it.
    const [row] = await db.sql<{ policy_id: string }[]>`select policy_id from incidents where id = ${incident!.id}`;
    assert.equal(row!.policy_id, byDefault.id);
    await edit(byDefault, [byDefault.levels[0]!, { ...byDefault.levels[1]!, after_seconds: 120 }]);
    assert.deepEqual(await timerDue(incident!.id), after_(opened, 120));
    clock.set(after_(opened, 120));
    await oc.drain();
    assert.equal(await level(node), 1);
    const paged = await fallback.h.waitFor((r) => JSON.parse(r.body).type === 'incident.escalated');
    assert.equal(JSON.parse(paged.body).data.incident.id, incident!.id);
    const kinds = await db.sql<{ kind: string }[]>`select kind from incident_timeline where incident_id = ${incident!.id} order by id`;
    assert.equal(kinds.filter((k) => k.kind === 'policy_replaced').length, 1);
    assert.ok(!kinds.some((k) => k.kind === 'escalation_stopped'));
    assert.equal(own.h.requests.length, 0);
  });

  it('fires at once a timer armed at once before timers said so (migration 0018)', async () => {
    const { second, node, incident } = await twoLevels('web-4', 3600);
    // As an earlier release armed it at once: available when written, and no flag.
    await db.sql`update outbox set available_at = created_at where key = ${`incident:${incident!.id}`}`;
    await db.sql.file(fileURLToPath(new URL('../../sql/0018_escalation_timers_at_once.sql', import.meta.url)));
    await oc.drain();
    assert.equal(await level(node), 1);
    await second.h.waitFor((r) => JSON.parse(r.body).type === 'incident.escalated');
  });
});
