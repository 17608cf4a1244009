import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { openSecret } from '../../alerting/secret-box.ts';
import type { ChannelRow } from '../../src/channels/model.ts';
import { revealConfig } from '../../src/channels/service.ts';
import { getChannelsByIds } from '../../src/channels/store.ts';
import { lockExisting } from '../../src/db/named-rows.ts';
import { EMAIL_UNCONFIGURED } from '../../src/oncall/setup-warnings.ts';
import { insertPolicy } from '../../src/oncall/store.ts';
import { loadSecretKey } from '../../src/channels/secret-key.ts';
import { ADMIN_TOKEN, START, createHarness, expectError, expectInvalid, expectJson, type Harness } from '../helpers/app.ts';
import { lockWaiter } from '../helpers/db.ts';
import type { Channel as ChannelBody, List as Page } from '../../src/api/shapes.ts';

let h: Harness;
let keys: Record<'write' | 'read' | 'ingest', string>;

before(async () => {
  h = await createHarness();
  keys = {
    write: (await h.createKey('write', 'channels-write')).secret,
    read: (await h.createKey('read', 'channels-read')).secret,
    ingest: (await h.createKey('ingest', 'channels-ingest')).secret,
  };
});

after(async () => {
  await h?.close();
});

const create = async (json: unknown) => expectJson<ChannelBody>(await h.admin('POST', '/v1/channels', json), 201);

const storedRow = async (id: string) => {
  const [row] = await h.sql<ChannelRow[]>`select * from channels where id = ${id}`;
  assert.ok(row, `channel ${id} is stored`);
  return row;
};

/** The whole row as Postgres prints it: a secret must not appear in it in any form. */
const rowText = async (id: string) => {
  const [row] = await h.sql<{ text: string }[]>`select c::text as text from channels c where id = ${id}`;
  return row!.text;
};

/** Asserts the secret appears nowhere: not in the row, not in any read of the channel. */
async function assertSecretHidden(id: string, secret: string) {
  const fragments = [secret, secret.replace(/^whsec_/, '')];
  const text = await rowText(id);
  const reads = [
    await (await h.admin('GET', `/v1/channels/${id}`)).text(),
    await (await h.admin('GET', '/v1/channels?limit=500')).text(),
  ];
  for (const f of fragments) {
    assert.ok(!text.includes(f), 'the stored row must not contain the secret');
    for (const r of reads) assert.ok(!r.includes(f), 'no read returns the secret');
  }
}

