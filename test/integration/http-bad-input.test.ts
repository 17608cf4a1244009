import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSql } from '../../src/db/client.ts';
import { openIncidents } from '../../src/incidents/store.ts';
import { LABEL_KEY_RULE, LABEL_VALUE_MAX, LABEL_VALUE_RULE } from '../../src/nodes/model.ts';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { ADMIN_TOKEN, buildApp, createHarness, expectError, expectInvalid, expectJson, send, START, type Body, type Harness } from '../helpers/app.ts';

let h: Harness;
let keys: Record<'write' | 'read' | 'ingest', { id: string; secret: string }>;
let nodeA: { id: string; name: string; token: string };
let nodeB: { id: string; name: string; token: string };

before(async () => {
  h = await createHarness();
  keys = {
    write: await h.createKey('write', 'bad-input-write'),
    read: await h.createKey('read', 'bad-input-read'),
    ingest: await h.createKey('ingest', 'bad-input-ingest'),
  };
  nodeA = await h.createNode('node-a');
  nodeB = await h.createNode('node-b');
});

after(async () => {
  await h?.close();
});

const JSON_TYPE = { 'content-type': 'application/json' };
const b64 = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url');
/** An id no row has. */
const UUID = '6f1c7c1e-2b0a-4c7e-9d7e-3b1f2a0c9e55';

/** POST/PATCH with a raw string body and explicit headers, authenticated as admin unless told. */
const raw = (method: string, path: string, body: Body, headers: Record<string, string>, token: string | undefined = ADMIN_TOKEN) =>
  h.req(method, path, { token, body, headers });

/** Every body-reading route, with a body it would accept. */
const bodyRoutes = () => [
  { method: 'POST', path: '/v1/nodes', good: { name: 'would-be-created' } },
  { method: 'PATCH', path: '/v1/nodes/node-a', good: { grace_seconds: 9 } },
  { method: 'POST', path: '/v1/api-keys', good: { name: 'would-be-key', scope: 'read' } },
  { method: 'POST', path: '/v1/heartbeats', good: { node: 'node-a', status: 'failing' } },
];

describe('401 unauthorized', () => {
  const routes: [string, string, unknown?][] = [
    ['GET', '/v1/nodes'],
    ['GET', '/v1/nodes/node-a'],
    ['POST', '/v1/nodes', { name: 'unauth-node' }],
    ['DELETE', '/v1/nodes/node-a'],
    ['POST', '/v1/api-keys', { name: 'unauth-key', scope: 'admin' }],
    ['POST', '/v1/heartbeats', { node: 'node-a', status: 'failing' }],
  ];

  it('rejects a request without an Authorization header', async () => {
    for (const [method, path, json] of routes) {
      const res = await h.rejected(() => send(h.app, method, path, { json }));
      await expectError(res, 401, 'unauthorized');
    }
  });

  it('rejects a malformed Authorization header', async () => {
    const malformed = ['', 'Bearer', 'Bearer ', `Token ${ADMIN_TOKEN}`, `Basic ${Buffer.from('root:x').toString('base64')}`, `Bearer ${ADMIN_TOKEN} extra`, ADMIN_TOKEN];
    for (const authorization of malformed) {
      for (const [method, path, json] of routes) {
        const res = await h.rejected(() => send(h.app, method, path, { json, headers: { authorization } }));
        await expectError(res, 401, 'unauthorized');
      }
    }
  });

  it('rejects an unknown secret, including one that differs from a real one by a character', async () => {
    const near = ADMIN_TOKEN.slice(0, -1) + (ADMIN_TOKEN.endsWith('x') ? 'y' : 'x');
    for (const secret of ['llk_not-a-real-secret', near, nodeA.token.toUpperCase()]) {
      for (const [method, path, json] of routes) {
        const res = await h.rejected(() => send(h.app, method, path, { token: secret, json }));
        await expectError(res, 401, 'unauthorized');
      }
    }
  });
});

describe('403 forbidden', () => {
  it('rejects a read key posting heartbeats', async () => {
    const res = await h.rejected(() => h.req('POST', '/v1/heartbeats', { token: keys.read.secret, json: { node: 'node-a', status: 'failing' } }));
    await expectError(res, 403, 'forbidden');
  });

  it('rejects an ingest key listing, reading or creating nodes', async () => {
    await expectError(await h.rejected(() => h.req('GET', '/v1/nodes', { token: keys.ingest.secret })), 403, 'forbidden');
    await expectError(await h.rejected(() => h.req('GET', '/v1/nodes/node-a', { token: keys.ingest.secret })), 403, 'forbidden');
    await expectError(await h.rejected(() => h.req('POST', '/v1/nodes', { token: keys.ingest.secret, json: { name: 'by-ingest' } })), 403, 'forbidden');
  });

  it('rejects a write key creating, listing or revoking API keys', async () => {
    await expectError(
      await h.rejected(() => h.req('POST', '/v1/api-keys', { token: keys.write.secret, json: { name: 'escalate', scope: 'admin' } })),
      403,
      'forbidden',
    );
    await expectError(await h.rejected(() => h.req('GET', '/v1/api-keys', { token: keys.write.secret })), 403, 'forbidden');
    await expectError(await h.rejected(() => h.req('DELETE', `/v1/api-keys/${keys.read.id}`, { token: keys.write.secret })), 403, 'forbidden');
  });

  it('rejects a node token naming another node in a single heartbeat, by name or by id', async () => {
    for (const other of [nodeB.name, nodeB.id, 'no-such-node']) {
      const res = await h.rejected(() => h.req('POST', '/v1/heartbeats', { token: nodeA.token, json: { node: other, status: 'failing' } }));
      await expectError(res, 403, 'forbidden');
    }
  });

  it('rejects a batch in which one item names another node and buffers none of its own items', async () => {
    const res = await h.rejected(() =>
      h.req('POST', '/v1/heartbeats', {
        token: nodeA.token,
        json: { heartbeats: [{ status: 'ok' }, { node: 'node-a', status: 'failing' }, { node: nodeB.id, status: 'failing' }] },
      }),
    );
    await expectError(res, 403, 'forbidden');
  });

  it('rejects a node token on anything but heartbeats', async () => {
    await expectError(await h.rejected(() => h.req('GET', '/v1/nodes', { token: nodeA.token })), 403, 'forbidden');
    await expectError(await h.rejected(() => h.req('POST', '/v1/nodes/node-a/token', { token: nodeA.token })), 403, 'forbidden');
    await expectError(await h.rejected(() => h.req('DELETE', '/v1/nodes/node-b', { token: nodeA.token })), 403, 'forbidden');
  });
});

