import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Node } from '../../src/api/shapes.ts';
import { generateWebhookSecret } from '../../alerting/webhook.ts';
import { noteNewReasons, REASON_NOTES_MAX } from '../../src/incidents/service.ts';
import { endingsOf } from '../../src/incidents/store.ts';
import { createHarness, expectJson, START, type Harness } from '../helpers/app.ts';
import { evaluating } from '../helpers/evaluating.ts';
import { createOnCall, deliveriesOf, incidentsOf, settledDeliveries, type OnCall } from '../helpers/oncall.ts';
import { brief, transitionsOf } from '../helpers/pipeline.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

// A job that is down already and then keeps failing, through the HTTP intake, the flush, the
// evaluator, the incident handlers and the notifier: its reason follows its runs, its incident's
// timeline says so once, and nobody is paged again for the same outage; the pages its incident
// sends later (an escalation, the resolve) say how it failed, to a real webhook receiver and by email.

const T0 = new Date(START).getTime();
const at = (sec: number) => new Date(T0 + sec * 1000);
const RSYNC = 'rsync: write failed on "/backup/db.tar": No space left on device (28)';
const FAILED = `exited with status 3: ${RSYNC}`;

interface Body {
  type: string;
  data: { reason: string | null; incident: { id: string; reason: string | null } };
}

