import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { openIncidents } from '../../src/incidents/store.ts';
import { ADMIN_TOKEN, createHarness, expectJson, type Harness } from '../helpers/app.ts';

// Every operation of /openapi.json, driven with malformed and hostile input (U+0000, lone
// surrogates, huge numbers, wrong types, oversized arrays, bad path ids): each answer is a 4xx,
// never a 5xx; no row of any table changes; and another node's heartbeats are still stored after.
// Fixed seed and number of runs, so a failure is the same failure on every machine.

const SEED = 20261205;
const RUNS = 600;

type Json = Record<string, unknown>;
interface Operation {
  method: string;
  path: string;
  query: string[];
  /** Field name → the JSON types the request body schema allows there (empty: any). */
  fields: Map<string, string[]>;
  hasBody: boolean;
}

let h: Harness;
let operations: Operation[];
/** A real id for each resource path whose POST/PATCH takes a body, so bodies are judged on live rows. */
const realIds = new Map<string, string>();
let tokens: string[];
let otherNode: { id: string; token: string };

/** What the body schema says of each top-level field, through $refs, allOf/anyOf/oneOf branches. */
function fieldsOf(doc: Json, schema: Json | undefined, into = new Map<string, string[]>()): Map<string, string[]> {
  if (!schema) return into;
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.split('/').pop()!;
    return fieldsOf(doc, ((doc.components as Json).schemas as Json)[name] as Json, into);
  }
  for (const branch of ['allOf', 'anyOf', 'oneOf']) for (const s of (schema[branch] as Json[] | undefined) ?? []) fieldsOf(doc, s, into);
  for (const [name, prop] of Object.entries((schema.properties as Record<string, Json> | undefined) ?? {})) {
    const t = prop.type;
    into.set(name, Array.isArray(t) ? (t as string[]) : typeof t === 'string' ? [t] : []);
  }
  return into;
}

// Strings Postgres cannot store, the longest a field could be asked to take, and text that is merely strange.
const poisonString = fc.oneof(
  fc.constantFrom('\u0000', 'a\u0000b', '\uD800', 'x\uDC00y', '\uDBFF', 'x'.repeat(70_000) + '\u0000'),
  fc.string({ maxLength: 12 }).map((s) => `${s}\u0000`),
  fc.string({ maxLength: 12 }).map((s) => `\uD83D${s}`),
);
// Replaced by 1e999 after serialisation (JSON.stringify cannot write it; JSON.parse reads Infinity).
const HUGE = '__huge_number__';
const wrongByType: Record<string, fc.Arbitrary<unknown>> = {
  string: fc.oneof(poisonString, fc.constantFrom(HUGE, 1e308, -1e308, 2 ** 64, true, false), fc.constant([]), fc.constant({})),
  number: fc.oneof(poisonString, fc.constantFrom('12', true, null), fc.constant([1]), fc.constant({ n: 1 })),
  integer: fc.oneof(poisonString, fc.constantFrom(HUGE, 1.5, 2 ** 64 + 0.5, 1e308, -1e308, '7', true, null), fc.constant([7])),
  boolean: fc.oneof(poisonString, fc.constantFrom('true', 1, 0, null, HUGE)),
  array: fc.oneof(poisonString, fc.constantFrom(HUGE, {}, 'a', 1), fc.constant(Array.from({ length: 20_000 }, () => '\u0000'))),
  object: fc.oneof(poisonString, fc.constantFrom(HUGE, [], 'a', 1), fc.constant(Array.from({ length: 20_000 }, (_, i) => ({ [`k${i}`]: null })))),
};
/** A value of none of these types, or a poisoned string, which no field accepts. */
const wrongFor = (types: string[]) => {
  const open = types.length === 0 ? [] : Object.keys(wrongByType).filter((t) => !types.includes(t) && !(t === 'number' && types.includes('integer')));
  return open.length === 0 ? poisonString : fc.oneof(poisonString, ...open.map((t) => wrongByType[t]!));
};
/** Anything at all, hostile or not, for fields beside the poisoned one. */
const anything = fc.oneof(poisonString, fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(HUGE, -1, 0, 2 ** 31, 2 ** 63));