describe('400 invalid_json', () => {
  it('rejects truncated or empty JSON on every body-reading route', async () => {
    for (const { method, path, good } of bodyRoutes()) {
      const text = JSON.stringify(good);
      for (const body of [text.slice(0, -1), text.slice(0, 5), '', '{"a": 1,}', "{'a': 1}", 'undefined']) {
        const res = await h.rejected(() => raw(method, path, body, JSON_TYPE));
        await expectError(res, 400, 'invalid_json');
      }
    }
  });
});

describe('400 validation_failed on nesting', () => {
  const nested = (depth: number, inner = '') => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
  const tooDeep = async (res: Response) => {
    const err = await expectError(res, 400, 'validation_failed');
    assert.match(err.message, /nests .* too deeply/);
    assert.deepEqual(err.details, [{ field: '(body)', message: 'must not nest deeper than 64 levels' }]);
  };

  it('refuses a body nesting arrays or objects more than 64 deep on every body-reading route, before parsing it', async () => {
    // 1 MiB of one 524,288-deep array, and 250,000 levels with unstorable strings at the bottom.
    const hostile = [nested(512 * 1024), nested(250_000, Array.from({ length: 20 }, () => '"\u0000"').join(','))];
    for (const { method, path, good } of bodyRoutes()) {
      const text = JSON.stringify(good);
      for (const body of [...hostile, `${text.slice(0, -1)},"x":${nested(65)}}`, `{"a":${'{"a":'.repeat(64)}1${'}'.repeat(65)}`]) {
        await tooDeep(await h.rejected(() => raw(method, path, body, JSON_TYPE)));
      }
    }
  });

  it('reads 64 levels, and brackets inside strings are text', async () => {
    // Past the scan: the schema names the field it does not take.
    await expectInvalid(await h.rejected(() => raw('POST', '/v1/nodes', `{"name":"deep-64","labels":${nested(63)}}`, JSON_TYPE)), ['labels']);
    const message = `[{\\"${'['.repeat(500)}`;
    const res = await raw('POST', '/v1/heartbeats', `{"status":"ok","checks":{"disk":{"status":"warn","message":"${message}"}}}`, JSON_TYPE, nodeA.token);
    assert.deepEqual(await expectJson(res, 202), { accepted: 1 });
  });
});

describe('415 unsupported_media_type', () => {
  it('rejects a JSON body declared as text/plain, as a form, or with no content-type at all', async () => {
    for (const { method, path, good } of bodyRoutes()) {
      const text = JSON.stringify(good);
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'text/json', 'application/jsonx']) {
        const res = await h.rejected(() => raw(method, path, text, { 'content-type': type }));
        await expectError(res, 415, 'unsupported_media_type');
      }
      // A byte body gets no content-type from the Request constructor.
      const res = await h.rejected(() => raw(method, path, new TextEncoder().encode(text), {}));
      await expectError(res, 415, 'unsupported_media_type');
    }
  });
});

describe('413 payload_too_large', () => {
  const MiB = 1024 * 1024;
  /** A valid heartbeat padded with whitespace to exactly `size` bytes. */
  const padded = (size: number) => {
    const head = '{"node":"node-a","status":"failing"';
    return head + ' '.repeat(size - head.length - 1) + '}';
  };
  const streamOf = (text: string, chunk = 64 * 1024) => {
    const bytes = new TextEncoder().encode(text);
    let at = 0;
    return new ReadableStream<Uint8Array>({
      pull(c) {
        if (at >= bytes.length) return c.close();
        c.enqueue(bytes.subarray(at, at + chunk));
        at += chunk;
      },
    });
  };

  it('rejects a body over 1 MiB declared by content-length', async () => {
    const body = padded(MiB + 1);
    const res = await h.rejected(() => raw('POST', '/v1/heartbeats', body, { ...JSON_TYPE, 'content-length': String(body.length) }));
    await expectError(res, 413, 'payload_too_large');
  });

  it('rejects a streamed body over 1 MiB that declares no length', async () => {
    const res = await h.rejected(() => raw('POST', '/v1/heartbeats', streamOf(padded(MiB + 1)), JSON_TYPE));
    await expectError(res, 413, 'payload_too_large');
    const nodes = await h.rejected(() => raw('POST', '/v1/nodes', streamOf(JSON.stringify({ name: 'huge', labels: { a: 'x'.repeat(MiB) } })), JSON_TYPE));
    await expectError(nodes, 413, 'payload_too_large');
  });

  it('rejects an oversized body before authenticating it', async () => {
    const body = padded(2 * MiB);
    const res = await h.rejected(() => raw('POST', '/v1/heartbeats', body, JSON_TYPE, undefined));
    await expectError(res, 413, 'payload_too_large');
  });

  it('accepts a body of exactly 1 MiB, declared or streamed', async () => {
    const body = padded(MiB);
    assert.equal(Buffer.byteLength(body), MiB);
    const declared = await raw('POST', '/v1/heartbeats', body, { ...JSON_TYPE, 'content-length': String(MiB) });
    assert.equal(declared.status, 202, await declared.clone().text());
    const streamed = await raw('POST', '/v1/heartbeats', streamOf(body), JSON_TYPE);
    assert.equal(streamed.status, 202, await streamed.clone().text());
    h.buffer.take();
  });
});

