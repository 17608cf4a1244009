import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, expectInvalid, expectJson } from '../helpers/app.ts';

// A list endpoint given a parameter it does not take (`?node=` where it reads `node_id`) answered
// every row as if unfiltered; now it names the parameter in a 400.
describe('list endpoints refuse unknown query parameters', () => {
  let h: Awaited<ReturnType<typeof createHarness>>;
  let lists: string[];
  let others: [method: string, path: string, ok: number][];

  before(async () => {
    h = await createHarness();
    const node = await h.createNode('f-01');
    const user = await expectJson<{ id: string }>(await h.admin('POST', '/v1/users', { name: 'Alice', email: 'alice@example.com' }), 201);
    const schedule = await expectJson<{ id: string }>(
      await h.admin('POST', '/v1/schedules', { name: 'rota', time_zone: 'UTC', layers: [{ name: 'a', user_ids: [user.id], starts_at: '2026-11-01T00:00:00.000Z', rotation: 'P1W' }] }),
      201,
    );
    const policy = await expectJson<{ id: string }>(
      await h.admin('POST', '/v1/escalation-policies', { name: 'ops', levels: [{ after_seconds: 0, user_ids: [user.id] }] }),
      201,
    );
    // Single reads that take a query of their own; nothing is discarded (no dead event 1): 404.
    others = [
      ['GET', `/v1/nodes/${node.id}/uptime`, 200],
      ['GET', `/v1/schedules/${schedule.id}/on-call`, 200],
      ['GET', `/v1/escalation-policies/${policy.id}/on-call`, 200],
      ['DELETE', '/v1/outbox/dead/1', 404],
      ['GET', '/v1/events', 200],
    ];
    lists = [
      '/v1/api-keys',
      '/v1/audit',
      '/v1/channels',
      '/v1/escalation-policies',
      '/v1/incidents',
      '/v1/incidents/summary',
      '/v1/maintenances',
      '/v1/nodes',
      `/v1/nodes/${node.id}/transitions`,
      `/v1/nodes/${node.id}/runs`,
      '/v1/outbox/dead',
      '/v1/schedules',
      `/v1/schedules/${schedule.id}/overrides`,
      `/v1/schedules/${schedule.id}/shifts`,
      '/v1/status-pages',
      '/v1/users',
      '/v1/uptime',
    ];
  });
  after(async () => {
    await h.db.drop();
  });

  it('answers each list as before without one, and a 400 naming each unknown one', async () => {
    for (const path of lists) {
      assert.equal((await h.admin('GET', path)).status, 200, path);
      const err = await expectInvalid(await h.admin('GET', `${path}?node=f-01&sorted=1`), ['node', 'sorted']);
      assert.ok(err.details!.every((d) => d.message === 'is not a known field'), `${path}: ${JSON.stringify(err.details)}`);
    }
  });

  it('and so does every other query read: a single read, a discard and the event stream', async () => {
    for (const [method, path, ok] of others) {
      const res = await h.admin(method, path);
      assert.equal(res.status, ok, path);
      await res.body?.cancel();
      const err = await expectInvalid(await h.admin(method, `${path}?node=f-01&sorted=1`), ['node', 'sorted']);
      assert.ok(err.details!.every((d) => d.message === 'is not a known field'), `${path}: ${JSON.stringify(err.details)}`);
    }
  });
});
