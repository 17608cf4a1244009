import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import postgres from 'postgres';
import { generateWebhookSecret } from '../../alerting/webhook.ts';
import { ManualClock } from '../helpers/clock.ts';
import { createSql } from '../../src/db/client.ts';
import { actionLinkKey, verifyActionLink } from '../../src/incidents/action-links.ts';
import { nodeEventsHandler } from '../../src/incidents/handlers.ts';
import { acknowledge, escalate, resolve, UNREACHABLE_WITHOUT_EMAIL } from '../../src/incidents/service.ts';
import { newsSender } from '../../src/notifications/handlers.ts';
import { setupWarnings, unreachablePeople } from '../../src/oncall/setup-warnings.ts';
import { TEST_ACTING } from '../helpers/acting.ts';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../helpers/db.ts';
import { holdOpen, waitsOnLock } from '../helpers/locks.ts';
import { testLog } from '../helpers/log.ts';
import { createOnCall, deliveriesOf, incidentsOf, nodeGoingDown as goingDown, QUEUE_BACKENDS, settledDeliveries, wentDown, type OnCall } from '../helpers/oncall.ts';
import { createPipeline } from '../helpers/pipeline.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';
import { until } from '../helpers/wait.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

// Escalation to people: schedules resolved when their level fires, the ledger naming each person,
// resolves paired per person and contact, and levels that reach nobody handing over at once.

const T0 = new Date('2026-11-21T10:00:00.000Z');
const HOUR = 3_600_000;
const sec = (s: number) => new Date(T0.getTime() + s * 1000);
const PUBLIC_URL = 'https://lifeline.test';

