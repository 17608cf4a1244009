import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { randomBytes } from 'node:crypto';
import { IdentityCache } from '../../src/access/identity-cache.ts';
import type { Node, NodeWithToken } from '../../src/api/shapes.ts';
import { ensureBootstrapAdmin } from '../../src/access/service.ts';
import { ManualClock } from './clock.ts';
import type { Sql } from '../../src/db/client.ts';
import { createHttp } from '../../src/http/app.ts';
import type { AppDeps } from '../../src/http/deps.ts';
import { PublicChanges } from '../../src/http/public-changes.ts';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { IngestFlusher } from '../../src/ingest/flusher.ts';
import { Ingestor } from '../../src/ingest/ingestor.ts';
import { createChannels, type ChannelRegistry } from '../../alerting/index.ts';
import { Events } from '../../src/events.ts';
import { LiveFeed } from '../../src/live/feed.ts';
import { consoleSettings, type ConsoleSettings } from '../../src/http/session.ts';
import { countEvents, createMetrics, type Metrics } from '../../src/metrics.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { LOCAL_RECEIVERS, localReceivers } from './local-receivers.ts';
import { testLog } from './log.ts';
import type { Logger } from '../../src/logger.ts';

export const ADMIN_TOKEN = 'llk_test-admin-token-for-http-tests';
export const START = '2026-11-21T10:00:00.000Z';

export type App = ReturnType<typeof createHttp>['app'];
export type Body = NonNullable<RequestInit['body']>;

export interface BuildOptions {
  sql: Sql;
  clock: ManualClock;
  buffer: HeartbeatBuffer;
  autoRegister?: boolean;
  /** The queue store /readyz reports; Redis that answers unless given. */
  queue?: AppDeps['queue'];
  metrics?: Metrics;
  /** Seals channel secrets; a fresh random key unless given. */
  secretKey?: Buffer;
  publicPages?: AppDeps['publicPages'];
  /** LIFELINE_PUBLIC_URL; unset unless given. */
  publicUrl?: string;
  /** Console session settings; the engine's defaults unless given. */
  console?: ConsoleSettings;
  /** Channel transports for test messages; the real ones without SMTP unless given. */
  transports?: ChannelRegistry;
  /** Where channels may send; loopback receivers too unless given. */
  outbound?: AppDeps['outbound'];
  /** Per-caller limits; the engine's defaults unless given. */
  limits?: AppDeps['limits'];
  /** Where the app logs; silent unless given (or LOG_LEVEL is set). */
  log?: Logger;
  /** LIFELINE_METRICS_TOKEN; unset unless given. */
  metricsToken?: string;
  /** /readyz checks that `secretKey` opens the stored channel secrets (the notifier role); off unless given. */
  secretKeyRequired?: boolean;
  /** A notifier without the api role (the default): unready rather than warned (AppDeps.notifierWithoutApi). */
  notifierWithoutApi?: boolean;
}

export const CONSOLE_DEFAULTS = consoleSettings({ publicUrl: undefined, idleMinutes: 720, sessionHours: 168 });

/** One in-process app over the given pool and buffer; several may share a database. */
export function buildApp(o: BuildOptions) {
  const metrics = o.metrics ?? createMetrics();
  const identity = new IdentityCache(o.sql, o.clock);
  const ingestor = new Ingestor(o.sql, o.buffer, identity, o.autoRegister ?? true);
  const secretKey = o.secretKey ?? randomBytes(32);
  // Not listening until someone calls feed.listen(): most tests never read it.
  const feed = new LiveFeed(o.sql, o.log ?? testLog);
  // Likewise until someone calls publicChanges.listen(): one app on its own database needs no notices.
  const publicChanges = new PublicChanges(o.sql);
  const http = createHttp({
    sql: o.sql,
    clock: o.clock,
    log: o.log ?? testLog,
    metrics,
    identity,
    secretKey,
    ingestor,
    feed,
    publicChanges,
    transports: o.transports ?? createChannels({ smtpUrl: undefined, mailFrom: 'lifeline@localhost', outboundAllowCidrs: LOCAL_RECEIVERS }),
    outbound: o.outbound ?? localReceivers,
    console: o.console ?? CONSOLE_DEFAULTS,
    queue: o.queue ?? { name: 'redis', ping: async () => {} },
    ...(o.publicPages ? { publicPages: o.publicPages } : {}),
    ...(o.limits ? { limits: o.limits } : {}),
    ...(o.publicUrl !== undefined ? { publicUrl: o.publicUrl } : {}),
    ...(o.metricsToken !== undefined ? { metricsToken: o.metricsToken } : {}),
    ...(o.secretKeyRequired !== undefined ? { secretKeyRequired: o.secretKeyRequired } : {}),
    ...(o.notifierWithoutApi !== undefined ? { notifierWithoutApi: o.notifierWithoutApi } : {}),
  });
  return { app: http.app, http, metrics, identity, ingestor, secretKey, feed, publicChanges };
}

