import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as v from 'valibot';
import { createWebhookChannel, generateWebhookSecret } from '../../alerting/webhook.ts';
import { notificationsFor } from '../../src/notifications/message.ts';
import { insertDeliveries, leaseDeliveries } from '../../src/notifications/store.ts';
import { openIncidents } from '../../src/incidents/store.ts';
import { CreateKey } from '../../src/http/routes/api-keys.ts';
import { PING_BODY_READ_BYTES } from '../../src/jobs/model.ts';
import { CreateChannel, PatchChannel } from '../../src/http/routes/channels.ts';
import { CreatePolicy, PatchPolicy } from '../../src/http/routes/escalation-policies.ts';
import { HeartbeatBody } from '../../src/http/routes/heartbeats.ts';
import { Acknowledge, AcknowledgeEach, AddNote, Resolve } from '../../src/http/routes/incidents.ts';
import { CreateMaintenance } from '../../src/http/routes/maintenances.ts';
import { CreateNode, PatchNode, PutNode } from '../../src/http/routes/nodes.ts';
import { CreateOverride, CreateSchedule, PatchSchedule } from '../../src/http/routes/schedules.ts';
import { CreateStatusPage, PatchStatusPage } from '../../src/http/routes/status-pages.ts';
import { CreateUser, PatchUser } from '../../src/http/routes/users.ts';
import { ADMIN_TOKEN, createHarness, START, type Harness } from '../helpers/app.ts';
import { localReceivers } from '../helpers/local-receivers.ts';
import { PATIENCE_MS, until } from '../helpers/wait.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';

// What /openapi.json claims is checked against the app itself: its routes, the schemas its
// handlers validate with, the answers it really gives and the secrets it really accepts.

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = Record<string, any>;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every operation of the document as [method, path, operation]. */
function operations(doc: Obj): [string, string, Obj][] {
  return Object.entries(doc.paths as Obj).flatMap(([path, item]) =>
    Object.entries(item as Obj)
      .filter(([k]) => METHODS.includes(k))
      .map(([method, op]): [string, string, Obj] => [method.toUpperCase(), path, op]),
  );
}

function pointer(doc: Obj, ref: string): unknown {
  assert.ok(ref.startsWith('#/'), `only local $refs are used: ${ref}`);
  return ref
    .slice(2)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<any>((o, k) => (o === undefined || o === null ? undefined : o[k]), doc);
}

const deref = (doc: Obj, x: Obj): Obj => (x && typeof x.$ref === 'string' ? deref(doc, pointer(doc, x.$ref) as Obj) : x);

/** A structural check of the OpenAPI 3.1 rules this document could break; returns what is wrong. */
function structuralProblems(doc: Obj): string[] {
  const problems: string[] = [];
  const fail = (where: string, what: string) => problems.push(`${where}: ${what}`);
  if (typeof doc.openapi !== 'string' || !/^3\.1\.\d+$/.test(doc.openapi)) fail('openapi', `must be 3.1.x, is ${doc.openapi}`);
  if (typeof doc.info?.title !== 'string' || !doc.info.title) fail('info.title', 'missing');
  if (typeof doc.info?.version !== 'string' || !doc.info.version) fail('info.version', 'missing');
  if (typeof doc.paths !== 'object' || doc.paths === null) fail('paths', 'missing');
  const tags = new Set((doc.tags ?? []).map((t: Obj) => t.name));
  const schemes = doc.components?.securitySchemes ?? {};
  for (const [name, s] of Object.entries<Obj>(schemes)) {
    if (!['apiKey', 'http', 'mutualTLS', 'oauth2', 'openIdConnect'].includes(s.type)) fail(`securityScheme ${name}`, `bad type ${s.type}`);
    if (s.type === 'http' && typeof s.scheme !== 'string') fail(`securityScheme ${name}`, 'http needs a scheme');
  }
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries<Obj>(doc.paths ?? {})) {
    if (!path.startsWith('/')) fail(path, 'a path starts with /');
    for (const key of Object.keys(item)) {
      if (![...METHODS, 'parameters', 'summary', 'description', 'servers', '$ref'].includes(key)) fail(path, `unknown field ${key}`);
    }
  }
  for (const [method, path, op] of operations(doc)) {
    const at = `${method} ${path}`;
    if (op.operationId !== undefined) {
      if (operationIds.has(op.operationId)) fail(at, `operationId ${op.operationId} is used twice`);
      operationIds.add(op.operationId);
    }
    for (const tag of op.tags ?? []) if (!tags.has(tag)) fail(at, `tag ${tag} is not declared`);
    const responses = Object.entries<Obj>(op.responses ?? {});
    if (responses.length === 0) fail(at, 'has no responses');
    for (const [status, r] of responses) {
      if (!/^([1-5](\d\d|XX)|default)$/.test(status)) fail(at, `bad response key ${status}`);
      if (typeof deref(doc, r)?.description !== 'string') fail(at, `response ${status} has no description`);
    }
    const params = (op.parameters ?? []).map((p: Obj) => deref(doc, p));
    const seen = new Set<string>();
    for (const p of params) {
      if (typeof p.name !== 'string' || !['query', 'header', 'path', 'cookie'].includes(p.in)) fail(at, `bad parameter ${JSON.stringify(p)}`);
      if (seen.has(`${p.in} ${p.name}`)) fail(at, `parameter ${p.name} twice`);
      seen.add(`${p.in} ${p.name}`);
      if (p.in === 'path' && p.required !== true) fail(at, `path parameter ${p.name} must be required`);
      if (!('schema' in p) && !('content' in p)) fail(at, `parameter ${p.name} has no schema`);
    }
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    const declared = params.filter((p: Obj) => p.in === 'path').map((p: Obj) => p.name);
    if (JSON.stringify([...templated].sort()) !== JSON.stringify([...declared].sort())) fail(at, `path parameters ${declared} do not match ${templated}`);
    if (op.requestBody && Object.keys(deref(doc, op.requestBody).content ?? {}).length === 0) fail(at, 'requestBody without content');
    for (const requirement of op.security ?? doc.security ?? []) {
      for (const name of Object.keys(requirement)) if (!(name in schemes)) fail(at, `security names unknown scheme ${name}`);
    }
  }
  // Every $ref anywhere resolves.
  const walk = (x: unknown, where: string) => {
    if (Array.isArray(x)) x.forEach((y, i) => walk(y, `${where}/${i}`));
    else if (x && typeof x === 'object') {
      for (const [k, y] of Object.entries(x)) {
        if (k === '$ref' && typeof y === 'string' && pointer(doc, y) === undefined) fail(where, `$ref ${y} does not resolve`);
        walk(y, `${where}/${k}`);
      }
    }
  };
  walk(doc, '#');
  return problems;
}

