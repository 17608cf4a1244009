import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addTimeline, openIncidents } from '../../src/incidents/store.ts';
import { insertDeliveries } from '../../src/notifications/store.ts';
import { formOf, signedIn } from '../helpers/app.ts';

// Without SMTP_URL (the harness's transports have none), the pages where someone is put on a policy
// say who no page reaches, in the words /readyz and the start log use.

const ORIGIN = 'http://localhost';

describe('console: people reached only by email on an engine that sends none', () => {
  const { s, get } = signedIn(ORIGIN);
  const made = async (path: string, body: unknown) => (await (await s.h.admin('POST', path, body)).json()) as { id: string };

  it('warns on the policy page by level, and on the people page by person', async () => {
    const bob = await made('/v1/users', { name: 'Bob', email: 'bob@example.com' });
    const hook = await made('/v1/channels', { name: 'ops-hook', type: 'webhook', config: { url: 'https://hooks.example.com/x' } });
    const cara = await made('/v1/users', { name: 'Cara', email: 'cara@example.com', channel_ids: [hook.id] });
    const mail = await made('/v1/channels', { name: 'ops-mail', type: 'email', config: { to: ['ops@example.com'] } });
    const policy = await made('/v1/escalation-policies', {
      name: 'nights',
      levels: [
        { after_seconds: 0, channel_ids: [hook.id], user_ids: [bob.id, cara.id] },
        { after_seconds: 300, channel_ids: [mail.id], user_ids: [cara.id] },
      ],
    });
    const page = await get(`/policies/${policy.id}`);
    assert.match(page, /<li>Level 1: 1 person on call can be reached only by email, and SMTP_URL is not set: no page reaches them: &quot;Bob&quot;\.<\/li>/);
    assert.match(page, /<li>Level 2: SMTP_URL is not set: deliveries to email channels fail with smtp_not_configured until it is\.<\/li>/);
    assert.doesNotMatch(page, /Cara&quot;/, 'Cara has a webhook of her own');

    const people = await get('/users');
    assert.match(people, /1 person on call can be reached only by email, and SMTP_URL is not set: no page reaches them: &quot;Bob&quot;\./);
    assert.equal([...people.matchAll(/paged, but reached by nothing while SMTP_URL is not set/g)].length, 1, 'one row marked: Bob');
  });

  it('warns on a level that pages a schedule with someone on it reached only by email', async () => {
    const hook = await made('/v1/channels', { name: 'rota-hook', type: 'webhook', config: { url: 'https://hooks.example.com/y' } });
    const dan = await made('/v1/users', { name: 'Dan', email: 'dan@example.com' });
    const eve = await made('/v1/users', { name: 'Eve', email: 'eve@example.com', channel_ids: [hook.id] });
    const rota = await made('/v1/schedules', { name: 'Rota', time_zone: 'UTC', layers: [{ name: 'a', user_ids: [eve.id, dan.id], starts_at: '2026-11-01T00:00:00.000Z', rotation: 'P1W' }] });
    const policy = await made('/v1/escalation-policies', { name: 'days', levels: [{ after_seconds: 0, channel_ids: [], schedule_ids: [rota.id] }] });
    const page = await get(`/policies/${policy.id}`);
    assert.match(page, /<li>Level 1: 1 person on call can be reached only by email, and SMTP_URL is not set: no page reaches them: &quot;Dan&quot; \(on schedule &quot;Rota&quot;\)\.<\/li>/);
    assert.doesNotMatch(page, /Eve&quot;/, 'Eve has a webhook of her own');
  });

  it('says where a person’s email is entered that nothing is sent to it', async () => {
    // In a warning the email input names as what describes it (after its hint, and after the problem
    // when one was refused), so a screen reader reads it with the field.
    const said = /<input id="email"[^>]*aria-describedby="email-hint email-warning"[^>]*>\s*<p class="error" id="email-warning">SMTP_URL is not set: nothing is sent to this address until it is, so pages reach them only through their own channels\.<\/p>/;
    assert.match(await get('/users'), said, 'the new person form');
    const fay = await made('/v1/users', { name: 'Fay', email: 'fay@example.com' });
    assert.match(await get(`/users/${fay.id}`), said, 'the person’s own page, where their email is edited');
    // A refused address is read out too, before the warning.
    const form = formOf(await get('/users'), '/users');
    form.set('name', 'Hal');
    form.set('email', 'not-an-address');
    const refused = await s.h.app.request('/users', { method: 'POST', headers: { cookie: s.cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /<input id="email"(?=[^>]*aria-invalid="true")[^>]*aria-describedby="email-error email-hint email-warning"/);
  });

  it('shows a message left unsent for want of SMTP as not sent, not as a red failure', async () => {
    const { h } = s;
    const node = await h.createNode('mail-1');
    const [incident] = await openIncidents(h.sql, [
      { nodeId: node.id, nodeName: node.name, category: 'node_down', severity: 'critical', title: 'mail-1 is down', reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() },
    ]);
    const gus = await made('/v1/users', { name: 'Gus', email: 'gus@example.com' });
    const at = h.clock.now();
    await insertDeliveries(
      h.sql,
      (['opened', 'acknowledged', 'resolved'] as const).map((event) => ({ incidentId: incident!.id, event, eventKey: event, channelId: null, userId: gus.id, channelType: 'email', occurredAt: at })),
      at,
    );
    // As the notifier leaves them: dead at the first attempt, with the email transport's error.
    await h.sql`update deliveries set status = 'dead', attempts = 1, last_error = 'smtp_not_configured: email is not configured: set SMTP_URL to deliver to email channels' where user_id = ${gus.id}`;
    await addTimeline(
      h.sql,
      ['opened', 'acknowledged', 'resolved'].map((event) => ({ incident_id: incident!.id, at, kind: 'delivery_failed', detail: { channel_id: null, user_id: gus.id, event, attempt: 1, error: 'smtp_not_configured', final: true } })),
    );
    const page = await get(`/incidents/${incident!.id}`);
    assert.equal([...page.matchAll(/<span class="tag tag-unsent">not sent<\/span>/g)].length, 3, 'each row not sent');
    assert.equal([...page.matchAll(/email is not set up \(SMTP unset\)/g)].length, 6, 'said on each row and each timeline entry');
    assert.doesNotMatch(page, /tag-dead|gave up|smtp_not_configured/);
  });
});
