import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signedIn } from '../helpers/app.ts';

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
});
