import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, afterEach, describe, it } from 'node:test';
import { createChannels } from '../../alerting/index.ts';
import { LOCAL_RECEIVERS } from '../helpers/local-receivers.ts';
import { generateWebhookSecret } from '../../alerting/webhook.ts';
import { ManualClock } from '../helpers/clock.ts';
import { deliver } from '../../src/notifications/deliver.ts';
import { insertDeliveries, leaseDeliveries, lockStormCounters, recentDeliveryCounts, releaseLeases } from '../../src/notifications/store.ts';
import { NOTIFICATIONS_QUEUE } from '../../src/notifications/queue.ts';
import { openQueueBackend } from '../../src/queue/backend.ts';
import { DELIVERY_LEASE_MS } from '../../src/config.ts';
import { insertMaintenance } from '../../src/maintenance/store.ts';
import { nodeEventsHandler } from '../../src/incidents/handlers.ts';
import { newsSender } from '../../src/notifications/handlers.ts';
import { insertOutbox } from '../../src/outbox/store.ts';
import { acknowledgeIncident } from '../../src/incidents/store.ts';
import { resolve } from '../../src/incidents/service.ts';
import { TEST_ACTING } from '../helpers/acting.ts';
import type { OutboxEvent } from '../../src/outbox/topics.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { EngineProcess } from '../helpers/engine-process.ts';
import { createOnCall, deliveriesOf, incidentsOf, nodeGoingDown as goingDown, QUEUE_BACKENDS, settledDeliveries, wentDown, type OnCall } from '../helpers/oncall.ts';
import { createPipeline } from '../helpers/pipeline.ts';
import { startPrivateRedis } from '../helpers/redis-server.ts';
import { startSmtpSink } from '../helpers/smtp-sink.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { testLog } from '../helpers/log.ts';
import { until } from '../helpers/wait.ts';

const T0 = new Date('2026-11-21T10:00:00.000Z');
const sec = (s: number) => new Date(T0.getTime() + s * 1000);

