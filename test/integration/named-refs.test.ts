import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, expectError, expectJson, type Harness } from '../helpers/app.ts';

// A sync script knows its channels and policies by name, as it knows nodes and schedules.

let h: Harness;
before(async () => {
  h = await createHarness();
});
after(async () => {
  await h.close();
});

describe('channels and escalation policies by name', () => {
  it('finds a policy by its name, as by its id, for GET, PATCH and DELETE', async () => {
    const mail = await expectJson<{ id: string }>(await h.admin('POST', '/v1/channels', { name: 'named-mail', type: 'email', config: { to: ['ops@example.com'] } }), 201);
    const policy = await expectJson<{ id: string }>(await h.admin('POST', '/v1/escalation-policies', { name: 'named-policy', levels: [{ after_seconds: 0, channel_ids: [mail.id] }] }), 201);
    assert.equal((await expectJson<{ id: string }>(await h.admin('GET', '/v1/escalation-policies/named-policy'), 200)).id, policy.id);
    assert.equal((await expectJson<{ repeat: number }>(await h.admin('PATCH', '/v1/escalation-policies/named-policy', { repeat: 2 }), 200)).repeat, 2);
    await expectError(await h.admin('GET', '/v1/escalation-policies/no-such-policy'), 404, 'not_found');
    assert.equal((await h.admin('DELETE', '/v1/escalation-policies/named-policy')).status, 204);
    await expectError(await h.admin('GET', `/v1/escalation-policies/${policy.id}`), 404, 'not_found');
  });

  it('finds a channel by a name only one channel has; a name several have is 409 ambiguous, naming their ids', async () => {
    const hook = await expectJson<{ id: string }>(await h.admin('POST', '/v1/channels', { name: 'named-hook', type: 'email', config: { to: ['a@example.com'] } }), 201);
    assert.equal((await expectJson<{ id: string }>(await h.admin('GET', '/v1/channels/named-hook'), 200)).id, hook.id);
    assert.equal((await expectJson<{ name: string }>(await h.admin('PATCH', '/v1/channels/named-hook', { name: 'named-hook-2' }), 200)).name, 'named-hook-2');
    await expectError(await h.admin('GET', '/v1/channels/named-hook'), 404, 'not_found');

    const dupe = { name: 'dupe', type: 'email', config: { to: ['b@example.com'] } };
    const ids = [(await expectJson<{ id: string }>(await h.admin('POST', '/v1/channels', dupe), 201)).id, (await expectJson<{ id: string }>(await h.admin('POST', '/v1/channels', dupe), 201)).id];
    for (const [method, json] of [['GET'], ['PATCH', { name: 'x' }], ['DELETE']] as const) {
      const err = await expectError(await h.admin(method, '/v1/channels/dupe', json), 409, 'ambiguous');
      for (const id of ids) assert.match(err.message, new RegExp(id), method);
    }
    assert.equal((await h.admin('DELETE', `/v1/channels/${ids[0]}`)).status, 204);
    assert.equal((await h.admin('DELETE', '/v1/channels/dupe')).status, 204, 'the one left is found by name');
    assert.equal((await h.admin('DELETE', '/v1/channels/named-hook-2')).status, 204);
  });
});