export interface RequestOptions {
  token?: string | undefined;
  /** Serialised as JSON with content-type application/json. */
  json?: unknown;
  body?: Body;
  headers?: Record<string, string>;
}

export function send(app: App, method: string, path: string, o: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
  let body: Body | undefined = o.body;
  if (o.json !== undefined) {
    body = JSON.stringify(o.json);
    headers['content-type'] ??= 'application/json';
  }
  const init: RequestInit & { duplex?: 'half' } = { method, headers };
  if (body !== undefined) {
    init.body = body;
    if (body instanceof ReadableStream) init.duplex = 'half';
  }
  return Promise.resolve(app.request(path, init));
}

export interface Counts {
  nodes: number;
  api_keys: number;
  node_heartbeats: number;
  heartbeats_received: number;
  outbox: number;
  buffered: number;
}

export interface ErrorShape {
  code: string;
  message: string;
  details?: { field: string; message: string; value?: string }[];
}

/**
 * Asserts the contract's error shape exactly: `{"error": {"code", "message", "details"?}}` and
 * nothing else, with a non-empty human message. Returns the inner error for further checks.
 */
export async function expectError(res: Response, status: number, code: string): Promise<ErrorShape> {
  const text = await res.text();
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const parsed = JSON.parse(text) as { error: ErrorShape };
  assert.deepEqual(Object.keys(parsed), ['error']);
  const err = parsed.error;
  assert.equal(err.code, code, text);
  assert.equal(typeof err.message, 'string');
  assert.ok(err.message.length > 0);
  const keys = Object.keys(err).sort();
  assert.ok(
    JSON.stringify(keys) === JSON.stringify(['code', 'message']) || JSON.stringify(keys) === JSON.stringify(['code', 'details', 'message']),
    `unexpected error keys ${keys.join(',')}`,
  );
  if (err.details !== undefined) {
    assert.ok(Array.isArray(err.details) && err.details.length > 0, 'details, when present, is a non-empty array');
    for (const d of err.details) {
      const keys = Object.keys(d).sort();
      assert.ok(['field,message', 'field,message,value'].includes(keys.join(',')), `unexpected detail keys ${keys.join(',')}`);
      assert.equal(typeof d.field, 'string');
      assert.equal(typeof d.message, 'string');
      if ('value' in d) assert.equal(typeof d.value, 'string');
    }
  }
  return err;
}

/** Asserts the status (showing the body when it differs) and returns the parsed JSON body. */
export async function expectJson<T = Record<string, unknown>>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return JSON.parse(text) as T;
}

/** Asserts a validation_failed error whose details name exactly these fields (in any order). */
export async function expectInvalid(res: Response, fields: string[]): Promise<ErrorShape> {
  const err = await expectError(res, 400, 'validation_failed');
  assert.ok(err.details, 'validation_failed carries details');
  assert.deepEqual([...new Set(err.details.map((d) => d.field))].sort(), [...fields].sort(), JSON.stringify(err.details));
  return err;
}

