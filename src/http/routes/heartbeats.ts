import { Hono, type Context, type MiddlewareHandler } from 'hono';
import * as v from 'valibot';
import type { Accepted } from '../../api/shapes.ts';
import type { Admit, Ingestor, Intake } from '../../ingest/ingestor.ts';
import type { Principal } from '../../access/model.ts';
import { principalOf, requireScope, type AuthEnv } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { failureStatus, postgresUnavailable } from '../errors.ts';
import { operationDocs } from '../openapi.ts';
import { boundedArray, int, NodeName, openObject, parse, plainRecord, readJson } from '../validation.ts';

const Check = openObject({
  status: v.picklist(['ok', 'warn', 'fail'], 'must be ok, warn or fail'),
  value: v.optional(v.pipe(v.number('must be a number'), v.finite('must be finite'))),
  message: v.optional(v.pipe(v.string('must be a string'), v.maxLength(1024, 'must be at most 1024 characters'))),
});

// Unknown fields are ignored rather than rejected: agents of newer versions may send more.
export const Heartbeat = openObject({
  node: v.optional(NodeName),
  status: v.optional(v.picklist(['ok', 'degraded', 'failing'], 'must be ok, degraded or failing'), 'ok'),
  checks: v.optional(
    plainRecord(v.pipe(v.string(), v.regex(/^[A-Za-z0-9._:\/-]{1,64}$/, 'check names are 1-64 characters of A-Z a-z 0-9 . _ : / -')), Check, 64, 'at most 64 checks'),
  ),
  sent_at: v.optional(v.pipe(v.string('must be a string'), v.isoTimestamp('must be an RFC 3339 timestamp'))),
  seq: v.optional(v.pipe(v.number('must be a number'), v.integer('must be an integer'), v.minValue(0, 'must be at least 0'), v.maxValue(Number.MAX_SAFE_INTEGER, 'is too large'))),
  // How often the agent sends: the interval of a node this heartbeat registers (an existing node
  // keeps its own, which only the API changes).
  interval_seconds: v.optional(int(1, 86_400)),
});

export const Batch = openObject({
  heartbeats: boundedArray(Heartbeat, 'must be an array of heartbeats', 1000, 'must hold at most 1000 heartbeats', 1, 'must hold at least one heartbeat'),
});

// What the route accepts: a body with `heartbeats` is a batch, any other one a single heartbeat.
export const HeartbeatBody = v.union([Heartbeat, Batch]);

const doc = operationDocs('Heartbeats');

/** Reads, validates and buffers the heartbeats of one request, counting them; throws to refuse. */
export type HeartbeatIntake = (principal: Principal, requestId: string, read: () => unknown) => Promise<Accepted>;

/**
 * Why heartbeats were refused, the `reason` of `lifeline_heartbeats_received_total{result="rejected"}`:
 * one value per refusing status, so the label has at most these six values.
 */