for (const backend of QUEUE_BACKENDS) describe(`incidents and on-call (queues on ${backend})`, () => {
  const onRedis = backend === 'redis';
  let db: TestDatabase;
  // A private Redis (a test stops it), or none: the queues then live in the test's database.
  let redis: Awaited<ReturnType<typeof startPrivateRedis>> | undefined;
  const redisUrl = () => redis?.url;
  let clock: ManualClock;
  let p: ReturnType<typeof createPipeline>;
  let oc: OnCall;
  let hooks: WebhookReceiver[];
  const secret = generateWebhookSecret();

  before(async () => {
    db = await createTestDatabase();
    if (onRedis) redis = await startPrivateRedis();
  });
  after(async () => {
    await redis?.stop();
    await db.drop();
  });
  beforeEach(async () => {
    await db.sql`truncate nodes, node_state_log, outbox, outbox_dead, ingest_coverage, ingest_presence, incidents, deliveries, channels, escalation_policies, maintenances cascade`;
    clock = new ManualClock(T0);
    p = createPipeline(db, clock);
    oc = await createOnCall(db, clock, { redisUrl: redisUrl() });
    hooks = [];
    await p.flush();
  });
  afterEach(async () => {
    await oc.close();
    await p.close();
    await Promise.all(hooks.map((h) => h.close()));
  });

  const receiver = async () => {
    const h = await startWebhookReceiver({ secret });
    hooks.push(h);
    return h;
  };

  const nodeGoingDown = (name: string, policyId: string | null = null) => goingDown({ p, oc, clock }, name, policyId);
  const recover = async (id: string) => {
    p.beat(id);
    await p.tick();
    await oc.drain();
  };
  const settled = (incidentId: string, n: number) => settledDeliveries(db, incidentId, n);

  it('opens one node_down incident and writes its page once when workers race on the same transition', async () => {
    const hook = await receiver();
    const ch = await oc.webhook('race', hook.url, secret);
    const policy = await oc.policy('race', [{ after_seconds: 0, channel_ids: [ch.id] }]);
    const id = await p.addNode('race-1', { escalation_policy_id: policy.id });
    const event = wentDown(id, 'race-1', T0);
    const handler = nodeEventsHandler(newsSender(oc.queue, testLog, 1000), oc.setup);
    const handle = () => db.sql.begin((tx) => handler([event], { tx, now: T0, afterCommit: () => {} }));
    const results = await Promise.allSettled([handle(), handle(), handle()]);
    assert.ok(results.some((r) => r.status === 'fulfilled'));
    const incidents = await incidentsOf(db, id);
    assert.deepEqual(incidents.map((i) => [i.category, i.status]), [['node_down', 'open']]);
    // The page is written with the incident, in the same transaction: once, and no second event.
    assert.deepEqual((await deliveriesOf(db, incidents[0]!.id)).map((d) => [d.event, d.channel_id]), [['opened', ch.id]]);
    const [{ n }] = (await db.sql`select count(*)::int as n from outbox where topic = 'incident.opened'`) as unknown as [{ n: number }];
    assert.equal(n, 0);
  });

  /** A node paging one webhook at once, that beat once and has been silent for 20 s: due to go down. */
  const silentWebhookNode = async (name: string) => {
    const hook = await receiver();
    const ch = await oc.webhook(name, hook.url, secret);
    const policy = await oc.policy(name, [{ after_seconds: 0, channel_ids: [ch.id] }]);
    const id = await p.addNode(`${name}-1`, { escalation_policy_id: policy.id });
    p.beat(id);
    await p.tick();
    await oc.drain();
    await p.runUntil(sec(20));
    return { hook, ch, id };
  };

  it('still sends a page an older engine left as an incident.opened event, and its resolve after it', async () => {
    const { hook, ch, id } = await silentWebhookNode('upgrade');
    await p.tick(); // down: its node.state_changed is in the outbox
    // An engine of the version before took the transition: it opened the incident and wrote its
    // page as an incident.opened event for the next hop, keyed by node.
    await db.sql.begin(async (tx) => {
      const [change] = await tx<OutboxEvent<'node.state_changed'>[]>`
        delete from outbox where topic = 'node.state_changed' and key = ${id} returning id::text, topic, key, payload, created_at, attempts`;
      const oldEngine = nodeEventsHandler(async (pages) =>
        insertOutbox(
          tx,
          pages.map((page) => ({
            topic: 'incident.opened',
            key: id,
            payload: { incident_id: page.incidentId, node_id: id, event: 'opened', at: page.at.toISOString(), recipients: page.recipients! },
          })),
          clock.now(),
        ),
        oc.setup,
      );
      await oldEngine([change!], { tx, now: clock.now(), afterCommit: () => {} });
    });
    p.beat(id);
    await p.tick(); // healthy again: its node.state_changed waits behind the incident.opened
    await oc.drainConcurrently(3, 1);
    const [incident] = await incidentsOf(db, id);
    const ds = await settled(incident!.id, 2);
    assert.deepEqual(ds.map((d) => [d.event, d.channel_id, d.status]), [
      ['opened', ch.id, 'sent'],
      ['resolved', ch.id, 'sent'],
    ]);
    const types = hook.requests.filter((r) => r.verified).map((r) => JSON.parse(r.body).type);
    assert.deepEqual(types, ['incident.opened', 'incident.resolved']);
  });

  it('opens the incident when its page cannot be written with the transition, and pages through its own event', async () => {
    const { hook, ch, id } = await silentWebhookNode('refused-ledger');
    // The ledger refuses every row for as long as the trigger is there.
    await db.sql`create function refuse_ledger() returns trigger language plpgsql as $$ begin raise exception 'ledger refused'; end $$`;
    await db.sql`create trigger refuse_ledger before insert on deliveries for each row execute function refuse_ledger()`;
    try {
      await p.tick(); // down
      await oc.drain();
      const incidents = await incidentsOf(db, id);
      assert.equal(incidents.length, 1, 'the incident opened although its page could not be written');
      const left = await db.sql<{ topic: string }[]>`select topic from outbox where key = ${id} order by id`;
      assert.deepEqual(left.map((r) => r.topic), ['incident.opened'], 'the transition is done; its page waits as its own event');
    } finally {
      await db.sql`drop trigger refuse_ledger on deliveries`;
      await db.sql`drop function refuse_ledger()`;
    }
    clock.advance(60_000); // past the page event's retry time
    await oc.drain();
    const [incident] = await incidentsOf(db, id);
    const ds = await settled(incident!.id, 1);
    assert.deepEqual(ds.map((d) => [d.event, d.channel_id, d.status]), [['opened', ch.id, 'sent']]);
    assert.equal(hook.requests.filter((r) => r.verified).length, 1, 'one page, once');
  });

  it('pages level 0 at once, level 1 after its delay, and stops at an acknowledgement', async () => {
    const first = await receiver();
    const second = await receiver();
    const a = await oc.webhook('first', first.url, secret);
    const b = await oc.webhook('second', second.url, secret);
    const policy = await oc.policy('two-levels', [
      { after_seconds: 0, channel_ids: [a.id] },
      { after_seconds: 60, channel_ids: [b.id] },
    ]);
    const n1 = await nodeGoingDown('web-1', policy.id); // down (opened) at 20 s
    const [incident] = await incidentsOf(db, n1);
    const opened = await first.waitFor((r) => JSON.parse(r.body).type === 'incident.opened');
    assert.equal(opened.verified, true);
    assert.equal(JSON.parse(opened.body).data.incident.id, incident!.id);
    // Why it opened, as the emails say it: a receiver need not look the incident up.
    const { reason } = (await db.sql<{ reason: string }[]>`select reason from incidents where id = ${incident!.id}`)[0]!;
    assert.match(reason, /heartbeat/);
    assert.equal(JSON.parse(opened.body).data.incident.reason, reason);

    await p.runUntil(sec(79.9)); // 59.9 s after opening
    await oc.drain();
    assert.equal(second.requests.length, 0, 'level 1 is not paged before its delay');
    await p.runUntil(sec(80));
    await oc.drain();
    const escalated = await second.waitFor();
    assert.equal(JSON.parse(escalated.body).type, 'incident.escalated');
    assert.equal((await incidentsOf(db, n1))[0]!.escalation_level, 1);

    // A second incident acknowledged before its level-1 delay never reaches level 1.
    const n2 = await nodeGoingDown('web-2', policy.id);
    const [i2] = await incidentsOf(db, n2);
    await first.waitFor((r) => JSON.parse(r.body).data.incident.id === i2!.id);
    await db.sql.begin((tx) => acknowledgeIncident(tx, i2!.id, clock.now(), 'alice'));
    await p.runUntil(new Date(clock.now().getTime() + 120_000));
    await oc.drain();
    await settled(i2!.id, 1);
    assert.ok(!second.requests.some((r) => JSON.parse(r.body).data.incident.id === i2!.id));
    assert.deepEqual((await deliveriesOf(db, i2!.id)).map((d) => d.event), ['opened']);
  });

  it('keeps what a refusing receiver answered out of last_error, which read keys see', async () => {
    const hook = await receiver();
    hook.script({ status: 400, body: 'invalid routing key R0UTING-KEY-ECHOED for account 4711' });
    const ch = await oc.webhook('refusing', hook.url, secret);
    await oc.policy('default', [{ after_seconds: 0, channel_ids: [ch.id] }], { isDefault: true });
    const id = await nodeGoingDown('db-9');
    const [incident] = await incidentsOf(db, id);
    const [d] = await settled(incident!.id, 1);
    assert.deepEqual([d!.status, d!.last_error], ['dead', 'http_400: receiver answered HTTP 400']);
  });

  it('retries a webhook that fails twice, then delivers it once under one webhook-id', async () => {
    const hook = await receiver();
    hook.script(500, 500, 200);
    const ch = await oc.webhook('flaky', hook.url, secret);
    await oc.policy('default', [{ after_seconds: 0, channel_ids: [ch.id] }], { isDefault: true });
    const id = await nodeGoingDown('db-1');
    const [incident] = await incidentsOf(db, id);
    const [d] = await settled(incident!.id, 1);
    assert.deepEqual([d!.status, d!.attempts, d!.last_error], ['sent', 3, null]);
    assert.equal(hook.requests.length, 3);
    assert.equal(new Set(hook.requests.map((r) => r.headers['webhook-id'])).size, 1, 'webhook-id is stable across retries');
    assert.ok(hook.requests.every((r) => r.verified));
    assert.match(await oc.metrics.registry.metrics(), /lifeline_notifications_total\{channel_type="webhook",result="failed"\} 2/);
  });

  /** The node's opening page sent on its sixth attempt, and the one update after it sent once, never before it. */
  const sentOnceAfterItsPage = async (hook: WebhookReceiver, nodeId: string, event: 'resolved' | 'escalated') => {
    const [incident] = await incidentsOf(db, nodeId);
    const ds = await settled(incident!.id, 2);
    assert.deepEqual(ds.map((d) => [d.event, d.status, d.attempts]), [
      ['opened', 'sent', 6],
      [event, 'sent', 1],
    ]);
    const types = hook.requests.filter((r) => r.verified).map((r) => JSON.parse(r.body).type);
    assert.equal(types.lastIndexOf('incident.opened') < types.indexOf(`incident.${event}`), true, `the ${event} update never overtakes the opening page`);
  };

  it('holds a resolve behind its still-retrying page without spending the resolve’s attempts', async () => {
    const hook = await receiver();
    hook.script(500, 500, 500, 500, 500); // the page fails five times, then everything succeeds
    const ch = await oc.webhook('slow', hook.url, secret);
    await oc.policy('default', [{ after_seconds: 0, channel_ids: [ch.id] }], { isDefault: true });
    const id = await nodeGoingDown('slow-1');
    await hook.waitFor(); // the page is being retried now
    await recover(id);
    await sentOnceAfterItsPage(hook, id, 'resolved');
  });

  it('holds a later level behind its still-retrying opening page to the same channel, spending none of its attempts', async () => {
    const hook = await receiver();
    hook.script(500, 500, 500, 500, 500); // the opening page fails five times, then everything succeeds
    const ch = await oc.webhook('one-channel', hook.url, secret);
    const policy = await oc.policy('twice', [
      { after_seconds: 0, channel_ids: [ch.id] },
      { after_seconds: 60, channel_ids: [ch.id] },
    ]);
    const id = await nodeGoingDown('retried-1', policy.id);
    await hook.waitFor(); // the opening page is being retried now
    await p.runUntil(new Date(clock.now().getTime() + 60_000));
    await oc.drain();
    await sentOnceAfterItsPage(hook, id, 'escalated');
  });

  it('opens no second incident when an outage resolved by hand outlasts a blind spot, but does after a real recovery', async () => {
    const hook = await receiver();
    const ch = await oc.webhook('ops', hook.url, secret);
    await oc.policy('default', [{ after_seconds: 0, channel_ids: [ch.id] }], { isDefault: true });
    const id = await nodeGoingDown('closed-1');
    const [incident] = await incidentsOf(db, id);
    await settled(incident!.id, 1);
    await resolve(db.sql, incident!.id, { by: 'alice' }, clock, TEST_ACTING);
    await oc.drain();
    await settled(incident!.id, 2);
    // The engine sees nothing for 10 s (GAP_MS is 5 s): down → unknown, then down again a period later.
    const blindSpot = async () => {
      clock.set(new Date(clock.now().getTime() + 10_000));
      p.restartIngest();
      await p.tick();
      await p.runUntil(new Date(clock.now().getTime() + 20_000));
      await p.tick();
      await oc.drain();
      return (await db.sql`select to_state from node_state_log where node_id = ${id} order by state_version`).map((s) => s.to_state);
    };
    assert.deepEqual(await blindSpot(), ['healthy', 'down', 'unknown', 'down']);
    assert.deepEqual((await incidentsOf(db, id)).map((i) => [i.status, i.resolved_by]), [['resolved', 'alice']], 'the same outage, closed by hand');
    // Its timeline says it was seen again, at the node's judgement, and why nobody was paged.
    const [again] = await db.sql<{ at: Date; reason: string }[]>`select at, reason from node_state_log where node_id = ${id} order by state_version desc limit 1`;
    const seenAgain = () => db.sql<{ at: Date; detail: Record<string, unknown> }[]>`
      select at, detail from incident_timeline where incident_id = ${incident!.id} and kind = 'seen_again'`;
    assert.deepEqual([...(await seenAgain())], [{ at: again!.at, detail: { node_state: 'down', after: 'unknown', reason: again!.reason } }]);
    // A second blind spot: still the same outage, still said once.
    assert.deepEqual(await blindSpot(), ['healthy', 'down', 'unknown', 'down', 'unknown', 'down']);
    assert.equal((await seenAgain()).length, 1);
    // Healthy in between: a new outage, a new incident and its page.
    await recover(id);
    await p.runUntil(new Date(clock.now().getTime() + 20_000));
    await p.tick();
    await oc.drain();
    const both = await incidentsOf(db, id);
    assert.deepEqual(both.map((i) => i.status), ['resolved', 'open']);
    await settled(both[1]!.id, 1);
  });

  it('pages the next level its delay after a late opening, not from the opening back-dated to the deadline', async () => {
    const first = await receiver();
    const second = await receiver();
    const policy = await oc.policy('two-levels', [
      { after_seconds: 0, channel_ids: [(await oc.webhook('first', first.url, secret)).id] },
      { after_seconds: 60, channel_ids: [(await oc.webhook('second', second.url, secret)).id] },
    ]);
    const id = await p.addNode('late-1', { escalation_policy_id: policy.id });
    p.beat(id);
    await p.tick();
    // No evaluator for 100 s while ingest keeps watching: down at its deadline (20 s), judged at 100 s.
    await p.runUntil(sec(100));
    await p.tick();
    await oc.drain();
    const [incident] = await incidentsOf(db, id);
    assert.equal(incident!.opened_at.toISOString(), sec(20).toISOString());
    await first.waitFor((r) => JSON.parse(r.body).type === 'incident.opened');
    await p.runUntil(sec(159.9));
    await oc.drain();
    assert.deepEqual((await deliveriesOf(db, incident!.id)).map((d) => d.event), ['opened'], 'level 1 waits its 60 s from the page at 100 s');
    await p.runUntil(sec(160));
    await oc.drain();
    const escalated = await second.waitFor();
    assert.equal(JSON.parse(escalated.body).type, 'incident.escalated');
  });

  /** A node's page to a webhook, written and enqueued with no notifier running: the test decides who sends it. */
  const pageWithoutSender = async (name: string) => {
    const hook = await receiver();
    await oc.close();
    oc = await createOnCall(db, clock, { redisUrl: redisUrl(), worker: false });
    const ch = await oc.webhook(name, hook.url, secret);
    await oc.policy('default', [{ after_seconds: 0, channel_ids: [ch.id] }], { isDefault: true });
    const [incident] = await incidentsOf(db, await nodeGoingDown(`${name}-1`));
    const [page] = await deliveriesOf(db, incident!.id);
    return { hook, incident: incident!, page: page! };
  };

  it('runs a row its holder puts back at the holder’s delay, though the row’s own job found it held meanwhile', async () => {
    const { hook, incident, page } = await pageWithoutSender('held');
    // Another sender's read holds the row (for the whole lease, 120 s), and the row's own job is
    // queued too (a retry added while a duplicate run of its group's job had the row).
    const holder = { id: page.id, token: randomUUID() };
    await leaseDeliveries(db.sql, [holder.id], DELIVERY_LEASE_MS, holder.token);
    await oc.queue.addAlone([{ id: holder.id }]);
    const backend = await openQueueBackend({ redisUrl: redisUrl(), databaseUrl: db.url, prefix: oc.prefix });
    const jobs = backend.queue(NOTIFICATIONS_QUEUE, {});
    try {
      await oc.restartNotifier();
      await until('the row’s own job to find the row held', async () => !['waiting', 'active'].includes(await jobs.getJobState(holder.id)));
      // The holder's attempt ends without a send and puts the row back, due now (runGroup's add).
      await releaseLeases(db.sql, [holder]);
      await oc.queue.addAlone([{ id: holder.id }]);
      const [d] = await settled(incident.id, 1);
      assert.deepEqual([d!.status, hook.requests.length], ['sent', 1]);
    } finally {
      await jobs.close();
      await backend.close();
    }
  });

  it('tells every paged channel about the resolve across a policy change and a restart', async () => {
    const paged = await receiver();
    const later = await receiver();
    const a = await oc.webhook('paged', paged.url, secret);
    const c = await oc.webhook('later', later.url, secret);
    const before = await oc.policy('before', [{ after_seconds: 0, channel_ids: [a.id] }]);
    const id = await nodeGoingDown('api-1', before.id);
    const [incident] = await incidentsOf(db, id);
    await settled(incident!.id, 1);
    // The node moves to another policy, and the whole on-call side restarts.
    const afterPolicy = await oc.policy('after', [{ after_seconds: 0, channel_ids: [c.id] }], { isDefault: true });
    await db.sql`update nodes set escalation_policy_id = ${afterPolicy.id} where id = ${id}`;
    await oc.restartNotifier();
    await recover(id);
    const ds = await settled(incident!.id, 2);
    assert.deepEqual(ds.map((d) => [d.event, d.channel_id, d.status]), [
      ['opened', a.id, 'sent'],
      ['resolved', a.id, 'sent'],
    ]);
    const resolved = await paged.waitFor((r) => JSON.parse(r.body).type === 'incident.resolved');
    assert.equal(JSON.parse(resolved.body).data.incident.resolved_by, 'auto');
    assert.equal(later.requests.length, 0, 'a channel never paged is not sent the resolve');
  });

  it('opens nothing for a node in maintenance, and after the window notifies only a real change', async () => {
    const hook = await receiver();
    const ch = await oc.webhook('ops', hook.url, secret);
    await oc.policy('default', [{ after_seconds: 0, channel_ids: [ch.id] }], { isDefault: true });
    const quiet = await p.addNode('quiet-1');
    const flappy = await p.addNode('flappy-1');
    p.beat(quiet);
    p.beat(flappy);
    await p.tick();
    // flappy is already down with an open, paged incident when the window starts.
    p.beat(flappy, 'failing');
    await p.tick();
    await oc.drain();
    const [flappyIncident] = await incidentsOf(db, flappy);
    await settled(flappyIncident!.id, 1);
    await db.sql.begin(async (tx) => {
      await insertMaintenance(tx, { node_ids: [quiet, flappy], labels: {}, starts_at: sec(1), ends_at: sec(120), reason: 'upgrade' }, clock.now());
      await tx`update node_due set due_at = ${sec(1)}, wake = wake + 1 where node_id in (${quiet}, ${flappy})`;
    });
    await p.runUntil(sec(119)); // quiet-1 stops beating for the whole window
    await p.tick();
    await oc.drain();
    assert.equal((await incidentsOf(db, quiet)).length, 0, 'no incident opens in maintenance');
    // The window ends: flappy-1 still fails (no new page); quiet-1, silent, gets a full period
    // (20 s) from the end, then is down (a real change: paged).
    await p.runUntil(sec(120));
    p.beat(flappy, 'failing');
    await p.tick();
    await oc.drain();
    assert.equal((await incidentsOf(db, quiet)).length, 0, 'nothing opens while it has time to beat');
    await p.runUntil(sec(140));
    await p.tick();
    await oc.drain();
    const [quietIncident] = await incidentsOf(db, quiet);
    assert.equal(quietIncident?.category, 'node_down');
    // Opened a period after the window ended, not at the deadline inside it: escalation runs from then.
    assert.equal(quietIncident!.opened_at.getTime(), sec(140).getTime());
    await settled(quietIncident!.id, 1);
    assert.equal((await deliveriesOf(db, flappyIncident!.id)).length, 1, 'still one page for the outage that spans the window');
    const states = await db.sql`select to_state from node_state_log where node_id = ${flappy} order by state_version`;
    assert.deepEqual(states.map((s) => s.to_state), ['healthy', 'down', 'maintenance', 'down']);
  });

  /**
   * A node down and paged at 20 s on a three-level policy (levels 2 and 3 due at 80 and 140 s), in
   * maintenance from 21 to `ends` s (200): both steps' times pass inside the window and level 2 is
   * held at 150 s, its re-check due at the window's end, or 5 minutes after the hold if sooner.
   */
  const heldInWindow = async (name: string, ends = 200) => {
    const hook = await receiver();
    const channels = [await oc.webhook(`${name}-first`, hook.url, secret), await oc.webhook(`${name}-second`, hook.url, secret), await oc.webhook(`${name}-third`, hook.url, secret)];
    const policy = await oc.policy(name, [
      { after_seconds: 0, channel_ids: [channels[0]!.id] },
      { after_seconds: 60, channel_ids: [channels[1]!.id] },
      { after_seconds: 120, channel_ids: [channels[2]!.id] },
    ]);
    const id = await nodeGoingDown(name, policy.id);
    const [incident] = await incidentsOf(db, id);
    await settled(incident!.id, 1);
    await db.sql.begin(async (tx) => {
      await insertMaintenance(tx, { node_ids: [id], labels: {}, starts_at: sec(21), ends_at: sec(ends), reason: 'repair' }, clock.now());
      await tx`update node_due set due_at = ${sec(21)}, wake = wake + 1 where node_id = ${id}`;
    });
    await p.runUntil(sec(21));
    await p.tick();
    await p.runUntil(sec(150)); // both steps' times pass inside the window
    await p.tick();
    await oc.drain();
    assert.deepEqual(await heldState(incident!.id), { escalation_held: true, escalation_step: 0 });
    return { id, incidentId: incident!.id, channels };
  };
  const heldState = async (incidentId: string) => ({ ...(await db.sql`select escalation_held, escalation_step from incidents where id = ${incidentId}`)[0] });
  /** Level 3 keeps its 60 s gap from the held step's page at `pagedAt` s, instead of paging with it. */
  const thirdAfterItsGap = async (incidentId: string, pagedAt: number) => {
    await p.runUntil(sec(pagedAt + 59));
    await oc.drain();
    assert.equal((await deliveriesOf(db, incidentId)).length, 2);
    await p.runUntil(sec(pagedAt + 60));
    await oc.drain();
    await settled(incidentId, 3);
  };
  const pagedChannels = async (incidentId: string) => (await deliveriesOf(db, incidentId)).map((d) => d.channel_id);
  /**
   * The node judged at `s` s, its change taken by something that does not release the step (a
   * worker of an earlier release, or the event discarded).
   */
  const judgedUnheard = async (id: string, s: number) => {
    await p.runUntil(sec(s));
    await p.tick();
    await db.sql`delete from outbox where topic = 'node.state_changed' and key = ${id}`;
    await oc.drain();
  };
  const rechecksOf = async (incidentId: string) => (await db.sql`select available_at from outbox where key = ${`held:${incidentId}`}`).map((r) => r.available_at as Date);

  it('holds a step due in maintenance and pages it when the node is judged down after the window, the steps after it keeping their gaps', async () => {
    const { id, incidentId, channels } = await heldInWindow('held');
    const timeline = async () => (await db.sql`select kind from incident_timeline where incident_id = ${incidentId} order by at, id`).map((r) => r.kind as string);
    assert.deepEqual((await timeline()).filter((k) => k.startsWith('escalat')), ['escalation_suppressed'], 'level 2 is held, not used up: level 3 is not armed behind it');
    // The window ends with the node still silent: unknown at its end, down a period (20 s) later.
    await p.runUntil(sec(200));
    await p.tick();
    await oc.drain();
    assert.equal((await deliveriesOf(db, incidentId)).length, 1, 'nothing pages before the node is judged again');
    await p.runUntil(sec(220));
    await p.tick();
    await oc.drain();
    await settled(incidentId, 2);
    await thirdAfterItsGap(incidentId, 220);
    assert.deepEqual((await deliveriesOf(db, incidentId)).map((d) => [d.event, d.channel_id]), channels.map((c, k) => [k ? 'escalated' : 'opened', c.id]));
    assert.deepEqual((await timeline()).filter((k) => k.startsWith('escalat')), ['escalation_suppressed', 'escalated', 'escalated'], 'the re-checks write nothing');
    const states = await db.sql`select to_state from node_state_log where node_id = ${id} order by state_version`;
    assert.deepEqual(states.map((s) => s.to_state), ['healthy', 'down', 'maintenance', 'unknown', 'down']);
  });

  it('pages a held step on its re-check when the node was judged down and the release was missed', async () => {
    const { id, incidentId, channels } = await heldInWindow('missed');
    await judgedUnheard(id, 200); // unknown at the window's end: the re-check due then holds it again, for 5 minutes
    await judgedUnheard(id, 220); // down
    assert.deepEqual(await heldState(incidentId), { escalation_held: true, escalation_step: 0 });
    await p.runUntil(sec(499));
    await oc.drain();
    assert.equal((await deliveriesOf(db, incidentId)).length, 1, 'the re-check waits its 5 minutes');
    await p.runUntil(sec(500));
    await oc.drain();
    await settled(incidentId, 2);
    assert.deepEqual(await heldState(incidentId), { escalation_held: false, escalation_step: 1 });
    await thirdAfterItsGap(incidentId, 500);
    assert.deepEqual(await pagedChannels(incidentId), channels.map((c) => c.id));
  });

  it('pages nothing for a held step once its incident is acknowledged', async () => {
    const { incidentId } = await heldInWindow('acked');
    await db.sql.begin((tx) => acknowledgeIncident(tx, incidentId, clock.now(), 'alice'));
    assert.deepEqual(await heldState(incidentId), { escalation_held: false, escalation_step: 0 });
    for (const s of [200, 220, 500]) {
      await p.runUntil(sec(s));
      await p.tick();
      await oc.drain();
    }
    assert.equal((await deliveriesOf(db, incidentId)).length, 1);
    const [{ n }] = (await db.sql`select count(*)::int as n from outbox where payload->>'incident_id' = ${incidentId}`) as unknown as [{ n: number }];
    assert.equal(n, 0, 'nothing left armed');
    const stopped = await db.sql`select 1 from incident_timeline where incident_id = ${incidentId} and kind = 'escalation_stopped'`;
    assert.equal(stopped.length, 0, 'the held step had stopped before the acknowledgement: its re-check records no stop');
  });

  it('re-checks a held step 5 minutes after the hold when its window was ended early and the release missed', async () => {
    const { id, incidentId } = await heldInWindow('early', 1000);
    assert.deepEqual(await rechecksOf(incidentId), [sec(450)], 'held at 150 s: re-checked 5 minutes later, before the window ends');
    await db.sql.begin(async (tx) => {
      await tx`update maintenances set ends_at = ${sec(160)} where ${id}::uuid = any(node_ids)`;
      await tx`update node_due set due_at = ${sec(160)}, wake = wake + 1 where node_id = ${id}`;
    });
    await judgedUnheard(id, 160); // unknown
    await judgedUnheard(id, 180); // down
    assert.deepEqual(await heldState(incidentId), { escalation_held: true, escalation_step: 0 });
    await p.runUntil(sec(449));
    await oc.drain();
    assert.equal((await deliveriesOf(db, incidentId)).length, 1);
    await p.runUntil(sec(450)); // not at the window's old end (1000 s)
    await oc.drain();
    assert.equal((await deliveriesOf(db, incidentId)).length, 2);
    assert.deepEqual(await heldState(incidentId), { escalation_held: false, escalation_step: 1 });
  });

  it('keeps one re-check for a held step released and held again', async () => {
    const { id, incidentId } = await heldInWindow('rehold');
    assert.deepEqual(await rechecksOf(incidentId), [sec(200)]);
    // A judgement of down handled while the node is in maintenance again (a replayed event): the
    // step is released, its timer finds the node in maintenance and holds it again.
    const handler = nodeEventsHandler(newsSender(oc.queue, testLog, 1000), oc.setup);
    await db.sql.begin((tx) => handler([wentDown(id, 'rehold', sec(150))], { tx, now: sec(150), afterCommit: () => {} }));
    await oc.drain();
    assert.deepEqual(await heldState(incidentId), { escalation_held: true, escalation_step: 0 });
    assert.deepEqual(await rechecksOf(incidentId), [sec(200)]);
  });

  it('pages nothing from the re-check of a held step once the node is judged the other way (its change moves the incident)', async () => {
    const { id, incidentId } = await heldInWindow('other');
    await p.runUntil(sec(200));
    p.beat(id, 'degraded'); // degraded at the window's end, when the re-check is due; its change is not handled
    await judgedUnheard(id, 200);
    assert.equal((await deliveriesOf(db, incidentId)).length, 1, 'level 2 of node_down is not paged for a degraded node');
    assert.deepEqual(await heldState(incidentId), { escalation_held: true, escalation_step: 0 });
  });

  it('notes once that a held step follows the default in place of its deleted policy, not at each re-check and at the release', async () => {
    const { incidentId, channels } = await heldInWindow('orphan');
    // Deleted with no default to fall back to, the incident keeps the deleted id (deletePolicy);
    // the default made after is what its held step now follows.
    await db.sql`delete from escalation_policies where id = (select policy_id from incidents where id = ${incidentId})`;
    await oc.policy('default', channels.map((c, k) => ({ after_seconds: 60 * k, channel_ids: [c.id] })), { isDefault: true });
    for (const s of [200, 220]) {
      await p.runUntil(sec(s)); // re-checked at the window's end (unknown: held again), released when judged down
      await p.tick();
      await oc.drain();
    }
    await settled(incidentId, 2);
    const replaced = await db.sql`select kind from incident_timeline where incident_id = ${incidentId} and kind = 'policy_replaced'`;
    assert.equal(replaced.length, 1);
  });

  it('pages a held step once when the node is judged down twice as its re-check comes due', async () => {
    const { id, incidentId, channels } = await heldInWindow('twice');
    await p.runUntil(sec(200));
    p.beat(id, 'failing'); // down at the window's end, when the re-check is due
    await p.tick();
    await db.sql`delete from outbox where topic = 'node.state_changed' and key = ${id}`;
    // The judgement handled twice before any timer runs (a replayed event): the first releases the
    // step (dropping its re-check, due now), the second finds nothing held.
    const handler = nodeEventsHandler(newsSender(oc.queue, testLog, 1000), oc.setup);
    for (let k = 0; k < 2; k++) await db.sql.begin((tx) => handler([wentDown(id, 'twice', sec(200))], { tx, now: sec(200), afterCommit: () => {} }));
    await oc.drain();
    await settled(incidentId, 2);
    await p.runUntil(sec(260));
    await oc.drain();
    await settled(incidentId, 3);
    assert.deepEqual(await pagedChannels(incidentId), channels.map((c) => c.id), 'level 2 paged once, level 3 after its gap');
    const escalated = await db.sql`select detail->>'step' as step from incident_timeline where incident_id = ${incidentId} and kind = 'escalated' order by id`;
    assert.deepEqual(escalated.map((e) => e.step), ['1', '2']);
  });

  // On Postgres the jobs' store is the ledger's database: with it down nothing commits to enqueue.
  it('delivers every notification once after Redis was down while the incidents opened', { skip: !onRedis && 'Redis only' }, async () => {
    if (!redis) throw new Error('a private Redis runs for this backend');
    const hook = await receiver();
    const ch = await oc.webhook('ops', hook.url, secret);
    await oc.policy('default', [{ after_seconds: 0, channel_ids: [ch.id] }], { isDefault: true });
    const ids = [await p.addNode('r-1'), await p.addNode('r-2'), await p.addNode('r-3')];
    for (const id of ids) p.beat(id);
    await p.tick();
    await redis.stop();
    await p.runUntil(sec(20));
    await p.tick();
    await oc.drain(); // incidents open and ledger rows commit; their jobs cannot be enqueued
    const pending = await db.sql`select count(*)::int as n from deliveries where enqueued_at is null`;
    assert.equal(pending[0]!.n, 3);
    // The outage lasts until the sweeper has tried, and failed, to enqueue them three times.
    const sweeperFailures = async () => (await oc.metrics.loopErrors.get()).values.find((v) => v.labels.loop === 'delivery-sweeper')?.value ?? 0;
    const failedBefore = await sweeperFailures();
    await until('three failed sweeps', async () => (await sweeperFailures()) >= failedBefore + 3);
    assert.equal((await db.sql`select count(*)::int as n from deliveries where enqueued_at is null`)[0]!.n, 3, 'nothing reached the stopped Redis');
    await redis.start();
    for (const id of ids) {
      const [incident] = await incidentsOf(db, id);
      await settled(incident!.id, 1);
    }
    await until('three webhooks', async () => hook.requests.length >= 3 || undefined);
    assert.equal(hook.requests.length, 3);
    assert.equal(new Set(hook.requests.map((r) => r.headers['webhook-id'])).size, 3);
  });

  it('sends a digest instead of one email per node in a storm, across racing workers, and still pairs every resolve', async () => {
    const sink = await startSmtpSink();
    try {
      await oc.close();
      oc = await createOnCall(db, clock, { redisUrl: redisUrl(), smtpUrl: sink.url, stormThreshold: 3 });
      const mail = await oc.email('oncall', ['oncall@test.local']);
      await oc.policy('default', [{ after_seconds: 0, channel_ids: [mail.id] }], { isDefault: true });
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push(await p.addNode(`storm-${i}`));
      for (const id of ids) p.beat(id);
      await p.tick();
      await p.runUntil(sec(20));
      await p.tick();
      // Two workers fan out at once: the threshold must hold across them, not per worker.
      await oc.drainConcurrently(2, 2);
      await oc.restartNotifier(); // its first digest pass sends what the storm held
      const digested = (word: string) =>
        sink.messages.reduce((n, m) => n + Number(new RegExp(`^\\[Lifeline\\] \\d+ incident updates?: .*?(\\d+) ${word}`).exec(m.subject)?.[1] ?? 0), 0);
      const alone = (word: string) => sink.messages.filter((m) => m.subject.startsWith(`[Lifeline] ${word}: storm-`)).length;
      await until('every page, alone or digested', async () => alone('DOWN') + digested('DOWN') >= 10 || undefined);
      assert.equal(alone('DOWN'), 3, sink.messages.map((m) => m.subject).join(' | '));
      assert.equal(digested('DOWN'), 7);
      const pages = sink.messages.length;
      assert.equal(pages, 4, 'a storm of 10 pages is three alone and one digest');
      for (const id of ids) p.beat(id);
      await p.tick();
      await oc.drain();
      await oc.restartNotifier();
      await until('every resolve delivered', async () => {
        const [row] = await db.sql`select count(*)::int as n from deliveries where event = 'resolved' and status = 'sent'`;
        return row!.n === 10 || undefined;
      });
      await until('the resolve digest', async () => digested('RESOLVED') >= 10 || undefined);
      assert.equal(alone('RESOLVED'), 0, 'the channel is still in a storm: every resolve is digested');
      assert.equal(sink.messages.length, pages + 1, 'ten resolves, one message');
      const [held] = await db.sql`select count(*)::int as n from deliveries where digest`;
      assert.equal(held!.n, 17);
    } finally {
      await sink.close();
    }
  });

  it('serialises storm counting per channel, so racing fan-outs see each other', async () => {
    const mail = await oc.email('oncall', ['oncall@test.local']);
    const id = await nodeGoingDown('count-1');
    const [incident] = await incidentsOf(db, id);
    const row = (incidentId: string, eventKey: string) => ({
      incidentId,
      event: 'escalated' as const,
      eventKey,
      channelId: mail.id,
      channelType: 'email',
      occurredAt: clock.now(),
    });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const holding = new Promise<void>((r) => (locked = r));
    const first = db.sql.begin(async (tx) => {
      await lockStormCounters(tx, [mail.id]);
      await insertDeliveries(tx, [row(incident!.id, 'escalated-1')], clock.now());
      locked();
      await gate;
    });
    await holding;
    const second = db.sql.begin(async (tx) => {
      await lockStormCounters(tx, [mail.id]);
      return (await recentDeliveryCounts(tx, [mail.id], new Date(0), 1000)).get(mail.id) ?? 0;
    });
    // The second fan-out must be waiting on the first's lock before the first commits.
    await until('the second fan-out to wait', async () => {
      const [w] = await db.sql`select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted
                               and database = (select oid from pg_database where datname = current_database())`;
      return w!.n > 0 || undefined;
    });
    release();
    await first;
    const before = (await deliveriesOf(db, incident!.id)).length;
    assert.equal(await second, before, 'it counted the first one’s committed rows');
    assert.equal((await recentDeliveryCounts(db.sql, [mail.id], new Date(0), 1)).get(mail.id), 1, 'a count stops at its cap: the storm rule asks no more');
  });

  it('records a send the receiver accepted through a database refusing connections, instead of sending it again', async () => {
    const { hook, incident, page } = await pageWithoutSender('c'); // the send below is the only one
    // Postgres at its connection limit for the first two tries of the ledger write after the send.
    let refusals = 2;
    const crowded = new Proxy(db.sql, {
      apply(target, self, args) {
        const [strings] = args as [unknown];
        if (Array.isArray(strings) && strings.join('').includes("update deliveries set status = 'sent'") && refusals-- > 0) {
          return Promise.reject(Object.assign(new Error('sorry, too many clients already'), { code: '53300' }));
        }
        return Reflect.apply(target, self, args);
      },
    });
    const channels = createChannels({ smtpUrl: undefined, mailFrom: 'lifeline@test.local', outboundAllowCidrs: LOCAL_RECEIVERS });
    try {
      await deliver({ sql: crowded, clock, channels, secretKey: oc.secretKey, retry: { baseMs: 20, capMs: 200 } }, page!.id);
    } finally {
      channels.close();
    }
    assert.equal(refusals, -1, 'both refusals happened, then the write went through');
    const [d] = await deliveriesOf(db, incident!.id);
    assert.deepEqual([d!.status, d!.attempts], ['sent', 1]);
    assert.equal(hook.requests.length, 1, 'sent once');
  });

  it('redelivers after a notifier is SIGKILLed mid-send, with no second successful delivery', async () => {
    const hook = await receiver();
    hook.script('hang'); // the first attempt never gets an answer
    await oc.close();
    oc = await createOnCall(db, clock, { redisUrl: redisUrl(), worker: false }); // only the child sends at first
    const ch = await oc.webhook('ops', hook.url, secret);
    await oc.policy('default', [{ after_seconds: 0, channel_ids: [ch.id] }], { isDefault: true });
    const child = EngineProcess.start(
      { DATABASE_URL: db.url, REDIS_URL: redis?.url ?? '', QUEUE_PREFIX: oc.prefix, SECRET_KEY: oc.secretKey.toString('hex') },
      [process.execPath, '--import', 'tsx', 'test/helpers/notifier-child.ts'],
    );
    try {
      await child.waitFor((l) => l.msg === 'notifier ready');
      const id = await nodeGoingDown('k-1');
      const [incident] = await incidentsOf(db, id);
      await hook.waitFor(); // the child is now inside the send
      child.kill('SIGKILL');
      await child.exited;
      const { prefix, secretKey } = oc;
      await oc.close();
      oc = await createOnCall(db, clock, { redisUrl: redisUrl(), prefix, secretKey }); // the restarted notifier
      const [d] = await settled(incident!.id, 1);
      assert.deepEqual([d!.status, d!.attempts], ['sent', 1], 'one recorded attempt: the killed one never finished');
      assert.equal(hook.requests.length, 2, 'the killed send is retried');
      assert.equal(hook.requests[0]!.headers['webhook-id'], hook.requests[1]!.headers['webhook-id'], 'with the same webhook-id');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