/** A database with a migrated schema, a bootstrap admin key and one app with a manual clock. */
export async function createHarness(opts: { autoRegister?: boolean; log?: Logger; limits?: AppDeps['limits']; publicUrl?: string } = {}) {
  const db: TestDatabase = await createTestDatabase();
  const { sql } = db;
  const clock = new ManualClock(START);
  const buffer = new HeartbeatBuffer();
  let redisUp = true;
  const built = buildApp({
    sql,
    clock,
    buffer,
    autoRegister: opts.autoRegister ?? true,
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.publicUrl !== undefined ? { publicUrl: opts.publicUrl } : {}),
    ...(opts.log ? { log: opts.log } : {}),
    queue: {
      name: 'redis',
      ping: async () => {
        if (!redisUp) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
      },
    },
  });
  await ensureBootstrapAdmin(sql, ADMIN_TOKEN, clock.now());
  // Refused rows are counted into the app's metrics, as in the engine.
  const events = new Events();
  countEvents(built.metrics, events);
  const flusher = new IngestFlusher({ sql, buffer, clock, log: testLog, gapMs: 60_000, events });
  const { app } = built;

  const h = {
    db,
    sql,
    clock,
    buffer,
    flusher,
    ...built,
    setRedisUp(up: boolean) {
      redisUp = up;
    },
    req: (method: string, path: string, o?: RequestOptions) => send(app, method, path, o),
    admin: (method: string, path: string, json?: unknown) => send(app, method, path, { token: ADMIN_TOKEN, json }),

    /** Creates an API key through the API and returns its secret and id. */
    async createKey(scope: 'admin' | 'write' | 'read' | 'ingest', name = `${scope}-key`) {
      const res = await send(app, 'POST', '/v1/api-keys', { token: ADMIN_TOKEN, json: { name, scope } });
      assert.equal(res.status, 201, await res.clone().text());
      const b = (await res.json()) as { id: string; secret: string };
      return { id: b.id, secret: b.secret };
    },

    /** Creates a node through the API and returns the full 201 body (with its token). */
    async createNode(name: string, extra: Record<string, unknown> = {}) {
      const res = await send(app, 'POST', '/v1/nodes', { token: ADMIN_TOKEN, json: { name, ...extra } });
      assert.equal(res.status, 201, await res.clone().text());
      return (await res.json()) as NodeWithToken;
    },

    /** Writes whatever is buffered, as the ingest flusher would. */
    flush: () => flusher.runOnce(),

    async heartbeatRow(nodeId: string) {
      const [row] = await sql<HeartbeatRow[]>`
        select node_id, last_heartbeat_at, last_status, checks, last_seq::int as last_seq, received::int as received
        from node_heartbeats where node_id = ${nodeId}`;
      return row;
    },

    async counts(): Promise<Counts> {
      const [row] = await sql<Omit<Counts, 'buffered'>[]>`
        select (select count(*)::int from nodes) as nodes,
               (select count(*)::int from api_keys) as api_keys,
               (select count(*)::int from node_heartbeats) as node_heartbeats,
               (select coalesce(sum(received), 0)::int from node_heartbeats) as heartbeats_received,
               (select count(*)::int from outbox) as outbox`;
      return { ...row!, buffered: buffer.size };
    },

    /**
     * Runs a request that must be rejected and asserts it left no trace: no row added, changed or
     * removed in nodes/api_keys/node_heartbeats/outbox or the on-call tables (channels,
     * escalation_policies, maintenances, users, schedules, overrides), and nothing buffered for the
     * next flush.
     */
    async rejected(run: () => Promise<Response>): Promise<Response> {
      // Anything buffered by earlier tests is written first, so an empty buffer is the baseline.
      await flusher.runOnce();
      const before = await h.counts();
      const snapshot = await tableSnapshot(sql);
      const res = await run();
      // Read the body now so the request is fully settled before comparing.
      const copy = new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers });
      assert.deepEqual(await h.counts(), before, 'a rejected request changed a count or buffered something');
      assert.equal(buffer.size, 0, 'a rejected request buffered heartbeats');
      assert.deepEqual(await tableSnapshot(sql), snapshot, 'a rejected request changed stored rows');
      return copy;
    },

    async close() {
      await db.drop();
    },
  };
  return h;
}

export type Harness = Awaited<ReturnType<typeof createHarness>>;