export const REFUSAL_REASONS = ['unauthorized', 'forbidden', 'invalid', 'unknown_node', 'rate_limited', 'error'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** The reason a refusal answered with `status` is counted under. */
export function refusalReason(status: number): RefusalReason {
  switch (status) {
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'unknown_node';
    case 429:
      return 'rate_limited';
    default:
      return status < 500 ? 'invalid' : 'error';
  }
}

/** How many heartbeats a body holds, as far as it can be told without validating it. */
const heartbeatsIn = (raw: unknown): number => {
  const list = typeof raw === 'object' && raw !== null && 'heartbeats' in raw ? raw.heartbeats : undefined;
  return Array.isArray(list) && list.length > 0 ? list.length : 1;
};

/** Requests whose heartbeats the intake counted, refused or not (see heartbeatRefusals). */
const counted = new WeakSet<Context>();

/** What POST /v1/heartbeats does once the gate has passed: the route's and the fast path's alike. */
export function heartbeatIntake(deps: Pick<AppDeps, 'metrics' | 'clock'>, ingestor: Ingestor, admit: Admit): HeartbeatIntake {
  const rejected = (reason: RefusalReason, n: number) => deps.metrics.heartbeats.inc({ result: 'rejected', reason }, n);
  return async (principal, requestId, read) => {
    let result: Intake;
    // Counted in heartbeats, like the accepted ones: a refused batch of 500 is 500 refused.
    let sent = 1;
    try {
      // A 202 says the heartbeat will be stored; with Postgres gone it would live only in memory.
      if (!ingestor.writable) throw postgresUnavailable();
      const raw = await read();
      sent = heartbeatsIn(raw);
      const batch = typeof raw === 'object' && raw !== null && 'heartbeats' in raw;
      const heartbeats = batch ? parse(Batch, raw).heartbeats : [parse(Heartbeat, raw)];
      result = await ingestor.accept(principal, heartbeats, batch, deps.clock, requestId, admit);
    } catch (err) {
      rejected(refusalReason(failureStatus(err)), sent);
      throw err;
    }
    const { accepted, stale, refused, overLimit } = result;
    deps.metrics.acceptedHeartbeats(accepted - stale);
    if (stale) deps.metrics.heartbeats.inc({ result: 'stale' }, stale);
    if (refused.length === 0) return { accepted };
    if (overLimit) rejected('rate_limited', overLimit);
    if (sent - accepted - overLimit) rejected('unknown_node', sent - accepted - overLimit);
    return { accepted, refused };
  };
}

/**
 * Counts the heartbeat requests refused before the intake read them: a Bearer secret that is not
 * valid (401), the failed-authentication budget or the node token's rate (429), a scope that may
 * not send heartbeats (403), a body over the limit (413). Such a body is never read, so each counts
 * as one heartbeat: what an agent's node token sends per request. Mounted before the API's gate.
 */
export function heartbeatRefusals(deps: Pick<AppDeps, 'metrics'>): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (c.req.method !== 'POST' || c.res.status < 400 || counted.has(c)) return;
    deps.metrics.heartbeats.inc({ result: 'rejected', reason: refusalReason(c.res.status) });
  };
}

export function heartbeatRoutes(intake: HeartbeatIntake) {
  const app = new Hono<AuthEnv>();
  app.post(
    '/',
    doc({
      summary: 'Send heartbeats',
      description:
        'One heartbeat, or `{"heartbeats": [...]}` with up to 1000. With a node token `node` may be left out; naming another node is 403 for the whole request. With an ingest key an unknown node name is registered (LIFELINE_AUTO_REGISTER), with `interval_seconds` as its heartbeat interval when given, up to LIFELINE_AUTO_REGISTER_LIMIT nodes an hour per key. A batch stores the heartbeats of the nodes that exist and lists in `refused` each name or id whose heartbeats were not stored: a new name past the limit, an id no node has, a name no node has when the key may not register it (auto-registration off, a write or admin key) or no node may take it (`.` and `..`). When none of the heartbeats could be stored the request is refused: 404 naming the unknown nodes, else 429 past the limit. A node token may make LIFELINE_NODE_TOKEN_RATE_LIMIT requests a minute. The receive time is what counts; a `seq` not above one already seen is accepted and ignored, unless the last stored heartbeat of the node is one interval old: then only its `seq` is kept, so a restarted sender\'s next heartbeat is stored (its status is not: it may be a late copy of an older heartbeat); rotating the node token forgets the `seq`. Unknown fields are ignored.',
      access: 'heartbeat',
      body: HeartbeatBody,
      ok: { status: 202, description: 'Accepted; judged within one evaluator tick.', body: 'Accepted' },
      errors: [404],
    }),
    requireScope('heartbeat'),
    async (c) => {
      counted.add(c);
      return c.json(await intake(principalOf(c), c.var.requestId, () => readJson(c)), 202);
    },
  );
  return app;
}
