// Ping URLs of scheduled jobs: /ping/{key} and its suffixes, the paths Healthchecks uses, so a
// crontab moves here by changing the host. No header is needed (curl, wget, PowerShell). The key is
// the authority; each is rate-limited on its own, and a ping goes through ingest like a heartbeat
// (buffered, written by the next flush, behind the same watermark).

import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { Ingestor } from '../../ingest/ingestor.ts';
import { KEPT_OUTPUT_BYTES, OutputTail, PING_BODY_READ_BYTES, PING_BODY_READ_CHUNKS, type PingKind } from '../../jobs/model.ts';
import { Refusal, validationFailed } from '../../errors.ts';
import { boundaryAtOrBefore } from '../../utf8-boundary.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError, errorBody, postgresUnavailable, renderError } from '../errors.ts';
import { LIMIT_DEFAULTS } from '../../config.ts';
import type { Limits } from '../limits.ts';
import { operationDocs } from '../openapi.ts';
import { query } from '../validation.ts';
import * as v from 'valibot';

/** What a ping key looks like (43 characters today; a little room for older or longer ones). */
const KEY = /^[A-Za-z0-9_-]{16,64}$/;

/** What the path after the key says; undefined for a suffix that is no ping (404). */
function kindOf(suffix: string | undefined): { kind: PingKind; exitCode: number | null } | undefined {
  if (suffix === undefined) return { kind: 'success', exitCode: null };
  if (suffix === 'start' || suffix === 'log') return { kind: suffix, exitCode: null };
  if (suffix === 'fail') return { kind: 'failure', exitCode: null };
  if (!/^\d+$/.test(suffix)) return undefined;
  // Any number of digits: a code too long to be one is over 255 too, not a path that names no ping.
  const code = Number(suffix);
  if (code > 255) throw validationFailed([{ field: 'exit_code', message: 'must be an exit code from 0 to 255' }]);
  return { kind: code === 0 ? 'success' : 'failure', exitCode: code };
}

/**
 * `?rid=`, a run id as Healthchecks takes it: a UUID the client draws per run and sends with its
 * start and its end, so overlapping runs of one job are paired each with its own end. Other query
 * parameters are ignored, as before (a crontab's URL may carry Healthchecks' own).
 */
const PingQuery = v.object({ rid: v.optional(v.pipe(v.string('must be a string'), v.uuid('must be a UUID'))) });

const notFound = (c: Context) => c.text('not found', 404);
const READ_LIMIT = `${PING_BODY_READ_BYTES / 1024 / 1024} MiB in ${PING_BODY_READ_CHUNKS.toLocaleString('en-US')} chunks`;
/**
 * Sent with every OK, as Healthchecks sends its PING_BODY_LIMIT there (runitor reads it from its
 * start ping's answer and sends at most that much of a run's output, its end): the most of a body
 * a run keeps. Healthchecks keeps a body's first bytes up to it; here it is the last.
 */
export const PING_BODY_LIMIT_HEADER = 'Ping-Body-Limit';

const doc = operationDocs('Pings');
const DESCRIPTION = `No header is needed (curl, wget, PowerShell): the key in the path is the credential, a node's \`ping_key\`. A malformed or unknown key gets a plain-text 404 that does not echo it. Each well-formed key may ping LIFELINE_PING_RATE_LIMIT times a minute (${LIMIT_DEFAULTS.pingsPerMinute} by default), counted before any lookup. A ping is buffered like a heartbeat and written by the next flush. Every ping path may end in a slash (\`/ping/{key}/\`, \`/ping/{key}/start/\`), as in Healthchecks.`;
const KEY_PARAM = 'The ping key of a scheduled job (its `ping_key`).';
const SUFFIX_PARAM = '`start`: a run begins; `fail`: it failed; `log`: output only, no change of state; an exit code from 0 to 255: the run ended, successfully if 0.';
const RID_PARAM = "A run id (a UUID, as Healthchecks' `rid`): a start and an end with the same one are one run, so runs of one job that overlap are each paired with their own end; without one, an end is paired with the latest start without one. `lifeline run` draws one per run.";
const OUTPUT = `The run's output, of any content type and size: its last ${KEPT_OUTPUT_BYTES / 1024} KB are kept, U+0000 and bytes that are not UTF-8 as U+FFFD. An output that was cut starts with a line saying so (\`[… 2,611,200 bytes cut]\`). At most ${READ_LIMIT} are read: past that the ping is still recorded, with the end of what was read, its first line saying the rest was not read, and the connection is closed after the answer.`;