describe('400 validation_failed on nodes', () => {
  const create = (json: unknown) => h.rejected(() => h.admin('POST', '/v1/nodes', json));

  it('rejects node names with characters outside [A-Za-z0-9._:-]', async () => {
    for (const name of ['web 1', 'web/1', 'wéb', 'web@1', 'web\n1', 'web#1', '']) {
      await expectInvalid(await create({ name }), ['name']);
    }
  });

  it('refuses "." and ".." as a name given or auto-registered, which no URL could address', async () => {
    for (const name of ['.', '..']) {
      const err = await expectInvalid(await create({ name }), ['name']);
      assert.equal(err.details![0]!.message, 'must not be "." or "..": a URL cannot name them');
      await expectInvalid(await h.rejected(() => h.admin('PATCH', '/v1/nodes/node-a', { name })), ['name']);
      const beat = await h.rejected(() => h.req('POST', '/v1/heartbeats', { token: keys.ingest.secret, json: { node: name, status: 'ok' } }));
      assert.equal((await expectError(beat, 404, 'not_found')).message, `Unknown node: ${name}.`);
      const batch = await h.req('POST', '/v1/heartbeats', { token: keys.ingest.secret, json: { heartbeats: [{ node: 'node-a', status: 'ok' }, { node: name, status: 'ok' }] } });
      const answer = (await batch.json()) as { refused?: Array<{ node: string; message: string }> };
      assert.deepEqual(answer.refused, [{ node: name, message: 'No node has this name, and a new one\'s name must not be "." or "..": a URL cannot name them.' }]);
    }
    // Dots elsewhere are names like any other.
    for (const name of ['...', '.hidden']) {
      const ok = await h.admin('POST', '/v1/nodes', { name });
      assert.equal(ok.status, 201, await ok.clone().text());
      await ok.arrayBuffer();
    }
  });

  it('rejects a node name of 129 characters and accepts one of 128', async () => {
    await expectInvalid(await create({ name: 'n'.repeat(129) }), ['name']);
    const ok = await h.admin('POST', '/v1/nodes', { name: 'n'.repeat(128) });
    assert.equal(ok.status, 201, await ok.clone().text());
    await ok.arrayBuffer();
  });

  it('rejects a missing or non-string name', async () => {
    await expectInvalid(await create({}), ['name']);
    await expectInvalid(await create({ name: 42 }), ['name']);
    await expectInvalid(await create({ name: null }), ['name']);
  });

  it('rejects a negative, zero, fractional or string heartbeat interval', async () => {
    for (const heartbeat_interval_seconds of [-1, 0, 1.5, '30', null, 86_401]) {
      await expectInvalid(await create({ name: 'bad-interval', heartbeat_interval_seconds }), ['heartbeat_interval_seconds']);
    }
  });

  it('rejects out-of-range grace, failures and successes', async () => {
    await expectInvalid(await create({ name: 'bad-grace', grace_seconds: -1 }), ['grace_seconds']);
    await expectInvalid(await create({ name: 'bad-failures', failures_for_down: 0 }), ['failures_for_down']);
    await expectInvalid(await create({ name: 'bad-successes', successes_for_recovery: 2.5 }), ['successes_for_recovery']);
    await expectInvalid(await create({ name: 'bad-policy', escalation_policy_id: 'not-a-uuid' }), ['escalation_policy_id']);
  });

  it('names every bad field of a node at once', async () => {
    await expectInvalid(await create({ name: 'a b', heartbeat_interval_seconds: 0, grace_seconds: -1, labels: { env: 1 } }), [
      'name',
      'heartbeat_interval_seconds',
      'grace_seconds',
      'labels.env',
    ]);
  });

  it('rejects an unknown field on POST /v1/nodes', async () => {
    await expectInvalid(await create({ name: 'strict', colour: 'red' }), ['colour']);
    await expectInvalid(await create({ name: 'strict', token: 'lln_chosen-by-client' }), ['token']);
  });

  it('names every unknown field on POST /v1/nodes, not just the first', async () => {
    await expectInvalid(await create({ name: 'strict', colour: 'red', size: 2 }), ['colour', 'size']);
  });

  it('names unknown fields and bad known ones in one answer, on every closed body', async () => {
    const err = await expectInvalid(await create({ name: 5, heartbeat_interval_seconds: '10', bogus: 1 }), ['name', 'heartbeat_interval_seconds', 'bogus']);
    assert.equal(err.details!.find((d) => d.field === 'bogus')?.message, 'is not a known field');
    await expectInvalid(await h.rejected(() => h.admin('POST', '/v1/api-keys', { name: 7, scope: 'root', secret: 'llk_mine' })), ['name', 'scope', 'secret']);
    // Still at most 20, the unknown ones after the known ones.
    const many = await expectError(await create({ name: 5, ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`f${i}`, 1])) }), 400, 'validation_failed');
    assert.equal(many.details!.length, 20);
    assert.equal(many.details![0]!.field, 'name');
  });

  it('rejects labels that are not strings, not an object, or have bad keys', async () => {
    await expectInvalid(await create({ name: 'bad-labels', labels: { env: 1 } }), ['labels.env']);
    await expectInvalid(await create({ name: 'bad-labels', labels: { env: null } }), ['labels.env']);
    await expectInvalid(await create({ name: 'bad-labels', labels: { env: ['prod'] } }), ['labels.env']);
    await expectInvalid(await create({ name: 'bad-labels', labels: { env: { nested: 'x' } } }), ['labels.env']);
    await expectInvalid(await create({ name: 'bad-labels', labels: 'env=prod' }), ['labels']);
    await expectInvalid(await create({ name: 'bad-labels', labels: { 'bad key': 'x' } }), ['labels.bad key']);
  });

  it('rejects a JSON body that is not an object', async () => {
    for (const body of [null, [], 'node', 42, true]) {
      await expectError(await create(body), 400, 'validation_failed');
    }
  });

  it('rejects a bad PATCH and leaves the node exactly as it was', async () => {
    const patch = (json: unknown) => h.rejected(() => h.admin('PATCH', '/v1/nodes/node-a', json));
    await expectInvalid(await patch({ name: 'bad name' }), ['name']);
    await expectInvalid(await patch({ name: null }), ['name']);
    await expectInvalid(await patch({ heartbeat_interval_seconds: 0, grace_seconds: 5 }), ['heartbeat_interval_seconds']);
    await expectInvalid(await patch({ grace_seconds: 5, colour: 'red' }), ['colour']);
    await expectInvalid(await patch({ labels: { env: 1 }, grace_seconds: 5 }), ['labels.env']);
  });
});