describe('creating channels', () => {
  it('creates an email channel: nothing secret, config returned as given, a warning while SMTP_URL is unset', async () => {
    const { warnings, ...ch } = await create({ name: 'Ops mail', type: 'email', config: { to: ['ops@example.com', 'Oncall@Example.org'] } });
    // The harness's transports have no SMTP_URL: accepted, and said in the answer.
    assert.deepEqual(warnings, [EMAIL_UNCONFIGURED]);
    assert.match(ch.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(ch, {
      id: ch.id,
      name: 'Ops mail',
      type: 'email',
      config: { to: ['ops@example.com', 'Oncall@Example.org'] },
      has_secret: false,
      created_at: START,
      updated_at: START,
    });
    assert.equal((await storedRow(ch.id)).secret_sealed, null);
    assert.deepEqual(await expectJson(await h.admin('GET', `/v1/channels/${ch.id}`), 200), ch);
  });

  it('generates a whsec_ secret for a webhook without one, returns it once and stores it only sealed', async () => {
    const ch = await create({ name: 'hook', type: 'webhook', config: { url: 'https://hooks.example.com/lifeline' } });
    const secret = ch.config.secret as string;
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{32}$/);
    assert.deepEqual(Object.keys(ch.config).sort(), ['secret', 'url']);
    assert.equal(ch.has_secret, true);

    const row = await storedRow(ch.id);
    assert.deepEqual(row.config, { url: 'https://hooks.example.com/…' }, 'the URL whole is sealed too');
    assert.equal(openSecret(row.secret_sealed!, h.secretKey, row.id), secret);
    assert.deepEqual(revealConfig(row, h.secretKey), { url: 'https://hooks.example.com/lifeline', secret });

    const got = await expectJson<ChannelBody>(await h.admin('GET', `/v1/channels/${ch.id}`), 200);
    assert.deepEqual(got.config, { url: 'https://hooks.example.com/…' });
    assert.equal(got.has_secret, true);
    await assertSecretHidden(ch.id, secret);
  });

  it('seals a webhook secret that was given, without echoing it', async () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const ch = await create({ name: 'hook-given', type: 'webhook', config: { url: 'https://hooks.example.net:9000/in', secret } });
    assert.deepEqual(ch.config, { url: 'https://hooks.example.net:9000/…' });
    assert.equal(openSecret((await storedRow(ch.id)).secret_sealed!, h.secretKey, ch.id), secret);
    await assertSecretHidden(ch.id, secret);
  });

  it('treats a Slack webhook URL as the secret it is', async () => {
    const url = 'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX';
    const ch = await create({ name: 'slack', type: 'slack', config: { webhook_url: url } });
    assert.deepEqual(ch.config, {});
    assert.equal(ch.has_secret, true);
    const row = await storedRow(ch.id);
    assert.deepEqual(revealConfig(row, h.secretKey), { webhook_url: url });
    await assertSecretHidden(ch.id, url);
    await assertSecretHidden(ch.id, 'XXXXXXXXXXXXXXXXXXXXXXXX');
  });

  it('seals a PagerDuty routing key and keeps its endpoint in the open', async () => {
    const key = 'R0UT1NGK3YR0UT1NGK3YR0UT1NGK3YAB';
    const ch = await create({ name: 'pd', type: 'pagerduty', config: { routing_key: key, url: 'https://events.eu.pagerduty.com/v2/enqueue' } });
    assert.deepEqual(ch.config, { url: 'https://events.eu.pagerduty.com/v2/enqueue' });
    const row = await storedRow(ch.id);
    assert.deepEqual(revealConfig(row, h.secretKey), { routing_key: key, url: 'https://events.eu.pagerduty.com/v2/enqueue' });
    await assertSecretHidden(ch.id, key);
  });

  it('getChannelsByIds returns the named channels and skips unknown ids', async () => {
    const a = await create({ name: 'by-ids-a', type: 'email', config: { to: ['a@example.com'] } });
    const b = await create({ name: 'by-ids-b', type: 'slack', config: { webhook_url: 'https://hooks.slack.com/services/b' } });
    const rows = await getChannelsByIds(h.sql, [a.id, b.id, '00000000-0000-4000-8000-00000000dead']);
    assert.deepEqual(rows.map((r) => r.name).sort(), ['by-ids-a', 'by-ids-b']);
    assert.deepEqual(await getChannelsByIds(h.sql, []), []);
  });
});