/** A body no schema accepts: a poisoned known field, or not an object at all. */
function hostileBody(op: Operation): fc.Arbitrary<{ text: string; contentType: string }> {
  const known = [...op.fields.entries()];
  const objects =
    known.length === 0
      ? fc.dictionary(fc.string({ maxLength: 8 }), poisonString, { minKeys: 1, maxKeys: 3 })
      : fc
          .tuple(fc.constantFrom(...known), fc.dictionary(fc.constantFrom(...known.map(([k]) => k), 'unknown_field'), anything, { maxKeys: 4 }))
          .chain(([[name, types], extra]) => wrongFor(types).map((bad) => ({ ...extra, [name]: bad })));
  const notObjects = fc.constantFrom<unknown>(null, [], [{}], 'text', 12, HUGE, Array.from({ length: 5_000 }, () => ({})));
  const json = fc.oneof({ weight: 5, arbitrary: objects }, { weight: 1, arbitrary: notObjects }).map((v) => JSON.stringify(v).replaceAll(`"${HUGE}"`, '1e999'));
  return fc.oneof(
    { weight: 8, arbitrary: json.map((text) => ({ text, contentType: 'application/json' })) },
    { weight: 1, arbitrary: fc.constantFrom('{"name":', '{"a":1}}', '\u0000', '').map((text) => ({ text, contentType: 'application/json' })) },
    { weight: 1, arbitrary: json.map((text) => ({ text, contentType: 'text/plain' })) },
  );
}

// Path ids that name nothing: unstorable, malformed, huge, traversal, and a UUID nobody has.
const hostileId = fc.oneof(
  fc.constantFrom('%00', 'a%00b', '%ED%A0%80', '%C0%80', '..', '%2e%2e%2f', '-1', '0', '99999999999999999999999999', '1e999', 'null', '00000000-0000-0000-0000-000000000000', 'x'.repeat(5_000)),
  fc.string({ minLength: 1, maxLength: 40 }).map((s) => encodeURIComponent(`zz${s}`)),
  fc.uuid().map((u) => u),
);
// Query values: limits out of range or not numbers, cursors that were never issued, unstorable text.
const hostileLimit = fc.constantFrom('', '0', '-1', '501', '1.5', '1e3', 'abc', '99999999999999999999999', '%00', '%ED%A0%80');
const hostileQueryValue = fc.oneof(hostileLimit, fc.constantFrom('%00', 'x%00', '%ED%A0%80', 'e30', 'W10', 'bnVsbA', '9'.repeat(400)), fc.string({ maxLength: 10 }).map(encodeURIComponent));

function hostileRequest(op: Operation) {
  const ids = op.path.match(/\{[^}]+\}/g) ?? [];
  const real = realIds.get(op.path.replace(/\{id\}.*$/, '{id}'));
  // A live row's id only where a poisoned body is sure to be refused before anything is done.
  const pathIds = fc.tuple(...ids.map((_, i) => (i === 0 && real && op.hasBody ? fc.oneof(hostileId, fc.constant(real)) : hostileId)));
  const queries = fc.tuple(...op.query.map((name) => (name === 'limit' || (name === op.query[0] && !op.query.includes('limit')) ? hostileLimit : fc.option(hostileQueryValue))));
  return fc.record({
    pathIds,
    query: queries,
    body: op.hasBody ? fc.option(hostileBody(op), { nil: undefined, freq: 8 }).map((b) => b ?? { text: '{"x":"\\u0000"}', contentType: 'application/json' }) : fc.constant(undefined),
    token: fc.constantFrom(...tokens),
    idempotencyKey: fc.option(fc.constantFrom('fuzz-key', 'k'.repeat(300), 'two words')),
  });
}

/** One digest per table of everything stored, so any changed, added or removed row shows. */
async function digest(): Promise<Record<string, string>> {
  const tables = await h.sql<{ name: string }[]>`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`;
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    const [row] = await h.sql<{ d: string }[]>`select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as d from ${h.sql(name)} t`;
    out[name] = row!.d;
  }
  return out;
}

