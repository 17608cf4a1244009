import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, createHarness, expectError, expectInvalid, type Harness } from '../helpers/app.ts';

// Two editors read a node, a channel or a policy, each changes it from what they read: the second
// write, made over a version it never saw, is refused (412) instead of silently undoing the first.

let h: Harness;
before(async () => {
  h = await createHarness();
});
after(async () => {
  await h.close();
});

const send = (method: string, path: string, ifMatch: string | undefined, json?: unknown) =>
  h.req(method, path, { token: ADMIN_TOKEN, ...(json === undefined ? {} : { json }), ...(ifMatch === undefined ? {} : { headers: { 'if-match': ifMatch } }) });

const etagOf = async (path: string): Promise<string> => {
  const res = await send('GET', path, undefined);
  assert.equal(res.status, 200);
  const etag = res.headers.get('etag');
  assert.match(etag ?? '', /^"\d+"$/, path);
  return etag!;
};

describe('If-Match on nodes, channels and escalation policies', () => {
  it('refuses a PATCH or DELETE over a version the caller did not read, and takes the current one or *', async () => {
    const node = await h.createNode('etag-node');
    const channel = (await (await send('POST', '/v1/channels', undefined, { name: 'etag-mail', type: 'email', config: { to: ['ops@example.com'] } })).json()) as { id: string };
    const policy = (await (await send('POST', '/v1/escalation-policies', undefined, { name: 'etag-policy', levels: [{ after_seconds: 0, channel_ids: [channel.id] }] })).json()) as { id: string };
    const cases = [
      { path: `/v1/nodes/${node.id}`, first: { grace_seconds: 5 }, second: { grace_seconds: 9 }, field: 'grace_seconds' },
      { path: `/v1/channels/${channel.id}`, first: { name: 'etag-mail-2' }, second: { name: 'etag-mail-3' }, field: 'name' },
      { path: `/v1/escalation-policies/${policy.id}`, first: { repeat: 1 }, second: { repeat: 2 }, field: 'repeat' },
    ];
    for (const { path, first, second, field } of cases) {
      const read = await etagOf(path);
      const changed = await send('PATCH', path, read, first);
      assert.equal(changed.status, 200, path);
      const now = changed.headers.get('etag');
      // The clock stands still here: a write in the same millisecond as the last still moves it.
      assert.notEqual(now, read, `${path}: a write gives a new ETag`);
      assert.equal(now, await etagOf(path));

      // The second editor still holds the first read: refused, and nothing changed.
      await expectError(await send('PATCH', path, read, second), 412, 'precondition_failed');
      await expectError(await send('PATCH', path, '"999"', second), 412, 'precondition_failed');
      await expectError(await send('DELETE', path, read), 412, 'precondition_failed');
      const kept = (await (await send('GET', path, undefined)).json()) as Record<string, unknown>;
      assert.deepEqual(kept[field], (first as Record<string, unknown>)[field], path);
      await expectInvalid(await send('PATCH', path, 'yesterday', second), ['If-Match']);

      // `*` matches whatever is current (RFC 9110 §13.1.1), as does the ETag just read, weak or not.
      assert.equal((await send('PATCH', path, '*', second)).status, 200, path);
      assert.equal((await send('PATCH', path, `W/${await etagOf(path)}`, first)).status, 200, path);
    }
    // Deleting at the version read: the policy first, as it names the channel.
    for (const { path } of [...cases].reverse()) {
      assert.equal((await send('DELETE', path, await etagOf(path))).status, 204, path);
    }
  });
});