describe("a webhook's URL, whose path and query may hold a credential", () => {
  const URL_WITH_TOKENS = 'https://chat.example/hooks/T0/B0/PATHTOKEN?token=SECRETQUERY';

  /** Every read of the channel, by every scope that may read: none holds the URL whole. */
  async function assertOriginOnly(id: string) {
    for (const token of [keys.read, keys.write, ADMIN_TOKEN]) {
      const one = await h.req('GET', `/v1/channels/${id}`, { token });
      const all = await h.req('GET', '/v1/channels?limit=500', { token });
      const got = await expectJson<ChannelBody>(one, 200);
      assert.equal(got.config.url, 'https://chat.example/…');
      const listed = (await expectJson<Page<ChannelBody>>(all, 200)).items.find((c) => c.id === id);
      assert.equal(listed?.config.url, 'https://chat.example/…');
      for (const text of [JSON.stringify(got), JSON.stringify(listed)]) {
        assert.ok(!text.includes('PATHTOKEN') && !text.includes('SECRETQUERY'), 'no read holds the path or query');
      }
    }
  }

  it('is shown by its origin only, to every scope, and sent to whole', async () => {
    const ch = await create({ name: 'chat-hook', type: 'webhook', config: { url: URL_WITH_TOKENS } });
    assert.equal(ch.config.url, 'https://chat.example/…', 'not even in the 201');
    assert.equal(revealConfig(await storedRow(ch.id), h.secretKey).url, URL_WITH_TOKENS);
    await assertOriginOnly(ch.id);
    const bare = await create({ name: 'bare-hook', type: 'webhook', config: { url: 'https://bare.example' } });
    assert.equal(bare.config.url, 'https://bare.example/', 'nothing cut, no marker');
  });

  it('is kept by a PATCH that leaves it out, so a key that was never shown it can still change the rest', async () => {
    const ch = await create({ name: 'chat-hook-kept', type: 'webhook', config: { url: URL_WITH_TOKENS } });
    const next = 'whsec_' + Buffer.alloc(32, 9).toString('base64');
    const patched = await expectJson<ChannelBody>(await h.req('PATCH', `/v1/channels/${ch.id}`, { json: { config: { secret: next } }, token: keys.write }), 200);
    assert.equal(patched.config.url, 'https://chat.example/…');
    assert.deepEqual(revealConfig(await storedRow(ch.id), h.secretKey), { url: URL_WITH_TOKENS, secret: next });
    // Without the secret too: nothing moves, so nothing is refused.
    await expectJson(await h.req('PATCH', `/v1/channels/${ch.id}`, { json: { name: 'chat-hook-kept-2', config: {} }, token: keys.write }), 200);
    assert.deepEqual(revealConfig(await storedRow(ch.id), h.secretKey), { url: URL_WITH_TOKENS, secret: next });
    await assertOriginOnly(ch.id);
  });
  it('is kept by a PATCH that sends back the shown form, as a GET, edit and PATCH of the whole config does', async () => {
    const ch = await create({ name: 'chat-hook-round', type: 'webhook', config: { url: URL_WITH_TOKENS } });
    const { secret } = revealConfig(await storedRow(ch.id), h.secretKey);
    const got = await expectJson<ChannelBody>(await h.req('GET', `/v1/channels/${ch.id}`, { token: keys.write }), 200);
    await expectJson(await h.req('PATCH', `/v1/channels/${ch.id}`, { json: { name: 'chat-hook-round-2', type: 'webhook', config: got.config }, token: keys.write }), 200);
    await expectJson(await h.req('PATCH', `/v1/channels/${ch.id}`, { json: { config: { ...got.config, secret } }, token: keys.write }), 200);
    assert.deepEqual(revealConfig(await storedRow(ch.id), h.secretKey), { url: URL_WITH_TOKENS, secret }, 'not the shown form stored as the URL');
    const bare = await create({ name: 'bare-hook-round', type: 'webhook', config: { url: 'https://bare.example' } });
    await expectJson(await h.req('PATCH', `/v1/channels/${bare.id}`, { json: { config: bare.config }, token: keys.write }), 200);
    assert.equal(revealConfig(await storedRow(bare.id), h.secretKey).url, 'https://bare.example');
  });
});

