import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EMAIL_UNCONFIGURED, NO_DEFAULT_POLICY, unreachablePeople } from '../../src/oncall/setup-warnings.ts';
import { hashSecret } from '../../src/secrets.ts';
import { STYLESHEET_PATH } from '../../src/web/assets.ts';
import { ADMIN_TOKEN, START, buildApp, createHarness, expectError, expectInvalid, expectJson, send, type Harness, type NodeBody } from '../helpers/app.ts';
import type { ApiKey, List as Page, NodeWithToken } from '../../src/api/shapes.ts';

/** A key as listed, and as created (with its secret, shown once). */
type KeyBody = ApiKey & { secret?: string };

let h: Harness;

before(async () => {
  h = await createHarness();
});

after(async () => {
  await h?.close();
});

const json = async <T = Record<string, unknown>>(res: Response, status: number): Promise<T> => {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return JSON.parse(text) as T;
};

describe('API keys', () => {
  /** Every key's id, in listed order, from pages of `limit` each, following next_cursor to the end. */
  async function walkKeys(limit: number): Promise<string[]> {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const path: string = `/v1/api-keys?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page: Page<KeyBody> = await json<Page<KeyBody>>(await h.admin('GET', path), 200);
      assert.deepEqual(Object.keys(page).sort(), ['items', 'next_cursor']);
      assert.ok(page.items.length <= limit);
      seen.push(...page.items.map((k) => k.id));
      cursor = page.next_cursor;
      pages += 1;
      assert.ok(pages < 100, 'pagination must terminate');
    } while (cursor !== null);
    return seen;
  }

  it('creates a key whose secret is returned once and stored only as its sha256', async () => {
    const res = await h.admin('POST', '/v1/api-keys', { name: 'deployer', scope: 'write' });
    const key = await json<KeyBody>(res, 201);
    assert.deepEqual(Object.keys(key).sort(), ['created_at', 'id', 'name', 'revoked_at', 'scope', 'secret']);
    assert.equal(key.name, 'deployer');
    assert.equal(key.scope, 'write');
    assert.equal(key.created_at, START);
    assert.equal(key.revoked_at, null);
    assert.match(key.secret!, /^llk_[A-Za-z0-9_-]{40,}$/);

    const rows = await h.sql`select * from api_keys where id = ${key.id}`;
    assert.equal(rows.length, 1);
    const row = rows[0]!;
    assert.equal(row.secret_hash, hashSecret(key.secret!));
    assert.ok(!JSON.stringify(row).includes(key.secret!), 'the stored row must not contain the secret');
    assert.ok(!JSON.stringify(row).includes(key.secret!.slice(4)), 'nor the secret without its prefix');

    // The list never shows the secret again.
    const list = await json<Page<KeyBody>>(await h.admin('GET', '/v1/api-keys?limit=500'), 200);
    const listed = list.items.find((k) => k.id === key.id);
    assert.ok(listed);
    assert.equal(listed.secret, undefined);
    assert.ok(!JSON.stringify(list).includes(key.secret!));
    assert.ok(!JSON.stringify(list).includes(row.secret_hash as string), 'nor its hash');
  });

  it('lists keys by name, then id, with cursor pagination that visits every key once', async () => {
    // Made out of order, one name twice: ids are random, so only a real order lists them sorted.
    const names = ['kilo', 'alpha', 'juliet', 'delta', 'hotel', 'bravo', 'golf', 'alpha'];
    const made: Array<{ name: string; id: string }> = [];
    for (const name of names) made.push({ name, id: (await h.createKey('read', name)).id });
    const alphas = made.filter((k) => k.name === 'alpha').map((k) => k.id).sort();
    const [{ n }] = (await h.sql`select count(*)::int as n from api_keys`) as unknown as [{ n: number }];
    const seen = await walkKeys(2);
    assert.equal(seen.length, n);
    assert.equal(new Set(seen).size, n, 'no key is listed twice');
    const ours = new Set(made.map((k) => k.id));
    assert.deepEqual(
      seen.filter((id) => ours.has(id)),
      [...alphas, ...['bravo', 'delta', 'golf', 'hotel', 'juliet', 'kilo'].map((name) => made.find((k) => k.name === name)!.id)],
    );
  });

  it('pages one key at a time through two keys of the same name, each listed once, by id', async () => {
    // With limit=1 the page holding the first twin ends inside the tie: its cursor's name alone
    // would skip the second twin or list the first again.
    const twins = [(await h.createKey('read', 'twin')).id, (await h.createKey('read', 'twin')).id].sort();
    const [{ n }] = (await h.sql`select count(*)::int as n from api_keys`) as unknown as [{ n: number }];
    const seen = await walkKeys(1);
    assert.equal(seen.length, n);
    assert.equal(new Set(seen).size, n, 'no key is listed twice');
    assert.deepEqual(seen.filter((id) => twins.includes(id)), twins);
  });

  it('revokes a key: it shows revoked_at and its secret is refused at once', async () => {
    const key = await h.createKey('read', 'to-revoke');
    // Authenticate once so the principal is cached: revocation must still take effect at once.
    assert.equal((await h.req('GET', '/v1/nodes', { token: key.secret })).status, 200);

    const del = await h.admin('DELETE', `/v1/api-keys/${key.id}`);
    assert.equal(del.status, 204);
    assert.equal(await del.text(), '');

    const res = await h.req('GET', '/v1/nodes', { token: key.secret });
    await expectError(res, 401, 'unauthorized');

    const list = await json<Page<KeyBody>>(await h.admin('GET', '/v1/api-keys?limit=500'), 200);
    assert.equal(list.items.find((k) => k.id === key.id)?.revoked_at, START);
  });
});

describe('scopes', () => {
  let keys: Record<'admin' | 'write' | 'read' | 'ingest', string>;
  let nodeToken: string;

  before(async () => {
    keys = {
      admin: (await h.createKey('admin', 'scope-admin')).secret,
      write: (await h.createKey('write', 'scope-write')).secret,
      read: (await h.createKey('read', 'scope-read')).secret,
      ingest: (await h.createKey('ingest', 'scope-ingest')).secret,
    };
    nodeToken = (await h.createNode('scope-target')).token;
  });

  const can = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await send(h.app, method, path, { token, json: body });
    await res.arrayBuffer();
    return res.status;
  };

  it('lets admin do everything: keys, node writes, reads and heartbeats', async () => {
    assert.equal(await can(keys.admin, 'POST', '/v1/api-keys', { name: 'by-admin', scope: 'read' }), 201);
    assert.equal(await can(keys.admin, 'GET', '/v1/api-keys'), 200);
    assert.equal(await can(keys.admin, 'POST', '/v1/nodes', { name: 'by-admin' }), 201);
    assert.equal(await can(keys.admin, 'GET', '/v1/nodes/scope-target'), 200);
    assert.equal(await can(keys.admin, 'POST', '/v1/heartbeats', { node: 'scope-target' }), 202);
  });

  it('lets write do node writes, reads and heartbeats but not manage keys', async () => {
    assert.equal(await can(keys.write, 'POST', '/v1/api-keys', { name: 'by-write', scope: 'read' }), 403);
    assert.equal(await can(keys.write, 'GET', '/v1/api-keys'), 403);
    assert.equal(await can(keys.write, 'POST', '/v1/nodes', { name: 'by-write' }), 201);
    assert.equal(await can(keys.write, 'PATCH', '/v1/nodes/by-write', { grace_seconds: 5 }), 200);
    assert.equal(await can(keys.write, 'GET', '/v1/nodes'), 200);
    assert.equal(await can(keys.write, 'POST', '/v1/heartbeats', { node: 'scope-target' }), 202);
  });

  it('lets read only read', async () => {
    assert.equal(await can(keys.read, 'GET', '/v1/nodes'), 200);
    assert.equal(await can(keys.read, 'GET', '/v1/nodes/scope-target'), 200);
    assert.equal(await can(keys.read, 'GET', '/v1/nodes/scope-target/transitions'), 200);
    assert.equal(await can(keys.read, 'POST', '/v1/nodes', { name: 'by-read' }), 403);
    assert.equal(await can(keys.read, 'PATCH', '/v1/nodes/scope-target', { grace_seconds: 5 }), 403);
    assert.equal(await can(keys.read, 'POST', '/v1/nodes/scope-target/token'), 403);
    assert.equal(await can(keys.read, 'DELETE', '/v1/nodes/scope-target'), 403);
    assert.equal(await can(keys.read, 'POST', '/v1/heartbeats', { node: 'scope-target' }), 403);
    assert.equal(await can(keys.read, 'GET', '/v1/api-keys'), 403);
  });

  it('lets an ingest key post heartbeats and nothing else', async () => {
    assert.equal(await can(keys.ingest, 'POST', '/v1/heartbeats', { node: 'scope-target' }), 202);
    assert.equal(await can(keys.ingest, 'GET', '/v1/nodes'), 403);
    assert.equal(await can(keys.ingest, 'GET', '/v1/nodes/scope-target'), 403);
    assert.equal(await can(keys.ingest, 'POST', '/v1/nodes', { name: 'by-ingest' }), 403);
    assert.equal(await can(keys.ingest, 'GET', '/v1/api-keys'), 403);
  });

  it('lets a node token post heartbeats for its node and nothing else', async () => {
    assert.equal(await can(nodeToken, 'POST', '/v1/heartbeats', {}), 202);
    assert.equal(await can(nodeToken, 'GET', '/v1/nodes'), 403);
    assert.equal(await can(nodeToken, 'GET', '/v1/nodes/scope-target'), 403);
    assert.equal(await can(nodeToken, 'POST', '/v1/nodes', { name: 'by-node' }), 403);
    assert.equal(await can(nodeToken, 'POST', '/v1/nodes/scope-target/token'), 403);
  });
});

describe('nodes', () => {
  it('creates a node with the contract defaults and returns its token once', async () => {
    const res = await h.admin('POST', '/v1/nodes', { name: 'web-1.example:8080' });
    const node = await json<NodeWithToken>(res, 201);
    assert.match(node.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.match(node.token, /^lln_[A-Za-z0-9_-]{40,}$/);
    // The badge id is public-facing and random, and has nothing to do with the token.
    const { id, token, badge_id, ping_key, ...rest } = node;
    assert.match(badge_id, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(!token.includes(badge_id));
    // So is the ping key, and it is not the badge id either.
    assert.match(ping_key, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(!token.includes(ping_key) && ping_key !== badge_id);
    assert.deepEqual(rest, {
      name: 'web-1.example:8080',
      labels: {},
      heartbeat_interval_seconds: 30,
      grace_seconds: 0,
      failures_for_down: 3,
      successes_for_recovery: 1,
      escalation_policy_id: null,
      schedule: null,
      ping_url: null,
      created_at: START,
      updated_at: START,
      health: {
        state: 'unknown',
        since: START,
        reason: null,
        state_version: 0,
        last_heartbeat_at: null,
        missed_heartbeats: 0,
        last_status: null,
        checks: null,
        next_due_at: null,
        grace_ends_at: null,
      },
    });

    const [row] = await h.sql`select * from nodes where id = ${id}`;
    assert.equal(row!.token_hash, hashSecret(token));
    assert.ok(!JSON.stringify(row).includes(token.slice(4)), 'the stored row must not contain the token');

    const got = await json<Record<string, unknown>>(await h.admin('GET', `/v1/nodes/${id}`), 200);
    assert.equal(got.token, undefined, 'the token is not shown again');
    assert.ok(!JSON.stringify(got).includes(token));
  });

  it('creates a node with every setting given', async () => {
    const node = await h.createNode('db-primary', {
      labels: { env: 'prod', 'team/owner': 'data' },
      heartbeat_interval_seconds: 10,
      grace_seconds: 5,
      failures_for_down: 2,
      successes_for_recovery: 3,
    });
    assert.deepEqual(node.labels, { env: 'prod', 'team/owner': 'data' });
    assert.equal(node.heartbeat_interval_seconds, 10);
    assert.equal(node.grace_seconds, 5);
    assert.equal(node.failures_for_down, 2);
    assert.equal(node.successes_for_recovery, 3);
  });

  it('gets a node by id and by name, identically', async () => {
    const created = await h.createNode('lookup-me', { labels: { a: 'b' } });
    const byId = await json<NodeBody>(await h.admin('GET', `/v1/nodes/${created.id}`), 200);
    const byName = await json<NodeBody>(await h.admin('GET', '/v1/nodes/lookup-me'), 200);
    assert.deepEqual(byId, byName);
    const { token, ...withoutToken } = created;
    assert.ok(token);
    assert.deepEqual(byId, withoutToken);
  });

  it('gives nodes ids that sort in the order they were created, created or auto-registered', async () => {
    // Time-ordered ids keep a node's rows in id order on disk, which the evaluator's walk by node
    // id relies on; random ones would leave these 8 in order once in 40,320.
    const ingest = await h.createKey('ingest', 'id-order');
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      if (i % 2 === 0) ids.push((await h.createNode(`id-order-${i}`)).id);
      else {
        assert.equal((await h.req('POST', '/v1/heartbeats', { token: ingest.secret, json: { node: `id-order-${i}` } })).status, 202);
        ids.push((await json<NodeBody>(await h.admin('GET', `/v1/nodes/id-order-${i}`), 200)).id);
      }
    }
    assert.deepEqual([...ids].sort(), ids);
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'version 7');
  });

  it('lists nodes filtered by state and by label', async () => {
    const a = await h.createNode('filter-a', { labels: { tier: 'prod', role: 'web' } });
    await h.createNode('filter-b', { labels: { tier: 'staging', role: 'web' } });
    const c = await h.createNode('filter-c', { labels: { tier: 'prod', role: 'db' } });
    // The evaluator owns node_health; set states directly so the filter has something to tell apart.
    await h.sql`update node_health set state = 'down', version = 1 where node_id = ${a.id}`;
    await h.sql`update node_health set state = 'healthy', version = 1 where node_id = ${c.id}`;

    const prod = await json<Page<NodeBody>>(await h.admin('GET', '/v1/nodes?label=tier:prod'), 200);
    assert.deepEqual(prod.items.map((n) => n.name), ['filter-a', 'filter-c']);
    assert.equal(prod.next_cursor, null);

    const down = await json<Page<NodeBody>>(await h.admin('GET', '/v1/nodes?state=down'), 200);
    assert.deepEqual(down.items.map((n) => n.name), ['filter-a']);
    assert.equal(down.items[0]!.health.state, 'down');

    const both = await json<Page<NodeBody>>(await h.admin('GET', '/v1/nodes?state=healthy&label=tier:prod'), 200);
    assert.deepEqual(both.items.map((n) => n.name), ['filter-c']);

    const none = await json<Page<NodeBody>>(await h.admin('GET', '/v1/nodes?state=maintenance&label=tier:prod'), 200);
    assert.deepEqual(none, { items: [], next_cursor: null });

    // A label value may itself contain a colon: only the first one splits key from value.
    await h.createNode('filter-d', { labels: { endpoint: 'http://x:9100' } });
    const colon = await json<Page<NodeBody>>(await h.admin('GET', `/v1/nodes?label=${encodeURIComponent('endpoint:http://x:9100')}`), 200);
    assert.deepEqual(colon.items.map((n) => n.name), ['filter-d']);

    // key=value, as labels are written everywhere else (the CLI, the console), reads the same.
    const typed = await json<Page<NodeBody>>(await h.admin('GET', `/v1/nodes?label=${encodeURIComponent('tier=prod')}`), 200);
    assert.deepEqual(typed.items.map((n) => n.name), ['filter-a', 'filter-c']);
    // Whichever of = and : comes first ends the key; the value may hold the other.
    const mixed = await json<Page<NodeBody>>(await h.admin('GET', `/v1/nodes?label=${encodeURIComponent('endpoint=http://x:9100')}`), 200);
    assert.deepEqual(mixed.items.map((n) => n.name), ['filter-d']);
    const fleet = await json<Page<{ name: string }>>(await h.admin('GET', `/v1/uptime?label=${encodeURIComponent('tier=prod')}`), 200);
    assert.deepEqual(fleet.items.map((u) => u.name), ['filter-a', 'filter-c']);

    // Repeated, every label must match, in the list and the fleet report alike; none is dropped.
    for (const path of ['/v1/nodes', '/v1/uptime']) {
      const all = await json<Page<{ name: string }>>(await h.admin('GET', `${path}?label=tier=prod&label=role=web`), 200);
      assert.deepEqual(all.items.map((n) => n.name), ['filter-a'], path);
      const clash = await json<Page<{ name: string }>>(await h.admin('GET', `${path}?label=tier=prod&label=tier=staging`), 200);
      assert.deepEqual(clash.items, [], path);
      const many = Array.from({ length: 21 }, (_, i) => `label=k${i}=v`).join('&');
      await expectInvalid(await h.admin('GET', `${path}?${many}`), ['label']);
      await expectInvalid(await h.admin('GET', `${path}?label=tier=prod&label=nocolon`), ['label.1']);
    }
  });

  it('walks 5 nodes with limit 2 in three pages, each node exactly once, in name order', async () => {
    const names = ['page-e', 'page-a', 'page-d', 'page-c', 'page-b'];
    for (const n of names) await h.createNode(n, { labels: { suite: 'paging' } });
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const path: string = `/v1/nodes?label=suite:paging&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page: Page<NodeBody> = await json<Page<NodeBody>>(await h.admin('GET', path), 200);
      pages.push(page.items.map((n) => n.name));
      cursor = page.next_cursor;
      assert.ok(pages.length <= 5, 'pagination must terminate');
    } while (cursor !== null);
    assert.deepEqual(pages, [['page-a', 'page-b'], ['page-c', 'page-d'], ['page-e']]);
  });

  it('walks every node unfiltered with limit 2 without duplicates or omissions', async () => {
    const all = (await h.sql`select name from nodes order by name`).map((r) => r.name as string);
    assert.ok(all.length >= 5);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const path: string = `/v1/nodes?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page: Page<NodeBody> = await json<Page<NodeBody>>(await h.admin('GET', path), 200);
      assert.ok(page.items.length >= 1 && page.items.length <= 2);
      seen.push(...page.items.map((n) => n.name));
      cursor = page.next_cursor;
      assert.ok(seen.length <= all.length, 'pagination must terminate');
    } while (cursor !== null);
    assert.deepEqual(seen, all);
  });

  it('uses the default limit of 50 when none is given', async () => {
    const page = await json<Page<NodeBody>>(await h.admin('GET', '/v1/nodes'), 200);
    const [{ n }] = (await h.sql`select count(*)::int as n from nodes`) as unknown as [{ n: number }];
    assert.equal(page.items.length, Math.min(50, n));
    assert.equal(page.next_cursor === null, n <= 50);
  });

  it('patches settings, labels and the name, and updated_at moves with the clock', async () => {
    const node = await h.createNode('patch-me', { labels: { old: 'yes' } });
    h.clock.advance(60_000);
    const patched = await json<NodeBody>(
      await h.admin('PATCH', `/v1/nodes/${node.id}`, {
        name: 'patched',
        labels: { new: 'yes' },
        heartbeat_interval_seconds: 15,
        grace_seconds: 7,
        failures_for_down: 4,
        successes_for_recovery: 2,
      }),
      200,
    );
    assert.equal(patched.id, node.id);
    assert.equal(patched.name, 'patched');
    assert.deepEqual(patched.labels, { new: 'yes' }, 'labels are replaced, not merged');
    assert.equal(patched.heartbeat_interval_seconds, 15);
    assert.equal(patched.grace_seconds, 7);
    assert.equal(patched.failures_for_down, 4);
    assert.equal(patched.successes_for_recovery, 2);
    assert.equal(patched.created_at, node.created_at);
    assert.equal(patched.updated_at, h.clock.now().toISOString());

    // A partial patch leaves other fields alone; the node is found by its new name.
    const again = await json<NodeBody>(await h.admin('PATCH', '/v1/nodes/patched', { grace_seconds: 0 }), 200);
    assert.equal(again.grace_seconds, 0);
    assert.equal(again.heartbeat_interval_seconds, 15);
    assert.deepEqual(again.labels, { new: 'yes' });
    await expectError(await h.admin('GET', '/v1/nodes/patch-me'), 404, 'not_found');
  });

  it('deletes a node (204, empty body) after which it is 404 by id and by name', async () => {
    const node = await h.createNode('delete-me');
    await h.sql`insert into node_state_log (node_id, state_version, from_state, to_state, at) values (${node.id}, 1, 'unknown', 'healthy', now())`;
    const res = await h.admin('DELETE', `/v1/nodes/${node.id}`);
    assert.equal(res.status, 204);
    assert.equal(await res.text(), '');
    await expectError(await h.admin('GET', `/v1/nodes/${node.id}`), 404, 'not_found');
    await expectError(await h.admin('GET', '/v1/nodes/delete-me'), 404, 'not_found');
    await expectError(await h.admin('DELETE', `/v1/nodes/${node.id}`), 404, 'not_found');
    const rows = await h.sql`select 1 from node_heartbeats where node_id = ${node.id}`;
    assert.equal(rows.length, 0, 'its heartbeat row goes with it');
    assert.equal((await h.sql`select 1 from node_state_log where node_id = ${node.id}`).length, 0, 'and its state history');
    // Its token no longer authenticates.
    await expectError(await h.req('POST', '/v1/heartbeats', { token: node.token, json: {} }), 401, 'unauthorized');
  });

  it('answers a method the path does not take with 405 and Allow, in the error shape, not 404', async () => {
    await h.createNode('method-1');
    const res = await h.admin('PUT', '/v1/nodes/method-1', { name: 'method-2' });
    const body = await json<{ error: { code: string; message: string } }>(res, 405);
    assert.equal(body.error.code, 'method_not_allowed');
    assert.deepEqual(res.headers.get('allow')?.split(', ').sort(), ['DELETE', 'GET', 'HEAD', 'PATCH']);
    assert.match(body.error.message, /PUT/);
    // A path no route has stays 404.
    await expectError(await h.admin('PUT', '/v1/nowhere', {}), 404, 'not_found');
    assert.equal((await json<{ name: string }>(await h.admin('GET', '/v1/nodes/method-1'), 200)).name, 'method-1', 'nothing changed');
  });

  it('deletes a node by name', async () => {
    await h.createNode('delete-by-name');
    assert.equal((await h.admin('DELETE', '/v1/nodes/delete-by-name')).status, 204);
    await expectError(await h.admin('GET', '/v1/nodes/delete-by-name'), 404, 'not_found');
  });

  it('rotates a node token: the old one is refused at once, the new one works', async () => {
    const node = await h.createNode('rotate-me');
    // Use the old token first so it sits in the authentication cache.
    assert.equal((await h.req('POST', '/v1/heartbeats', { token: node.token, json: {} })).status, 202);

    const res = await h.admin('POST', '/v1/nodes/rotate-me/token');
    const rotated = await json<NodeBody & { token: string }>(res, 200);
    assert.equal(rotated.id, node.id);
    assert.match(rotated.token, /^lln_/);
    assert.notEqual(rotated.token, node.token);
    const [row] = await h.sql`select token_hash from nodes where id = ${node.id}`;
    assert.equal(row!.token_hash, hashSecret(rotated.token));

    await expectError(await h.req('POST', '/v1/heartbeats', { token: node.token, json: {} }), 401, 'unauthorized');
    const ok = await h.req('POST', '/v1/heartbeats', { token: rotated.token, json: { status: 'ok' } });
    assert.deepEqual(await json(ok, 202), { accepted: 1 });
  });

  it('lists transitions of a node that has none as an empty page', async () => {
    const node = await h.createNode('no-history');
    const byId = await json(await h.admin('GET', `/v1/nodes/${node.id}/transitions`), 200);
    assert.deepEqual(byId, { items: [], next_cursor: null });
    const byName = await json(await h.admin('GET', '/v1/nodes/no-history/transitions?limit=10'), 200);
    assert.deepEqual(byName, { items: [], next_cursor: null });
  });
});

describe('heartbeats', () => {
  it('accepts a single heartbeat with a node token and persists it at the receive time', async () => {
    const node = await h.createNode('hb-single');
    h.clock.advance(1_000);
    const receivedAt = h.clock.now();
    const res = await h.req('POST', '/v1/heartbeats', {
      token: node.token,
      json: {
        status: 'degraded',
        checks: { disk: { status: 'warn', value: 91.5, message: 'disk 91% full' } },
        // An agent's clock is never trusted: this far-past time must not be stored.
        sent_at: '2001-01-01T00:00:00.000Z',
        seq: 7,
      },
    });
    assert.deepEqual(await json(res, 202), { accepted: 1 });
    assert.equal(h.buffer.size >= 1, true);

    h.clock.advance(250);
    await h.flush();
    const row = await h.heartbeatRow(node.id);
    assert.ok(row);
    assert.equal(row.last_heartbeat_at?.toISOString(), receivedAt.toISOString());
    assert.equal(row.last_status, 'degraded');
    assert.deepEqual(row.checks, { disk: { status: 'warn', value: 91.5, message: 'disk 91% full' } });
    assert.equal(row.last_seq, 7);
    assert.equal(row.received, 1);

    const shown = await json<NodeBody>(await h.admin('GET', `/v1/nodes/${node.id}`), 200);
    assert.equal(shown.health.last_heartbeat_at, receivedAt.toISOString());
    assert.equal(shown.health.last_status, 'degraded');
  });

  it('defaults status to ok and accepts a node token naming its own node by name or id', async () => {
    const node = await h.createNode('hb-own');
    assert.deepEqual(await json(await h.req('POST', '/v1/heartbeats', { token: node.token, json: { node: 'hb-own' } }), 202), { accepted: 1 });
    assert.deepEqual(await json(await h.req('POST', '/v1/heartbeats', { token: node.token, json: { node: node.id } }), 202), { accepted: 1 });
    await h.flush();
    const row = await h.heartbeatRow(node.id);
    assert.equal(row?.last_status, 'ok');
    assert.equal(row?.received, 2);
  });

  it('accepts a batch with a node token and counts every item', async () => {
    const node = await h.createNode('hb-batch-token');
    const res = await h.req('POST', '/v1/heartbeats', {
      token: node.token,
      json: { heartbeats: [{ seq: 1 }, { seq: 2, status: 'ok' }, { seq: 3, status: 'failing' }] },
    });
    assert.deepEqual(await json(res, 202), { accepted: 3 });
    await h.flush();
    const row = await h.heartbeatRow(node.id);
    assert.equal(row?.last_status, 'failing', 'the latest item wins');
    assert.equal(row?.last_seq, 3);
    assert.equal(row?.received, 3);
  });

  it('accepts an ingest key naming nodes by name and by id, singly and in a batch', async () => {
    const ingest = await h.createKey('ingest', 'hb-ingest');
    const a = await h.createNode('hb-ingest-a');
    const b = await h.createNode('hb-ingest-b');
    assert.deepEqual(await json(await h.req('POST', '/v1/heartbeats', { token: ingest.secret, json: { node: 'hb-ingest-a' } }), 202), { accepted: 1 });
    assert.deepEqual(await json(await h.req('POST', '/v1/heartbeats', { token: ingest.secret, json: { node: b.id } }), 202), { accepted: 1 });
    const batch = await h.req('POST', '/v1/heartbeats', {
      token: ingest.secret,
      json: { heartbeats: [{ node: a.id, status: 'degraded' }, { node: 'hb-ingest-b', checks: { cpu: { status: 'fail' } } }] },
    });
    assert.deepEqual(await json(batch, 202), { accepted: 2 });
    await h.flush();
    const ra = await h.heartbeatRow(a.id);
    const rb = await h.heartbeatRow(b.id);
    assert.equal(ra?.received, 2);
    assert.equal(ra?.last_status, 'degraded');
    assert.equal(rb?.received, 2);
    assert.deepEqual(rb?.checks, { cpu: { status: 'fail' } });
  });

  it('auto-registers an unknown node named by an ingest key, with the default settings', async () => {
    const ingest = await h.createKey('ingest', 'hb-autoreg');
    const before = await h.counts();
    const res = await h.req('POST', '/v1/heartbeats', { token: ingest.secret, json: { heartbeats: [{ node: 'auto-1' }, { node: 'auto-2', status: 'degraded' }] } });
    assert.deepEqual(await json(res, 202), { accepted: 2 });
    assert.equal((await h.counts()).nodes, before.nodes + 2);

    const node = await json<NodeBody>(await h.admin('GET', '/v1/nodes/auto-1'), 200);
    assert.deepEqual(node.labels, {});
    assert.equal(node.heartbeat_interval_seconds, 30);
    assert.equal(node.grace_seconds, 0);
    assert.equal(node.failures_for_down, 3);
    assert.equal(node.successes_for_recovery, 1);
    assert.equal(node.health.state, 'unknown');

    await h.flush();
    assert.equal((await h.heartbeatRow(node.id))?.received, 1);
    // A second heartbeat for the same name reuses the node.
    assert.equal((await h.req('POST', '/v1/heartbeats', { token: ingest.secret, json: { node: 'auto-1' } })).status, 202);
    assert.equal((await h.counts()).nodes, before.nodes + 2);
  });

  it('auto-registers a node with the interval its agent sends, and leaves a known node\'s interval alone', async () => {
    const ingest = await h.createKey('ingest', 'hb-autoreg-interval');
    const res = await h.req('POST', '/v1/heartbeats', { token: ingest.secret, json: { node: 'auto-every-10', interval_seconds: 10 } });
    assert.deepEqual(await json(res, 202), { accepted: 1 });
    const node = await json<NodeBody>(await h.admin('GET', '/v1/nodes/auto-every-10'), 200);
    assert.equal(node.heartbeat_interval_seconds, 10);
    // Only the API changes a node's settings: an agent restarted with another interval does not.
    assert.equal((await h.req('POST', '/v1/heartbeats', { token: ingest.secret, json: { node: 'auto-every-10', interval_seconds: 60 } })).status, 202);
    assert.equal((await json<NodeBody>(await h.admin('GET', '/v1/nodes/auto-every-10'), 200)).heartbeat_interval_seconds, 10);
    const before = await h.counts();
    const bad = await h.req('POST', '/v1/heartbeats', { token: ingest.secret, json: { node: 'auto-every-0', interval_seconds: 0 } });
    await expectInvalid(bad, ['interval_seconds']);
    assert.equal((await h.counts()).nodes, before.nodes, 'nothing registered');
  });

  it('does not auto-register for a write key: 404 and nothing created', async () => {
    const write = await h.createKey('write', 'hb-no-autoreg');
    const res = await h.rejected(() => h.req('POST', '/v1/heartbeats', { token: write.secret, json: { node: 'never-created' } }));
    const err = await expectError(res, 404, 'not_found');
    assert.match(err.message, /never-created/);
    const rows = await h.sql`select 1 from nodes where name = 'never-created'`;
    assert.equal(rows.length, 0);
  });

  it('does not auto-register when auto-registration is off, even for an ingest key: a batch stores its known nodes', async () => {
    const ingest = await h.createKey('ingest', 'hb-autoreg-off');
    const off = buildApp({ sql: h.sql, clock: h.clock, buffer: h.buffer, autoRegister: false });
    const known = await h.createNode('known-when-off');
    const gone = '0b5e2c4e-6d0a-4b8e-9a53-1c2f7e4d9a10';
    // A bridge whose list still names a node nobody has (a deleted one) keeps its fleet reporting.
    const res = await send(off.app, 'POST', '/v1/heartbeats', {
      token: ingest.secret,
      json: { heartbeats: [{ node: 'known-when-off', status: 'degraded' }, { node: 'unknown-when-off' }, { node: gone }, { node: 'unknown-when-off' }] },
    });
    const body = await json<{ accepted: number; refused: { node: string; message: string }[] }>(res, 202);
    assert.equal(body.accepted, 1);
    assert.deepEqual(body.refused, [
      { node: 'unknown-when-off', message: 'No node has this name, and auto-registration is off (LIFELINE_AUTO_REGISTER).' },
      { node: gone, message: 'No node has this id.' },
    ]);
    assert.equal((await h.sql`select 1 from nodes where name = 'unknown-when-off'`).length, 0);
    await h.flush();
    const row = await h.heartbeatRow(known.id);
    assert.equal(row?.received, 1);
    assert.equal(row?.last_status, 'degraded');

    // Naming only unknown nodes stores nothing: the sender gets the error, batch or not.
    const none = await h.rejected(() =>
      send(off.app, 'POST', '/v1/heartbeats', { token: ingest.secret, json: { heartbeats: [{ node: 'unknown-when-off' }, { node: gone }] } }),
    );
    assert.match((await expectError(none, 404, 'not_found')).message, /^Unknown nodes: unknown-when-off, 0b5e2c4e/);
    const single = await h.rejected(() => send(off.app, 'POST', '/v1/heartbeats', { token: ingest.secret, json: { node: 'unknown-when-off' } }));
    await expectError(single, 404, 'not_found');
    // Known nodes still work with auto-registration off.
    assert.equal((await send(off.app, 'POST', '/v1/heartbeats', { token: ingest.secret, json: { node: known.id } })).status, 202);
  });

  it('stores a write key\'s batch for its known nodes, refusing the names it may not register; an ingest key registers names, not ids', async () => {
    const write = await h.createKey('write', 'hb-write-batch');
    const ingest = await h.createKey('ingest', 'hb-ingest-batch');
    const known = await h.createNode('known-to-write');
    const gone = '5d1f3a9b-2c7e-4f60-8b14-9e0a6c3d2b71';
    const before = await h.counts();
    const res = await h.req('POST', '/v1/heartbeats', { token: write.secret, json: { heartbeats: [{ node: 'not-for-write' }, { node: known.id }] } });
    assert.deepEqual(await json(res, 202), {
      accepted: 1,
      refused: [{ node: 'not-for-write', message: 'No node has this name, and only an ingest key registers nodes.' }],
    });
    assert.equal((await h.counts()).nodes, before.nodes, 'nothing registered');
    const mixed = await h.req('POST', '/v1/heartbeats', { token: ingest.secret, json: { heartbeats: [{ node: gone }, { node: 'new-by-ingest' }, { node: 'known-to-write' }] } });
    assert.deepEqual(await json(mixed, 202), { accepted: 2, refused: [{ node: gone, message: 'No node has this id.' }] });
    assert.equal((await h.counts()).nodes, before.nodes + 1, 'the new name was registered');
    await h.flush();
    assert.equal((await h.heartbeatRow(known.id))?.received, 2);
    const registered = await json<NodeBody>(await h.admin('GET', '/v1/nodes/new-by-ingest'), 200);
    assert.equal((await h.heartbeatRow(registered.id))?.received, 1);
  });

  it('ignores a stale seq (already buffered) but still counts it as accepted', async () => {
    const node = await h.createNode('hb-stale-buffered');
    assert.deepEqual(await json(await h.req('POST', '/v1/heartbeats', { token: node.token, json: { seq: 10, status: 'ok' } }), 202), { accepted: 1 });
    const stale = await h.req('POST', '/v1/heartbeats', { token: node.token, json: { seq: 9, status: 'failing' } });
    assert.deepEqual(await json(stale, 202), { accepted: 1 });
    await h.flush();
    const row = await h.heartbeatRow(node.id);
    assert.equal(row?.last_status, 'ok');
    assert.equal(row?.last_seq, 10);
    assert.equal(row?.received, 1, 'the stale heartbeat is not counted as received');
  });

  it('ignores a stale seq (already stored) but still counts it as accepted', async () => {
    const node = await h.createNode('hb-stale-stored');
    await json(await h.req('POST', '/v1/heartbeats', { token: node.token, json: { seq: 10 } }), 202);
    await h.flush();
    const storedAt = (await h.heartbeatRow(node.id))?.last_heartbeat_at?.toISOString();
    h.clock.advance(5_000);
    const stale = await h.req('POST', '/v1/heartbeats', { token: node.token, json: { heartbeats: [{ seq: 3, status: 'failing' }, { seq: 10, status: 'failing' }] } });
    assert.deepEqual(await json(stale, 202), { accepted: 2 });
    await h.flush();
    const row = await h.heartbeatRow(node.id);
    assert.equal(row?.last_status, 'ok');
    assert.equal(row?.last_seq, 10);
    assert.equal(row?.last_heartbeat_at?.toISOString(), storedAt);
    assert.equal(row?.received, 1);
    // A newer seq is applied again.
    await json(await h.req('POST', '/v1/heartbeats', { token: node.token, json: { seq: 11, status: 'degraded' } }), 202);
    await h.flush();
    assert.equal((await h.heartbeatRow(node.id))?.last_status, 'degraded');
  });

  /** The stored seq as text (2^53-1 does not fit the harness's int) and the last heartbeat's time. */
  const stored = async (nodeId: string) => {
    const [row] = await h.sql<{ last_seq: string | null; at: Date | null }[]>`
      select last_seq::text, last_heartbeat_at as at from node_heartbeats where node_id = ${nodeId}`;
    return { seq: row!.last_seq, at: row!.at?.getTime() };
  };

  it('takes a lower seq (its seq only) once the stored heartbeat is one interval old, so one huge seq cannot silence a node', async () => {
    const node = await h.createNode('hb-seq-restart', { heartbeat_interval_seconds: 30 });
    const huge = { seq: Number.MAX_SAFE_INTEGER, status: 'ok' };
    await json(await h.req('POST', '/v1/heartbeats', { token: node.token, json: huge }), 202);
    await h.flush();
    const first = await stored(node.id);
    assert.equal(first.seq, String(Number.MAX_SAFE_INTEGER));
    // Within the interval a lower seq is a replay, and ignored.
    h.clock.advance(29_999);
    await json(await h.req('POST', '/v1/heartbeats', { token: node.token, json: { seq: 1, status: 'failing' } }), 202);
    await h.flush();
    assert.deepEqual(await stored(node.id), first);
    // One interval after the last stored heartbeat the sender may have started again: its seq is
    // taken, not its status (it may as well be a late copy of an older heartbeat).
    h.clock.advance(1);
    await json(await h.req('POST', '/v1/heartbeats', { token: node.token, json: { seq: 2, status: 'degraded' } }), 202);
    await h.flush();
    assert.deepEqual(await stored(node.id), { seq: '2', at: first.at });
    assert.equal((await h.heartbeatRow(node.id))?.last_status, 'ok');
    // Its next heartbeat is stored, and from there its seq counts as ever.
    h.clock.advance(1_000);
    await json(await h.req('POST', '/v1/heartbeats', { token: node.token, json: { seq: 3, status: 'degraded' } }), 202);
    await h.flush();
    assert.deepEqual(await stored(node.id), { seq: '3', at: h.clock.now().getTime() });
    h.clock.advance(1_000);
    await json(await h.req('POST', '/v1/heartbeats', { token: node.token, json: { seq: 1, status: 'failing' } }), 202);
    await h.flush();
    assert.equal((await stored(node.id)).seq, '3');
    assert.equal((await h.heartbeatRow(node.id))?.last_status, 'degraded');
  });

  it("forgets the stored seq when the node's token is rotated", async () => {
    const node = await h.createNode('hb-seq-rotated', { heartbeat_interval_seconds: 3600 });
    await json(await h.req('POST', '/v1/heartbeats', { token: node.token, json: { seq: Number.MAX_SAFE_INTEGER } }), 202);
    await h.flush();
    const { token } = await json<{ token: string }>(await h.admin('POST', `/v1/nodes/${node.id}/token`), 200);
    h.clock.advance(1_000);
    await json(await h.req('POST', '/v1/heartbeats', { token, json: { seq: 1, status: 'degraded' } }), 202);
    await h.flush();
    assert.deepEqual(await stored(node.id), { seq: '1', at: h.clock.now().getTime() });
  });
});

describe('operations endpoints', () => {
  it('answers /healthz with 200', async () => {
    const res = await h.req('GET', '/healthz');
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  });

  it('answers /readyz with 200 when Postgres and Redis answer', async () => {
    h.setRedisUp(true);
    const res = await h.req('GET', '/readyz');
    assert.equal(res.status, 200, await res.clone().text());
    await res.arrayBuffer();
  });

  it('warns in /readyz while no escalation policy is the default, and while email channels wait on SMTP_URL', async () => {
    const readiness = async () => expectJson<{ status: string; warnings?: string[] }>(await h.req('GET', '/readyz'), 200);
    assert.deepEqual(await readiness(), { status: 'ready', queue: 'redis', warnings: [NO_DEFAULT_POLICY] });
    const channel = await expectJson<{ id: string }>(await h.admin('POST', '/v1/channels', { name: 'readyz-mail', type: 'email', config: { to: ['ops@example.com'] } }), 201);
    assert.deepEqual(await readiness(), { status: 'ready', queue: 'redis', warnings: [NO_DEFAULT_POLICY, EMAIL_UNCONFIGURED] });
    const policy = await expectJson<{ id: string }>(
      await h.admin('POST', '/v1/escalation-policies', { name: 'readyz-default', is_default: true, levels: [{ after_seconds: 0, channel_ids: [channel.id] }] }),
      201,
    );
    assert.deepEqual(await readiness(), { status: 'ready', queue: 'redis', warnings: [EMAIL_UNCONFIGURED] });
    assert.equal((await h.admin('DELETE', `/v1/escalation-policies/${policy.id}`)).status, 204);
    assert.equal((await h.admin('DELETE', `/v1/channels/${channel.id}`)).status, 204);
    assert.deepEqual(await readiness(), { status: 'ready', queue: 'redis', warnings: [NO_DEFAULT_POLICY] });
  });

  // /readyz needs no secret and is served on the public port: it counts such people, never names them.
  it('counts in /readyz, without naming them, the people only email could reach while SMTP_URL is unset', async () => {
    const user = await expectJson<{ id: string }>(await h.admin('POST', '/v1/users', { name: 'Quinn Readyz', email: 'quinn@example.com' }), 201);
    const policy = await expectJson<{ id: string }>(
      await h.admin('POST', '/v1/escalation-policies', { name: 'readyz-people', is_default: true, levels: [{ after_seconds: 0, channel_ids: [], user_ids: [user.id] }] }),
      201,
    );
    const res = await h.req('GET', '/readyz');
    const body = await res.text();
    assert.equal(res.status, 200, body);
    assert.deepEqual(JSON.parse(body).warnings, [unreachablePeople([{ id: user.id, name: 'Quinn Readyz' }], false)]);
    assert.ok(!body.includes('Quinn') && !body.includes('quinn'), body);
    assert.equal((await h.admin('DELETE', `/v1/escalation-policies/${policy.id}`)).status, 204);
    assert.equal((await h.admin('DELETE', `/v1/users/${user.id}`)).status, 204);
  });

  it('answers /readyz with 503 naming redis when Redis does not answer', async () => {
    h.setRedisUp(false);
    try {
      const res = await h.req('GET', '/readyz');
      const text = await res.text();
      assert.equal(res.status, 503, text);
      const body = JSON.parse(text) as { down?: string[] };
      assert.deepEqual(body.down, ['redis']);
      assert.ok(!text.includes('postgres'), 'Postgres is up and must not be named');
    } finally {
      h.setRedisUp(true);
    }
  });

  it('labels request durations by route pattern, never by a node id or name', async () => {
    const node = await h.createNode('metrics-node-name');
    await json(await h.admin('GET', `/v1/nodes/${node.id}`), 200);
    await json(await h.admin('GET', '/v1/nodes/metrics-node-name'), 200);
    await json(await h.admin('PATCH', '/v1/nodes/metrics-node-name', { grace_seconds: 1 }), 200);
    await json(await h.admin('GET', '/v1/nodes/metrics-node-name/transitions'), 200);
    await expectError(await h.admin('GET', '/v1/nodes/metrics-missing-name'), 404, 'not_found');
    await expectError(await h.admin('GET', '/no/such/metrics-route'), 404, 'not_found');
    await json(await h.req('POST', '/v1/heartbeats', { token: node.token, json: {} }), 202);

    const res = await h.req('GET', '/metrics');
    const text = await res.text();
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(text, /^# TYPE lifeline_http_request_duration_seconds histogram$/m);
    assert.match(text, /lifeline_http_request_duration_seconds_count\{[^}]*method="GET"[^}]*route="\/v1\/nodes\/:id"[^}]*status="200"[^}]*\} [1-9]/);
    assert.match(text, /lifeline_http_request_duration_seconds_count\{[^}]*route="\/v1\/nodes\/:id"[^}]*status="404"[^}]*\} [1-9]/);
    assert.match(text, /lifeline_http_request_duration_seconds_count\{[^}]*method="PATCH"[^}]*route="\/v1\/nodes\/:id"/);
    assert.match(text, /lifeline_http_request_duration_seconds_count\{[^}]*route="\/v1\/nodes\/:id\/transitions"/);
    assert.match(text, /lifeline_http_request_duration_seconds_count\{[^}]*method="POST"[^}]*route="\/v1\/heartbeats"[^}]*status="202"/);
    assert.ok(!text.includes(node.id), 'no node id in any label');
    assert.ok(!text.includes('metrics-node-name'), 'no node name in any label');
    assert.ok(!text.includes('metrics-missing-name'), 'no requested name in any label');
    assert.ok(!text.includes('metrics-route'), 'no unmatched path in any label');
    const routes = new Set([...text.matchAll(/lifeline_http_request_duration_seconds_count\{[^}]*route="([^"]*)"/g)].map((m) => m[1]!));
    for (const r of routes) {
      assert.ok(r === 'unmatched' || /^\/[A-Za-z0-9/:*_-]*$/.test(r), `route label "${r}" is a pattern`);
      assert.ok(!/[0-9a-f]{8}-[0-9a-f]{4}/.test(r), `route label "${r}" carries no id`);
    }
  });

  it('counts refused heartbeats, one per heartbeat, by reason, under the heartbeats route', async () => {
    const rejected = async () => {
      const text = await h.metrics.registry.metrics();
      const by: Record<string, number> = {};
      for (const m of text.matchAll(/^lifeline_heartbeats_received_total\{([^}]*)\} (\d+)$/gm)) {
        if (!m[1]!.includes('result="rejected"')) continue;
        const reason = /reason="([^"]*)"/.exec(m[1]!)?.[1] ?? '(none)';
        by[reason] = (by[reason] ?? 0) + Number(m[2]);
      }
      return { by, text };
    };
    const before = (await rejected()).by;
    // An agent's commonest mistake: a token that is not (or no longer) valid.
    await expectError(await h.req('POST', '/v1/heartbeats', { token: 'lln_not-a-valid-node-token', json: {} }), 401, 'unauthorized');
    const node = await h.createNode('refusals-counted');
    // A batch of three the route refuses as a whole: three heartbeats refused, not one request.
    await expectError(await h.req('POST', '/v1/heartbeats', { token: node.token, json: { heartbeats: [{ status: 'bogus' }, {}, {}] } }), 400, 'validation_failed');
    const write = await h.createKey('write', 'refusals-counted-writer');
    const partial = await h.req('POST', '/v1/heartbeats', { token: write.secret, json: { heartbeats: [{ node: 'refusals-counted' }, { node: 'refusals-nobody' }, { node: 'refusals-nobody' }] } });
    assert.equal(partial.status, 202, await partial.clone().text());
    const after = await rejected();
    const delta = (reason: string) => (after.by[reason] ?? 0) - (before[reason] ?? 0);
    assert.deepEqual(
      { unauthorized: delta('unauthorized'), invalid: delta('invalid'), unknown_node: delta('unknown_node'), without: delta('(none)') },
      { unauthorized: 1, invalid: 3, unknown_node: 2, without: 0 },
    );
    assert.match(after.text, /lifeline_http_request_duration_seconds_count\{[^}]*method="POST"[^}]*route="\/v1\/heartbeats"[^}]*status="401"[^}]*\} [1-9]/);
    assert.doesNotMatch(after.text, /lifeline_http_request_duration_seconds_count\{[^}]*route="\/v1\/\*"[^}]*status="401"/);
  });

  it('answers /metrics only with LIFELINE_METRICS_TOKEN as the Bearer secret when it is set', async () => {
    const token = 'metrics-scrape-token-0123456789';
    const { app } = buildApp({ sql: h.sql, clock: h.clock, buffer: h.buffer, metricsToken: token });
    for (const authorization of [undefined, 'Bearer wrong-token-of-some-length', `Bearer ${token}x`, `Basic ${token}`, token, `Bearer ${ADMIN_TOKEN}`]) {
      const res = await send(app, 'GET', '/metrics', { headers: authorization === undefined ? {} : { authorization } });
      const text = await res.text();
      assert.equal(res.status, 401, `${authorization}: ${text}`);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="metrics"');
      assert.ok(!text.includes('lifeline_'), 'no metric in a refusal');
    }
    const ok = await send(app, 'GET', '/metrics', { token });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /^# TYPE lifeline_nodes gauge$/m);
    // Probes stay open: an orchestrator has no token.
    for (const path of ['/healthz', '/readyz']) assert.equal((await send(app, 'GET', path)).status, 200, path);
  });

  it('labels a file named by its content hash with a fixed pattern, so a restyle adds no series', async () => {
    assert.match(STYLESHEET_PATH, /^\/assets\/lifeline-[0-9a-f]{12}\.css$/);
    const res = await h.req('GET', STYLESHEET_PATH);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const text = await h.metrics.registry.metrics();
    assert.match(text, /lifeline_http_request_duration_seconds_count\{[^}]*route="\/assets\/lifeline-:hash\.css"[^}]*status="200"[^}]*\} [1-9]/);
    assert.ok(!text.includes(STYLESHEET_PATH), 'no hash in any label');
  });

  it('serves /healthz, /readyz and /metrics without a secret', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      const res = await send(h.app, 'GET', path);
      assert.equal(res.status, 200, path);
      await res.arrayBuffer();
    }
  });
});
