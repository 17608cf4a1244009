import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { incidentFacts, leadLine } from '../../alerting/render.ts';
import { generateWebhookSecret } from '../../alerting/webhook.ts';
import { acknowledge, resolve } from '../../src/incidents/service.ts';
import { insertMaintenance } from '../../src/maintenance/store.ts';
import { notificationsFor } from '../../src/notifications/message.ts';
import type { DeliveryRow } from '../../src/notifications/model.ts';
import { deletePolicy } from '../../src/oncall/service.ts';
import { insertOutbox } from '../../src/outbox/store.ts';
import { TEST_ACTING } from '../helpers/acting.ts';
import { deliveriesOf, incidentsOf, nodeGoingDown as goingDown, settledDeliveries, eachWebhookOnCall } from '../helpers/oncall.ts';

const T0 = new Date('2026-11-21T10:00:00.000Z');
const sec = (s: number) => new Date(T0.getTime() + s * 1000);
const TIMEOUT = 600;

describe('acknowledgement timeout', () => {
  const secret = generateWebhookSecret();
  const t = eachWebhookOnCall(T0, secret);

  /** A node down at 20 s under a two-level policy (level 2 after 300 s), its opening page sent; acknowledged at 30 s. */
  const acknowledgedOutage = async (name: string, ackTimeoutSeconds?: number) => {
    const channels = [await t.w.oc.webhook(`${name}-first`, t.w.hook.url, secret), await t.w.oc.webhook(`${name}-second`, t.w.hook.url, secret)];
    const policy = await t.w.oc.policy(
      name,
      [
        { after_seconds: 0, channel_ids: [channels[0]!.id] },
        { after_seconds: 300, channel_ids: [channels[1]!.id] },
      ],
      ackTimeoutSeconds ? { ackTimeoutSeconds } : {},
    );
    const nodeId = await goingDown(t.w, name, policy.id);
    const [incident] = await incidentsOf(t.db, nodeId);
    await settledDeliveries(t.db, incident!.id, 1);
    await at(30);
    await acknowledge(t.db.sql, incident!.id, { by: 'alice' }, t.w.clock, TEST_ACTING);
    return { nodeId, incidentId: incident!.id, channels };
  };
  const at = async (s: number) => {
    await t.w.p.runUntil(sec(s));
    await t.w.p.tick();
    await t.w.oc.drain();
  };
  const status = async (incidentId: string) => (await t.db.sql<{ status: string }[]>`select status from incidents where id = ${incidentId}`)[0]!.status;
  const kinds = async (incidentId: string) =>
    (await t.db.sql<{ kind: string }[]>`select kind from incident_timeline where incident_id = ${incidentId} and kind <> 'notified' order by at, id`).map((r) => r.kind);
  const pages = async (incidentId: string) => (await deliveriesOf(t.db, incidentId)).map((d) => [d.event, d.channel_id]);
  const ackTimers = (incidentId: string) => t.db.sql`select payload from outbox where topic = 'incident.ack_timeout_due' and payload->>'incident_id' = ${incidentId}`;

  it('reopens an incident still acknowledged after the timeout and pages level 1 again, once', async () => {
    const { incidentId, channels } = await acknowledgedOutage('expires', TIMEOUT);
    const [first, second] = channels.map((c) => c.id);
    const [timer] = await ackTimers(incidentId);
    await at(30 + TIMEOUT - 1);
    assert.equal(await status(incidentId), 'acknowledged');
    await at(30 + TIMEOUT);
    assert.equal(await status(incidentId), 'open');
    const [expired] = await t.db.sql`select at, detail from incident_timeline where incident_id = ${incidentId} and kind = 'acknowledgement_expired'`;
    assert.deepEqual(expired, { at: sec(30 + TIMEOUT), detail: { after_seconds: TIMEOUT, acknowledged_at: sec(30).toISOString(), acknowledged_by: 'alice' } });
    await settledDeliveries(t.db, incidentId, 3);
    assert.deepEqual(await pages(incidentId), [['opened', first], ['acknowledged', first], ['escalated', first]]);
    // The re-page says the acknowledgement expired, not that nobody acknowledged.
    const repage = await t.db.sql<DeliveryRow[]>`select * from deliveries where incident_id = ${incidentId} and event = 'escalated'`;
    const told = (await notificationsFor(t.db.sql, [...repage])).get(repage[0]!.id)!;
    assert.equal(leadLine(told), 'Acknowledged by alice at 10:00:30 UTC, not resolved 10m after; now paging 1 channel, level 1 of 2 again');
    assert.deepEqual(
      incidentFacts(told).find((f) => f.label === 'Acknowledgement expired'),
      { label: 'Acknowledgement expired', value: '2026-11-21 10:00:30 UTC by alice, not resolved 10m after' },
      'PagerDuty custom_details and the email facts say so too',
    );
    const sent = await t.w.hook.waitFor((r) => JSON.parse(r.body).type === 'incident.escalated');
    assert.deepEqual(JSON.parse(sent.body).data.acknowledgement_expired, { by: 'alice', at: sec(30).toISOString(), after_seconds: TIMEOUT });

    // The same timer delivered again finds the incident open: no second page.
    await t.db.sql.begin((tx) => insertOutbox(tx, [{ topic: 'incident.ack_timeout_due', key: `ack:${incidentId}`, payload: timer!.payload }], t.w.clock.now()));
    await t.w.oc.drain();
    assert.equal((await deliveriesOf(t.db, incidentId)).length, 3);
    assert.equal((await kinds(incidentId)).filter((k) => k === 'acknowledgement_expired').length, 1);

    // The levels restart from the reopening: level 2 keeps its 300 s from it.
    await at(30 + TIMEOUT + 299);
    assert.equal((await deliveriesOf(t.db, incidentId)).length, 3);
    await at(30 + TIMEOUT + 300);
    await settledDeliveries(t.db, incidentId, 4);
    assert.deepEqual((await pages(incidentId)).at(-1), ['escalated', second]);
    // Level 2 of the new round follows this round's level 1 alone: the earlier round was answered.
    const level2 = await t.db.sql<DeliveryRow[]>`select * from deliveries where incident_id = ${incidentId} and event = 'escalated' and channel_id = ${second!}`;
    assert.equal(
      leadLine((await notificationsFor(t.db.sql, [...level2])).get(level2[0]!.id)!),
      'Paged: 1 channel (level 1 of 2) at 10:10:30 UTC, not acknowledged after 5m; now paging 1 channel, level 2 of 2',
    );
  });

  it('does nothing once the incident is resolved before the timeout', async () => {
    const { incidentId } = await acknowledgedOutage('resolved', TIMEOUT);
    assert.equal((await ackTimers(incidentId)).length, 1, 'the acknowledgement armed its timeout');
    await at(100);
    await resolve(t.db.sql, incidentId, { by: 'alice' }, t.w.clock, TEST_ACTING);
    await at(30 + TIMEOUT + 400);
    assert.equal(await status(incidentId), 'resolved');
    assert.equal((await kinds(incidentId)).includes('acknowledgement_expired'), false);
    assert.equal((await ackTimers(incidentId)).length, 0, 'the timer fired and did nothing');
  });

  it('lets only the latest acknowledgement time out', async () => {
    const { incidentId } = await acknowledgedOutage('again', TIMEOUT);
    await at(30 + TIMEOUT); // reopened
    await at(700);
    await acknowledge(t.db.sql, incidentId, { by: 'bob' }, t.w.clock, TEST_ACTING);
    // The first acknowledgement's timer, delivered again, is not bob's.
    await t.db.sql.begin((tx) =>
      insertOutbox(tx, [{ topic: 'incident.ack_timeout_due', key: `ack:${incidentId}`, payload: { incident_id: incidentId, acknowledged_at: sec(30).toISOString(), timeout_seconds: TIMEOUT } }], t.w.clock.now()),
    );
    await at(700 + TIMEOUT - 1);
    assert.equal(await status(incidentId), 'acknowledged');
    await at(700 + TIMEOUT);
    assert.equal(await status(incidentId), 'open');
    const expired = await t.db.sql<{ detail: { acknowledged_by: string } }[]>`select detail from incident_timeline where incident_id = ${incidentId} and kind = 'acknowledgement_expired' order by at`;
    assert.deepEqual(expired.map((e) => e.detail.acknowledged_by), ['alice', 'bob']);
    await settledDeliveries(t.db, incidentId, 5);
    const events = (await deliveriesOf(t.db, incidentId)).map((d) => d.event);
    assert.deepEqual(events, ['opened', 'acknowledged', 'escalated', 'acknowledged', 'escalated'], 'one page per expiry; the second acknowledgement is told too');
  });

  it('never expires an acknowledgement under a policy without a timeout', async () => {
    const { incidentId } = await acknowledgedOutage('never');
    assert.equal((await ackTimers(incidentId)).length, 0);
    await at(30 + TIMEOUT + 60);
    assert.equal(await status(incidentId), 'acknowledged');
  });

  it('says the reopened incident pages nobody once its policy was deleted with nothing to follow', async () => {
    const { nodeId, incidentId } = await acknowledgedOutage('orphan', TIMEOUT);
    await t.db.sql`update nodes set escalation_policy_id = null where id = ${nodeId}`;
    assert.equal(await deletePolicy(t.db.sql, (await t.db.sql`select policy_id from incidents where id = ${incidentId}`)[0]!.policy_id, t.w.clock.now(), TEST_ACTING), true);
    await at(30 + TIMEOUT);
    assert.equal(await status(incidentId), 'open', 'reopened: nobody is attending it');
    const [expired] = await t.db.sql`select detail from incident_timeline where incident_id = ${incidentId} and kind = 'acknowledgement_expired'`;
    assert.equal(expired!.detail.no_policy, true);
    assert.equal((await deliveriesOf(t.db, incidentId)).filter((d) => d.event === 'escalated').length, 0);
  });

  it('holds the page of an expiry due while the node is in maintenance, as escalation does', async () => {
    const { nodeId, incidentId, channels } = await acknowledgedOutage('window', TIMEOUT);
    await t.db.sql.begin(async (tx) => {
      await insertMaintenance(tx, { node_ids: [nodeId], labels: {}, starts_at: sec(40), ends_at: sec(2000), reason: 'repair' }, t.w.clock.now());
      await tx`update node_due set due_at = ${sec(40)}, wake = wake + 1 where node_id = ${nodeId}`;
    });
    await at(40);
    await at(30 + TIMEOUT);
    assert.equal(await status(incidentId), 'open');
    const [held] = await t.db.sql`select escalation_held from incidents where id = ${incidentId}`;
    assert.equal(held!.escalation_held, true);
    assert.deepEqual((await kinds(incidentId)).slice(-2), ['acknowledgement_expired', 'escalation_suppressed']);
    assert.deepEqual(await pages(incidentId), [['opened', channels[0]!.id], ['acknowledged', channels[0]!.id]]);
  });

  it('tells the first acknowledger, paged again, that a second person acknowledged after the expiry, and not the second', async () => {
    const team = await t.w.oc.webhook('acks-team', t.w.hook.url, secret);
    const gil = await t.w.oc.user('Gil', 'gil@test.local');
    const hana = await t.w.oc.user('Hana', 'hana@test.local');
    const policy = await t.w.oc.policy('acks', [{ after_seconds: 0, channel_ids: [team.id], user_ids: [gil.id, hana.id] }], { ackTimeoutSeconds: TIMEOUT });
    const [incident] = await incidentsOf(t.db, await goingDown(t.w, 'acks-1', policy.id));
    const id = incident!.id;
    await at(30);
    await acknowledge(t.db.sql, id, { by: 'Gil', detail: { via: 'link', user_id: gil.id } }, t.w.clock, TEST_ACTING);
    await at(30 + TIMEOUT + 1); // expired: level 1 paged again, Gil and Hana with it
    await at(700);
    await acknowledge(t.db.sql, id, { by: 'Hana', detail: { via: 'link', user_id: hana.id } }, t.w.clock, TEST_ACTING);
    await t.w.oc.drain();
    const told = await t.db.sql<{ event_key: string; user_id: string | null; channel_id: string | null }[]>`
      select event_key, user_id, channel_id from deliveries where incident_id = ${id} and event = 'acknowledged' order by event_key`;
    const who = (r: { user_id: string | null; channel_id: string | null }) => (r.user_id === gil.id ? 'gil' : r.user_id === hana.id ? 'hana' : r.channel_id === team.id ? 'team' : '?');
    assert.deepEqual(
      told.map((r) => `${r.event_key} ${who(r)}`).sort(),
      ['acknowledged hana', 'acknowledged team', 'acknowledged-1 gil', 'acknowledged-1 team'],
      "each acknowledger's own email is left out of their own acknowledgement only",
    );
  });

  it('tells every acknowledgement, even after two expiries whose pages maintenance held', async () => {
    const { nodeId, incidentId } = await acknowledgedOutage('held', TIMEOUT);
    await t.db.sql.begin(async (tx) => {
      await insertMaintenance(tx, { node_ids: [nodeId], labels: {}, starts_at: sec(40), ends_at: sec(5000), reason: 'repair' }, t.w.clock.now());
      await tx`update node_due set due_at = ${sec(40)}, wake = wake + 1 where node_id = ${nodeId}`;
    });
    await at(40);
    await at(30 + TIMEOUT); // reopened, its page held
    await at(700);
    await acknowledge(t.db.sql, incidentId, { by: 'bob' }, t.w.clock, TEST_ACTING);
    await at(700 + TIMEOUT); // reopened again, its page held again
    await at(1400);
    await acknowledge(t.db.sql, incidentId, { by: 'carol' }, t.w.clock, TEST_ACTING);
    await at(1401);
    const keys = (await t.db.sql<{ event_key: string }[]>`select event_key from deliveries where incident_id = ${incidentId} and event = 'acknowledged' order by created_at, id`).map((r) => r.event_key);
    assert.equal(keys.length, 3, `one row per acknowledgement, got ${keys.join(', ')}`);
    assert.equal(keys[0], 'acknowledged', 'the first acknowledgement keeps the key it always had');
  });
});