describe('changing channels', () => {
  it('renames without touching the config or the sealed secret', async () => {
    const ch = await create({ name: 'rename-me', type: 'webhook', config: { url: 'https://a.example.com' } });
    const sealed = (await storedRow(ch.id)).secret_sealed;
    h.clock.advance(1_000);
    const patched = await expectJson<ChannelBody>(await h.admin('PATCH', `/v1/channels/${ch.id}`, { name: 'renamed' }), 200);
    assert.equal(patched.name, 'renamed');
    assert.deepEqual(patched.config, { url: 'https://a.example.com/' });
    assert.equal(patched.updated_at, h.clock.now().toISOString());
    assert.equal(patched.created_at, ch.created_at);
    assert.equal((await storedRow(ch.id)).secret_sealed, sealed);
  });

  it('replaces the config and keeps the sealed secret when the patch does not carry it and sends to the same place', async () => {
    const ch = await create({ name: 'move-me', type: 'webhook', config: { url: 'https://old.example.com' } });
    const secret = ch.config.secret as string;
    const patched = await expectJson<ChannelBody>(await h.admin('PATCH', `/v1/channels/${ch.id}`, { config: { url: 'https://old.example.com' } }), 200);
    assert.deepEqual(patched.config, { url: 'https://old.example.com/' });
    assert.deepEqual(revealConfig(await storedRow(ch.id), h.secretKey), { url: 'https://old.example.com', secret });

    const pd = await create({ name: 'pd-move', type: 'pagerduty', config: { routing_key: 'rk-1', url: 'https://old.example.com' } });
    await expectJson(await h.admin('PATCH', `/v1/channels/${pd.id}`, { config: { url: 'https://old.example.com' } }), 200);
    assert.deepEqual(revealConfig(await storedRow(pd.id), h.secretKey), { routing_key: 'rk-1', url: 'https://old.example.com' }, 'the key kept');
    // Moving it needs the key (channel-secrets.test.ts).
    await expectInvalid(await h.rejected(() => h.admin('PATCH', `/v1/channels/${pd.id}`, { config: {} })), ['config.routing_key']);
  });

  it('re-seals the secret when the patch carries it', async () => {
    const ch = await create({ name: 'rotate-me', type: 'slack', config: { webhook_url: 'https://hooks.slack.com/services/old' } });
    const before = (await storedRow(ch.id)).secret_sealed;
    const patched = await expectJson<ChannelBody>(
      await h.admin('PATCH', `/v1/channels/${ch.id}`, { config: { webhook_url: 'https://hooks.slack.com/services/new' } }),
      200,
    );
    assert.deepEqual(patched.config, {});
    const row = await storedRow(ch.id);
    assert.notEqual(row.secret_sealed, before);
    assert.deepEqual(revealConfig(row, h.secretKey), { webhook_url: 'https://hooks.slack.com/services/new' });
    await assertSecretHidden(ch.id, 'https://hooks.slack.com/services/new');

    const hook = await create({ name: 'rotate-hook', type: 'webhook', config: { url: 'https://a.example.com' } });
    const next = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
    await expectJson(await h.admin('PATCH', `/v1/channels/${hook.id}`, { config: { url: 'https://a.example.com', secret: next } }), 200);
    assert.equal(revealConfig(await storedRow(hook.id), h.secretKey).secret, next);
  });

  it('accepts the type unchanged and refuses to change it', async () => {
    const ch = await create({ name: 'typed', type: 'email', config: { to: ['a@example.com'] } });
    await expectJson(await h.admin('PATCH', `/v1/channels/${ch.id}`, { type: 'email', name: 'still-email' }), 200);
    const res = await h.rejected(() => h.admin('PATCH', `/v1/channels/${ch.id}`, { type: 'slack', config: { webhook_url: 'https://x.example.com' } }));
    const err = await expectInvalid(res, ['type', 'config.to', 'config.webhook_url']);
    // An absent field is said in the API's words, not the validator's.
    assert.equal(err.details!.find((d) => d.field === 'config.to')!.message, 'is required');
  });
});

