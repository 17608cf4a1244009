import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes, randomUUID } from 'node:crypto';
import type { ChannelRow } from '../../src/channels/model.ts';
import { loadSecretKey } from '../../src/channels/secret-key.ts';
import { revealConfig } from '../../src/channels/service.ts';
import { createHarness, expectInvalid, expectJson, type Harness } from '../helpers/app.ts';
import { testLog } from '../helpers/log.ts';

// A sealed secret stays with its destination: a key that may edit channels but does not know a
// secret cannot send it elsewhere, neither by changing the channel's URL nor by copying the sealed
// value into a channel of its own.

let h: Harness;
let write: string;

before(async () => {
  h = await createHarness();
  write = (await h.createKey('write', 'channel-editor')).secret;
});

after(async () => {
  await h?.close();
});

const row = async (id: string) => (await h.sql<ChannelRow[]>`select * from channels where id = ${id}`)[0]!;
const patch = (id: string, json: unknown) => h.req('PATCH', `/v1/channels/${id}`, { token: write, json });

describe('changing where a channel sends', () => {
  it('needs the PagerDuty routing key in the same request', async () => {
    const pd = await expectJson<{ id: string }>(await h.admin('POST', '/v1/channels', { name: 'pd', type: 'pagerduty', config: { routing_key: 'R0UTING' } }), 201);
    const err = await expectInvalid(await h.rejected(() => patch(pd.id, { config: { url: 'https://attacker.example.com/collect' } })), ['config.routing_key']);
    assert.match(err.details![0]!.message, /change where the channel sends/);
    assert.deepEqual(revealConfig(await row(pd.id), h.secretKey), { routing_key: 'R0UTING' });
    // Renaming, or saving the same destination, needs no secret.
    await expectJson(await patch(pd.id, { name: 'pd renamed', config: {} }), 200);
    // With the secret, whoever knows it may move it.
    await expectJson(await patch(pd.id, { config: { routing_key: 'NEW-KEY', url: 'https://events.eu.pagerduty.com/v2/enqueue' } }), 200);
    assert.deepEqual(revealConfig(await row(pd.id), h.secretKey), { routing_key: 'NEW-KEY', url: 'https://events.eu.pagerduty.com/v2/enqueue' });
    await expectInvalid(await h.rejected(() => patch(pd.id, { config: {} })), ['config.routing_key']);
  });

  it('needs the webhook signing secret in the same request', async () => {
    const hook = await expectJson<{ id: string; config: { secret: string } }>(await h.admin('POST', '/v1/channels', { name: 'hook', type: 'webhook', config: { url: 'https://hooks.example.com/in' } }), 201);
    await expectInvalid(await h.rejected(() => patch(hook.id, { config: { url: 'https://attacker.example.com/in' } })), ['config.secret']);
    assert.deepEqual(revealConfig(await row(hook.id), h.secretKey), { url: 'https://hooks.example.com/in', secret: hook.config.secret });
    await expectJson(await patch(hook.id, { config: { url: 'https://hooks.example.com/in' } }), 200);
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    await expectJson(await patch(hook.id, { config: { url: 'https://hooks.example.org/in', secret } }), 200);
    assert.deepEqual(revealConfig(await row(hook.id), h.secretKey), { url: 'https://hooks.example.org/in', secret });
  });
});

describe('a PATCH answer', () => {
  it('never carries a secret: not the stored one, not the one just sent, none generated', async () => {
    const hook = await expectJson<{ id: string; config: { secret: string } }>(await h.admin('POST', '/v1/channels', { name: 'hook answers', type: 'webhook', config: { url: 'https://hooks.example.com/answers' } }), 201);
    const given = `whsec_${randomBytes(24).toString('base64')}`;
    const cases: [unknown, number][] = [
      [{ name: 'hook renamed' }, 200],
      [{ config: { url: 'https://hooks.example.com/answers' } }, 200],
      [{ config: { url: 'https://hooks.example.net/moved' } }, 400],
      [{ config: { url: 'https://hooks.example.net/answers', secret: given } }, 200],
      [{ config: { url: 'https://hooks.example.net/answers' } }, 200],
    ];
    for (const [body, status] of cases) {
      const res = await patch(hook.id, body);
      const text = await res.text();
      assert.doesNotMatch(text, /whsec_|"secret"/, `PATCH ${JSON.stringify(body)} answered ${text}`);
      for (const s of [hook.config.secret, given]) assert.ok(!text.includes(s.replace(/^whsec_/, '')), `PATCH ${JSON.stringify(body)} answered a secret`);
      assert.equal(res.status, status, text);
    }
    assert.equal(revealConfig(await row(hook.id), h.secretKey).secret, given);
  });
});

describe('a sealed secret is bound to its channel', () => {
  it('does not open once copied into another channel', async () => {
    const a = await expectJson<{ id: string }>(await h.admin('POST', '/v1/channels', { name: 'a', type: 'pagerduty', config: { routing_key: 'KEY-A' } }), 201);
    const b = await expectJson<{ id: string }>(await h.admin('POST', '/v1/channels', { name: 'b', type: 'pagerduty', config: { routing_key: 'KEY-B' } }), 201);
    await h.sql`update channels set secret_sealed = (select secret_sealed from channels where id = ${a.id}) where id = ${b.id}`;
    const copied = await row(b.id);
    assert.throws(() => revealConfig(copied, h.secretKey), /copied from another channel/);
    assert.deepEqual(revealConfig(await row(a.id), h.secretKey), { routing_key: 'KEY-A' });
  });

  it('binds secrets sealed before the upgrade at start, and they still open', async () => {
    // A row as the previous release stored it: v1, sealed without associated data.
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', h.secretKey, iv);
    const ciphertext = Buffer.concat([cipher.update('LEGACY-KEY', 'utf8'), cipher.final()]);
    const v1 = ['v1', ...[iv, cipher.getAuthTag(), ciphertext].map((x) => x.toString('base64'))].join('.');
    const id = randomUUID();
    await h.sql`insert into channels (id, name, type, config, secret_sealed, created_at, updated_at)
      values (${id}, 'legacy', 'pagerduty', '{}', ${v1}, now(), now())`;
    const before = await row(id);
    assert.throws(() => revealConfig(before, h.secretKey), /unknown format/, 'an unbound secret is not used as it is');
    await loadSecretKey(h.sql, h.secretKey.toString('hex'), testLog);
    const bound = await row(id);
    assert.match(bound.secret_sealed!, /^v2\./);
    assert.deepEqual(revealConfig(bound, h.secretKey), { routing_key: 'LEGACY-KEY' });
    // A second start finds nothing left to bind.
    await loadSecretKey(h.sql, h.secretKey.toString('hex'), testLog);
    assert.equal((await row(id)).secret_sealed, bound.secret_sealed);
  });
});