describe('400 validation_failed on heartbeats', () => {
  const post = (json: unknown, token = nodeA.token) => h.rejected(() => h.req('POST', '/v1/heartbeats', { token, json }));

  it('rejects a heartbeat status outside ok|degraded|failing', async () => {
    for (const status of ['bad', 'OK', '', null, 1]) await expectInvalid(await post({ status }), ['status']);
  });

  it('rejects a check status outside ok|warn|fail and other bad check fields', async () => {
    await expectInvalid(await post({ checks: { disk: { status: 'bad' } } }), ['checks.disk.status']);
    await expectInvalid(await post({ checks: { disk: {} } }), ['checks.disk.status']);
    await expectInvalid(await post({ checks: { disk: { status: 'ok', value: 'full' } } }), ['checks.disk.value']);
    await expectInvalid(await post({ checks: { disk: { status: 'ok', message: 7 } } }), ['checks.disk.message']);
    await expectInvalid(await post({ checks: { 'bad name!': { status: 'ok' } } }), ['checks.bad name!']);
  });

  it('rejects a negative or fractional seq', async () => {
    for (const seq of [-1, 1.5, '3', null]) await expectInvalid(await post({ seq }), ['seq']);
  });

  it('rejects a sent_at that is not RFC 3339', async () => {
    for (const sent_at of ['yesterday', '2026-11-21', '2026-11-21T10:00:00', '2026-13-45T99:00:00Z', '1763719200', 1763719200]) {
      await expectInvalid(await post({ sent_at }), ['sent_at']);
    }
  });

  it('rejects a bad node field with an API key', async () => {
    await expectInvalid(await post({ node: 'bad name' }, keys.ingest.secret), ['node']);
    await expectInvalid(await post({ node: 'x'.repeat(129) }, keys.ingest.secret), ['node']);
    await expectInvalid(await post({ node: 12 }, keys.ingest.secret), ['node']);
  });

  it('rejects a batch of 0 and of 1001 heartbeats', async () => {
    await expectInvalid(await post({ heartbeats: [] }), ['heartbeats']);
    await expectInvalid(await post({ heartbeats: Array.from({ length: 1001 }, () => ({ status: 'ok' })) }), ['heartbeats']);
    await expectInvalid(await post({ heartbeats: 'many' }), ['heartbeats']);
    await expectInvalid(await post({ heartbeats: null }), ['heartbeats']);
  });

  it('accepts a batch of exactly 1000 heartbeats', async () => {
    const res = await h.req('POST', '/v1/heartbeats', { token: nodeA.token, json: { heartbeats: Array.from({ length: 1000 }, (_, i) => ({ seq: i })) } });
    assert.equal(res.status, 202, await res.clone().text());
    assert.deepEqual(await res.json(), { accepted: 1000 });
    h.buffer.take();
  });

  it('rejects a batch with one bad item and buffers none of it', async () => {
    const heartbeats = [
      { node: 'node-a', status: 'failing' },
      { node: 'node-b', status: 'failing' },
      { node: 'auto-registered-if-leaked', status: 'ok' },
      { node: 'node-a', status: 'bad' },
      { node: 'node-b', status: 'ok' },
    ];
    // With an ingest key a leak would also auto-register item 2's node.
    const err = await expectInvalid(await post({ heartbeats }, keys.ingest.secret), ['heartbeats.3.status']);
    assert.match(err.details![0]!.message, /ok, degraded or failing/);
    assert.equal((await h.sql`select 1 from nodes where name = 'auto-registered-if-leaked'`).length, 0);
    // The same with a node token.
    await expectInvalid(await post({ heartbeats: [{}, {}, {}, { seq: -1 }] }), ['heartbeats.3.seq']);
  });

  it('names every bad item of a batch by index and field', async () => {
    const heartbeats = [{ status: 'ok' }, { status: 'bad' }, { seq: 1 }, { checks: { cpu: { status: 'meh' } } }, { sent_at: 'now' }];
    await expectInvalid(await post({ heartbeats }), ['heartbeats.1.status', 'heartbeats.3.checks.cpu.status', 'heartbeats.4.sent_at']);
  });

  it('rejects a heartbeat without a node from an API key', async () => {
    for (const secret of [keys.ingest.secret, keys.write.secret, ADMIN_TOKEN]) {
      await expectInvalid(await post({ status: 'ok' }, secret), ['node']);
      await expectInvalid(await post({ heartbeats: [{ node: 'node-a' }, { node: 'node-b' }, { status: 'ok' }] }, secret), ['heartbeats.2.node']);
    }
  });

  it('names the batch item, not a top-level field, when the only item of a batch lacks a node', async () => {
    await expectInvalid(await post({ heartbeats: [{ status: 'ok' }] }, keys.ingest.secret), ['heartbeats.0.node']);
  });

  it('names every batch item that lacks a node, not just the first', async () => {
    await expectInvalid(await post({ heartbeats: [{ node: 'node-a' }, { status: 'ok' }, { status: 'ok' }] }, keys.ingest.secret), [
      'heartbeats.1.node',
      'heartbeats.2.node',
    ]);
  });

  it('rejects a JSON body that is neither a heartbeat object nor a batch', async () => {
    for (const body of [null, 'ok', 42, true]) {
      await expectError(await post(body), 400, 'validation_failed');
    }
  });

  it('rejects checks and labels sent as arrays instead of objects keyed by name', async () => {
    await expectInvalid(await post({ checks: [{ status: 'fail' }] }), ['checks']);
    await expectInvalid(await h.rejected(() => h.admin('POST', '/v1/nodes', { name: 'array-labels', labels: ['prod'] })), ['labels']);
  });

  it('rejects a bare JSON array instead of treating it as one ok heartbeat', async () => {
    for (const body of [[], [{ status: 'failing' }], [1, 2, 3]]) {
      await expectError(await post(body), 400, 'validation_failed');
    }
  });
});