describe('listing channels', () => {
  it('walks channels in name order, two at a time, each exactly once', async () => {
    const all = (await h.sql<{ name: string; id: string }[]>`select name, id from channels order by name, id`).map((r) => r.id);
    // Same-named channels are told apart by id.
    await create({ name: 'aaa-same', type: 'email', config: { to: ['x@example.com'] } });
    await create({ name: 'aaa-same', type: 'email', config: { to: ['y@example.com'] } });
    const expected = (await h.sql<{ id: string }[]>`select id from channels order by name, id`).map((r) => r.id);
    assert.equal(expected.length, all.length + 2);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const path: string = `/v1/channels?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page: Page<ChannelBody> = await expectJson<Page<ChannelBody>>(await h.req('GET', path, { token: keys.read }), 200);
      assert.ok(page.items.length <= 2);
      seen.push(...page.items.map((c) => c.id));
      cursor = page.next_cursor;
      assert.ok(seen.length <= expected.length, 'pagination must terminate');
    } while (cursor !== null);
    assert.deepEqual(seen, expected);
  });
});

describe('deleting channels', () => {
  it('deletes a channel (204), after which it is 404', async () => {
    const ch = await create({ name: 'delete-me', type: 'email', config: { to: ['a@example.com'] } });
    const res = await h.req('DELETE', `/v1/channels/${ch.id}`, { token: keys.write });
    assert.equal(res.status, 204);
    assert.equal(await res.text(), '');
    await expectError(await h.admin('GET', `/v1/channels/${ch.id}`), 404, 'not_found');
    await expectError(await h.rejected(() => h.admin('DELETE', `/v1/channels/${ch.id}`)), 404, 'not_found');
  });

  it('refuses (409) to delete a channel an escalation policy still names, naming the policies', async () => {
    const ch = await create({ name: 'in-use', type: 'email', config: { to: ['a@example.com'] } });
    const other = await create({ name: 'spare', type: 'email', config: { to: ['b@example.com'] } });
    const policy = await expectJson<{ id: string }>(
      await h.admin('POST', '/v1/escalation-policies', {
        name: 'uses-in-use',
        levels: [{ after_seconds: 0, channel_ids: [other.id] }, { after_seconds: 300, channel_ids: [other.id, ch.id] }],
      }),
      201,
    );
    const err = await expectError(await h.rejected(() => h.admin('DELETE', `/v1/channels/${ch.id}`)), 409, 'conflict');
    assert.match(err.message, /"uses-in-use"/);
    assert.ok(err.message.includes(policy.id));

    await expectJson(await h.admin('PATCH', `/v1/escalation-policies/${policy.id}`, { levels: [{ after_seconds: 0, channel_ids: [other.id] }] }), 200);
    assert.equal((await h.admin('DELETE', `/v1/channels/${ch.id}`)).status, 204);
  });
  it('a delete waiting on a policy write that names the channel sees that policy and refuses', async () => {
    const ch = await create({ name: 'racing', type: 'email', config: { to: ['a@example.com'] } });
    // A policy write in flight: its channels are checked and locked, the policy not yet committed.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const writer = h.sql.begin(async (tx) => {
      assert.deepEqual(await lockExisting(tx, 'channels', [ch.id]), new Set([ch.id]));
      await released;
      await insertPolicy(tx, { name: 'raced-in', levels: [{ after_seconds: 0, channel_ids: [ch.id] }], repeat: 0, is_default: false }, h.clock.now());
    });
    const deletion = h.admin('DELETE', `/v1/channels/${ch.id}`);
    await lockWaiter(h.sql);
    release();
    await writer;
    const err = await expectError(await deletion, 409, 'conflict');
    assert.match(err.message, /"raced-in"/);
    assert.ok(await getChannelsByIds(h.sql, [ch.id]).then((r) => r.length === 1), 'the channel is still there');
  });
});

describe('bad requests change nothing', () => {
  let existing: ChannelBody;
  before(async () => {
    existing = await create({ name: 'target', type: 'webhook', config: { url: 'https://t.example.com' } });
  });

  const good = { name: 'would-be', type: 'email', config: { to: ['a@example.com'] } };
  const routes = () => [
    { method: 'POST', path: '/v1/channels', json: good, scope: 'write' },
    { method: 'GET', path: '/v1/channels', scope: 'read' },
    { method: 'GET', path: `/v1/channels/${existing.id}`, scope: 'read' },
    { method: 'PATCH', path: `/v1/channels/${existing.id}`, json: { name: 'x' }, scope: 'write' },
    { method: 'DELETE', path: `/v1/channels/${existing.id}`, scope: 'write' },
  ];

  it('401 without a valid secret, on every route', async () => {
    for (const r of routes()) {
      await expectError(await h.rejected(() => h.req(r.method, r.path, { json: r.json })), 401, 'unauthorized');
      await expectError(await h.rejected(() => h.req(r.method, r.path, { json: r.json, token: 'llk_nope' })), 401, 'unauthorized');
    }
  });

  it('403 for a read key on writes and for an ingest key or node token on anything', async () => {
    const node = await h.createNode('channels-node');
    for (const r of routes()) {
      if (r.scope === 'write') await expectError(await h.rejected(() => h.req(r.method, r.path, { json: r.json, token: keys.read })), 403, 'forbidden');
      await expectError(await h.rejected(() => h.req(r.method, r.path, { json: r.json, token: keys.ingest })), 403, 'forbidden');
      await expectError(await h.rejected(() => h.req(r.method, r.path, { json: r.json, token: node.token })), 403, 'forbidden');
    }
  });

  it('404 for an unknown or malformed id', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      await expectError(await h.rejected(() => h.admin('GET', `/v1/channels/${id}`)), 404, 'not_found');
      await expectError(await h.rejected(() => h.admin('PATCH', `/v1/channels/${id}`, { name: 'x' })), 404, 'not_found');
      await expectError(await h.rejected(() => h.admin('DELETE', `/v1/channels/${id}`)), 404, 'not_found');
    }
  });

  it('415 and invalid_json on the body-reading routes', async () => {
    for (const [method, path] of [['POST', '/v1/channels'], ['PATCH', `/v1/channels/${existing.id}`]] as const) {
      const text = JSON.stringify(good);
      await expectError(
        await h.rejected(() => h.req(method, path, { token: ADMIN_TOKEN, body: text, headers: { 'content-type': 'text/plain' } })),
        415,
        'unsupported_media_type',
      );
      for (const body of [text.slice(0, -1), '', '{"name": }']) {
        await expectError(
          await h.rejected(() => h.req(method, path, { token: ADMIN_TOKEN, body, headers: { 'content-type': 'application/json' } })),
          400,
          'invalid_json',
        );
      }
    }
  });

  it('400 naming each bad field on create', async () => {
    const cases: Array<[unknown, string[]]> = [
      [{}, ['name', 'type', 'config']],
      [[good], ['(body)']],
      [{ ...good, type: 'sms' }, ['type']],
      [{ name: '  ', type: 'email', config: { to: ['a@example.com'] } }, ['name']],
      [{ name: 'x'.repeat(129), type: 'email', config: { to: ['a@example.com'] } }, ['name']],
      [{ ...good, extra: 1 }, ['extra']],
      [{ ...good, config: { to: ['a@example.com', 'not an address', 'b@example.com', 'nope@'] } }, ['config.to.1', 'config.to.3']],
      [{ ...good, config: { to: [] } }, ['config.to']],
      [{ ...good, config: { to: Array.from({ length: 21 }, (_, i) => `u${i}@example.com`) } }, ['config.to']],
      [{ ...good, config: { to: 'a@example.com' } }, ['config.to']],
      [{ ...good, config: { to: ['a@example.com'], cc: ['b@example.com'] } }, ['config.cc']],
      [{ ...good, config: [] }, ['config']],
      [{ name: 'w', type: 'webhook', config: {} }, ['config.url']],
      [{ name: 'w', type: 'webhook', config: { url: 'ftp://files.example.com' } }, ['config.url']],
      [{ name: 'w', type: 'webhook', config: { url: 'not a url' } }, ['config.url']],
      [{ name: 'w', type: 'webhook', config: { url: 'https://a.example.com', secret: 'hunter2' } }, ['config.secret']],
      [{ name: 'w', type: 'webhook', config: { url: 'https://a.example.com', secret: 'whsec_c2hvcnQ=' } }, ['config.secret']],
      [{ name: 's', type: 'slack', config: {} }, ['config.webhook_url']],
      [{ name: 's', type: 'slack', config: { webhook_url: 'http://hooks.slack.com/services/x' } }, ['config.webhook_url']],
      [{ name: 'p', type: 'pagerduty', config: { routing_key: '' } }, ['config.routing_key']],
      [{ name: 'p', type: 'pagerduty', config: { routing_key: 'k'.repeat(65) } }, ['config.routing_key']],
      [{ name: 'p', type: 'pagerduty', config: { routing_key: 'k', url: 'gopher://x' } }, ['config.url']],
    ];
    for (const [json, fields] of cases) {
      const res = await h.rejected(() => h.admin('POST', '/v1/channels', json));
      const err = await expectInvalid(res, fields);
      // A rejected secret is not echoed back either.
      assert.ok(!JSON.stringify(err).includes('hunter2'));
    }
  });

  it('400 naming each bad field on PATCH, judged against the channel type', async () => {
    const cases: Array<[unknown, string[]]> = [
      [{ name: '' }, ['name']],
      // A config that moves the webhook (a new url) without its secret is refused for that too,
      // with the schema's problems, so a client fixes them all in one go; one without a url keeps it.
      [{ config: { url: 'mailto:a@example.com' } }, ['config.url', 'config.secret']],
      [{ config: { to: ['a@example.com'] } }, ['config.to']],
      [{ config: { url: 'https://a.example.com', secret: 'whsec_!!' } }, ['config.secret']],
      [{ type: 'email' }, ['type']],
      [{ id: existing.id }, ['id']],
    ];
    for (const [json, fields] of cases) {
      await expectInvalid(await h.rejected(() => h.admin('PATCH', `/v1/channels/${existing.id}`, json)), fields);
    }
  });

  it('400 for a cursor the endpoint did not issue', async () => {
    await expectInvalid(await h.rejected(() => h.admin('GET', '/v1/channels?cursor=bm9wZQ')), ['cursor']);
    await expectInvalid(await h.rejected(() => h.admin('GET', '/v1/channels?limit=0')), ['limit']);
  });
});

describe('the channel secret key', () => {
  /** A logger that keeps what it was told, as level and message. */
  const recorder = () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    return { log, lines };
  };
  const WARN = 40;
  const ERROR = 50;

  it('without LIFELINE_SECRET_KEY, generates one key once, keeps it in the database and warns each start', async () => {
    const first = recorder();
    const key = await loadSecretKey(h.sql, undefined, first.log, h.clock.now());
    assert.equal(key.length, 32);
    const again = recorder();
    assert.deepEqual(await loadSecretKey(h.sql, undefined, again.log, h.clock.now()), key, 'every start gets the same key');
    const [row] = await h.sql<{ key: Buffer }[]>`select key from engine_keys where name = 'channel_secrets'`;
    assert.deepEqual(row!.key, key);
    for (const { lines } of [first, again]) {
      assert.ok(lines.some((l) => l.level === WARN && /only as safe as the database/.test(l.msg)), JSON.stringify(lines));
    }
    // Engines starting together agree on one key.
    await h.sql`delete from engine_keys`;
    const keys = await Promise.all([1, 2, 3].map(() => loadSecretKey(h.sql, undefined, recorder().log, h.clock.now())));
    assert.deepEqual(keys[1], keys[0]);
    assert.deepEqual(keys[2], keys[0]);
  });

  it('uses LIFELINE_SECRET_KEY when set, silently when it opens the stored secrets and loudly when it does not', async () => {
    await h.sql`delete from engine_keys`;
    const ok = recorder();
    const key = await loadSecretKey(h.sql, h.secretKey.toString('base64'), ok.log);
    assert.deepEqual(key, h.secretKey);
    assert.deepEqual(await loadSecretKey(h.sql, h.secretKey.toString('hex'), ok.log), h.secretKey);
    assert.deepEqual(ok.lines, []);
    assert.equal((await h.sql`select 1 from engine_keys`).length, 0, 'a configured key is never stored');

    // Channels are sealed with h.secretKey: another key cannot open them.
    await create({ name: 'sealed-with-the-app-key', type: 'slack', config: { webhook_url: 'https://hooks.slack.com/services/k' } });
    const wrong = recorder();
    await loadSecretKey(h.sql, randomBytes(32).toString('hex'), wrong.log);
    assert.ok(wrong.lines.some((l) => l.level === ERROR && /cannot open the stored channel secrets/.test(l.msg)), JSON.stringify(wrong.lines));
  });
});