/** Signs in to the console with `key` from `origin`, as its sign-in form does; returns the session cookie. */
export async function consoleCookie(h: Harness, origin: string, key = ADMIN_TOKEN): Promise<string> {
  const res = await h.app.request('/sign-in', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
    body: new URLSearchParams({ key }).toString(),
  });
  return (res.headers.get('set-cookie') ?? '').split(';')[0]!;
}

/** A database of its own and a console signed in from `origin`, for one group of tests (a describe's hooks). */
export function signedIn(origin: string) {
  const s = { h: undefined as unknown as Harness, cookie: '' };
  before(async () => {
    s.h = await createHarness();
    s.cookie = await consoleCookie(s.h, origin);
  });
  after(async () => {
    await s.h.close();
  });
  return { s, get: async (path: string) => (await s.h.app.request(path, { headers: { cookie: s.cookie } })).text() };
}

/**
 * A console's pages read and its forms sent from `origin`, in the harness `h()` (made in a
 * `before`), as the session `cookie()` unless another is given (a reader's); `sent` is a page's
 * form as a browser would send it, its values decoded.
 */
export function consolePages(h: () => Harness, origin: string, cookie: () => string) {
  return {
    get: async (path: string, as = cookie()) => {
      const res = await h().app.request(path, { headers: { cookie: as } });
      return { status: res.status, html: await res.text() };
    },
    post: (path: string, body: URLSearchParams, as = cookie()) =>
      h().app.request(path, { method: 'POST', headers: { cookie: as, origin, 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() }),
    sent: (html: string, action: string) => formOf(html, action),
  };
}

/** A textarea's text as a browser reads its markup: the newline right after `<textarea>` dropped. */
export const textareaText = (markup: string): string => markup.replace(/^\n/, '');

/** Markup's text as a browser reads it: the escapes hono's JSX writes (&amp; &lt; &gt; &quot; &#39;) undone. */
export const unescapeHtml = (markup: string): string => markup.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);

/** What a browser would post from the page's form: every named input's value, checkboxes only when checked. */
export function formOf(html: string, action: string): URLSearchParams {
  const form = html.slice(html.indexOf(`<form method="post" action="${action}"`));
  const body = new URLSearchParams();
  for (const m of form.slice(0, form.indexOf('</form>')).matchAll(/<(input|textarea|select)([^>]*)>([^<]*)/g)) {
    const attrs = m[2]!;
    const name = /name="([^"]+)"/.exec(attrs)?.[1];
    if (!name) continue;
    if (/type="(checkbox|radio)"/.test(attrs) && !/checked=""/.test(attrs)) continue;
    body.append(name, unescapeHtml(m[1] === 'textarea' ? textareaText(m[3]!) : (/value="([^"]*)"/.exec(attrs)?.[1] ?? '')));
  }
  return body;
}

async function tableSnapshot(sql: Sql) {
  const [row] = await sql<Record<string, unknown>[]>`
    select (select coalesce(json_agg(n order by n.id), '[]') from nodes n) as nodes,
           (select coalesce(json_agg(k order by k.id), '[]') from api_keys k) as keys,
           (select coalesce(json_agg(h order by h.node_id), '[]') from node_heartbeats h) as hbs,
           (select coalesce(json_agg(c order by c.id), '[]') from channels c) as channels,
           (select coalesce(json_agg(p order by p.id), '[]') from escalation_policies p) as policies,
           (select coalesce(json_agg(m order by m.id), '[]') from maintenances m) as maintenances,
           (select coalesce(json_agg(u order by u.id), '[]') from users u) as users,
           (select coalesce(json_agg(uc order by uc.user_id, uc.position), '[]') from user_channels uc) as user_channels,
           (select coalesce(json_agg(s order by s.id), '[]') from schedules s) as schedules,
           (select coalesce(json_agg(o order by o.id), '[]') from schedule_overrides o) as overrides`;
  return row;
}

export interface HeartbeatRow {
  node_id: string;
  last_heartbeat_at: Date | null;
  last_status: string | null;
  checks: unknown;
  last_seq: number | null;
  received: number;
}

export type NodeBody = Node;