describe('a scheduled job that is down and keeps failing', () => {
  let h: Harness;
  let sink: SmtpSink;
  let hook: WebhookReceiver;
  let oc: OnCall;
  let judge: ReturnType<typeof evaluating>;
  let policyId: string;
  let escalating: string;
  const secret = generateWebhookSecret();

  before(async () => {
    h = await createHarness();
    sink = await startSmtpSink();
    hook = await startWebhookReceiver({ secret });
    oc = await createOnCall(h.db, h.clock, { redisUrl: undefined, smtpUrl: sink.url });
    // Each pass is followed by the outbox run to the end.
    judge = evaluating(h, () => oc.drain());
    const email = await oc.email('ops-mail', ['ops@example.com']);
    policyId = (await oc.policy('ops', [{ after_seconds: 0, channel_ids: [email.id] }])).id;
    const webhook = await oc.webhook('ops-hook', hook.url, secret);
    // Level 2 two minutes after the opening, unacknowledged.
    escalating = (
      await oc.policy('escalating', [
        { after_seconds: 0, channel_ids: [webhook.id] },
        { after_seconds: 120, channel_ids: [webhook.id, email.id] },
      ])
    ).id;
    await h.flush();
  });
  after(async () => {
    await oc.close();
    await judge.close();
    await hook.close();
    await sink.close();
    await h.close();
  });

  const tickAt = (t: Date) => judge.tickAt(t);
  /** Ticks every 30 s up to `sec`, so ingest never looks blind (coverageGapMs is 60 s). */
  const runTo = async (sec: number) => {
    let t = (h.clock.now().getTime() - T0) / 1000;
    while (t + 30 < sec) await tickAt(at((t += 30)));
    await tickAt(at(sec));
  };
  const health = async (id: string) => (await expectJson<Node>(await h.admin('GET', `/v1/nodes/${id}`), 200)).health;
  /** A run as `lifeline run` reports it: a start ping at `sec`, then exit 3 with rsync's error 5 s later. */
  const failedRun = async (key: string, sec: number) => {
    await runTo(sec);
    assert.equal((await h.req('GET', `/ping/${key}/start`)).status, 200);
    h.clock.set(at(sec + 5));
    assert.equal((await h.req('POST', `/ping/${key}/3`, { body: `sending incremental file list\n${RSYNC}\n` })).status, 200);
    await tickAt(at(sec + 5.5));
  };

  it('says why it is down now, writes one line on its incident and pages nobody again', async () => {
    const job = await h.createNode('db-backup', { schedule: { cron: '*/2 * * * *', time_zone: 'UTC', grace_seconds: 60 }, escalation_policy_id: policyId });
    // Created at 10:00:00, never pinged: its first run due is 10:02, down at 10:03.
    await runTo(180);
    const first = await health(job.id);
    assert.equal(first.state, 'down');
    assert.match(first.reason ?? '', /no run has ended since it was created$/);
    const [incident, ...others] = await incidentsOf(h.db, job.id);
    assert.deepEqual(others, []);
    await settledDeliveries(h.db, incident!.id, 1);
    await sink.waitFor((m) => m.subject.startsWith('[Lifeline] DOWN: db-backup — no success ping'));

    // Every later run fails the same way: 10:04, 10:06, 10:08.
    for (const sec of [240, 360, 480]) await failedRun(job.ping_key, sec);

    const now = await health(job.id);
    assert.equal(now.state, 'down');
    assert.equal(now.since, at(180).toISOString(), 'the same outage, from when it began');
    assert.equal(now.reason, `exited with status 3: ${RSYNC}`);
    assert.deepEqual(brief(await transitionsOf(h.db, job.id), new Date(T0)), ['unknown->down@180'], 'no transition, no state log row');
    const notes = await h.db.sql<{ at: Date; detail: { node_state: string; reason: string } }[]>`
      select at, detail from incident_timeline where incident_id = ${incident!.id} and kind = 'reason_changed' order by at, id`;
    assert.deepEqual(
      notes.map((n) => [n.at.toISOString(), n.detail.node_state, n.detail.reason]),
      [[at(245).toISOString(), 'down', `exited with status 3: ${RSYNC}`]],
      'one line, at the first failure: the next two said the same',
    );
    assert.deepEqual((await incidentsOf(h.db, job.id)).map((i) => i.status), ['open'], 'the same incident, still open');
    assert.deepEqual((await deliveriesOf(h.db, incident!.id)).map((d) => d.event), ['opened'], 'paged once');
    assert.deepEqual((await h.db.sql<{ topic: string }[]>`select topic from outbox`).map((r) => r.topic), [], 'nothing left waiting');
    await h.admin('DELETE', `/v1/nodes/${job.id}`);
  });

  it('one batch of changes for an incident one line short of the cap writes one line, the latest', async () => {
    const job = await h.createNode('db-export', { schedule: { cron: '*/2 * * * *', time_zone: 'UTC', grace_seconds: 60 }, escalation_policy_id: policyId });
    const from = (h.clock.now().getTime() - T0) / 1000;
    await runTo(from + 300);
    assert.equal((await health(job.id)).state, 'down');
    const [incident] = await incidentsOf(h.db, job.id);
    const openedAt = incident!.opened_at;
    await h.db.sql`
      insert into incident_timeline (incident_id, at, kind, detail)
      select ${incident!.id}, ${openedAt}, 'reason_changed', jsonb_build_object('node_state', 'down', 'reason', 'line ' || i)
      from generate_series(1, ${REASON_NOTES_MAX - 1}) i`;
    const change = (n: number) => ({ nodeId: job.id, state: 'down' as const, at: new Date(new Date(openedAt).getTime() + n * 1000), reason: `change ${n}` });
    await h.db.sql.begin((tx) => noteNewReasons(tx, [change(1), change(2), change(3)]));
    const notes = await h.db.sql<{ reason: string }[]>`
      select detail->>'reason' as reason from incident_timeline where incident_id = ${incident!.id} and kind = 'reason_changed' order by at desc, id desc`;
    assert.equal(notes.length, REASON_NOTES_MAX);
    assert.equal(notes[0]!.reason, 'change 3');

    // Past the cap, each change takes the place of the newest line: the timeline ends with the
    // latest reason, which a resolve says.
    for (let n = 4; n <= 12; n += 1) await h.db.sql.begin((tx) => noteNewReasons(tx, [change(n)]));
    const capped = await h.db.sql<{ at: Date; detail: { node_state: string; reason: string } }[]>`
      select at, detail from incident_timeline where incident_id = ${incident!.id} and kind = 'reason_changed' order by at desc, id desc`;
    assert.equal(capped.length, REASON_NOTES_MAX, 'still at most the cap');
    assert.deepEqual([capped[0]!.at.toISOString(), capped[0]!.detail], [change(12).at.toISOString(), { node_state: 'down', reason: 'change 12' }]);
    assert.equal(capped[1]!.detail.reason, 'line 49', 'the lines before it stay');
    assert.equal((await endingsOf(h.db.sql, [incident!.id])).get(incident!.id)?.lastReason, 'change 12');
    await h.admin('DELETE', `/v1/nodes/${job.id}`);
  });

  /** A job every 2 minutes, down for its missed first run, whose next run failed: its incident, and its first page's body. */
  const downThenFailed = async (name: string) => {
    const base = Math.ceil(((h.clock.now().getTime() - T0) / 1000 + 1) / 120) * 120;
    await runTo(base);
    const job = await h.createNode(name, { schedule: { cron: '*/2 * * * *', time_zone: 'UTC', grace_seconds: 60 }, escalation_policy_id: escalating });
    await runTo(base + 180);
    const [incident] = await incidentsOf(h.db, job.id);
    const bodyOf = async (type: string) =>
      JSON.parse((await hook.waitFor((r) => ((b: Body) => b.type === type && b.data.incident.id === incident!.id)(JSON.parse(r.body) as Body))).body) as Body;
    const opened = await bodyOf('incident.opened');
    await failedRun(job.ping_key, base + 240);
    assert.equal((await health(job.id)).reason, FAILED);
    return { job, incident: incident!, base, bodyOf, opened, openedFor: opened.data.incident.reason };
  };

  it('acknowledges with the reason the job fails with now', async () => {
    const { job, incident, bodyOf, openedFor } = await downThenFailed('db-ack');
    await expectJson(await h.admin('POST', `/v1/incidents/${incident.id}/acknowledge`), 200);
    await oc.drain();
    const acked = await bodyOf('incident.acknowledged');
    assert.equal(acked.data.reason, FAILED);
    assert.equal(acked.data.incident.reason, openedFor);
    await h.admin('DELETE', `/v1/nodes/${job.id}`);
  });

  it('acknowledges a job gone into maintenance with the last reason it failed with, not the opening one', async () => {
    const { job, incident, base, bodyOf, openedFor } = await downThenFailed('db-serviced');
    await expectJson(await h.admin('POST', '/v1/maintenances', { node_ids: [job.id], starts_at: at(base + 246).toISOString() }), 201);
    await runTo(base + 250);
    assert.equal((await health(job.id)).state, 'maintenance');
    assert.deepEqual((await incidentsOf(h.db, job.id)).map((i) => i.status), ['open'], 'maintenance leaves it open');
    await expectJson(await h.admin('POST', `/v1/incidents/${incident.id}/acknowledge`), 200);
    await oc.drain();
    const acked = await bodyOf('incident.acknowledged');
    assert.equal(acked.data.reason, FAILED, 'what the outage said last, as the console says it');
    assert.equal(acked.data.incident.reason, openedFor);
    await h.admin('DELETE', `/v1/nodes/${job.id}`);
  });

  it('escalates and resolves with the reason the job failed with, the opening one beside it', async () => {
    // Its next run fails, before level 2 is due.
    const { job, incident, base, bodyOf, opened, openedFor } = await downThenFailed('db-sync');
    assert.match(opened.data.reason ?? '', /no run has ended since it was created$/);
    assert.equal(opened.data.reason, openedFor);
    await runTo(base + 300);
    await settledDeliveries(h.db, incident.id, 3);
    const escalated = await bodyOf('incident.escalated');
    assert.equal(escalated.data.reason, FAILED, 'the page says how the job failed');
    assert.equal(escalated.data.incident.reason, openedFor, 'the incident keeps the reason it opened with');
    const mail = await sink.waitFor((m) => m.subject.startsWith('[Lifeline] ESCALATED: db-sync'));
    assert.equal(mail.subject, `[Lifeline] ESCALATED: db-sync — ${FAILED}`);
    assert.ok(mail.text.includes(`\nReason: ${FAILED}`), mail.text);
    assert.match(mail.text, /^Opened: .* UTC — .*no run has ended since it was created$/m, 'and what it opened for');

    // The run after succeeds: the resolve says what the outage was last, not the recovery's "ok".
    await runTo(base + 360);
    assert.equal((await h.req('GET', `/ping/${job.ping_key}`)).status, 200);
    await runTo(base + 361);
    await settledDeliveries(h.db, incident.id, 5);
    const resolved = await bodyOf('incident.resolved');
    assert.equal(resolved.data.reason, FAILED);
    assert.equal(resolved.data.incident.reason, openedFor);
    await h.admin('DELETE', `/v1/nodes/${job.id}`);
  });
});
