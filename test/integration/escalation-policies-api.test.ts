import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getPolicy, policiesForNodes } from '../../src/oncall/store.ts';

const policyForNode = async (sql: Parameters<typeof policiesForNodes>[0], nodeId: string) => (await policiesForNodes(sql, [nodeId])).get(nodeId);
import { ADMIN_TOKEN, START, createHarness, expectError, expectInvalid, expectJson, type Harness, type NodeBody } from '../helpers/app.ts';
import { lockWaiter } from '../helpers/db.ts';
import type { EscalationPolicy as PolicyBody, List as Page } from '../../src/api/shapes.ts';

let h: Harness;
let keys: Record<'write' | 'read' | 'ingest', string>;
let mail: string;
let hook: string;
let slack: string;

before(async () => {
  h = await createHarness();
  keys = {
    write: (await h.createKey('write', 'policies-write')).secret,
    read: (await h.createKey('read', 'policies-read')).secret,
    ingest: (await h.createKey('ingest', 'policies-ingest')).secret,
  };
  const channel = async (json: unknown) => (await expectJson<{ id: string }>(await h.admin('POST', '/v1/channels', json), 201)).id;
  mail = await channel({ name: 'mail', type: 'email', config: { to: ['ops@example.com'] } });
  hook = await channel({ name: 'hook', type: 'webhook', config: { url: 'https://hooks.example.com' } });
  slack = await channel({ name: 'slack', type: 'slack', config: { webhook_url: 'https://hooks.slack.com/services/x' } });
});

after(async () => {
  await h?.close();
});

const create = async (json: Record<string, unknown>) => expectJson<PolicyBody>(await h.admin('POST', '/v1/escalation-policies', json), 201);
const oneLevel = () => [{ after_seconds: 0, channel_ids: [mail] }];
const defaults = async () => (await h.sql<{ name: string }[]>`select name from escalation_policies where is_default order by name`).map((r) => r.name);

/** Leaves no default policy behind, so each test starts from a known default. */
const clearDefault = () => h.sql`update escalation_policies set is_default = false where is_default`;