before(async () => {
  h = await createHarness();
  const write = await h.createKey('write', 'fuzz-writer');
  const target = await h.createNode('fuzz-target', { labels: { role: 'web' } });
  otherNode = await h.createNode('fuzz-other');
  const channel = await expectJson<{ id: string }>(await h.admin('POST', '/v1/channels', { name: 'fuzz-mail', type: 'email', config: { to: ['ops@example.com'] } }), 201);
  const user = await expectJson<{ id: string }>(await h.admin('POST', '/v1/users', { name: 'Fuzz', email: 'fuzz@example.com' }), 201);
  const schedule = await expectJson<{ id: string }>(
    await h.admin('POST', '/v1/schedules', { name: 'fuzz-rota', time_zone: 'UTC', layers: [{ name: 'a', user_ids: [user.id], starts_at: '2026-11-01T00:00:00.000Z', rotation: 'P1W' }] }),
    201,
  );
  const policy = await expectJson<{ id: string }>(await h.admin('POST', '/v1/escalation-policies', { name: 'fuzz-policy', levels: [{ after_seconds: 0, channel_ids: [channel.id] }] }), 201);
  const page = await expectJson<{ id: string }>(await h.admin('POST', '/v1/status-pages', { slug: 'fuzz', title: 'Fuzz', components: [{ name: 'Web', labels: { role: 'web' } }] }), 201);
  const [incident] = await openIncidents(h.sql, [
    { nodeId: target.id, nodeName: target.name, category: 'node_down', severity: 'critical', title: 'fuzz-target is down', reason: 'fuzz', policyId: null, openedAt: h.clock.now() },
  ]);
  for (const [path, id] of [
    ['/v1/nodes/{id}', target.id],
    ['/v1/channels/{id}', channel.id],
    ['/v1/users/{id}', user.id],
    ['/v1/schedules/{id}', schedule.id],
    ['/v1/escalation-policies/{id}', policy.id],
    ['/v1/status-pages/{id}', page.id],
    ['/v1/incidents/{id}', incident!.id],
  ] as const) {
    realIds.set(path, id);
  }
  tokens = [ADMIN_TOKEN, write.secret, target.token];
  // The other node has a heartbeat stored before the storm.
  assert.equal((await h.req('POST', '/v1/heartbeats', { token: otherNode.token, json: { status: 'ok', seq: 1 } })).status, 202);
  await h.flush();

  const doc = await expectJson<Json>(await h.req('GET', '/openapi.json'), 200);
  operations = Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(([path, item]) =>
    Object.entries(item)
      // Operations without auth take no input that could be refused (liveness, readiness, metrics).
      .filter(([, op]) => ((op.security as unknown[] | undefined) ?? []).length > 0)
      .map(([method, op]) => {
        const params = (op.parameters as Json[] | undefined) ?? [];
        const body = op.requestBody as Json | undefined;
        const schema = body ? (((body.content as Json)['application/json'] as Json).schema as Json) : undefined;
        return {
          method: method.toUpperCase(),
          path,
          query: params.filter((p) => p.in === 'query').map((p) => p.name as string),
          fields: fieldsOf(doc, schema),
          hasBody: body !== undefined,
        };
      }),
  );
});
after(() => h.close());

describe('hostile input to every operation', () => {
  it('is refused with a 4xx, changes no row, and leaves other nodes heartbeating', async () => {
    assert.ok(operations.length >= 50, `found ${operations.length} operations`);
    const tried = new Set<string>();
    const before = await digest();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...operations).chain((op) => hostileRequest(op).map((req) => ({ op, req }))),
        async ({ op, req }) => {
          let i = 0;
          const path = op.path.replace(/\{[^}]+\}/g, () => req.pathIds[i++]!);
          const query = op.query.flatMap((name, j) => (req.query[j] === null ? [] : [`${name}=${req.query[j]}`])).join('&');
          const headers: Record<string, string> = { authorization: `Bearer ${req.token}` };
          if (req.body) headers['content-type'] = req.body.contentType;
          if (req.idempotencyKey) headers['idempotency-key'] = req.idempotencyKey;
          const res = await h.app.request(`${path}${query ? `?${query}` : ''}`, { method: op.method, headers, ...(req.body ? { body: req.body.text } : {}) });
          const text = await res.text();
          tried.add(`${op.method} ${op.path}`);
          assert.ok(res.status >= 400 && res.status < 500, `${op.method} ${path}?${query.slice(0, 200)} answered ${res.status}: ${text.slice(0, 300)}`);
        },
      ),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    // Nothing buffered, nothing written: every table holds what it held.
    await h.flush();
    assert.deepEqual(await digest(), before, 'a refused request changed a stored row');
    assert.ok(tried.size >= operations.length * 0.9, `drove ${tried.size} of ${operations.length} operations`);

    const stored = await h.heartbeatRow(otherNode.id);
    assert.equal(stored?.last_seq, 1, "the other node's heartbeat is still stored");
    assert.equal((await h.req('POST', '/v1/heartbeats', { token: otherNode.token, json: { status: 'ok', seq: 2 } })).status, 202);
    await h.flush();
    assert.equal((await h.heartbeatRow(otherNode.id))?.last_seq, 2, 'and its next one is stored too');
  });
});