for (const backend of QUEUE_BACKENDS) describe(`paging people (queues on ${backend})`, () => {
  const redisUrl = backend === 'redis' ? REDIS_URL : undefined;
  let db: TestDatabase;
  let clock: ManualClock;
  let p: ReturnType<typeof createPipeline>;
  let oc: OnCall;
  let sink: SmtpSink;
  let hook: WebhookReceiver;
  const secret = generateWebhookSecret();

  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db.drop();
  });
  beforeEach(async () => {
    await db.sql`truncate nodes, node_state_log, outbox, outbox_dead, ingest_coverage, ingest_presence, incidents, deliveries, channels, escalation_policies, users, schedules cascade`;
    clock = new ManualClock(T0);
    sink = await startSmtpSink();
    hook = await startWebhookReceiver({ secret });
    p = createPipeline(db, clock);
    oc = await createOnCall(db, clock, { redisUrl, smtpUrl: sink.url, publicUrl: PUBLIC_URL });
    await p.flush();
  });
  afterEach(async () => {
    await oc.close();
    await p.close();
    await sink.close();
    await hook.close();
  });

  /** A node going down (see nodeGoingDown), and its incident. */
  const nodeGoingDown = async (name: string) => {
    const nodeId = await goingDown({ p, oc, clock }, name);
    const [incident] = await incidentsOf(db, nodeId);
    return { nodeId, incidentId: incident!.id };
  };
  const timeline = async (incidentId: string) =>
    db.sql<{ kind: string; at: Date; detail: Record<string, any> }[]>`select kind, at, detail from incident_timeline where incident_id = ${incidentId} order by id`;
  const settled = (incidentId: string, n: number) => settledDeliveries(db, incidentId, n, ['sent']);
  /**
   * Level 1 (600 s, a webhook to `hook`) paged as the incident opened, without waiting out its
   * delay, after a `reached_nobody` for level 0: returns that entry.
   */
  const handedOverAtOnce = async (incidentId: string) => {
    const openedAt = clock.now();
    const entries = await timeline(incidentId);
    assert.deepEqual(
      entries.map((e) => e.kind).filter((k) => ['opened', 'reached_nobody', 'escalated'].includes(k)),
      ['opened', 'reached_nobody', 'escalated'],
    );
    const page = await hook.waitFor();
    assert.equal(JSON.parse(page.body).type, 'incident.escalated');
    assert.equal(clock.now().getTime(), openedAt.getTime(), 'without waiting out the 600 s of level 1');
    return entries.find((e) => e.kind === 'reached_nobody')!;
  };
  /**
   * The node recovers: once `hook` has its resolve and every row of the incident is final, the
   * ledger as (event, channel, person).
   */
  const ledgerAfterResolve = async (nodeId: string, incidentId: string) => {
    p.beat(nodeId);
    await p.tick();
    await oc.drain();
    await hook.waitFor((r) => JSON.parse(r.body).type === 'incident.resolved');
    const ds = await until('every row final', async () => {
      const rows = await deliveriesOf(db, incidentId);
      return rows.every((d) => d.status === 'sent' || d.status === 'dead') ? rows : undefined;
    });
    return ds.map((d) => [d.event, d.channel_id, d.user_id]);
  };

  it('pages whoever the schedule has on call when each level fires, names them, and pairs every resolve per person and contact', async () => {
    const own = await oc.webhook('ana-phone', hook.url, secret);
    const ana = await oc.user('Ana', 'ana@test.local', [own.id]);
    const ben = await oc.user('Ben', 'ben@test.local');
    // Hourly hand-offs from T0: Ana until T0 + 1 h, then Ben.
    const rota = await oc.schedule('rota', [{ name: 'hourly', user_ids: [ana.id, ben.id], starts_at: T0, rotation: 'PT1H' }]);
    await oc.policy('default', [{ after_seconds: 0, channel_ids: [], schedule_ids: [rota.id] }, { after_seconds: 3600, channel_ids: [], schedule_ids: [rota.id] }], { isDefault: true });

    const { nodeId, incidentId } = await nodeGoingDown('db-1'); // opened at T0 + 20 s: Ana's hour
    await settled(incidentId, 2);
    const down = await sink.waitFor((m) => m.subject.startsWith('[Lifeline] DOWN: db-1'));
    assert.deepEqual(down.envelopeTo, ['ana@test.local']);
    const push = await hook.waitFor();
    assert.equal(JSON.parse(push.body).type, 'incident.opened');
    assert.ok(push.verified);

    await p.runUntil(sec(20 + 3600)); // level 1, an hour after opening: Ben's hour now
    await oc.drain();
    await settled(incidentId, 3);
    const escalated = await sink.waitFor((m) => m.subject.startsWith('[Lifeline] ESCALATED: db-1'));
    assert.deepEqual(escalated.envelopeTo, ['ben@test.local']);
    // Ben reads whom the page follows and for how long it went unanswered, not a level number.
    assert.ok(escalated.text.split(/\r?\n/).includes('Paged: Ana (level 1 of 2) at 10:00:20 UTC, not acknowledged after 1h; now paging you (on call in rota), level 2 of 2'), escalated.text);

    p.beat(nodeId);
    await p.tick();
    await oc.drain();
    const ds = await settled(incidentId, 6);
    // The ledger names each person and contact, with ids that stay the same across retries.
    const byId = (rows: Array<Array<string | null>>) => rows.sort((a, b) => a[0]!.localeCompare(b[0]!));
    assert.deepEqual(
      byId(ds.map((d) => [d.id, d.user_id, d.channel_id])),
      byId([
        [`${incidentId}.opened.${ana.id}.email`, ana.id, null],
        [`${incidentId}.opened.${ana.id}.${own.id}`, ana.id, own.id],
        [`${incidentId}.escalated-1.${ben.id}.email`, ben.id, null],
        [`${incidentId}.resolved.${ana.id}.email`, ana.id, null],
        [`${incidentId}.resolved.${ana.id}.${own.id}`, ana.id, own.id],
        [`${incidentId}.resolved.${ben.id}.email`, ben.id, null],
      ]),
    );
    const resolves = await until('both resolve emails', async () => {
      const found = sink.messages.filter((m) => m.subject.startsWith('[Lifeline] RESOLVED: db-1'));
      return found.length === 2 ? found : undefined;
    });
    assert.deepEqual(resolves.flatMap((m) => m.envelopeTo).sort(), ['ana@test.local', 'ben@test.local']);
    // The resolve says the node came back, and answers the opening email to the same person.
    const anaResolve = resolves.find((m) => m.envelopeTo.includes('ana@test.local'))!;
    assert.equal(anaResolve.subject, '[Lifeline] RESOLVED: db-1 recovered after 1h');
    assert.match(anaResolve.text, /^db-1 recovered \(heartbeats resumed at 11:00:\d\d UTC after 1h\)$/m);
    assert.equal(anaResolve.headers.get('in-reply-to'), down.headers.get('message-id'));
    assert.ok(anaResolve.headers.get('references')?.includes(down.headers.get('message-id')!), anaResolve.headers.get('references'));
    assert.equal(down.headers.get('in-reply-to'), undefined, 'the opening answers nothing');
    await hook.waitFor((r) => JSON.parse(r.body).type === 'incident.resolved');

    const entries = await timeline(incidentId);
    const opened = entries.find((e) => e.kind === 'opened')!;
    assert.deepEqual(opened.detail.users, [{ user_id: ana.id, schedule_id: rota.id, name: 'Ana' }]);
    const step = entries.find((e) => e.kind === 'escalated')!;
    assert.deepEqual([step.detail.level, step.detail.users], [1, [{ user_id: ben.id, schedule_id: rota.id, name: 'Ben' }]]);
    const notified = entries.filter((e) => e.kind === 'notified').map((e) => [e.detail.event, e.detail.user_id, e.detail.channel_id ?? null]);
    assert.ok(notified.some(([event, user, channel]) => event === 'opened' && user === ana.id && channel === own.id), JSON.stringify(notified));
  });

  it('a level whose schedule has nobody on call is recorded, and the next level fires at once', async () => {
    const receiver = await oc.webhook('ops', hook.url, secret);
    const cleo = await oc.user('Cleo', 'cleo@test.local');
    // Cleo's rotation only starts tomorrow: nobody is on call today.
    const later = await oc.schedule('from-tomorrow', [{ name: 'p', user_ids: [cleo.id], starts_at: new Date(T0.getTime() + 24 * HOUR), rotation: 'P1D' }]);
    await oc.policy('default', [{ after_seconds: 0, channel_ids: [], schedule_ids: [later.id] }, { after_seconds: 600, channel_ids: [receiver.id] }], { isDefault: true });

    const { incidentId } = await nodeGoingDown('api-1');
    const nobody = await handedOverAtOnce(incidentId);
    assert.deepEqual([nobody.detail.level, nobody.detail.reason, nobody.detail.empty_schedule_ids], [0, 'nobody on call', [later.id]]);
    assert.equal(nobody.detail.escalation_ends, false, 'a level comes after it');
    assert.equal((await incidentsOf(db, (await db.sql`select node_id from incidents where id = ${incidentId}`)[0]!.node_id))[0]!.escalation_level, 1);
    assert.equal(sink.messages.length, 0, 'Cleo, not on call, got nothing');
  });

  it('a last level that reaches nobody records that escalation ends there', async () => {
    const cleo = await oc.user('Cleo', 'cleo@test.local');
    const later = await oc.schedule('from-tomorrow', [{ name: 'p', user_ids: [cleo.id], starts_at: new Date(T0.getTime() + 24 * HOUR), rotation: 'P1D' }]);
    await oc.policy('default', [{ after_seconds: 0, channel_ids: [], schedule_ids: [later.id] }], { isDefault: true });

    const { incidentId } = await nodeGoingDown('api-2');
    const nobody = (await timeline(incidentId)).find((e) => e.kind === 'reached_nobody');
    assert.deepEqual([nobody?.detail.level, nobody?.detail.empty_schedule_ids, nobody?.detail.escalation_ends], [0, [later.id], true]);
  });

  it('without SMTP, a level whose person has no channel of their own reaches nobody, and the next level fires at once', async () => {
    await oc.close();
    oc = await createOnCall(db, clock, { redisUrl }); // no SMTP_URL, as `npm start` runs by default
    const receiver = await oc.webhook('ops', hook.url, secret);
    const alice = await oc.user('Alice', 'alice@test.local');
    await oc.policy('default', [{ after_seconds: 0, channel_ids: [], user_ids: [alice.id] }, { after_seconds: 600, channel_ids: [receiver.id] }], { isDefault: true });
    // Said before anything goes wrong: at start (naming them) and in /readyz (counting them).
    assert.deepEqual(await setupWarnings(db.sql, { emailConfigured: false, now: clock.now(), named: true }), [unreachablePeople([{ id: alice.id, name: 'Alice' }], true)]);

    const { nodeId, incidentId } = await nodeGoingDown('mail-1');
    const nobody = await handedOverAtOnce(incidentId);
    assert.deepEqual([nobody.detail.level, nobody.detail.reason, nobody.detail.users], [0, UNREACHABLE_WITHOUT_EMAIL, [{ user_id: alice.id, name: 'Alice' }]]);
    // Level 0 pages no one, as a later level that reached nobody: no mail row bound to die, and no resolve for one.
    assert.deepEqual(await ledgerAfterResolve(nodeId, incidentId), [['escalated', receiver.id, null], ['resolved', receiver.id, null]]);
  });

  it('without SMTP, a level whose only channel is an email one reaches nobody, and the next level fires at once', async () => {
    await oc.close();
    oc = await createOnCall(db, clock, { redisUrl });
    const mail = await oc.email('ops-mail', ['ops@test.local']);
    const receiver = await oc.webhook('ops', hook.url, secret);
    await oc.policy('default', [{ after_seconds: 0, channel_ids: [mail.id] }, { after_seconds: 600, channel_ids: [receiver.id] }], { isDefault: true });

    const { nodeId, incidentId } = await nodeGoingDown('mail-2');
    const nobody = await handedOverAtOnce(incidentId);
    assert.deepEqual([nobody.detail.level, nobody.detail.reason, nobody.detail.channel_ids], [0, UNREACHABLE_WITHOUT_EMAIL, [mail.id]]);
    assert.deepEqual(await ledgerAfterResolve(nodeId, incidentId), [['escalated', receiver.id, null], ['resolved', receiver.id, null]]);
  });

  // The notifier sends email, and only a process running it knows whether SMTP_URL is set: an
  // outbox on its own must not skip people it cannot judge.
  it('an outbox without the notifier role and without SMTP pages people reached by email alone, on every level', async () => {
    await oc.close();
    oc = await createOnCall(db, clock, { redisUrl, smtpUrl: sink.url, outboxAlone: true });
    const alice = await oc.user('Alice', 'alice@test.local');
    const bob = await oc.user('Bob', 'bob@test.local');
    await oc.policy('default', [{ after_seconds: 0, channel_ids: [], user_ids: [alice.id] }, { after_seconds: 600, channel_ids: [], user_ids: [bob.id] }], { isDefault: true });

    const { incidentId } = await nodeGoingDown('split-1');
    const kinds = async () => (await timeline(incidentId)).map((e) => e.kind).filter((k) => ['opened', 'reached_nobody', 'escalated'].includes(k));
    assert.deepEqual(await kinds(), ['opened']);
    assert.deepEqual((await sink.waitFor((m) => m.subject.startsWith('[Lifeline] DOWN: split-1'))).envelopeTo, ['alice@test.local']);

    await p.runUntil(new Date(clock.now().getTime() + 600_000));
    await oc.drain();
    assert.deepEqual(await kinds(), ['opened', 'escalated']);
    assert.deepEqual((await sink.waitFor((m) => m.subject.startsWith('[Lifeline] ESCALATED: split-1'))).envelopeTo, ['bob@test.local']);
  });

  it('tells a channel paged on a level and as a person’s own one resolve, sent only once every page to it is final', async () => {
    const pager = await oc.webhook('pager', hook.url, secret);
    const ivy = await oc.user('Ivy', 'ivy@test.local', [pager.id]);
    await oc.policy('default', [{ after_seconds: 0, channel_ids: [pager.id] }, { after_seconds: 300, channel_ids: [], user_ids: [ivy.id] }], { isDefault: true });
    hook.script(500, 'hang'); // the opening page fails, and its retry is held at the receiver
    const { nodeId, incidentId } = await nodeGoingDown('pd-1');
    await until('the opening page’s retry held at the receiver', async () => hook.hanging.length === 1 || undefined);
    // Level 1 pages Ivy: her mailbox, and the pager again, which waits for its opening page.
    await p.runUntil(new Date(clock.now().getTime() + 300_000));
    await oc.drain();
    await sink.waitFor((m) => m.subject.startsWith('[Lifeline] ESCALATED: pd-1'));

    p.beat(nodeId);
    await p.tick();
    await oc.drain();
    // Ivy's mailbox, whose page went out, hears the resolve; the pager's waits for its opening page.
    await sink.waitFor((m) => m.subject.startsWith('[Lifeline] RESOLVED: pd-1'));
    assert.equal(hook.release(500), 1);
    const ds = await settled(incidentId, 5);
    const types = hook.requests.map((r) => [JSON.parse(r.body).type, r.status]);
    const pageAccepted = types.findIndex(([type, status]) => type === 'incident.opened' && status === 200);
    const first = (event: string) => types.findIndex(([type]) => type === event);
    assert.ok(pageAccepted >= 0 && pageAccepted < first('incident.escalated') && first('incident.escalated') < first('incident.resolved'), JSON.stringify(types));
    const resolves = ds.filter((d) => d.event === 'resolved').map((d) => d.id).sort();
    assert.deepEqual(resolves, [`${incidentId}.resolved.${pager.id}`, `${incidentId}.resolved.${ivy.id}.email`].sort(), 'the pager told once, as level 0 paged it');
  });

  it('stops escalating at an acknowledgement and records where it stopped', async () => {
    const dan = await oc.user('Dan', 'dan@test.local');
    const eve = await oc.user('Eve', 'eve@test.local');
    await oc.policy('default', [{ after_seconds: 0, channel_ids: [], user_ids: [dan.id] }, { after_seconds: 300, channel_ids: [], user_ids: [eve.id] }], { isDefault: true });
    const { incidentId } = await nodeGoingDown('web-1');
    await sink.waitFor((m) => m.envelopeTo.includes('dan@test.local'));
    const ackedAt = clock.now();
    await acknowledge(db.sql, incidentId, { by: 'Dan' }, clock, TEST_ACTING);
    await p.runUntil(new Date(clock.now().getTime() + 600_000));
    await oc.drain();
    const stopped = (await timeline(incidentId)).find((e) => e.kind === 'escalation_stopped');
    assert.deepEqual(stopped?.detail, { step: 1, reason: 'acknowledged', by: 'Dan' });
    // When it stopped: at the acknowledgement, not 300 s later when level 2's timer found it acknowledged.
    assert.equal(stopped?.at.toISOString(), ackedAt.toISOString());
    await until('the acknowledgement to Dan', async () => sink.messages.some((m) => m.subject.startsWith('[Lifeline] ACKNOWLEDGED')) || undefined);
    assert.ok(!sink.messages.some((m) => m.envelopeTo.includes('eve@test.local')), 'Eve was never paged');
  });

  it('stamps an acknowledgement waiting behind an escalation after the escalation, and its stop with it', async () => {
    const dan = await oc.user('Dan', 'dan@test.local');
    const eve = await oc.user('Eve', 'eve@test.local');
    const fay = await oc.user('Fay', 'fay@test.local');
    await oc.policy('default', [{ after_seconds: 0, channel_ids: [], user_ids: [dan.id] }, { after_seconds: 60, channel_ids: [], user_ids: [eve.id] }, { after_seconds: 300, channel_ids: [], user_ids: [fay.id] }], { isDefault: true });
    const { incidentId } = await nodeGoingDown('web-9');
    const stepAt = sec(150);
    clock.set(sec(149));
    // Level 2's step holds the incident's row; an acknowledgement asked for at 79 s waits on it.
    const step = await holdOpen(db, (tx) => escalate(tx, [{ incidentId, step: 1, atOnce: false }], stepAt, true));
    const own = createSql(db.url, { dedicated: true, applicationName: 'lifeline-test-ack' });
    try {
      let done = false;
      const acking = acknowledge(own, incidentId, { by: 'Dan' }, clock, TEST_ACTING).finally(() => (done = true));
      await waitsOnLock(db, 'lifeline-test-ack', () => done);
      clock.set(stepAt);
      await step.commit();
      const acked = await acking;
      assert.equal(acked.acknowledged_at?.toISOString(), stepAt.toISOString(), 'stamped once it took the row, not when asked');
    } finally {
      await own.end({ timeout: 1 });
    }
    await p.runUntil(sec(1000));
    await oc.drain();
    const entries = await timeline(incidentId);
    const at = (kind: string) => entries.find((e) => e.kind === kind)!.at.getTime();
    assert.ok(at('escalated') <= at('acknowledged'), JSON.stringify(entries.map((e) => [e.kind, e.at])));
    assert.equal(at('escalation_stopped'), at('acknowledged'));
  });

  it('does not email a person their own acknowledgement, while every shared and other channel hears it and the resolve still reaches them', async () => {
    const own = await oc.webhook('gil-phone', hook.url, secret);
    const team = await oc.webhook('team', hook.url, secret);
    const gil = await oc.user('Gil', 'gil@test.local', [own.id]);
    const hana = await oc.user('Hana', 'hana@test.local');
    await oc.policy('default', [{ after_seconds: 0, channel_ids: [team.id], user_ids: [gil.id, hana.id] }], { isDefault: true });
    const { nodeId, incidentId } = await nodeGoingDown('api-1');
    await settled(incidentId, 4);
    // As Gil's own Acknowledge link records it (src/http/routes/action-links.ts).
    await acknowledge(db.sql, incidentId, { by: 'Gil', detail: { via: 'link', user_id: gil.id } }, clock, TEST_ACTING);
    await oc.drain();
    await sink.waitFor((m) => m.subject.startsWith('[Lifeline] ACKNOWLEDGED') && m.envelopeTo.includes('hana@test.local'));
    const ledger = await ledgerAfterResolve(nodeId, incidentId);
    const acks = ledger.filter(([event]) => event === 'acknowledged').map(([, channel, user]) => [channel, user]);
    assert.deepEqual(
      acks.sort((a, b) => String(a).localeCompare(String(b))),
      [
        [null, hana.id],
        [own.id, gil.id],
        [team.id, null],
      ].sort((a, b) => String(a).localeCompare(String(b))),
      'no row for Gil’s mailbox: Gil knows',
    );
    assert.ok(!sink.messages.some((m) => m.subject.startsWith('[Lifeline] ACKNOWLEDGED') && m.envelopeTo.includes('gil@test.local')));
    await sink.waitFor((m) => m.subject.startsWith('[Lifeline] RESOLVED') && m.envelopeTo.includes('gil@test.local'));
  });

  it('says a resolve by hand left the node failing, and that nothing pages for it until it fails again', async () => {
    const ida = await oc.user('Ida', 'ida@test.local');
    await oc.policy('default', [{ after_seconds: 0, channel_ids: [], user_ids: [ida.id] }], { isDefault: true });
    const { incidentId } = await nodeGoingDown('web-3');
    await sink.waitFor((m) => m.subject.startsWith('[Lifeline] DOWN: web-3'));
    await resolve(db.sql, incidentId, { by: 'Dana' }, clock, TEST_ACTING);
    await oc.drain();
    const mail = await sink.waitFor((m) => m.subject.startsWith('[Lifeline] RESOLVED'));
    assert.equal(mail.subject, '[Lifeline] RESOLVED: web-3 still down, resolved by Dana');
    assert.ok(mail.text.split(/\r?\n/).includes('resolved by Dana while web-3 is still down — it will not page again until it recovers and fails again'), mail.text);
  });

  it('signs links naming each recipient: a person for their email and own channels, the channel for a level’s channel', async () => {
    const own = await oc.webhook('fay-phone', hook.url, secret);
    const team = await oc.webhook('team', hook.url, secret);
    const fay = await oc.user('Fay', 'fay@test.local', [own.id]);
    await oc.policy('default', [{ after_seconds: 0, channel_ids: [team.id], user_ids: [fay.id] }], { isDefault: true });
    const { incidentId } = await nodeGoingDown('cache-1');
    await settled(incidentId, 3);
    const key = actionLinkKey(oc.secretKey);
    const tokenOf = (url: string) => {
      assert.ok(url.startsWith(`${PUBLIC_URL}/a/`), url);
      const check = verifyActionLink(key, url.slice(`${PUBLIC_URL}/a/`.length), clock.now());
      assert.ok(check.ok);
      return check.link;
    };
    const mail = await sink.waitFor();
    const links = [...mail.text.matchAll(/^(Acknowledge|Resolve): (\S+)$/gm)].map((m) => [m[1], tokenOf(m[2]!)] as const);
    assert.deepEqual(
      links.map(([label, l]) => [label, l.action, l.incidentId, l.recipient]),
      [
        ['Acknowledge', 'acknowledge', incidentId, { kind: 'user', id: fay.id }],
        ['Resolve', 'resolve', incidentId, { kind: 'user', id: fay.id }],
      ],
    );
    const hooks = await until('both webhooks', async () => (hook.requests.length === 2 ? hook.requests : undefined));
    const recipients = hooks.map((r) => tokenOf(JSON.parse(r.body).data.links.acknowledge).recipient).sort((a, b) => a.kind.localeCompare(b.kind));
    assert.deepEqual(recipients, [
      { kind: 'channel', id: team.id },
      { kind: 'user', id: fay.id },
    ]);
    const expiry = links[0]![1].expiresAt.getTime() - (await db.sql`select opened_at from incidents where id = ${incidentId}`)[0]!.opened_at.getTime();
    assert.equal(expiry, 7 * 24 * HOUR, 'a week after the event it announces');
  });

  it('reads a channel several people name as their own as shared: names, UTC, links signed as the channel', async () => {
    const home = await oc.email('home-list', ['home@test.local']);
    const ana = await oc.user('Ana Okafor', 'ana@test.local', [home.id], 'America/New_York');
    const ben = await oc.user('Ben Li', 'ben@test.local', [home.id], 'Europe/Berlin');
    await oc.policy('default', [{ after_seconds: 0, channel_ids: [], user_ids: [ana.id, ben.id] }], { isDefault: true });
    const { incidentId } = await nodeGoingDown('db-9'); // opened at T0 + 20 s
    await settled(incidentId, 3); // each email, and the shared channel once
    const mail = await sink.waitFor((m) => m.envelopeTo.includes('home@test.local'));
    const lines = textLines(mail.text);
    assert.ok(!/\byou\b/.test(mail.text), mail.text);
    assert.ok(lines.includes('db-9 is down — paging Ana Okafor and Ben Li, level 1 of 1'), mail.text);
    assert.ok(lines.includes('Opened: 2026-11-21 10:00:20 UTC'), mail.text);
    const ack = mail.text.match(/^Acknowledge: (\S+)$/m)![1]!;
    const check = verifyActionLink(actionLinkKey(oc.secretKey), ack.slice(`${PUBLIC_URL}/a/`.length), clock.now());
    assert.ok(check.ok);
    assert.deepEqual(check.link.recipient, { kind: 'channel', id: home.id });
  });

  it('links the incident’s console page under the public address, on the page and on the resolve', async () => {
    const hal = await oc.user('Hal', 'hal@test.local');
    await oc.policy('default', [{ after_seconds: 0, channel_ids: [], user_ids: [hal.id] }], { isDefault: true });
    const { nodeId, incidentId } = await nodeGoingDown('queue-1');
    const page = await sink.waitFor((m) => m.subject.startsWith('[Lifeline] DOWN: queue-1'));
    const line = `Open in console: ${PUBLIC_URL}/incidents/${incidentId}`;
    assert.ok(page.text.split(/\r?\n/).includes(line), page.text);
    p.beat(nodeId); // back: the incident resolves and Hal hears it, with no action links left to give
    await p.tick();
    await oc.drain();
    const resolved = await sink.waitFor((m) => m.subject.startsWith('[Lifeline] RESOLVED: queue-1'));
    assert.ok(resolved.text.split(/\r?\n/).includes(line), resolved.text);
  });

  it('holds a person’s mailbox to the storm threshold like a channel, and sends them one digest', async () => {
    await oc.close();
    oc = await createOnCall(db, clock, { redisUrl, smtpUrl: sink.url, stormThreshold: 2 });
    const gus = await oc.user('Gus', 'gus@test.local');
    await oc.policy('default', [{ after_seconds: 0, channel_ids: [], user_ids: [gus.id] }], { isDefault: true });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await p.addNode(`storm-${i}`));
    for (const id of ids) p.beat(id);
    await p.tick();
    await p.runUntil(sec(20));
    await p.tick();
    await oc.drain();
    await oc.restartNotifier(); // its first digest pass sends what the storm held
    const digest = await sink.waitFor((m) => /^\[Lifeline\] 3 incident updates: 3 DOWN/.test(m.subject));
    assert.deepEqual(digest.envelopeTo, ['gus@test.local']);
    await until('two pages alone', async () => sink.messages.filter((m) => m.subject.startsWith('[Lifeline] DOWN: storm-')).length === 2 || undefined);
    assert.equal(sink.messages.length, 3);
  });

  const textLines = (text: string) => text.split(/\r?\n/);

  it('names whom each level pages and through which schedule, says "you" only to them, on their clock', async () => {
    const shared = await oc.webhook('ops-hook', hook.url, secret);
    const list = await oc.email('ops-list', ['ops@test.local']);
    const ana = await oc.user('Ana Okafor', 'ana@test.local', [], 'America/New_York');
    const ben = await oc.user('Ben Li', 'ben@test.local', [], 'Europe/Berlin');
    const primary = await oc.schedule('Platform primary', [{ name: 'always', user_ids: [ana.id], starts_at: T0, rotation: 'P7D' }]);
    await oc.policy(
      'default',
      [
        { after_seconds: 0, channel_ids: [shared.id], schedule_ids: [primary.id] },
        { after_seconds: 600, channel_ids: [shared.id, list.id], user_ids: [ben.id] },
      ],
      { isDefault: true },
    );

    const { incidentId } = await nodeGoingDown('db-1'); // opened at T0 + 20 s
    await settled(incidentId, 2);

    // Ana's own email: "you", on New York's clock with UTC beside it.
    const anaDown = await sink.waitFor((m) => m.envelopeTo.includes('ana@test.local'));
    assert.ok(textLines(anaDown.text).includes('db-1 is down — paging you (on call in Platform primary) and 1 channel, level 1 of 2'), anaDown.text);
    assert.ok(textLines(anaDown.text).includes('Opened: 2026-11-21 05:00:20 EST (10:00:20 UTC)'), anaDown.text);
    assert.ok(textLines(anaDown.text).includes('Escalation level: 1 of 2'), anaDown.text);
    assert.ok(anaDown.html.includes('db-1 is down — paging you (on call in Platform primary) and 1 channel, level 1 of 2'), anaDown.html);

    // The shared webhook: whom it paged, for machines, beside the 0-based level it always had.
    const opened = JSON.parse((await hook.waitFor((r) => JSON.parse(r.body).type === 'incident.opened')).body);
    assert.deepEqual(opened.data.paged, [{ user_id: ana.id, name: 'Ana Okafor', schedule_id: primary.id, schedule_name: 'Platform primary' }]);
    assert.equal(opened.data.incident.escalation_level, 0);

    await p.runUntil(sec(20 + 600));
    await oc.drain();
    await settled(incidentId, 5);

    // The shared list reads whom the level pages by name, and UTC: many read it, in many zones.
    const listMail = await sink.waitFor((m) => m.envelopeTo.includes('ops@test.local'));
    assert.ok(
      textLines(listMail.text).includes('Paged: Ana Okafor and 1 channel (level 1 of 2) at 10:00:20 UTC, not acknowledged after 10m; now paging Ben Li and 2 channels, level 2 of 2'),
      listMail.text,
    );
    assert.ok(textLines(listMail.text).includes('Opened: 2026-11-21 10:00:20 UTC'), listMail.text);
    assert.ok(!/\byou\b/.test(listMail.text), listMail.text);

    // Ben's own email: "you", on Berlin's clock.
    const benMail = await sink.waitFor((m) => m.envelopeTo.includes('ben@test.local'));
    assert.ok(
      textLines(benMail.text).includes('Paged: Ana Okafor and 1 channel (level 1 of 2) at 11:00:20 CET (10:00:20 UTC), not acknowledged after 10m; now paging you and 2 channels, level 2 of 2'),
      benMail.text,
    );
    assert.ok(textLines(benMail.text).includes('Escalation level: 2 of 2'), benMail.text);

    const escalated = JSON.parse((await hook.waitFor((r) => JSON.parse(r.body).type === 'incident.escalated')).body);
    assert.deepEqual(escalated.data.paged, [{ user_id: ben.id, name: 'Ben Li' }]);
    assert.equal(escalated.data.incident.escalation_level, 1, 'the API and webhook keep counting from 0');
  });
});