describe('400 validation_failed on list parameters', () => {
  const lists = ['/v1/nodes', '/v1/api-keys', '/v1/nodes/node-a/transitions'];

  it('rejects limit=0, limit=501, limit=abc and other non-integers', async () => {
    for (const path of lists) {
      for (const limit of ['0', '501', 'abc', '-1', '1.5', '1e2', '', '99999999999999999999']) {
        const res = await h.rejected(() => h.admin('GET', `${path}?limit=${encodeURIComponent(limit)}`));
        await expectInvalid(res, ['limit']);
      }
      for (const limit of ['1', '500']) {
        const res = await h.admin('GET', `${path}?limit=${limit}`);
        assert.equal(res.status, 200, `${path}?limit=${limit}: ${await res.clone().text()}`);
        await res.arrayBuffer();
      }
    }
  });

  it('rejects a forged cursor on nodes and transitions', async () => {
    const forged = ['not-a-cursor', '!!!', b64({ name: 'node-a' }), b64([1]), b64(null), Buffer.from('{"a":').toString('base64url')];
    for (const cursor of forged) {
      await expectInvalid(await h.rejected(() => h.admin('GET', `/v1/nodes?cursor=${encodeURIComponent(cursor)}`)), ['cursor']);
    }
    for (const cursor of [...forged, b64('node-a'), b64(1.5)]) {
      await expectInvalid(await h.rejected(() => h.admin('GET', `/v1/nodes/node-a/transitions?cursor=${encodeURIComponent(cursor)}`)), ['cursor']);
    }
  });

  it('rejects a cursor whose id is wrapped in an array with 400, not a database error', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const wrapped = b64(['2026-01-01T00:00:00.000Z', [id]]);
    await expectInvalid(await h.rejected(() => h.admin('GET', `/v1/incidents?cursor=${encodeURIComponent(wrapped)}`)), ['cursor']);
  });

  it('rejects a forged cursor on API keys with 400, not a database error', async () => {
    for (const cursor of ['!!!', b64(42), b64('not-a-uuid'), b64('-'.repeat(36)), b64('a'.repeat(36))]) {
      await expectInvalid(await h.rejected(() => h.admin('GET', `/v1/api-keys?cursor=${encodeURIComponent(cursor)}`)), ['cursor']);
    }
  });

  it('rejects a (name, id) cursor on API keys that the route could not have issued, changing nothing', async () => {
    // h.rejected checks that no stored row changed.
    for (const key of [['a\u0000b', UUID], ['\ud800', UUID], ['x', 'not-a-uuid'], ['x', UUID, 1], [1, UUID]]) {
      await expectInvalid(await h.rejected(() => h.admin('GET', `/v1/api-keys?cursor=${b64(key)}`)), ['cursor']);
    }
  });

  it('rejects an unknown state and a label filter that is neither key=value nor key:value, saying which rule it broke', async () => {
    await expectInvalid(await h.rejected(() => h.admin('GET', '/v1/nodes?state=sleepy')), ['state']);
    const cases: [string, string][] = [
      ['env', 'must be key=value or key:value'],
      [':prod', LABEL_KEY_RULE],
      ['=prod', LABEL_KEY_RULE],
      ['bad key=prod', LABEL_KEY_RULE],
      [`env=${'x'.repeat(LABEL_VALUE_MAX + 1)}`, LABEL_VALUE_RULE],
    ];
    for (const path of ['/v1/nodes', '/v1/uptime']) {
      for (const [label, message] of cases) {
        const err = await expectInvalid(await h.rejected(() => h.admin('GET', `${path}?label=${encodeURIComponent(label)}`)), ['label.0']);
        assert.deepEqual(err.details, [{ field: 'label.0', message }], `${path} ${label}`);
      }
    }
  });
});

