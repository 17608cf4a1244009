import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Node } from '../../src/api/shapes.ts';
import { noteNewReasons, REASON_NOTES_MAX } from '../../src/incidents/service.ts';
import { createHarness, expectJson, START, type Harness } from '../helpers/app.ts';
import { evaluating } from '../helpers/evaluating.ts';
import { createOnCall, deliveriesOf, incidentsOf, settledDeliveries, type OnCall } from '../helpers/oncall.ts';
import { brief, transitionsOf } from '../helpers/pipeline.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';

// A job that is down already and then keeps failing, through the HTTP intake, the flush, the
// evaluator, the incident handlers and the notifier: its reason follows its runs, its incident's
// timeline says so once, and nobody is paged again for the same outage.

const T0 = new Date(START).getTime();
const at = (sec: number) => new Date(T0 + sec * 1000);
const RSYNC = 'rsync: write failed on "/backup/db.tar": No space left on device (28)';

describe('a scheduled job that is down and keeps failing', () => {
  let h: Harness;
  let sink: SmtpSink;
  let oc: OnCall;
  let judge: ReturnType<typeof evaluating>;
  let policyId: string;

  before(async () => {
    h = await createHarness();
    sink = await startSmtpSink();
    oc = await createOnCall(h.db, h.clock, { redisUrl: undefined, smtpUrl: sink.url });
    // Each pass is followed by the outbox run to the end.
    judge = evaluating(h, () => oc.drain());
    const email = await oc.email('ops-mail', ['ops@example.com']);
    policyId = (await oc.policy('ops', [{ after_seconds: 0, channel_ids: [email.id] }])).id;
    await h.flush();
  });
  after(async () => {
    await oc.close();
    await judge.close();
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
    await h.admin('DELETE', `/v1/nodes/${job.id}`);
  });
});
