import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, createHarness, expectInvalid, type Harness } from '../helpers/app.ts';

// The string and range rules on every route at once, read from the OpenAPI document so a new route
// is swept without being listed here: U+0000 in any path id or query parameter, a cursor carrying
// text Postgres cannot store or a number or time it cannot hold, and integers out of range are
// 400 validation_failed naming the field, never 500, and change nothing.

interface Parameter {
  in: string;
  name: string;
  schema?: { type?: string };
}
type Operations = Record<string, Record<string, { parameters?: Parameter[]; security?: unknown[] }>>;

let h: Harness;
let routes: { method: string; path: string; params: Parameter[] }[];

before(async () => {
  h = await createHarness();
  await h.createNode('sweep-node');
  const doc = (await (await h.req('GET', '/openapi.json')).json()) as { paths: Operations };
  routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([, op]) => path.startsWith('/v1/'))
      .map(([method, op]) => ({ method: method.toUpperCase(), path, params: op.parameters ?? [] })),
  );
  assert.ok(routes.length >= 50, `only ${routes.length} routes found`);
});

after(async () => {
  await h?.close();
});

const withIds = (path: string, id: string) => path.replace(/\{[^}]+\}/g, id);
const b64 = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url');
const call = (method: string, path: string) =>
  h.rejected(() => h.req(method, path, { token: ADMIN_TOKEN, ...(method === 'POST' || method === 'PATCH' ? { json: {} } : {}) }));

describe('every route', () => {
  it('refuses U+0000 in each path id', async () => {
    for (const r of routes.filter((r) => r.path.includes('{'))) {
      await expectInvalid(await call(r.method, withIds(r.path, 'a%00b')), ['path']);
    }
  });

  it('refuses U+0000 in each query parameter, naming it', async () => {
    for (const r of routes) {
      for (const q of r.params.filter((p) => p.in === 'query')) {
        await expectInvalid(await call(r.method, `${withIds(r.path, 'sweep-node')}?${q.name}=a%00b`), [q.name]);
      }
    }
  });

  it('refuses a cursor holding unstorable text or a number or time out of range', async () => {
    // (Times out of range in time-keyed cursors: http-bad-input.test.ts.)
    const forged = [b64('\ud800'), b64('a\u0000b'), b64(['\u0000', '6f1c7c1e-2b0a-4c7e-9d7e-3b1f2a0c9e55']), b64(1e308), b64([1e308, '\udc00']), 'not-base64-json'];
    const listing = routes.filter((r) => r.method === 'GET' && !r.path.includes('{') && r.params.some((p) => p.name === 'cursor'));
    assert.ok(listing.length >= 10);
    for (const r of [...listing, { path: '/v1/nodes/sweep-node/transitions' }]) {
      for (const cursor of forged) await expectInvalid(await call('GET', `${r.path}?cursor=${cursor}`), ['cursor']);
    }
  });

  it('refuses integers out of range in each integer query parameter', async () => {
    for (const r of routes.filter((r) => r.method === 'GET' && !r.path.includes('{'))) {
      for (const q of r.params.filter((p) => p.in === 'query' && p.schema?.type === 'integer')) {
        for (const value of ['1e308', '99999999999999999999', '-1', '1.5']) {
          await expectInvalid(await call('GET', `${r.path}?${q.name}=${value}`), [q.name]);
        }
      }
    }
  });

  it('refuses times no database or Date can hold in a window', async () => {
    const VALID = '2026-11-01T00:00:00.000Z';
    for (const path of ['/v1/uptime', '/v1/nodes/sweep-node/uptime']) {
      for (const value of ['%2B275760-09-13T00:00:00.000Z', '0000-01-01T00:00:00.000Z']) {
        await expectInvalid(await call('GET', `${path}?from=${value}&to=${VALID}`), ['from']);
        await expectInvalid(await call('GET', `${path}?from=${VALID}&to=${value}`), ['to']);
      }
    }
  });

  it('refuses U+0000 in the public pages and links the same way', async () => {
    for (const path of ['/status/a%00b', '/badge/a%00b', '/a/a%00b']) {
      await expectInvalid(await h.rejected(() => h.req('GET', path)), ['path']);
    }
  });
});
