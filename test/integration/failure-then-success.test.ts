import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateWebhookSecret } from '../../alerting/webhook.ts';
import { createSql } from '../../src/db/client.ts';
import { Evaluator } from '../../src/health/evaluator.ts';
import { Leadership } from '../../src/health/leader.ts';
import { loadDueNodes } from '../../src/health/store.ts';
import { createHarness, expectJson, START, type Harness } from '../helpers/app.ts';
import { testLog } from '../helpers/log.ts';
import { createOnCall, incidentsOf, settledDeliveries, type OnCall } from '../helpers/oncall.ts';
import { brief, transitionsOf } from '../helpers/pipeline.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

// A failure followed by a success within one ingest flush (250 ms in the engine: a job's failed run
// and its retry's success, an agent failing then ok) reaches the engine as two answered requests,
// and the flush stores one report per node. Through the HTTP intake, the flush, the evaluator, the
// incident handlers and the notifier: the failure is an outage, paged, and its recovery resolves it.

const T0 = new Date(START).getTime();
const at = (sec: number) => new Date(T0 + sec * 1000);

describe('a failure followed by a success within one flush', () => {
  let h: Harness;
  let sink: SmtpSink;
  let hook: WebhookReceiver;
  let oc: OnCall;
  let leadership: Leadership;
  let evaluator: Evaluator;
  let policyId: string;
  const secret = generateWebhookSecret();

  before(async () => {
    h = await createHarness();
    sink = await startSmtpSink();
    hook = await startWebhookReceiver({ secret });
    oc = await createOnCall(h.db, h.clock, { redisUrl: undefined, smtpUrl: sink.url });
    leadership = new Leadership(() => createSql(h.db.url, { dedicated: true, applicationName: 'lifeline-test-evaluator' }), testLog);
    evaluator = new Evaluator({ leadership, clock: h.clock, log: testLog, intervalMs: 1000, coverageGapMs: 60_000 });
    const webhook = await oc.webhook('ops-hook', hook.url, secret);
    const email = await oc.email('ops-mail', ['ops@example.com']);
    policyId = (await oc.policy('ops', [{ after_seconds: 0, channel_ids: [webhook.id, email.id] }])).id;
    await h.flush();
  });
  after(async () => {
    await oc.close();
    await leadership.release().catch(() => {});
    await leadership.close();
    await hook.close();
    await sink.close();
    await h.close();
  });

  /** Time moves to `t`; ingest flushes what was received, the evaluator passes, the outbox runs to the end. */
  const tickAt = async (t: Date) => {
    h.clock.set(t);
    await h.flush();
    await evaluator.runOnce();
    await oc.drain();
  };

  /** An agent's heartbeat at `t` seconds, answered 202. */
  const beat = async (token: string, t: number, status: string) => {
    h.clock.set(at(t));
    const res = await h.req('POST', '/v1/heartbeats', { token, json: { status } });
    assert.equal(res.status, 202, await res.text());
  };

  /** The node's one incident, opened and resolved, and its page and resolve delivered by webhook and by email. */
  async function pagedAndResolved(nodeId: string, name: string) {
    const [incident, ...others] = await incidentsOf(h.db, nodeId);
    assert.deepEqual(others, []);
    assert.deepEqual([incident!.category, incident!.status], ['node_down', 'resolved']);
    const ds = await settledDeliveries(h.db, incident!.id, 4);
    assert.deepEqual(ds.map((d) => [d.event, d.status]).sort(), [
      ['opened', 'sent'],
      ['opened', 'sent'],
      ['resolved', 'sent'],
      ['resolved', 'sent'],
    ]);
    const ofIncident = (type: string) => (r: { body: string }) => {
      const body = JSON.parse(r.body) as { type: string; data: { incident_id?: string; incident?: { id: string } } };
      return body.type === type && JSON.stringify(body.data).includes(incident!.id);
    };
    assert.equal((await hook.waitFor(ofIncident('incident.opened'))).verified, true);
    assert.equal((await hook.waitFor(ofIncident('incident.resolved'))).verified, true);
    await sink.waitFor((m) => m.subject.startsWith(`[Lifeline] DOWN: ${name}`));
    await sink.waitFor((m) => m.subject.startsWith(`[Lifeline] RESOLVED: ${name}`));
  }

  it('a job whose failure ping is followed by a success ping is down from the failure to the success, and paged', async () => {
    const job = await h.createNode('nightly-backup', { schedule: { cron: '0 3 * * *', time_zone: 'UTC' }, escalation_policy_id: policyId });
    h.clock.set(at(1));
    assert.equal((await h.req('GET', `/ping/${job.ping_key}`)).status, 200);
    await tickAt(at(1));
    // The run fails, and its retry succeeds 100 ms later: both inside one flush.
    h.clock.set(at(10));
    assert.equal((await h.req('POST', `/ping/${job.ping_key}/2`, { body: 'disk full' })).status, 200);
    h.clock.set(at(10.1));
    assert.equal((await h.req('GET', `/ping/${job.ping_key}`)).status, 200);
    await tickAt(at(10.2));
    const log = await transitionsOf(h.db, job.id);
    assert.deepEqual(brief(log, new Date(T0)), ['unknown->healthy@1', 'healthy->down@10', 'down->healthy@10.1']);
    assert.equal(log[1]!.reason, 'exited with status 2: disk full');
    await pagedAndResolved(job.id, 'nightly-backup');
  });

  it('an agent reporting failing then ok is down from the failing report to the ok one, and paged', async () => {
    const node = await h.createNode('web-7', { heartbeat_interval_seconds: 30, escalation_policy_id: policyId });
    await beat(node.token, 100, 'ok');
    await tickAt(at(100));
    await beat(node.token, 110, 'failing');
    await beat(node.token, 110.05, 'ok');
    await tickAt(at(110.1));
    const log = await transitionsOf(h.db, node.id);
    assert.deepEqual(brief(log, new Date(T0)), ['unknown->healthy@100', 'healthy->down@110', 'down->healthy@110.05']);
    assert.equal(log[1]!.reason, 'agent reported failing');
    // Uptime counts the 50 ms between the failing report and the ok one as down.
    h.clock.set(at(120));
    const uptime = await expectJson<{ seconds: Record<string, number> }>(
      await h.admin('GET', `/v1/nodes/${node.id}/uptime?from=${at(100).toISOString()}&to=${at(120).toISOString()}`),
      200,
    );
    assert.deepEqual(uptime.seconds, { healthy: 19.95, degraded: 0, down: 0.05, maintenance: 0, unknown: 0 });
    await pagedAndResolved(node.id, 'web-7');
  });

  it('a failure kept through later flushes is judged once, its recovery counting the ok reports after it', async () => {
    const node = await h.createNode('web-8', { heartbeat_interval_seconds: 30, successes_for_recovery: 2 });
    const beatAt = (t: number, status: string) => beat(node.token, t, status);
    await beatAt(200, 'ok');
    await beatAt(200.1, 'ok');
    await tickAt(at(200.1));
    // Failing then ok in one flush, then an ok in the next flush, before the evaluator passes.
    await beatAt(210, 'failing');
    await beatAt(210.05, 'ok');
    await h.flush();
    await beatAt(210.3, 'ok');
    await tickAt(at(210.3));
    // Judged again (an ok does not wake a healthy node; an edit or a window would), the kept
    // failure is older than the state now and changes nothing.
    await beatAt(220, 'ok');
    await h.sql`update node_due set due_at = ${at(220)}, wake = wake + 1 where node_id = ${node.id}`;
    // Read then, it is not even sent: its status, checks and time are nulls like a node's without one.
    const [row] = await loadDueNodes(h.sql, at(220), [node.id]);
    assert.deepEqual([row!.hidden_failure_at_ms, row!.hidden_failure_status, row!.hidden_failure_checks], [null, null, null]);
    await tickAt(at(220));
    const log = await transitionsOf(h.db, node.id);
    assert.deepEqual(brief(log, new Date(T0)), ['unknown->healthy@200.1', 'healthy->down@210', 'down->healthy@210.3']);
    assert.equal(log[2]!.reason, '2 consecutive ok heartbeats');
  });
  it('a failure not yet judged is kept when a later flush stores another: the outage starts at the first', async () => {
    const node = await h.createNode('web-9', { heartbeat_interval_seconds: 30 });
    const beatAt = (t: number, status: string) => beat(node.token, t, status);
    await beatAt(300, 'ok');
    await tickAt(at(300));
    await beatAt(310, 'failing');
    await beatAt(310.05, 'ok');
    await h.flush();
    // The next flush, before the evaluator passes: another failure replaced by an ok.
    await beatAt(310.2, 'degraded');
    await beatAt(310.25, 'ok');
    await tickAt(at(310.3));
    const log = await transitionsOf(h.db, node.id);
    assert.deepEqual(brief(log, new Date(T0)), ['unknown->healthy@300', 'healthy->down@310', 'down->healthy@310.25']);
    assert.equal(log[1]!.reason, 'agent reported failing');
  });
  it('a failure stored as the latest report and replaced by the next flush before the evaluator passed is judged', async () => {
    const node = await h.createNode('web-10', { heartbeat_interval_seconds: 30 });
    const beatAt = (t: number, status: string) => beat(node.token, t, status);
    await beatAt(400, 'ok');
    await tickAt(at(400));
    await beatAt(410, 'failing');
    await h.flush();
    // A pass slower than a flush (a large outage, a leader failover): the next flush stores an ok.
    await beatAt(410.3, 'ok');
    await tickAt(at(410.5));
    const log = await transitionsOf(h.db, node.id);
    assert.deepEqual(brief(log, new Date(T0)), ['unknown->healthy@400', 'healthy->down@410', 'down->healthy@410.3']);
  });
  it("a job's failure then its success, both heard while flushes stalled, is down from the one to the other, paged and resolved", async () => {
    const job = await h.createNode('hourly-export', { schedule: { cron: '0 3 * * *', time_zone: 'UTC' }, escalation_policy_id: policyId });
    h.clock.set(at(450));
    assert.equal((await h.req('GET', `/ping/${job.ping_key}`)).status, 200);
    await tickAt(at(450));
    await tickAt(at(500));
    // Flushes stall from 500 s to 600 s (past the 60 s gap): the run fails at 530 s, its rerun succeeds at 540 s.
    h.clock.set(at(530));
    assert.equal((await h.req('POST', `/ping/${job.ping_key}/fail`, { body: 'quota exceeded' })).status, 200);
    h.clock.set(at(540));
    assert.equal((await h.req('GET', `/ping/${job.ping_key}`)).status, 200);
    await tickAt(at(600));
    await tickAt(at(601));
    const log = await transitionsOf(h.db, job.id);
    assert.deepEqual(brief(log, new Date(T0)), ['unknown->healthy@450', 'healthy->unknown@500', 'unknown->down@530', 'down->healthy@540']);
    assert.equal(log[2]!.reason, 'reported failure: quota exceeded');
    const [incident] = await h.db.sql<{ opened_at: Date; resolved_at: Date }[]>`select opened_at, resolved_at from incidents where node_id = ${job.id}`;
    assert.deepEqual([incident!.opened_at, incident!.resolved_at], [at(530), at(540)]);
    await pagedAndResolved(job.id, 'hourly-export');
  });
  it('a recovery needing 2 ok reports, met a flush after the failure while the evaluator was away, is stamped when it was met', async () => {
    const node = await h.createNode('web-11', { heartbeat_interval_seconds: 30, successes_for_recovery: 2 });
    const beatAt = (t: number, status: string) => beat(node.token, t, status);
    await beatAt(640, 'ok');
    await beatAt(640.1, 'ok');
    await tickAt(at(640.1));
    // No evaluator from here until 660 s: ingest alone stores a failure, then one ok report a flush.
    await beatAt(650, 'failing');
    await h.flush();
    for (const t of [650.3, 650.6, 651]) {
      await beatAt(t, 'ok');
      await h.flush();
    }
    await tickAt(at(660));
    const log = await transitionsOf(h.db, node.id);
    // Met by the second ok report, at 650.6 s, not at the latest heartbeat when the evaluator came back.
    assert.deepEqual(brief(log, new Date(T0)), ['unknown->healthy@640.1', 'healthy->down@650', 'down->healthy@650.6']);
  });
});
