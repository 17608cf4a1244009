import type { IncomingMessage, ServerResponse } from 'node:http';
import { allows, type Principal } from '../access/model.ts';
import type { Accepted, ErrorBody } from '../api/shapes.ts';
import { bearerSecret } from './auth.ts';
import type { AppDeps } from './deps.ts';
import { headerOf } from './client-address.ts';
import { failureAnswer } from './errors.ts';
import { MAX_BODY_BYTES } from './gate.ts';
import type { Limits } from './limits.ts';
import { RequestLog, requestIdOf } from './request-id.ts';
import type { HeartbeatIntake } from './routes/heartbeats.ts';
import { isJsonType, parseJson } from './validation.ts';
import { SIMPLE_HOST, type FastPath } from './fast-path.ts';

// Also hono's name for the route, which the request histogram labels it with.
const PATH = '/v1/heartbeats';
// What @hono/node-server decodes a body with (a BOM is dropped, bad UTF-8 becomes U+FFFD).
const decoder = new TextDecoder();
const ignore = () => {};

/**
 * POST /v1/heartbeats as an agent sends it, answered without hono: one heartbeat cost ~41 µs of
 * CPU through the app, of which the gate's and the route's own steps are ~5 µs; the rest is the
 * Request wrapper, the context and the middleware chain (BENCHMARKS.md, section 1b). Around hono,
 * an api-only process took ~74 µs of CPU per heartbeat where it took ~106 µs through it (wrk,
 * alternated, the machine at load 7–15; the bare node:http server 25 µs in the same runs).
 *
 * It takes a request only when its method, path and headers alone show that the app would run
 * the route: a Bearer secret already in the identity cache that may send heartbeats, a JSON
 * Content-Type, a Content-Length within the body limit, no Idempotency-Key, and room in the node
 * token's requests a minute (spent here, as the gate would). Anything else is left to the app, unread, which then answers it as
 * ever. A taken request runs the route's own intake (parse, the text rule, valibot, the buffer,
 * the counters) and is answered with the app's status, headers and body, errors included.
 */
export function fastHeartbeats(deps: Pick<AppDeps, 'identity' | 'metrics' | 'log'>, limits: Pick<Limits, 'admitRequest'>, intake: HeartbeatIntake): FastPath {
  // Bound once: prom-client otherwise makes a closure for each observation.
  const acceptedHistogram = deps.metrics.http.labels('POST', PATH, '202');
  const answer = (outgoing: ServerResponse, started: number, status: number, body: Accepted | ErrorBody, requestId: string, extra?: Record<string, string>) => {
    const text = JSON.stringify(body);
    outgoing.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-request-id': requestId, ...extra });
    outgoing.end(text);
    const seconds = (performance.now() - started) / 1000;
    if (status === 202) acceptedHistogram.observe(seconds);
    else deps.metrics.http.observe({ method: 'POST', route: PATH, status: String(status) }, seconds);
  };
  // The answer is worked out first and written once, so a throw cannot write a second head; and a
  // failure past that (the socket, the histogram) is logged rather than left an unhandled rejection.
  const run = async (outgoing: ServerResponse, started: number, requestId: string, principal: Principal, body: () => unknown) => {
    let reply: { status: number; body: Accepted | ErrorBody; headers?: Record<string, string> };
    try {
      reply = { status: 202, body: await intake(principal, requestId, body) };
    } catch (err) {
      reply = failureAnswer(err, new RequestLog(deps.log, requestId), 'POST', PATH);
    }
    answer(outgoing, started, reply.status, reply.body, requestId, reply.headers);
  };
  const unexpected = (err: unknown) => deps.log.error({ err }, 'a single heartbeat could not be answered');
  const runText = (outgoing: ServerResponse, started: number, requestId: string, principal: Principal, body: Buffer | null) => {
    const text = body === null ? '' : decoder.decode(body);
    run(outgoing, started, requestId, principal, () => parseJson(text)).catch(unexpected);
  };
  // A client gone before its body ended: the body's read fails in the intake, as it does in the
  // app (a rejected heartbeat counted, the failure logged), and the answer goes nowhere.
  const aborted = (outgoing: ServerResponse, started: number, requestId: string, principal: Principal) =>
    run(outgoing, started, requestId, principal, () => {
      throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    }).catch(unexpected);
  // The head is parsed and the request handed over before node:http pushes the body it read with
  // it. After the poll phase (setImmediate) every request of that socket read is parsed, so a body
  // that came in the same read (an agent's small one nearly always does) is complete and read in
  // one call, without the stream's data and end events, its switch to flowing and the closures for
  // them. A nextTick is too early over TCP: it runs as the first body chunk is pushed, before the
  // request is complete, so nearly every request fell back to the listeners. ~60 µs of CPU per
  // heartbeat with setImmediate, 64-125 µs with a nextTick (wrk, api role, alternated, load 2).
  const take = (incoming: IncomingMessage, outgoing: ServerResponse, started: number, requestId: string, principal: Principal) => {
    if (incoming.complete) return runText(outgoing, started, requestId, principal, incoming.read() as Buffer | null);
    // Torn down before this ran: its close event has passed and will not come again.
    if (incoming.destroyed) return aborted(outgoing, started, requestId, principal);
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('error', ignore);
    incoming.on('end', () => runText(outgoing, started, requestId, principal, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    incoming.on('close', () => {
      if (!incoming.complete) aborted(outgoing, started, requestId, principal);
    });
  };
  return (incoming, outgoing) => {
    if (incoming.method !== 'POST' || incoming.url !== PATH) return false;
    const started = performance.now();
    const h = incoming.headers;
    const declared = h['content-length'];
    if (declared === undefined || h['transfer-encoding'] !== undefined || !(Number(declared) <= MAX_BODY_BYTES)) return false;
    if (h['idempotency-key'] !== undefined || !isJsonType(h['content-type'])) return false;
    // The app's request wrapper refuses a Host it cannot make a URL of (400) and joins repeated
    // Authorization headers with ", " (401), where node:http keeps the first: both are the app's.
    if (!SIMPLE_HOST.test(h.host ?? '') || !onlyOne(incoming.rawHeaders, 'authorization')) return false;
    const secret = bearerSecret(h.authorization);
    const principal = secret === undefined ? undefined : deps.identity.cached(secret);
    if (principal === undefined || !allows(principal, 'heartbeat')) return false;
    // A secret the cache holds is known: the failed-authentication budget of the address never
    // refuses it (bearerPrincipal), so it is not asked here.
    try {
      // Spends nothing when it refuses: the app asks again and answers the 429.
      limits.admitRequest(principal);
    } catch {
      return false;
    }
    setImmediate(take, incoming, outgoing, started, requestIdOf(headerOf(incoming, 'x-request-id')), principal);
    return true;
  };
}

/**
 * Whether the head holds exactly one line named `name` (lower case). A scan of the raw lines:
 * `headersDistinct` builds an object of arrays of every header for it, ~1 µs a request.
 */
function onlyOne(raw: string[], name: string): boolean {
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const line = raw[i]!;
    if (line.length === name.length && line.toLowerCase() === name) seen++;
  }
  return seen === 1;
}