// Queue-independent (the rows are written, never enqueued), so run once, on Postgres queues.
describe('reading whom a page names', () => {
  let db: TestDatabase;
  let p: ReturnType<typeof createPipeline>;
  let oc: OnCall;
  let hook: WebhookReceiver;
  const secret = generateWebhookSecret();

  before(async () => {
    db = await createTestDatabase();
    const clock = new ManualClock(T0);
    hook = await startWebhookReceiver({ secret });
    p = createPipeline(db, clock);
    oc = await createOnCall(db, clock, { redisUrl: undefined });
  });
  after(async () => {
    await oc.close();
    await p.close();
    await hook.close();
    await db.drop();
  });

  // Email known off: judging the level reads the channels' types as well as the people, and the
  // fan-out reads neither. Email on: judging reads the people, and the one channel read is the
  // fan-out's.
  for (const emailConfigured of [false, true]) {
    it(`reads the channels and people a page names once, judging its level and writing its rows alike (email ${emailConfigured ? 'on' : 'known off'})`, async () => {
      const name = `once-${emailConfigured}`;
      const own = await oc.webhook(`${name}-phone`, hook.url, secret);
      const ana = await oc.user(`Ana ${name}`, `${name}@test.local`, [own.id]);
      const team = await oc.webhook(`${name}-team`, hook.url, secret);
      const policy = await oc.policy(name, [{ after_seconds: 0, channel_ids: [team.id], user_ids: [ana.id] }]);
      const nodeId = await p.addNode(name, { escalation_policy_id: policy.id });
      const handler = nodeEventsHandler(newsSender(oc.queue, testLog, 1000), { emailConfigured });
      const reads = { people: 0, channelTypes: 0 };
      const sql = postgres(db.url, {
        onnotice: () => {},
        debug: (_connection, query) => {
          if (query.includes('from users u')) reads.people += 1;
          if (query.includes('select id, type from channels')) reads.channelTypes += 1;
        },
      });
      try {
        await sql.begin((tx) => handler([wentDown(nodeId, name, T0)], { tx, now: T0, afterCommit: () => {} }));
      } finally {
        await sql.end({ timeout: 1 });
      }
      assert.deepEqual(reads, { people: 1, channelTypes: 1 });
      const [incident] = await incidentsOf(db, nodeId);
      assert.deepEqual(
        (await deliveriesOf(db, incident!.id)).map((d) => [d.event, d.channel_id, d.user_id]).sort(),
        [
          ['opened', team.id, null],
          ['opened', null, ana.id],
          ['opened', own.id, ana.id],
        ].sort(),
      );
    });
  }
});