describe('400 validation_failed on text Postgres cannot store', () => {
  // U+0000, a lone high and a lone low surrogate, and a pair in the wrong order.
  const UNSTORABLE = ['a\u0000b', 'a\ud800b', '\udc00', '\udc00\ud800'];
  let incidentId: string;
  let channelId: string;

  before(async () => {
    const now = h.clock.now().getTime();
    const opened = await openIncidents(
      h.sql,
      [nodeA, nodeB].map((n, i) => ({
        nodeId: n.id,
        nodeName: n.name,
        category: 'node_down',
        severity: 'critical',
        title: `${n.name} is down`,
        reason: 'no heartbeat',
        policyId: null,
        openedAt: new Date(now - i * 1000),
      })),
    );
    incidentId = opened[0]!.id;
    const channel = await h.admin('POST', '/v1/channels', { name: 'text-rule', type: 'webhook', config: { url: 'https://example.com/hook' } });
    channelId = (await expectJson<{ id: string }>(channel, 201)).id;
  });

  it('rejects it in body values and object keys on every kind of route, naming the field', async () => {
    for (const s of UNSTORABLE) {
      const cases: [string, string, unknown, string, string?][] = [
        ['POST', '/v1/nodes', { name: 'stored-text', labels: { env: s } }, 'labels.env'],
        ['POST', '/v1/nodes', { name: 'stored-text', labels: { [`k${s}`]: 'v' } }, `labels.k${s}`],
        ['PATCH', '/v1/nodes/node-a', { labels: { env: s } }, 'labels.env'],
        ['POST', '/v1/heartbeats', { checks: { disk: { status: 'ok', message: s } } }, 'checks.disk.message', nodeA.token],
        ['POST', '/v1/heartbeats', { checks: { [`disk${s}`]: { status: 'ok' } } }, `checks.disk${s}`, nodeA.token],
        // Even in a field the schema would ignore: the rule has no exceptions to keep track of.
        ['POST', '/v1/heartbeats', { heartbeats: [{ status: 'ok' }, { status: 'ok', extra: { deep: [s] } }] }, 'heartbeats.1.extra.deep.0', nodeA.token],
        ['POST', `/v1/incidents/${incidentId}/acknowledge`, { by: s }, 'by'],
        ['POST', `/v1/incidents/${incidentId}/resolve`, { by: 'alice', note: s }, 'note'],
        ['POST', '/v1/maintenances', { node_ids: ['node-a'], starts_at: START, reason: s }, 'reason'],
        ['POST', '/v1/api-keys', { name: s, scope: 'read' }, 'name'],
        ['POST', '/v1/channels', { name: s, type: 'webhook', config: { url: 'https://example.com/hook' } }, 'name'],
        ['PATCH', `/v1/channels/${channelId}`, { name: s }, 'name'],
      ];
      for (const [method, path, json, field, token] of cases) {
        const res = await h.rejected(() => h.req(method, path, { token: token ?? ADMIN_TOKEN, json }));
        const err = await expectInvalid(res, [field]);
        assert.match(err.details![0]!.message, /U\+0000 or an unpaired UTF-16 surrogate/, `${method} ${path}`);
      }
    }
    const [incident] = await h.sql`select status, version from incidents where id = ${incidentId}`;
    assert.deepEqual([incident!.status, incident!.version], ['open', 1], 'the incident was neither acknowledged nor resolved');
  });

  it('stores paired surrogates and other control characters unchanged', async () => {
    const text = 'ok \u{1F600} \u0001 \ufffd';
    const node = await h.createNode('paired-text', { labels: { env: text } });
    assert.equal(node.labels.env, text);
    const res = await h.req('POST', '/v1/heartbeats', { token: nodeA.token, json: { checks: { disk: { status: 'ok', message: text } } } });
    assert.equal(res.status, 202, await res.clone().text());
    await h.flush();
    assert.deepEqual((await h.heartbeatRow(nodeA.id))!.checks, { disk: { status: 'ok', message: text } });
  });

  it('rejects U+0000 in a path id or a query parameter, naming it', async () => {
    const paths: [string, string, unknown?][] = [
      ['GET', '/v1/nodes/a%00b'],
      ['PATCH', '/v1/nodes/a%00b', { grace_seconds: 1 }],
      ['DELETE', '/v1/nodes/a%00b'],
      ['POST', '/v1/nodes/a%00b/token'],
      ['GET', '/v1/nodes/a%00b/transitions'],
      ['GET', '/v1/nodes/a%00b/uptime'],
      ['GET', '/v1/incidents/a%00b'],
      ['GET', '/v1/channels/%00'],
      ['DELETE', '/v1/maintenances/%00'],
    ];
    for (const [method, path, json] of paths) {
      await expectInvalid(await h.rejected(() => h.admin(method, path, json)), ['path']);
    }
    const queries: [string, string[]][] = [
      ['/v1/nodes?label=env:a%00b', ['label']],
      ['/v1/nodes?label=a%00b:prod', ['label']],
      ['/v1/uptime?label=env:%00', ['label']],
      ['/v1/nodes?state=%00&limit=%00', ['state', 'limit']],
      ['/v1/incidents?node_id=%00', ['node_id']],
      ['/v1/nodes?label=env:prod&label=%00', ['label']],
      ['/v1/nodes?unknown%00=1', ['unknown\u0000']],
    ];
    for (const [path, fields] of queries) {
      await expectInvalid(await h.rejected(() => h.admin('GET', path)), fields);
    }
  });

  it('rejects a cursor carrying such text, or a number or time Postgres cannot hold', async () => {
    const times = ['+275760-09-13T00:00:00.000Z', '-100000-01-01T00:00:00.000Z', '0000-01-01T00:00:00.000Z', '1'];
    const DAY_BEFORE = '2026-11-20T10:00:00.000Z';
    const cursors: [string, unknown][] = [
      ['/v1/nodes', 'a\u0000b'],
      ['/v1/nodes', '\ud800'],
      ['/v1/escalation-policies', 'a\u0000b'],
      ['/v1/channels', ['a\u0000b', UUID]],
      ['/v1/channels', ['\udc00', UUID]],
      // An uptime cursor carries its walk's window before the key.
      ['/v1/uptime', [DAY_BEFORE, START, 'a\u0000b']],
      ['/v1/uptime?sort=worst', [DAY_BEFORE, START, [0.5, 'a\u0000b']]],
      ['/v1/nodes/node-a/transitions', 1e308],
      ['/v1/nodes/node-a/transitions', 2 ** 31],
      ...times.flatMap((t): [string, unknown][] => [
        ['/v1/incidents', [t, UUID]],
        ['/v1/maintenances', [t, UUID]],
        ['/v1/uptime', [t, START, 'a']],
      ]),
    ];
    for (const [path, key] of cursors) {
      const sep = path.includes('?') ? '&' : '?';
      await expectInvalid(await h.rejected(() => h.admin('GET', `${path}${sep}cursor=${b64(key)}`)), ['cursor']);
    }
    // The cursors the server issues still page.
    const first = await expectJson<{ items: { id: string }[]; next_cursor: string }>(await h.admin('GET', '/v1/incidents?limit=1'), 200);
    const second = await expectJson<{ items: { id: string }[] }>(await h.admin('GET', `/v1/incidents?limit=1&cursor=${first.next_cursor}`), 200);
    assert.equal(new Set([...first.items, ...second.items].map((i) => i.id)).size, 2);
  });

  it('rejects a maintenance time Postgres cannot store or would read back wrong', async () => {
    const create = (times: Record<string, string>) =>
      h.rejected(() => h.admin('POST', '/v1/maintenances', { node_ids: ['node-a'], starts_at: START, ...times }));
    // Year 0 is refused by Postgres; year 1 came back as 2001.
    for (const starts_at of ['0000-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '1969-12-31T23:59:59Z']) {
      await expectInvalid(await create({ starts_at }), ['starts_at']);
    }
    for (const ends_at of ['+275760-09-13T00:00:00.000Z', '10000-01-01T00:00:00Z']) {
      await expectInvalid(await create({ ends_at }), ['ends_at']);
    }
  });

  it('names at most 20 fields, each by a path of at most 200 characters', async () => {
    const many = { status: 'ok', extra: Array.from({ length: 1000 }, () => 'a\u0000b') };
    const err = await expectError(await h.rejected(() => h.req('POST', '/v1/heartbeats', { token: nodeA.token, json: many })), 400, 'validation_failed');
    assert.deepEqual(err.details!.map((d) => d.field), Array.from({ length: 20 }, (_, i) => `extra.${i}`));
    // As deep as a body may nest, under keys of 60 characters: a path of ~3,800.
    const key = 'k'.repeat(60);
    const deep = `{"extra":${`{"${key}":`.repeat(62)}"a\\u0000b"${'}'.repeat(62)}}`;
    const res = await h.rejected(() => raw('POST', '/v1/heartbeats', deep, JSON_TYPE, nodeA.token));
    const [detail, ...rest] = (await expectError(res, 400, 'validation_failed')).details!;
    assert.equal(rest.length, 0);
    assert.ok(detail!.field.startsWith(`extra.${key}.${key}.`) && detail!.field.length <= 201, detail!.field.slice(0, 300));
  });

  it('answers validation_failed, not internal, when Postgres refuses a value that passed every check', async () => {
    // A narrower column stands in for a limit the HTTP edge does not know about.
    await h.sql`alter table maintenances alter column reason type varchar(8)`;
    try {
      const res = await h.rejected(() => h.admin('POST', '/v1/maintenances', { node_ids: ['node-a'], starts_at: START, reason: 'longer than eight' }));
      await expectInvalid(res, ['(request)']);
    } finally {
      await h.sql`alter table maintenances alter column reason type text`;
    }
  });
});

describe('400 validation_failed on API keys', () => {
  it('rejects a bad scope, a missing or empty name and unknown fields', async () => {
    const create = (json: unknown) => h.rejected(() => h.admin('POST', '/v1/api-keys', json));
    await expectInvalid(await create({ name: 'k', scope: 'root' }), ['scope']);
    await expectInvalid(await create({ name: 'k' }), ['scope']);
    await expectInvalid(await create({ scope: 'read' }), ['name']);
    await expectInvalid(await create({ name: '   ', scope: 'read' }), ['name']);
    await expectInvalid(await create({ name: 'k'.repeat(129), scope: 'read' }), ['name']);
    await expectInvalid(await create({ name: 'k', scope: 'read', secret: 'llk_mine' }), ['secret']);
  });
});

describe('400 validation_failed on names holding bidirectional controls', () => {
  // Each route refuses a body with one control in one name, for each control in turn, and then
  // takes the same body with a plain name: the control alone was refused.
  const CONTROLS = ['\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069'];

  it('refuses them in every kind of name, naming the field and saying why, and stores nothing', async () => {
    const user = (await expectJson(await h.admin('POST', '/v1/users', { name: 'Bidi Clean', email: 'bidi@example.com' }), 201)) as { id: string };
    const channel = (await expectJson(await h.admin('POST', '/v1/channels', { name: 'bidi-hook', type: 'webhook', config: { url: 'https://hooks.example.com/b' } }), 201)) as { id: string };
    const node = await h.createNode('bidi-node');
    const [incident] = await openIncidents(h.sql, [
      { nodeId: node.id, nodeName: node.name, category: 'node_down', severity: 'critical', title: 'bidi-node is down', reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() },
    ]);
    let n = 0;
    const routes: Array<{ path: string; field: string; body: (name: string) => unknown }> = [
      { path: '/v1/users', field: 'name', body: (name) => ({ name, email: `b${n}@example.com` }) },
      { path: '/v1/api-keys', field: 'name', body: (name) => ({ name, scope: 'read' }) },
      { path: '/v1/channels', field: 'name', body: (name) => ({ name, type: 'webhook', config: { url: 'https://hooks.example.com/c' } }) },
      { path: '/v1/escalation-policies', field: 'name', body: (name) => ({ name, levels: [{ after_seconds: 0, channel_ids: [channel.id] }] }) },
      { path: '/v1/schedules', field: 'name', body: (name) => ({ name, time_zone: 'UTC', layers: [{ name: 'day', user_ids: [user.id], starts_at: '2026-11-01T00:00:00.000Z', rotation: 'P1W' }] }) },
      { path: '/v1/schedules', field: 'layers.0.name', body: (name) => ({ name: `rota ${n}`, time_zone: 'UTC', layers: [{ name, user_ids: [user.id], starts_at: '2026-11-01T00:00:00.000Z', rotation: 'P1W' }] }) },
      { path: '/v1/status-pages', field: 'title', body: (title) => ({ slug: `bidi-${n}`, title, components: [{ name: 'API', node_ids: ['bidi-node'] }] }) },
      { path: '/v1/status-pages', field: 'components.0.name', body: (name) => ({ slug: `bidi-${n}`, title: 'Status', components: [{ name, node_ids: ['bidi-node'] }] }) },
    ];
    for (const r of routes) {
      n++;
      for (const control of CONTROLS) {
        const err = await expectInvalid(await h.rejected(() => h.admin('POST', r.path, r.body(`abc${control}gnp.exe`))), [r.field]);
        assert.match(err.details![0]!.message, /must not contain bidirectional control characters \(U\+202A-U\+202E, U\+2066-U\+2069\)/);
      }
      await expectJson(await h.admin('POST', r.path, r.body(`abc gnp.exe ${n}`)), 201);
    }
    const ack = (by: string) => h.admin('POST', `/v1/incidents/${incident!.id}/acknowledge`, { by });
    await expectInvalid(await h.rejected(() => ack('ali\u202Eecil')), ['by']);
    await expectJson(await ack('alice'), 200);
  });
});

describe('404 not_found', () => {
  const missing = ['no-such-node', '6f1c7c1e-2b0a-4c7e-9d7e-3b1f2a0c9e55'];

  it('answers 404 for an unknown node id or name on GET, PATCH, DELETE, token and transitions', async () => {
    for (const ref of missing) {
      const cases: [string, string, unknown?][] = [
        ['GET', `/v1/nodes/${ref}`],
        ['PATCH', `/v1/nodes/${ref}`, { grace_seconds: 1 }],
        ['DELETE', `/v1/nodes/${ref}`],
        ['POST', `/v1/nodes/${ref}/token`],
        ['GET', `/v1/nodes/${ref}/transitions`],
      ];
      for (const [method, path, json] of cases) {
        const res = await h.rejected(() => h.admin(method, path, json));
        const err = await expectError(res, 404, 'not_found');
        assert.ok(err.message.includes(ref), `${method} ${path}: the message names what was not found`);
        assert.equal(err.details, undefined);
      }
    }
  });

  it('answers 404 for an unknown API key on revoke', async () => {
    for (const id of ['6f1c7c1e-2b0a-4c7e-9d7e-3b1f2a0c9e55', 'not-a-uuid']) {
      await expectError(await h.rejected(() => h.admin('DELETE', `/v1/api-keys/${id}`)), 404, 'not_found');
    }
  });

  it('answers 404, not a database error, for a malformed API key id on revoke', async () => {
    for (const id of ['a'.repeat(36), '-'.repeat(36)]) {
      await expectError(await h.rejected(() => h.admin('DELETE', `/v1/api-keys/${id}`)), 404, 'not_found');
    }
  });

  it('answers 404 in the error shape for unknown routes, 405 with Allow for a method a route does not take', async () => {
    // (GET / is the web console.)
    const cases: [string, string][] = [
      ['GET', '/nope'],
      ['GET', '/nope/deeper'],
      ['GET', '/v2/nodes'],
      ['GET', '/v1/nope'],
      ['GET', '/v1/nodes/node-a/nope'],
    ];
    for (const [method, path] of cases) {
      const res = await h.rejected(() => send(h.app, method, path, { token: ADMIN_TOKEN }));
      await expectError(res, 404, 'not_found');
    }
    const methods: [string, string, string][] = [
      ['PUT', '/v1/nodes/node-a', 'DELETE, GET, HEAD, PATCH'],
      ['DELETE', '/v1/nodes', 'GET, HEAD, POST'],
      ['GET', '/v1/heartbeats', 'POST'],
    ];
    for (const [method, path, allow] of methods) {
      const res = await h.rejected(() => send(h.app, method, path, { token: ADMIN_TOKEN }));
      assert.equal(res.headers.get('allow'), allow, `${method} ${path}`);
      await expectError(res, 405, 'method_not_allowed');
    }
  });
});

describe('409 conflict', () => {
  it('rejects creating a node whose name is taken', async () => {
    const res = await h.rejected(() => h.admin('POST', '/v1/nodes', { name: 'node-a', labels: { leaked: 'yes' } }));
    const err = await expectError(res, 409, 'conflict');
    assert.match(err.message, /node-a/);
  });

  it('rejects renaming a node to a taken name and applies none of the patch', async () => {
    const res = await h.rejected(() => h.admin('PATCH', '/v1/nodes/node-b', { name: 'node-a', grace_seconds: 99, labels: { leaked: 'yes' } }));
    await expectError(res, 409, 'conflict');
    const b = (await (await h.admin('GET', '/v1/nodes/node-b')).json()) as { name: string; grace_seconds: number; labels: object };
    assert.deepEqual([b.name, b.grace_seconds, b.labels], ['node-b', 0, {}]);
  });

  it('lets a node be renamed to its own name', async () => {
    const res = await h.admin('PATCH', '/v1/nodes/node-b', { name: 'node-b' });
    assert.equal(res.status, 200, await res.clone().text());
    await res.arrayBuffer();
  });
});

describe('500 internal', () => {
  /** The body must be the contract shape and carry nothing from the failure itself. */
  const expectInternal = async (res: Response, leaks: RegExp[]) => {
    const text = await res.clone().text();
    await expectError(res, 500, 'internal');
    for (const leak of [/\bat .*\(/, /\.ts:\d+/, /node_modules/, /\bselect\b/i, /\bfrom\b/i, /postgres/i, /stack/i, ...leaks]) {
      assert.doesNotMatch(text, leak);
    }
  };

  it('answers internal without a stack or SQL when the database pool is gone', async () => {
    const sql = createSql(h.db.url, { max: 2, applicationName: 'lifeline-test-closed' });
    const { app } = buildApp({ sql, clock: h.clock, buffer: new HeartbeatBuffer() });
    // Authenticate once so the principal is cached and the failure comes from the route itself.
    const ok = await send(app, 'GET', '/v1/nodes', { token: ADMIN_TOKEN });
    assert.equal(ok.status, 200);
    await ok.arrayBuffer();
    await sql.end({ timeout: 1 });
    await expectInternal(await send(app, 'GET', '/v1/nodes', { token: ADMIN_TOKEN }), [/CONNECTION/i, /ended/i]);
    await expectInternal(await send(app, 'GET', '/v1/nodes/node-a', { token: ADMIN_TOKEN }), [/CONNECTION/i]);
  });

  it('answers internal without SQL text when a query fails', async () => {
    await h.sql`alter table node_state_log rename to node_state_log_hidden`;
    try {
      await expectInternal(await h.admin('GET', '/v1/nodes/node-a/transitions'), [/node_state_log/, /relation/i, /does not exist/i]);
    } finally {
      await h.sql`alter table node_state_log_hidden rename to node_state_log`;
    }
  });

  it('writes nothing of a node whose creation fails part-way', async () => {
    await h.sql`alter table node_due rename to node_due_hidden`;
    try {
      const res = await h.rejected(() => h.admin('POST', '/v1/nodes', { name: 'half-written' }));
      await expectInternal(res, [/node_due/, /relation/i]);
    } finally {
      await h.sql`alter table node_due_hidden rename to node_due`;
    }
    assert.equal((await h.sql`select 1 from nodes where name = 'half-written'`).length, 0);
  });
});