const FORMATS: Record<string, RegExp> = {
  'date-time': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i,
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  email: /^[^@\s]+@[^@\s]+\.[^@\s]+$/,
};
const ANNOTATIONS = new Set(['description', 'default', 'examples', 'title']);

/**
 * The JSON Schema keywords the document uses, evaluated. A keyword it does not know fails the test
 * instead of passing silently. `strict` treats an object's unlisted properties as errors (for the
 * engine's own answers, which must document every field they carry).
 */
function schemaProblems(doc: Obj, schema: Obj, value: unknown, strict = false, at = '(body)'): string[] {
  const s = deref(doc, schema);
  const out: string[] = [];
  const fail = (what: string) => out.push(`${at}: ${what}`);
  const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  const sub = (inner: Obj, x: unknown, where: string) => schemaProblems(doc, inner, x, strict, where);
  for (const key of Object.keys(s)) {
    switch (key) {
      case 'type': {
        const types: string[] = Array.isArray(s.type) ? s.type : [s.type];
        const ok = types.some((t) =>
          t === 'null' ? value === null
          : t === 'integer' ? Number.isInteger(value)
          : t === 'number' ? typeof value === 'number' && Number.isFinite(value)
          : t === 'array' ? Array.isArray(value)
          : t === 'object' ? isObject(value)
          : typeof value === t,
        );
        if (!ok) fail(`is not ${types.join(' | ')}`);
        break;
      }
      case 'enum':
        if (!s.enum.some((e: unknown) => e === value)) fail(`is not one of ${JSON.stringify(s.enum)}`);
        break;
      case 'const':
        if (s.const !== value) fail(`is not ${JSON.stringify(s.const)}`);
        break;
      case 'properties':
      case 'required':
      case 'additionalProperties':
      case 'propertyNames':
        break; // together, below
      case 'items':
        if (Array.isArray(value)) value.forEach((x, i) => out.push(...sub(s.items, x, `${at}.${i}`)));
        break;
      case 'minItems':
        if (Array.isArray(value) && value.length < s.minItems) fail(`has fewer than ${s.minItems} items`);
        break;
      case 'maxItems':
        if (Array.isArray(value) && value.length > s.maxItems) fail(`has more than ${s.maxItems} items`);
        break;
      case 'minLength':
        if (typeof value === 'string' && [...value].length < s.minLength) fail(`is shorter than ${s.minLength}`);
        break;
      case 'maxLength':
        if (typeof value === 'string' && [...value].length > s.maxLength) fail(`is longer than ${s.maxLength}`);
        break;
      case 'pattern':
        if (typeof value === 'string' && !new RegExp(s.pattern).test(value)) fail(`does not match ${s.pattern}`);
        break;
      case 'format':
        assert.ok(FORMATS[s.format], `the test knows format ${s.format}`);
        if (typeof value === 'string' && !FORMATS[s.format]!.test(value)) fail(`is not a ${s.format}`);
        break;
      case 'minimum':
        if (typeof value === 'number' && value < s.minimum) fail(`is below ${s.minimum}`);
        break;
      case 'maximum':
        if (typeof value === 'number' && value > s.maximum) fail(`is above ${s.maximum}`);
        break;
      case 'anyOf':
      case 'oneOf': {
        const passing = s[key].filter((alt: Obj) => sub(alt, value, at).length === 0).length;
        if (passing === 0 || (key === 'oneOf' && passing > 1)) fail(`matches ${passing} of the ${key} alternatives`);
        break;
      }
      default:
        assert.ok(ANNOTATIONS.has(key), `the test does not evaluate the keyword ${key} (at ${at})`);
    }
  }
  if (isObject(value)) {
    const properties: Obj = s.properties ?? {};
    for (const name of s.required ?? []) if (!(name in value)) fail(`lacks ${name}`);
    for (const [name, field] of Object.entries(value)) {
      const where = `${at}.${name}`;
      if (s.propertyNames) out.push(...sub(s.propertyNames, name, `${where} (key)`));
      if (name in properties) out.push(...sub(properties[name], field, where));
      else if (s.additionalProperties === false || (strict && s.properties && s.additionalProperties === undefined)) fail(`has unknown field ${name}`);
      else if (isObject(s.additionalProperties)) out.push(...sub(s.additionalProperties, field, where));
    }
  }
  return out;
}

/** The document's answer schema for a status, or undefined when the status is undocumented. */
function answer(doc: Obj, method: string, path: string, status: number) {
  const op = doc.paths[path]?.[method.toLowerCase()];
  assert.ok(op, `${method} ${path} is documented`);
  const r = op.responses[String(status)];
  return r && deref(doc, r);
}

const hashOf = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

// Low enough to reach in a few requests, high enough for the pings of each test's job.
const PINGS_PER_MINUTE = 10;