describe('creating and reading policies', () => {
  it('creates a policy with the contract defaults', async () => {
    const p = await create({ name: 'Primary', levels: [{ after_seconds: 0, channel_ids: [mail, hook] }, { after_seconds: 600, channel_ids: [slack] }] });
    assert.deepEqual(p, {
      id: p.id,
      name: 'Primary',
      levels: [
        { after_seconds: 0, channel_ids: [mail, hook], user_ids: [], schedule_ids: [] },
        { after_seconds: 600, channel_ids: [slack], user_ids: [], schedule_ids: [] },
      ],
      repeat: 0,
      ack_timeout_seconds: null,
      is_default: false,
      created_at: START,
      updated_at: START,
    });
    assert.deepEqual(await expectJson(await h.req('GET', `/v1/escalation-policies/${p.id}`, { token: keys.read }), 200), p);
    const row = await getPolicy(h.sql, p.id);
    assert.deepEqual(row?.levels, p.levels);
  });

  it('lists policies in name order across pages', async () => {
    for (const name of ['list-c', 'list-a', 'list-b']) await create({ name, levels: oneLevel() });
    const all = (await h.sql<{ name: string }[]>`select name from escalation_policies order by name`).map((r) => r.name);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const path: string = `/v1/escalation-policies?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page: Page<PolicyBody> = await expectJson<Page<PolicyBody>>(await h.req('GET', path, { token: keys.read }), 200);
      seen.push(...page.items.map((p) => p.name));
      cursor = page.next_cursor;
      assert.ok(seen.length <= all.length, 'pagination must terminate');
    } while (cursor !== null);
    assert.deepEqual(seen, all);
  });

  it('patches any field with the same checks, and updated_at follows the clock', async () => {
    const p = await create({ name: 'patch-me', levels: oneLevel() });
    h.clock.advance(5_000);
    const patched = await expectJson<PolicyBody>(
      await h.req('PATCH', `/v1/escalation-policies/${p.id}`, {
        token: keys.write,
        json: { name: 'patched', repeat: 3, levels: [{ after_seconds: 0, channel_ids: [hook] }, { after_seconds: 60, channel_ids: [mail, slack] }] },
      }),
      200,
    );
    assert.equal(patched.name, 'patched');
    assert.equal(patched.repeat, 3);
    assert.deepEqual(patched.levels, [
      { after_seconds: 0, channel_ids: [hook], user_ids: [], schedule_ids: [] },
      { after_seconds: 60, channel_ids: [mail, slack], user_ids: [], schedule_ids: [] },
    ]);
    assert.equal(patched.updated_at, h.clock.now().toISOString());
    assert.equal(patched.created_at, p.created_at);

    const same = await expectJson<PolicyBody>(await h.admin('PATCH', `/v1/escalation-policies/${p.id}`, {}), 200);
    assert.deepEqual(same, patched, 'an empty patch changes nothing');
  });

  it('deletes a policy; nodes that used it fall back to the default', async () => {
    await clearDefault();
    const fallback = await create({ name: 'fallback-default', levels: oneLevel(), is_default: true });
    const own = await create({ name: 'own-policy', levels: [{ after_seconds: 0, channel_ids: [hook] }] });
    const node = await h.createNode('policy-user', { escalation_policy_id: own.id });
    assert.equal(node.escalation_policy_id, own.id);
    assert.equal((await policyForNode(h.sql, node.id))?.id, own.id);

    const res = await h.admin('DELETE', `/v1/escalation-policies/${own.id}`);
    assert.equal(res.status, 204);
    await expectError(await h.admin('GET', `/v1/escalation-policies/${own.id}`), 404, 'not_found');
    const after = await expectJson<NodeBody>(await h.admin('GET', `/v1/nodes/${node.id}`), 200);
    assert.equal(after.escalation_policy_id, null);
    assert.equal((await policyForNode(h.sql, node.id))?.id, fallback.id);
  });
});

describe('the default policy', () => {
  it('making a policy the default demotes the previous one', async () => {
    await clearDefault();
    const a = await create({ name: 'default-a', levels: oneLevel(), is_default: true });
    assert.equal(a.is_default, true);
    const b = await create({ name: 'default-b', levels: oneLevel(), is_default: true });
    assert.deepEqual(await defaults(), ['default-b']);
    const got = await expectJson<PolicyBody>(await h.admin('GET', `/v1/escalation-policies/${a.id}`), 200);
    assert.equal(got.is_default, false);

    await expectJson(await h.admin('PATCH', `/v1/escalation-policies/${a.id}`, { is_default: true }), 200);
    assert.deepEqual(await defaults(), ['default-a']);
    await expectJson(await h.admin('PATCH', `/v1/escalation-policies/${a.id}`, { is_default: false }), 200);
    assert.deepEqual(await defaults(), [], 'un-defaulting leaves no default');
    assert.equal((await getPolicy(h.sql, b.id))?.is_default, false);
  });

  it('keeps exactly one default when two requests race to create one', async () => {
    for (let round = 0; round < 5; round++) {
      const [x, y] = await Promise.all([
        h.admin('POST', '/v1/escalation-policies', { name: `race-${round}-x`, levels: oneLevel(), is_default: true }),
        h.admin('POST', '/v1/escalation-policies', { name: `race-${round}-y`, levels: oneLevel(), is_default: true }),
      ]);
      await expectJson(x, 201);
      await expectJson(y, 201);
      const now = await defaults();
      assert.equal(now.length, 1, `one default after round ${round}: ${now.join(', ')}`);
      assert.match(now[0]!, new RegExp(`^race-${round}-`));
    }
  });

  it('retries a create that loses the race for the default index to a concurrent commit', async () => {
    await clearDefault();
    // Hold an uncommitted default so the API's insert must wait on the index entry, then commit it.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const holder = h.sql.begin(async (tx) => {
      await tx`insert into escalation_policies (name, levels, is_default, created_at, updated_at)
               values ('held-default', ${tx.json(oneLevel())}, true, ${h.clock.now()}, ${h.clock.now()})`;
      await released;
    });
    const request = h.admin('POST', '/v1/escalation-policies', { name: 'late-default', levels: oneLevel(), is_default: true });
    // Wait until the request is blocked on the held transaction's index entry.
    await lockWaiter(h.sql);
    release();
    await holder;
    const created = await expectJson<PolicyBody>(await request, 201);
    assert.equal(created.is_default, true);
    assert.deepEqual(await defaults(), ['late-default']);
  });

  it('policiesForNodes: own policy first, else the default, else none', async () => {
    await clearDefault();
    const own = await create({ name: 'pfn-own', levels: oneLevel() });
    const plain = await h.createNode('pfn-plain');
    const owning = await h.createNode('pfn-owning', { escalation_policy_id: own.id });
    assert.equal(await policyForNode(h.sql, plain.id), undefined);
    assert.equal((await policyForNode(h.sql, owning.id))?.id, own.id);

    const dflt = await create({ name: 'pfn-default', levels: oneLevel(), is_default: true });
    assert.equal((await policyForNode(h.sql, plain.id))?.id, dflt.id);
    assert.equal((await policyForNode(h.sql, owning.id))?.id, own.id, 'a node keeps its own policy over the default');

    await expectJson(await h.admin('PATCH', `/v1/escalation-policies/${own.id}`, { is_default: true }), 200);
    assert.equal((await policyForNode(h.sql, owning.id))?.id, own.id, 'its own policy being the default changes nothing');
    assert.equal((await policyForNode(h.sql, plain.id))?.id, own.id);
  });
});

describe('escalation_policy_id on nodes', () => {
  it('accepts an existing policy and refuses an unknown one (400 naming the field) on create and patch', async () => {
    const p = await create({ name: 'for-nodes', levels: oneLevel() });
    const unknown = '00000000-0000-4000-8000-0000000000aa';
    await expectInvalid(await h.rejected(() => h.admin('POST', '/v1/nodes', { name: 'bad-policy', escalation_policy_id: unknown })), ['escalation_policy_id']);
    assert.equal((await h.sql`select 1 from nodes where name = 'bad-policy'`).length, 0);

    const node = await h.createNode('good-policy', { escalation_policy_id: p.id });
    assert.equal(node.escalation_policy_id, p.id);
    await expectInvalid(await h.rejected(() => h.admin('PATCH', `/v1/nodes/${node.id}`, { escalation_policy_id: unknown, grace_seconds: 9 })), ['escalation_policy_id']);
    const patched = await expectJson<NodeBody>(await h.admin('PATCH', `/v1/nodes/${node.id}`, { escalation_policy_id: null }), 200);
    assert.equal(patched.escalation_policy_id, null);
  });
});

describe('bad requests change nothing', () => {
  let existing: PolicyBody;
  before(async () => {
    existing = await create({ name: 'bad-target', levels: oneLevel() });
  });

  const routes = () => [
    { method: 'POST', path: '/v1/escalation-policies', json: { name: 'would-be', levels: oneLevel() }, scope: 'write' },
    { method: 'GET', path: '/v1/escalation-policies', scope: 'read' },
    { method: 'GET', path: `/v1/escalation-policies/${existing.id}`, scope: 'read' },
    { method: 'PATCH', path: `/v1/escalation-policies/${existing.id}`, json: { repeat: 2 }, scope: 'write' },
    { method: 'DELETE', path: `/v1/escalation-policies/${existing.id}`, scope: 'write' },
  ];

  it('401 without a valid secret and 403 without the scope, on every route', async () => {
    const node = await h.createNode('policies-node');
    for (const r of routes()) {
      await expectError(await h.rejected(() => h.req(r.method, r.path, { json: r.json })), 401, 'unauthorized');
      if (r.scope === 'write') await expectError(await h.rejected(() => h.req(r.method, r.path, { json: r.json, token: keys.read })), 403, 'forbidden');
      await expectError(await h.rejected(() => h.req(r.method, r.path, { json: r.json, token: keys.ingest })), 403, 'forbidden');
      await expectError(await h.rejected(() => h.req(r.method, r.path, { json: r.json, token: node.token })), 403, 'forbidden');
    }
  });

  it('404 for an unknown or malformed id', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'primary']) {
      await expectError(await h.rejected(() => h.admin('GET', `/v1/escalation-policies/${id}`)), 404, 'not_found');
      await expectError(await h.rejected(() => h.admin('PATCH', `/v1/escalation-policies/${id}`, { repeat: 1 })), 404, 'not_found');
      await expectError(await h.rejected(() => h.admin('DELETE', `/v1/escalation-policies/${id}`)), 404, 'not_found');
    }
  });

  it('409 for a name that is taken, on create and on rename', async () => {
    await expectError(await h.rejected(() => h.admin('POST', '/v1/escalation-policies', { name: 'bad-target', levels: oneLevel() })), 409, 'conflict');
    const other = await create({ name: 'bad-other', levels: oneLevel() });
    await expectError(await h.rejected(() => h.admin('PATCH', `/v1/escalation-policies/${other.id}`, { name: 'bad-target' })), 409, 'conflict');
  });

  it('415 and invalid_json on the body-reading routes', async () => {
    for (const [method, path] of [['POST', '/v1/escalation-policies'], ['PATCH', `/v1/escalation-policies/${existing.id}`]] as const) {
      await expectError(
        await h.rejected(() => h.req(method, path, { token: ADMIN_TOKEN, body: '{"repeat": 1}', headers: { 'content-type': 'text/plain' } })),
        415,
        'unsupported_media_type',
      );
      await expectError(
        await h.rejected(() => h.req(method, path, { token: ADMIN_TOKEN, body: '{"repeat": 1', headers: { 'content-type': 'application/json' } })),
        400,
        'invalid_json',
      );
    }
  });

  it('400 naming each bad field', async () => {
    const unknownChannel = '00000000-0000-4000-8000-0000000000cc';
    const cases: Array<[unknown, string[]]> = [
      [{}, ['name', 'levels']],
      [{ name: 'x', levels: [] }, ['levels']],
      [{ name: 'x', levels: Array.from({ length: 11 }, (_, i) => ({ after_seconds: i * 60, channel_ids: [mail] })) }, ['levels']],
      [{ name: 'x', levels: [{ after_seconds: 30, channel_ids: [mail] }] }, ['levels.0.after_seconds']],
      [
        { name: 'x', levels: [{ after_seconds: 0, channel_ids: [mail] }, { after_seconds: 60, channel_ids: [mail] }, { after_seconds: 60, channel_ids: [hook] }] },
        ['levels.2.after_seconds'],
      ],
      [{ name: 'x', levels: [{ after_seconds: 0, channel_ids: [mail] }, { after_seconds: 1.5, channel_ids: [mail] }] }, ['levels.1.after_seconds']],
      [{ name: 'x', levels: [{ after_seconds: -1, channel_ids: [mail] }] }, ['levels.0.after_seconds']],
      [{ name: 'x', levels: [{ after_seconds: 0, channel_ids: [] }] }, ['levels.0']],
      [{ name: 'x', levels: [{ after_seconds: 0 }] }, ['levels.0']],
      [{ name: 'x', levels: [{ after_seconds: 0, user_ids: [unknownChannel], schedule_ids: [unknownChannel] }] }, ['levels.0.user_ids.0', 'levels.0.schedule_ids.0']],
      [{ name: 'x', levels: [{ after_seconds: 0, user_ids: ['alice'] }] }, ['levels.0.user_ids.0']],
      [{ name: 'x', levels: [{ after_seconds: 0, channel_ids: [mail, mail] }] }, ['levels.0.channel_ids']],
      [{ name: 'x', levels: [{ after_seconds: 0, channel_ids: ['mail'] }] }, ['levels.0.channel_ids.0']],
      [{ name: 'x', levels: [{ after_seconds: 0, channel_ids: [mail], extra: true }] }, ['levels.0.extra']],
      [{ name: 'x', levels: [{ after_seconds: 0, channel_ids: [mail] }, { after_seconds: 60, channel_ids: [unknownChannel, hook, unknownChannel.replace('cc', 'dd')] }] }, ['levels.1.channel_ids.0', 'levels.1.channel_ids.2']],
      [{ name: 'x', levels: oneLevel(), repeat: 11 }, ['repeat']],
      [{ name: 'x', levels: oneLevel(), repeat: -1 }, ['repeat']],
      [{ name: 'x', levels: oneLevel(), ack_timeout_seconds: 59 }, ['ack_timeout_seconds']],
      [{ name: 'x', levels: oneLevel(), ack_timeout_seconds: 86_401 }, ['ack_timeout_seconds']],
      [{ name: 'x', levels: oneLevel(), ack_timeout_seconds: 90.5 }, ['ack_timeout_seconds']],
      [{ name: 'x', levels: oneLevel(), ack_timeout_seconds: '600' }, ['ack_timeout_seconds']],
      [{ name: 'x', levels: oneLevel(), is_default: 'yes' }, ['is_default']],
      [{ name: 'x', levels: oneLevel(), owner: 'me' }, ['owner']],
    ];
    for (const [json, fields] of cases) {
      await expectInvalid(await h.rejected(() => h.admin('POST', '/v1/escalation-policies', json)), fields);
    }
    // PATCH applies the same checks, and a default flag in a rejected patch demotes nobody.
    await clearDefault();
    await create({ name: 'stays-default', levels: oneLevel(), is_default: true });
    await expectInvalid(
      await h.rejected(() => h.admin('PATCH', `/v1/escalation-policies/${existing.id}`, { is_default: true, levels: [{ after_seconds: 0, channel_ids: [unknownChannel] }] })),
      ['levels.0.channel_ids.0'],
    );
    assert.deepEqual(await defaults(), ['stays-default']);
    await expectInvalid(await h.rejected(() => h.admin('PATCH', `/v1/escalation-policies/${existing.id}`, { levels: [{ after_seconds: 5, channel_ids: [mail] }] })), [
      'levels.0.after_seconds',
    ]);
    await expectInvalid(await h.rejected(() => h.admin('PATCH', `/v1/escalation-policies/${existing.id}`, { ack_timeout_seconds: 0 })), ['ack_timeout_seconds']);
  });

  it('sets, reads and clears an acknowledgement timeout', async () => {
    const p = await create({ name: 'Times out', levels: oneLevel(), ack_timeout_seconds: 1800 });
    assert.equal(p.ack_timeout_seconds, 1800);
    assert.equal((await expectJson<PolicyBody>(await h.req('GET', `/v1/escalation-policies/${p.id}`, { token: keys.read }), 200)).ack_timeout_seconds, 1800);
    const kept = await expectJson<PolicyBody>(await h.admin('PATCH', `/v1/escalation-policies/${p.id}`, { repeat: 2 }), 200);
    assert.equal(kept.ack_timeout_seconds, 1800, 'a patch without it keeps it');
    const cleared = await expectJson<PolicyBody>(await h.admin('PATCH', `/v1/escalation-policies/${p.id}`, { ack_timeout_seconds: null }), 200);
    assert.equal(cleared.ack_timeout_seconds, null);
    assert.equal((await getPolicy(h.sql, p.id))?.ack_timeout_seconds, null);
  });
});