/** The document's account of GET or POST on /ping/{key}, or on /ping/{key}/{suffix}. */
function pingDoc(suffix: boolean, post: boolean): MiddlewareHandler {
  return doc({
    summary: suffix ? 'Report a start, a failure, output or an exit code' : 'Report a successful run',
    description: DESCRIPTION,
    access: 'none',
    pathParams: suffix ? { key: KEY_PARAM, suffix: SUFFIX_PARAM } : { key: KEY_PARAM },
    query: PingQuery,
    queryNotes: { rid: RID_PARAM },
    ...(post ? { rawBody: OUTPUT } : {}),
    ok: { status: 200, description: `Taken. With \`${PING_BODY_LIMIT_HEADER}: ${KEPT_OUTPUT_BYTES}\`, the most of a body a run keeps (its end; Healthchecks keeps the start).`, body: { type: 'string', const: 'OK' }, mediaType: 'text/plain' },
    also: [
      { status: 404, description: 'No job has this key, or the path names no ping (plain text, without the key).', body: { type: 'string', const: 'not found' }, mediaType: 'text/plain' },
      { status: 400, description: `${suffix ? 'The exit code is over 255, or the' : 'The'} \`rid\` is not a UUID (\`validation_failed\`); nothing is recorded.`, body: 'Error' },
    ],
    errors: [429, 500, 503],
  });
}

/** What a ping's body leaves: its kept end (null for none), and whether some of it was left unread. */
export interface PingBody {
  output: string | null;
  unread: boolean;
}

/**
 * A POST body as the run's output, read as it arrives with only its end held (OutputTail): a
 * 2.6 MB log costs a 20 KB buffer whatever its chunks. Nothing in it refuses a ping, as in
 * Healthchecks: a failing job's output is what is least likely to be clean text, and refusing it
 * would lose the failure. Past PING_BODY_READ_BYTES or PING_BODY_READ_CHUNKS the rest is left
 * unread, and what was read is the output, saying so; the answer then closes the connection.
 */
export async function readPingBody(body: ReadableStream<Uint8Array> | null): Promise<PingBody> {
  if (!body) return { output: null, unread: false };
  const tail = new OutputTail();
  const reader = body.getReader();
  for (let chunks = 0, chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    const room = PING_BODY_READ_BYTES - tail.length;
    if (chunks === PING_BODY_READ_CHUNKS || chunk.value.length > room) {
      if (chunks < PING_BODY_READ_CHUNKS) tail.push(chunk.value.subarray(0, boundaryAtOrBefore(chunk.value, room)));
      reader.releaseLock();
      return { output: tail.text(true), unread: true };
    }
    tail.push(chunk.value);
    chunks += 1;
  }
  return { output: tail.text(), unread: false };
}

export function pingRoutes(deps: AppDeps, ingestor: Ingestor, admitPing: Limits['admitPing']) {
  const app = new Hono<{ Variables: { bodyRead?: true } }>();
  const handle = async (c: Context) => {
    const key = c.req.param('key') ?? '';
    const what = kindOf(c.req.param('suffix'));
    // A malformed key or suffix names no node: answered without a query, and not counted either.
    // The limiter holds each key it counts for a minute, so it holds only keys of at most 64
    // characters: counting first, 60,000 paths of a 15,000-character key took the process from
    // 131 MB to over 1 GB.
    if (!KEY.test(key) || what === undefined) return notFound(c);
    // Counted before any lookup.
    admitPing(key);
    const rid = query(c, PingQuery).rid?.toLowerCase() ?? null;
    // As for heartbeats: an OK says the ping will be stored, which it would not be with Postgres gone.
    if (!ingestor.writable) throw postgresUnavailable();
    let body: PingBody | undefined;
    const output = async () => {
      body = await readPingBody(c.req.method === 'POST' ? c.req.raw.body : null);
      return body.output;
    };
    const known = await ingestor.ping(key, what.kind, what.exitCode, rid, output, deps.clock);
    if (!known) return notFound(c);
    if (body?.unread === false) c.set('bodyRead', true);
    c.header(PING_BODY_LIMIT_HEADER, String(KEPT_OUTPUT_BYTES));
    return c.text('OK');
  };

  // A body left unread (an unknown key's, a refused ping's, one past what is read) closes the
  // connection once answered. Kept open, the server would read the rest to reuse it, for up to
  // 500 ms or 64 MiB: at ~5 µs a chunk, a body of 1-byte chunks cost that much CPU more.
  app.use('*', async (c, next) => {
    await next();
    const sent = c.req.header('content-length') !== undefined || c.req.header('transfer-encoding') !== undefined;
    if (c.req.method === 'POST' && sent && !c.get('bodyRead') && c.req.header('content-length') !== '0') c.header('Connection', 'close');
  });

  for (const [path, suffix] of [['/:key', false], ['/:key/:suffix', true]] as const) {
    app.get(path, pingDoc(suffix, false), handle);
    app.post(path, pingDoc(suffix, true), handle);
    // With a trailing slash too (`/ping/{key}/`, `/ping/{key}/start/`), which Healthchecks takes:
    // a crontab moved here keeps its URL as written. Left out of the document, which says so.
    app.on(['GET', 'POST'], `${path}/`, handle);
  }
  // Anything else under /ping is no ping either: the same plain 404, which does not echo the key.
  app.all('/*', notFound);
  // The path holds the key, which is a credential: a failure is logged without it.
  app.onError((err, c) => {
    if (err instanceof Refusal || err instanceof ApiError) return renderError(c, err);
    (c.var.log ?? deps.log).error({ err, method: c.req.method, path: '/ping/{key}' }, 'ping failed');
    return c.json(errorBody('internal', 'Something went wrong on our side; it has been logged.'), 500);
  });
  return app;
}