describe('the OpenAPI document', () => {
  let h: Harness;
  let doc: Obj;

  before(async () => {
    h = await createHarness({ limits: { pingsPerMinute: PINGS_PER_MINUTE } });
    const res = await h.req('GET', '/openapi.json');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    doc = (await res.json()) as Obj;
  });
  after(async () => {
    await h.close();
  });

  it('is served without auth and is structurally valid OpenAPI 3.1', () => {
    assert.deepEqual(structuralProblems(doc), []);
    assert.equal(doc.info.title, 'Lifeline');
    assert.ok(doc.info.description.length > 0);
  });

  it('describes exactly the routes the app registers', () => {
    const registered = new Set(
      h.app.routes
        .filter((r) => r.method !== 'ALL' && (['/v1/', '/ping/', '/badge/'].some((prefix) => r.path.startsWith(prefix)) || ['/healthz', '/readyz', '/metrics'].includes(r.path)))
        .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`),
    );
    const documented = new Set(operations(doc).map(([method, path]) => `${method} ${path}`));
    // A ping path with a trailing slash is the same operation, which its description says.
    const operation = (r: string) => (r.includes(' /ping/') ? r.replace(/\/$/, '') : r);
    assert.deepEqual([...registered].filter((r) => !documented.has(operation(r))), [], 'registered but not documented');
    const allRoutes = new Set(h.app.routes.map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`));
    assert.deepEqual([...documented].filter((d) => !allRoutes.has(d)), [], 'documented but not registered');
    assert.ok(registered.size >= 37, `every /v1 route is there (${registered.size})`);
  });

  it('gives every /v1 operation a summary, a tag, its scope and the shared error answers', () => {
    for (const [method, path, op] of operations(doc)) {
      assert.ok(op.summary && op.tags?.length === 1, `${method} ${path} has a summary and one tag`);
      if (!path.startsWith('/v1/')) continue;
      assert.ok(op.security?.length > 0, `${method} ${path} names its security`);
      assert.match(op.description, /scope|node token/i, `${method} ${path} names its scope in the description`);
      for (const status of ['401', '403', '500', '503']) assert.ok(op.responses[status]?.$ref?.startsWith('#/components/responses/'), `${method} ${path} ${status}`);
      const error = deref(doc, op.responses['401']).content['application/json'].schema;
      assert.deepEqual(error, { $ref: '#/components/schemas/Error' });
    }
  });

  // The valid and invalid samples stay within what JSON Schema can say (checks such as "levels
  // strictly later" or "https only" are the handlers' business and are described in prose).
  const uuid = '6f1c1a8e-3b7e-4c1a-9d2e-0a1b2c3d4e5f';
  const level = { after_seconds: 0, channel_ids: [uuid] };
  const BODIES: { op: string; schema: v.GenericSchema; valid: Json[]; invalid: Json[] }[] = [
    {
      op: 'POST /v1/nodes',
      schema: CreateNode,
      valid: [
        { name: 'web-1' },
        { name: 'web-2', labels: { role: 'web' }, heartbeat_interval_seconds: 10, grace_seconds: 0, escalation_policy_id: null },
        { name: 'job', schedule: { cron: '*/5 * * * *', time_zone: 'UTC', grace_seconds: 60, max_run_seconds: null } },
      ],
      invalid: [{}, [], { name: 'web-1', colour: 'red' }, { name: 'x', schedule: { cron: 5 } }, { name: 'x', schedule: { cron: '* * * * *', grace_seconds: -1 } }, { name: 'has space' }, { name: 'x', heartbeat_interval_seconds: 0 }, { name: 'x', grace_seconds: 1.5 }, { name: 'x', labels: { role: 1 } }],
    },
    {
      op: 'PATCH /v1/nodes/{id}',
      schema: PatchNode,
      valid: [{}, { labels: {} }, { failures_for_down: 5, escalation_policy_id: uuid }],
      invalid: [{ token: 'x' }, { escalation_policy_id: 'nope' }, { successes_for_recovery: 1001 }, { ping_key: 'short' }],
    },
    {
      op: 'PUT /v1/nodes/by-name/{name}',
      schema: PutNode,
      valid: [{}, { labels: { role: 'web' }, heartbeat_interval_seconds: 10, ping_key: '0f3c1a9e-5b7d-4e21-9c8a-6d2b4f1e7a30' }, { schedule: { cron: '0 3 * * *' } }],
      invalid: [{ name: 'web-1' }, { heartbeat_interval_seconds: 0 }, { ping_key: 'short' }, { labels: { role: 1 } }],
    },
    {
      op: 'POST /v1/api-keys',
      schema: CreateKey,
      valid: [{ name: 'ci', scope: 'read' }, { name: 'agents', scope: 'ingest' }],
      invalid: [{ name: 'ci' }, { name: 'ci', scope: 'root' }, { name: 'ci', scope: 'read', extra: 1 }, { name: 7, scope: 'read' }],
    },
    {
      op: 'POST /v1/heartbeats',
      schema: HeartbeatBody,
      valid: [{}, { status: 'ok', checks: { disk: { status: 'warn', value: 91 } }, seq: 4 }, { heartbeats: [{ node: 'web-1' }, { node: 'web-2', status: 'failing' }] }, { from_a_newer_agent: true }],
      invalid: [{ status: 'sleepy' }, { checks: { disk: { status: 'meh' } } }, { seq: -1 }, { node: 'has space' }, 'ok'],
    },
    {
      op: 'POST /v1/channels',
      schema: CreateChannel,
      valid: [
        { name: 'ops', type: 'email', config: { to: ['ops@example.com'] } },
        { name: 'hook', type: 'webhook', config: { url: 'https://example.com/hook' } },
        { name: 'slack', type: 'slack', config: { webhook_url: 'https://hooks.example.com/x' } },
        { name: 'pd', type: 'pagerduty', config: { routing_key: 'abc' } },
      ],
      invalid: [
        { name: 'x', type: 'sms', config: {} },
        { name: 'x', type: 'email', config: { to: [] } },
        { name: 'x', type: 'email', config: { to: ['not-an-email'] } },
        { name: 'x', type: 'email', config: { to: ['ops@example.com'] }, extra: 1 },
        { name: 'x', type: 'slack', config: {} },
      ],
    },
    {
      op: 'PATCH /v1/channels/{id}',
      schema: PatchChannel,
      valid: [{}, { name: 'renamed' }, { config: { to: ['a@example.com'] } }],
      invalid: [{ type: 'sms' }, { colour: 1 }, { name: '' }],
    },
    {
      op: 'POST /v1/escalation-policies',
      schema: CreatePolicy,
      valid: [
        { name: 'p', levels: [level] },
        { name: 'p', levels: [level, { after_seconds: 300, channel_ids: [uuid] }], repeat: 2, is_default: true },
        { name: 'p', levels: [{ after_seconds: 0, schedule_ids: [uuid] }, { after_seconds: 60, user_ids: [uuid], channel_ids: [] }] },
      ],
      invalid: [
        { name: 'p' },
        { name: 'p', levels: [] },
        { name: 'p', levels: [{ after_seconds: 0 }] },
        { name: 'p', levels: [{ after_seconds: 0, channel_ids: [], user_ids: [] }] },
        { name: 'p', levels: [level], repeat: 11 },
      ],
    },
    {
      op: 'PATCH /v1/escalation-policies/{id}',
      schema: PatchPolicy,
      valid: [{}, { repeat: 2 }, { levels: [level] }],
      invalid: [{ is_default: 'yes' }, { levels: 'x' }, { channel_ids: [] }],
    },
    {
      op: 'POST /v1/users',
      schema: CreateUser,
      valid: [{ name: 'Alice', email: 'alice@example.com' }, { name: 'Bob', email: 'bob@example.com', time_zone: 'Europe/Berlin', channel_ids: [uuid] }],
      invalid: [{ name: 'Alice' }, { name: 'x', email: 'x@example.com', channel_ids: ['nope'] }, { name: 'x', email: 'x@example.com', phone: '1' }, { name: '', email: 'x@example.com' }],
    },
    {
      op: 'PATCH /v1/users/{id}',
      schema: PatchUser,
      valid: [{}, { channel_ids: [] }, { name: 'Alicia', email: 'alicia@example.com' }],
      invalid: [{ id: uuid }, { channel_ids: 'x' }, { name: 5 }],
    },
    {
      op: 'POST /v1/schedules',
      schema: CreateSchedule,
      valid: [
        { name: 'primary', time_zone: 'UTC', layers: [{ name: 'p', user_ids: [uuid], starts_at: START, rotation: 'P1W' }] },
        { name: 'office', time_zone: 'UTC', layers: [{ name: 'p', user_ids: [uuid], starts_at: START, rotation: 'P1D', restrictions: [{ days: ['mon', 'fri'], from: '09:00', to: '17:00' }] }] },
      ],
      invalid: [
        { name: 'x', time_zone: 'UTC', layers: [] },
        { name: 'x', time_zone: 'UTC', layers: [{ name: 'p', user_ids: [], starts_at: START, rotation: 'P1D' }] },
        { name: 'x', time_zone: 'UTC', layers: [{ name: 'p', user_ids: [uuid], starts_at: START, rotation: 'P1D', restrictions: [{ days: ['someday'], from: '09:00', to: '17:00' }] }] },
        { name: 'x', time_zone: 'UTC', layers: [{ name: 'p', user_ids: [uuid], starts_at: START, rotation: 'P1D', restrictions: [{ days: ['mon'], from: '9', to: '17:00' }] }] },
        { name: 'x', layers: [] },
      ],
    },
    {
      op: 'PATCH /v1/schedules/{id}',
      schema: PatchSchedule,
      valid: [{}, { name: 'renamed' }, { layers: [{ name: 'p', user_ids: [uuid], starts_at: START, rotation: 'PT12H' }] }],
      invalid: [{ layers: [] }, { overrides: [] }],
    },
    {
      op: 'POST /v1/schedules/{id}/overrides',
      schema: CreateOverride,
      valid: [{ user_id: uuid, starts_at: START, ends_at: START }],
      invalid: [{ user_id: uuid, starts_at: START }, { user_id: 'bob', starts_at: START, ends_at: START }, { user_id: uuid, starts_at: START, ends_at: START, layer: 'x' }],
    },
    {
      op: 'POST /v1/maintenances',
      schema: CreateMaintenance,
      valid: [{ starts_at: START, node_ids: ['web-1'] }, { starts_at: START, labels: { role: 'web' }, ends_at: null, reason: 'patching' }, { node_ids: ['web-1'] }, { node_ids: ['web-1'], duration_seconds: 1800 }],
      invalid: [{ node_ids: ['web-1'], starts_at: null }, { starts_at: 'tomorrow' }, { starts_at: START, extra: 1 }, { starts_at: START, node_ids: 'web-1' }, { node_ids: ['web-1'], duration_seconds: 0 }, { node_ids: ['web-1'], duration_seconds: '30m' }],
    },
    {
      op: 'POST /v1/status-pages',
      schema: CreateStatusPage,
      valid: [
        { slug: 'acme', title: 'Acme', components: [{ name: 'Web', labels: { role: 'web' } }] },
        { slug: 'a-1', title: 'A', description: null, public: false, show_nodes: true, components: [{ name: 'API', node_ids: ['web-1'] }] },
      ],
      invalid: [{}, { slug: 'Acme', title: 'A', components: [{ name: 'W' }] }, { slug: 'acme', title: 'A', components: [] }, { slug: 'acme', title: 'A', components: [{ name: 'W' }], theme: 'dark' }],
    },
    {
      op: 'PATCH /v1/status-pages/{id}',
      schema: PatchStatusPage,
      valid: [{}, { title: 'New' }, { public: false, components: [{ name: 'Web', labels: { role: 'web' } }] }],
      invalid: [{ slug: '-x' }, { public: 'no' }, { id: 'x' }],
    },
    {
      op: 'POST /v1/incidents/{id}/acknowledge',
      schema: Acknowledge,
      valid: [{}, { by: 'alice' }],
      invalid: [{ by: 5 }, { note: 'not here' }],
    },
    {
      op: 'POST /v1/incidents/acknowledge',
      schema: AcknowledgeEach,
      valid: [{ incident_ids: ['0b6c4a52-5f4e-4c1e-9d0a-2f6f4f3b1a10'] }, { incident_ids: ['0b6c4a52-5f4e-4c1e-9d0a-2f6f4f3b1a10'], by: 'alice' }],
      invalid: [{}, { incident_ids: [] }, { incident_ids: ['x'] }, { incident_ids: ['0b6c4a52-5f4e-4c1e-9d0a-2f6f4f3b1a10'], label: 'region=eu-west' }],
    },
    {
      op: 'POST /v1/incidents/{id}/resolve',
      schema: Resolve,
      valid: [{}, { by: 'bob', note: 'rebooted' }],
      invalid: [{ note: 5 }, { by: '' }, { reason: 'x' }],
    },
    {
      op: 'POST /v1/incidents/{id}/notes',
      schema: AddNote,
      valid: [{ note: 'restarting db-3' }, { note: 'vendor ticket #123', by: 'alice' }],
      invalid: [{}, { note: 5 }, { note: '' }, { note: 'x'.repeat(2001) }, { note: 'x', by: '' }, { note: 'x', at: 'now' }],
    },
  ];

  it('documents for each body the schema its handler validates with', () => {
    const withBody = operations(doc)
      .filter(([, , op]) => op.requestBody?.content['application/json'])
      .map(([method, path]) => `${method} ${path}`);
    assert.deepEqual(withBody.sort(), BODIES.map((b) => b.op).sort(), 'the operations that read a JSON body');
    // A ping's body is the run's output, whatever its type: bytes, never parsed.
    const raw = operations(doc).filter(([, , op]) => op.requestBody && !op.requestBody.content['application/json']);
    assert.deepEqual(raw.map(([m, p]) => `${m} ${p}`).sort(), ['POST /ping/{key}', 'POST /ping/{key}/{suffix}']);
    for (const [, , op] of raw) assert.deepEqual([op.requestBody.required, op.requestBody.content['*/*'].schema], [false, { type: 'string' }]);
    const bodiless = operations(doc).filter(([method, , op]) => ['POST', 'PATCH', 'PUT'].includes(method) && !op.requestBody);
    assert.deepEqual(bodiless.map(([m, p]) => `${m} ${p}`).sort(), ['POST /v1/channels/{id}/test', 'POST /v1/nodes/{id}/badge', 'POST /v1/nodes/{id}/ping-key', 'POST /v1/nodes/{id}/token', 'POST /v1/outbox/dead/{id}/replay']);

    for (const { op, schema, valid, invalid } of BODIES) {
      const [method, path] = op.split(' ') as [string, string];
      const body = doc.paths[path][method.toLowerCase()].requestBody;
      const documented = body.content['application/json'].schema;
      for (const sample of [...valid, ...invalid]) {
        const expected = valid.includes(sample);
        assert.equal(v.safeParse(schema, sample).success, expected, `${op}: the handler's schema ${expected ? 'accepts' : 'refuses'} ${JSON.stringify(sample)}`);
        const problems = schemaProblems(doc, documented, sample);
        assert.equal(problems.length === 0, expected, `${op}: the document ${expected ? 'accepts' : 'refuses'} ${JSON.stringify(sample)}: ${problems.join('; ')}`);
      }
    }
    const createNode = deref(doc, doc.paths['/v1/nodes'].post.requestBody.content['application/json'].schema);
    assert.deepEqual([createNode.type, createNode.required, createNode.additionalProperties], ['object', ['name'], false]);
    assert.equal(doc.paths['/v1/incidents/{id}/resolve'].post.requestBody.required, false, 'the resolve body may be left out');
  });

  it('documents paging parameters as integers with their bounds', () => {
    const limit = doc.paths['/v1/nodes'].get.parameters.find((p: Obj) => p.name === 'limit');
    assert.deepEqual([limit.in, limit.required, limit.schema.type, limit.schema.minimum, limit.schema.maximum, limit.schema.default], ['query', false, 'integer', 1, 500, 50]);
    const state = doc.paths['/v1/nodes'].get.parameters.find((p: Obj) => p.name === 'state');
    assert.deepEqual(state.schema.enum, ['unknown', 'healthy', 'degraded', 'down', 'maintenance']);
  });

  it('names the scope each operation really needs', async () => {
    const keys = { read: await h.createKey('read'), write: await h.createKey('write'), ingest: await h.createKey('ingest') };
    // The ping routes' credential is the key in their path; a badge's is its id.
    const job = await h.createNode('scope-job', { schedule: { cron: '0 0 * * *' } });
    const secret = { read: keys.read.secret, write: keys.write.secret, ingest: keys.ingest.secret, admin: ADMIN_TOKEN };
    // The weakest secret the document says is enough, and the strongest one it says is not.
    const ENOUGH: Record<string, keyof typeof secret> = { read: 'read', write: 'write', admin: 'admin', nodeToken: 'ingest' };
    const SHORT: Record<string, keyof typeof secret> = { read: 'ingest', write: 'read', admin: 'write', nodeToken: 'read' };
    for (const [method, path, op] of operations(doc)) {
      const url = path.replace('{id}', 'no-such-thing').replace('{key}', job.ping_key).replace('{suffix}', 'log').replace('{file}', `${job.badge_id}.json`);
      if (op.security.length === 0) {
        const res = await h.req(method, url);
        assert.ok(res.status < 400 || res.status === 503, `${method} ${path} answers without a secret (${res.status})`);
        continue;
      }
      const [first] = op.security as Obj[];
      const [scheme, scopes] = Object.entries(first!)[0] as [string, string[]];
      const need = scheme === 'nodeToken' ? 'nodeToken' : scopes[0]!;
      assert.equal((await h.req(method, url)).status, 401, `${method} ${path} without a secret`);
      const short = await h.req(method, url, { token: secret[SHORT[need]!] });
      assert.equal(short.status, 403, `${method} ${path} refuses a ${SHORT[need]} key`);
      assert.ok(op.responses['403'], `${method} ${path} documents 403`);
      const enough = await h.req(method, url, { token: secret[ENOUGH[need]!] });
      assert.ok(![401, 403].includes(enough.status), `${method} ${path} lets a ${ENOUGH[need]} key through (${enough.status})`);
    }
  });

  it('describes the answers the engine really gives, field by field', async () => {
    const exercised = new Set<string>();
    /** Sends a request and checks its answer against the document; returns the parsed body. */
    const call = async (
      method: string,
      path: string,
      o: { id?: string; path?: Record<string, string>; query?: string; json?: unknown; token?: string | null; headers?: Record<string, string>; body?: string } = {},
    ) => {
      const url =
        Object.entries(o.path ?? {}).reduce((p, [name, value]) => p.replace(`{${name}}`, encodeURIComponent(value)), path.replace('{id}', encodeURIComponent(o.id ?? ''))) +
        (o.query ? `?${o.query}` : '');
      const token = o.token === null ? undefined : (o.token ?? ADMIN_TOKEN);
      const res = await h.req(method, url, { token, json: o.json, headers: o.headers, ...(o.body !== undefined ? { body: o.body } : {}) });
      const text = await res.text();
      const documented = answer(doc, method, path, res.status);
      assert.ok(documented, `${method} ${path} answered ${res.status}, which is not documented: ${text}`);
      for (const name of Object.keys(documented.headers ?? {})) assert.ok(res.headers.get(name), `${method} ${path} ${res.status} sends ${name}`);
      const content = Object.entries<Obj>(documented.content ?? {});
      if (res.status === 204 || content.length === 0) {
        assert.equal(text, '', `${method} ${path} ${res.status} has no body`);
      } else {
        // The media type the answer came in, among those documented (a report as JSON or CSV).
        const type = res.headers.get('content-type') ?? '';
        const found = content.find(([mediaType]) => type.startsWith(mediaType));
        assert.ok(found, `${method} ${path} ${res.status} is ${type}, documented as ${content.map(([m]) => m).join(', ')}`);
        const [mediaType, media] = found;
        const parsed = mediaType === 'application/json' ? JSON.parse(text) : text;
        assert.deepEqual(schemaProblems(doc, media.schema, parsed, true), [], `${method} ${path} ${res.status}: ${text}`);
        if (res.status < 300) exercised.add(`${method} ${path}`);
        return parsed;
      }
      if (res.status < 300) exercised.add(`${method} ${path}`);
      return undefined;
    };

    await call('GET', '/healthz', { token: null });
    await call('GET', '/readyz', { token: null });
    h.setRedisUp(false);
    assert.deepEqual((await call('GET', '/readyz', { token: null })).down, ['redis']);
    h.setRedisUp(true);
    await call('GET', '/metrics', { token: null });

    const reader = await call('POST', '/v1/api-keys', { json: { name: 'reader', scope: 'read' } });
    await call('GET', '/v1/api-keys', { query: 'limit=1' });
    await call('DELETE', '/v1/api-keys/{id}', { id: reader.id });
    const [lastAdmin] = await h.sql<{ id: string }[]>`select id from api_keys where scope = 'admin' and revoked_at is null`;
    await call('DELETE', '/v1/api-keys/{id}', { id: lastAdmin!.id }); // 409: the last admin key that works

    const node = await call('POST', '/v1/nodes', { json: { name: 'web-1', labels: { role: 'web' } } });
    await call('POST', '/v1/heartbeats', { token: node.token, json: { status: 'degraded', checks: { disk: { status: 'warn', value: 91, message: 'filling' } } } });
    await h.flush();
    const seen = await call('GET', '/v1/nodes/{id}', { id: 'web-1' });
    assert.equal(seen.health.checks.disk.status, 'warn', 'the checks are in the answer that was checked');
    await call('GET', '/v1/nodes', { query: 'label=role:web' });
    await call('PATCH', '/v1/nodes/{id}', { id: node.id, json: { grace_seconds: 5 } });
    const applied = { labels: { role: 'web' }, heartbeat_interval_seconds: 10 };
    assert.ok((await call('PUT', '/v1/nodes/by-name/{name}', { path: { name: 'web-applied' }, json: applied })).token, '201: created, with its token');
    assert.equal((await call('PUT', '/v1/nodes/by-name/{name}', { path: { name: 'web-applied' }, json: applied })).token, undefined, '200: as it was');
    const rotated = await call('POST', '/v1/nodes/{id}/token', { id: node.id });
    const { badge_id } = await call('POST', '/v1/nodes/{id}/badge', { id: 'web-1' });
    assert.match(await call('GET', '/badge/{file}', { token: null, path: { file: `${badge_id}.svg` } }), /^<svg/);
    assert.equal((await call('GET', '/badge/{file}', { token: null, path: { file: `${badge_id}.json` }, query: 'metric=uptime&window=7d' })).schemaVersion, 1);
    await call('GET', '/badge/{file}', { token: null, path: { file: `${badge_id}.png` } }); // 404
    await call('POST', '/v1/heartbeats', { token: rotated.token, json: { heartbeats: [{ status: 'ok' }] } });
    await call('GET', '/v1/nodes/{id}/transitions', { id: node.id });
    const job = await call('POST', '/v1/nodes', { json: { name: 'backup', schedule: { cron: '0 3 * * *', time_zone: 'Europe/Berlin', grace_seconds: 300, max_run_seconds: 3600 } } });
    const pinged = { token: null, path: { key: job.ping_key } };
    assert.equal(await call('GET', '/ping/{key}', pinged), 'OK');
    await call('GET', '/ping/{key}/{suffix}', { ...pinged, path: { ...pinged.path, suffix: 'start' } });
    await call('POST', '/ping/{key}/{suffix}', { ...pinged, path: { ...pinged.path, suffix: '0' }, body: 'done' });
    await h.flush();
    const runs = await call('GET', '/v1/nodes/{id}/runs', { id: 'backup' });
    assert.equal(runs.items[0].output, 'done', 'a run is in the answer that was checked');
    await call('POST', '/ping/{key}', { ...pinged, body: 'ran again' });
    assert.equal((await call('GET', '/ping/{key}/{suffix}', { ...pinged, path: { ...pinged.path, suffix: '256' } })).error.code, 'validation_failed');
    assert.equal(await call('POST', '/ping/{key}', { ...pinged, body: 'a\u0000b' }), 'OK');
    assert.equal(await call('POST', '/ping/{key}/{suffix}', { ...pinged, path: { ...pinged.path, suffix: 'log' }, body: 'x'.repeat(PING_BODY_READ_BYTES + 1) }), 'OK');
    assert.equal(await call('GET', '/ping/{key}', { token: null, path: { key: 'k'.repeat(43) } }), 'not found');
    const hourly = await call('POST', '/v1/nodes', { json: { name: 'hourly', schedule: { cron: '0 * * * *' } } });
    for (let i = 0; i < PINGS_PER_MINUTE; i++) await call('POST', '/ping/{key}/{suffix}', { token: null, path: { key: hourly.ping_key, suffix: 'log' }, body: `line ${i}` });
    assert.equal((await call('GET', '/ping/{key}', { token: null, path: { key: hourly.ping_key } })).error.code, 'rate_limited');
    await call('POST', '/v1/nodes/{id}/ping-key', { id: job.id });

    const email = await call('POST', '/v1/channels', { json: { name: 'ops', type: 'email', config: { to: ['ops@example.com'] } } });
    const hook = await call('POST', '/v1/channels', { json: { name: 'hook', type: 'webhook', config: { url: 'https://example.com/hook' } } });
    assert.match(hook.config.secret, /^whsec_/, 'a generated secret is shown once');
    await call('GET', '/v1/channels');
    await call('GET', '/v1/channels/{id}', { id: hook.id });
    await call('PATCH', '/v1/channels/{id}', { id: email.id, json: { name: 'ops-mail' } });
    // Without SMTP configured the email test fails at once, and says so: nothing leaves this machine.
    assert.equal((await call('POST', '/v1/channels/{id}/test', { id: email.id })).status, 'failed');
    const policy = await call('POST', '/v1/escalation-policies', { json: { name: 'default', is_default: true, levels: [{ after_seconds: 0, channel_ids: [email.id] }] } });
    await call('GET', '/v1/escalation-policies');
    await call('GET', '/v1/escalation-policies/{id}', { id: policy.id });
    await call('PATCH', '/v1/escalation-policies/{id}', { id: policy.id, json: { repeat: 1 } });
    await call('DELETE', '/v1/channels/{id}', { id: email.id }); // 409: the policy names it
    await call('DELETE', '/v1/escalation-policies/{id}', { id: policy.id });
    await call('DELETE', '/v1/channels/{id}', { id: email.id });

    const hourLater = new Date(Date.parse(START) + 3_600_000).toISOString();
    const user = await call('POST', '/v1/users', { json: { name: 'Alice', email: 'alice@example.com', channel_ids: [hook.id] } });
    await call('POST', '/v1/users', { json: { name: 'Alice again', email: 'ALICE@example.com' } }); // 409
    await call('GET', '/v1/users');
    await call('GET', '/v1/users/{id}', { id: user.id });
    await call('PATCH', '/v1/users/{id}', { id: user.id, json: { time_zone: 'Europe/Berlin' } });
    const schedule = await call('POST', '/v1/schedules', {
      json: {
        name: 'primary',
        time_zone: 'Europe/Berlin',
        layers: [{ name: 'days', user_ids: [user.id], starts_at: START, rotation: 'P1D', restrictions: [{ days: ['sat', 'sun'], from: '08:00', to: '20:00' }] }],
      },
    });
    await call('GET', '/v1/schedules');
    await call('GET', '/v1/schedules/{id}', { id: 'primary' });
    await call('PATCH', '/v1/schedules/{id}', { id: schedule.id, json: { name: 'primary' } });
    const override = await call('POST', '/v1/schedules/{id}/overrides', { id: schedule.id, json: { user_id: user.id, starts_at: START, ends_at: hourLater } });
    await call('GET', '/v1/schedules/{id}/overrides', { id: schedule.id });
    assert.deepEqual((await call('GET', '/v1/schedules/{id}/on-call', { id: schedule.id })).user_ids, [user.id]);
    assert.equal((await call('GET', '/v1/schedules/{id}/shifts', { id: schedule.id, query: `from=${START}&to=${hourLater}` })).items[0].layer, 'override');
    await call('DELETE', '/v1/schedules/{id}/overrides/{override_id}', { id: schedule.id, path: { override_id: override.id } });
    const people = await call('POST', '/v1/escalation-policies', { json: { name: 'people', levels: [{ after_seconds: 0, schedule_ids: [schedule.id], user_ids: [user.id] }] } });
    assert.deepEqual((await call('GET', '/v1/escalation-policies/{id}/on-call', { id: people.id })).levels[0].user_ids, [user.id]);
    await call('DELETE', '/v1/users/{id}', { id: user.id }); // 409: the policy and the schedule name the user
    await call('DELETE', '/v1/schedules/{id}', { id: schedule.id }); // 409: the policy names it
    await call('DELETE', '/v1/escalation-policies/{id}', { id: people.id });
    await call('DELETE', '/v1/schedules/{id}', { id: schedule.id });
    await call('DELETE', '/v1/users/{id}', { id: user.id });

    const ends = new Date(h.clock.now().getTime() + 3_600_000).toISOString();
    const window = await call('POST', '/v1/maintenances', { json: { node_ids: ['web-1'], starts_at: START, ends_at: ends, reason: 'patching' } });
    await call('GET', '/v1/maintenances', { query: 'active=true' });
    await call('GET', '/v1/maintenances/{id}', { id: window.id });
    await call('DELETE', '/v1/maintenances/{id}', { id: window.id });

    const incident = (await openIncidents(h.sql, [{
      nodeId: node.id,
      nodeName: 'web-1',
      category: 'node_down',
      severity: 'critical',
      title: 'web-1 is down',
      reason: 'no heartbeat for 90s',
      policyId: null,
      openedAt: h.clock.now(),
    }]))[0];
    await insertDeliveries(
      h.sql,
      [
        { incidentId: incident!.id, event: 'opened', eventKey: 'opened', channelId: hook.id, channelType: 'webhook', occurredAt: h.clock.now() },
        { incidentId: incident!.id, event: 'opened', eventKey: 'opened', channelId: null, userId: uuid, channelType: 'email', occurredAt: h.clock.now() },
      ],
      h.clock.now(),
    );
    await call('GET', '/v1/incidents', { query: 'status=open&label=role=web&label=region=eu-west' });
    await call('GET', '/v1/incidents/summary', { query: 'opened_after=2026-01-01T00:00:00Z&label=role=web' });
    await call('POST', '/v1/incidents/acknowledge', { json: { incident_ids: ['0b6c4a52-5f4e-4c1e-9d0a-2f6f4f3b1a10'] } }); // 400
    await call('POST', '/v1/incidents/acknowledge', { json: { incident_ids: [incident!.id], by: 'alice' } });
    await call('GET', '/v1/incidents/{id}', { id: incident!.id });
    assert.equal((await call('GET', '/v1/incidents/{id}/deliveries', { id: incident!.id })).items.length, 2);
    await call('POST', '/v1/incidents/{id}/acknowledge', { id: incident!.id, headers: { 'if-match': '7' } }); // 412
    await call('POST', '/v1/incidents/{id}/acknowledge', { id: incident!.id, json: { by: 'alice' }, headers: { 'if-match': '2' } });
    await call('POST', '/v1/incidents/{id}/resolve', { id: incident!.id });
    await call('POST', '/v1/incidents/{id}/notes', { id: incident!.id, json: { note: 'disk was full' } });
    await call('POST', '/v1/incidents/{id}/resolve', { id: incident!.id, json: { note: 'again' } }); // 409

    h.clock.advance(7_200_000);
    const uptime = await call('GET', '/v1/nodes/{id}/uptime', { id: 'web-1', query: 'window=24h&bucket=hour' });
    assert.ok(Array.isArray(uptime.buckets), 'the buckets were checked too');
    await call('GET', '/v1/uptime', { query: 'window=7d&sort=worst' });
    assert.match(await call('GET', '/v1/uptime', { query: 'window=7d&format=csv' }), /^node_id,name,uptime_ratio,/);
    assert.match(await call('GET', '/v1/nodes/{id}/uptime', { id: 'web-1', headers: { accept: 'text/csv' } }), /^from,to,uptime_ratio,/);

    const status = await call('POST', '/v1/status-pages', { json: { slug: 'acme', title: 'Acme', components: [{ name: 'Web', node_ids: ['web-1'], labels: { role: 'web' } }] } });
    await call('POST', '/v1/status-pages', { json: { slug: 'acme', title: 'Again', components: [{ name: 'Web', labels: { role: 'web' } }] } }); // 409
    await call('GET', '/v1/status-pages', { query: 'limit=1' });
    await call('GET', '/v1/status-pages/{id}', { id: 'acme' });
    await call('PATCH', '/v1/status-pages/{id}', { id: status.id, json: { description: 'Our services', show_nodes: true } });
    await call('DELETE', '/v1/status-pages/{id}', { id: status.id });

    await h.sql`insert into outbox_dead (id, topic, key, payload, created_at, attempts, last_error, died_at)
                values (900001, 'test.topic', 'k', '{"n": 1}', ${h.clock.now()}, 10, 'boom', ${h.clock.now()}),
                       (900002, 'test.topic', 'k', '{"n": 2}', ${h.clock.now()}, 10, 'boom', ${h.clock.now()})`;
    await call('GET', '/v1/outbox/dead');
    await call('POST', '/v1/outbox/dead/{id}/replay', { id: '900001' });
    await call('DELETE', '/v1/outbox/dead/{id}', { id: '900002' });
    await call('DELETE', '/v1/outbox/dead/{id}', { id: '900002' }); // 404

    // By now every kind of change above has its audit entry; one page, and the next.
    const audit = await call('GET', '/v1/audit', { query: 'limit=2&target_type=node' });
    assert.equal(audit.items.length, 2);
    await call('GET', '/v1/audit', { query: `cursor=${audit.next_cursor}&action=node.create` });

    // Refusals are in the documented error shape too.
    await call('POST', '/v1/nodes', { json: { name: 'web-1', colour: 'red' } }); // 400
    await call('POST', '/v1/nodes', { json: { name: 'web-1' } }); // 409
    await call('POST', '/v1/nodes', { body: '{"name":"x"}', headers: { 'content-type': 'text/plain' } }); // 415
    await call('POST', '/v1/nodes', { body: '{"name":', headers: { 'content-type': 'application/json' } }); // 400 invalid_json
    await call('GET', '/v1/nodes/{id}', { id: 'nope' }); // 404
    await call('GET', '/v1/nodes/{id}', { id: 'a\u0000b' }); // 400: text Postgres cannot store
    await call('POST', '/v1/nodes/{id}/token', { id: 'web-1', query: 'x=%00' }); // 400, though the route reads no query
    await call('GET', '/v1/nodes', { token: null }); // 401
    const retried = { 'idempotency-key': 'openapi-retry' };
    await call('POST', '/v1/channels', { json: { name: 'retried', type: 'email', config: { to: ['a@example.com'] } }, headers: retried });
    await call('POST', '/v1/channels', { json: { name: 'retried', type: 'email', config: { to: ['a@example.com'] } }, headers: retried }); // replayed
    await call('POST', '/v1/channels', { json: { name: 'other', type: 'email', config: { to: ['a@example.com'] } }, headers: retried }); // 422
    await call('DELETE', '/v1/nodes/{id}', { id: node.id });

    // An endless stream: closing the feed (as a stopping engine does) ends it, so its answer can be read.
    const listening = h.feed.size;
    const events = call('GET', '/v1/events', { query: 'types=node.state_changed' });
    await until('the event stream to subscribe', async () => h.feed.size > listening);
    h.feed.close();
    await events;

    const missing = operations(doc)
      .map(([method, path]) => `${method} ${path}`)
      .filter((o) => !exercised.has(o));
    assert.deepEqual(missing, [], 'every operation was exercised with a documented success');
  });

  it('describes in `webhooks` the body a webhook channel really sends, and the headers it signs it with', async () => {
    const post = doc.webhooks?.incident?.post;
    assert.ok(post, 'the document has webhooks.incident.post');
    const node = await h.createNode('hooked', { labels: { role: 'db' } });
    const hook = (await (await h.admin('POST', '/v1/channels', { name: 'hooked', type: 'webhook', config: { url: 'https://example.com/hooked' } })).json()) as Obj;
    const [incident] = await openIncidents(h.sql, [{ nodeId: node.id, nodeName: 'hooked', category: 'node_down', severity: 'critical', title: 'hooked is down', reason: 'no heartbeat for 90s', policyId: null, openedAt: h.clock.now() }]);
    const ids = await insertDeliveries(h.sql, [{ incidentId: incident!.id, event: 'opened', eventKey: 'opened', channelId: hook.id, channelType: 'webhook', occurredAt: h.clock.now() }], h.clock.now());
    // The delivery as the notifier reads and renders it, sent by the channel itself.
    const rows = [...(await leaseDeliveries(h.sql, ids, 60_000, randomUUID())).values()];
    const notification = (await notificationsFor(h.sql, rows)).get(ids[0]!)!;
    const secret = generateWebhookSecret();
    const receiver = await startWebhookReceiver({ secret });
    try {
      await createWebhookChannel({ timeoutMs: PATIENCE_MS, policy: localReceivers }).send(notification, { url: receiver.url, secret }, new Date());
      const delivered = await receiver.waitFor();
      assert.equal(delivered.verified, true);
      for (const header of post.parameters as Obj[]) assert.ok(delivered.headers[header.name], `sends ${header.name}`);
      const body = JSON.parse(delivered.body);
      assert.equal(body.type, 'incident.opened');
      assert.deepEqual(schemaProblems(doc, post.requestBody.content['application/json'].schema, body, true), [], delivered.body);
    } finally {
      await receiver.close();
    }
  });

  it('serves an offline reference page at /docs that loads /openapi.json', async () => {
    const res = await h.req('GET', '/docs');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const html = await res.text();
    assert.match(html, /data-spec="\/openapi\.json"/);
    // Nothing is loaded from elsewhere: every script and stylesheet is a path on this origin, served here.
    assert.doesNotMatch(html, /https?:\/\/|src="\/\/|href="\/\//, 'nothing is loaded from elsewhere');
    const loaded = [...html.matchAll(/<script[^>]+src="([^"]+)"|<link[^>]+stylesheet[^>]+href="([^"]+)"/g)].map((m) => m[1] ?? m[2]!);
    assert.deepEqual(loaded.sort(), ['/docs/swagger-ui-bundle.js', '/docs/swagger-ui.css']);
    for (const path of loaded) {
      const asset = await h.req('GET', path);
      assert.equal(asset.status, 200, path);
      assert.match(asset.headers.get('content-type') ?? '', path.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
      assert.equal(asset.headers.get('x-content-type-options'), 'nosniff');
      assert.ok((await asset.arrayBuffer()).byteLength > 10_000, `${path} is the renderer, not a stub`);
      const again = await h.req('GET', path, { headers: { 'if-none-match': asset.headers.get('etag') ?? 'none' } });
      assert.equal(again.status, 304, `${path} is revalidated, not sent again`);
    }
    // The inline script is exactly what the CSP allows, or the browser would block it; scripts and
    // styles otherwise come only from this origin, and nothing may be evaluated or inlined.
    const csp = res.headers.get('content-security-policy') ?? '';
    const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
    assert.ok(csp.includes(`script-src ${hashOf(script)} 'self'`), csp);
    assert.ok(csp.includes("style-src 'self'"), csp);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.doesNotMatch(html, /<style/);
    assert.match(csp, /default-src 'none'/);
  });
});
