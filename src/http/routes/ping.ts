// Ping URLs of scheduled jobs: /ping/{key} and its suffixes, the paths Healthchecks uses, so a
// crontab moves here by changing the host. No header is needed (curl, wget, PowerShell). The key is
// the authority; each is rate-limited on its own, and a ping goes through ingest like a heartbeat
// (buffered, written by the next flush, behind the same watermark).

import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { Ingestor } from '../../ingest/ingestor.ts';
import { KEPT_OUTPUT_BYTES, MAX_PING_BODY_BYTES, OutputTail, type PingKind } from '../../jobs/model.ts';
import { Refusal, validationFailed } from '../../errors.ts';
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
const OVER_LIMIT = `The body is over ${MAX_PING_BODY_BYTES / 1024 / 1024} MiB`;
const tooLarge = () => new ApiError(413, 'payload_too_large', `${OVER_LIMIT}.`);

const doc = operationDocs('Pings');
const DESCRIPTION = `No header is needed (curl, wget, PowerShell): the key in the path is the credential, a node's \`ping_key\`. A malformed or unknown key gets a plain-text 404 that does not echo it. Each well-formed key may ping LIFELINE_PING_RATE_LIMIT times a minute (${LIMIT_DEFAULTS.pingsPerMinute} by default), counted before any lookup. A ping is buffered like a heartbeat and written by the next flush. Every ping path may end in a slash (\`/ping/{key}/\`, \`/ping/{key}/start/\`), as in Healthchecks.`;
const KEY_PARAM = 'The ping key of a scheduled job (its `ping_key`).';
const SUFFIX_PARAM = '`start`: a run begins; `fail`: it failed; `log`: output only, no change of state; an exit code from 0 to 255: the run ended, successfully if 0.';
const RID_PARAM = "A run id (a UUID, as Healthchecks' `rid`): a start and an end with the same one are one run, so runs of one job that overlap are each paired with their own end; without one, an end is paired with the latest start without one. `lifeline run` draws one per run.";
const OUTPUT = `The run's output, of any content type, up to ${MAX_PING_BODY_BYTES / 1024 / 1024} MiB: its last ${KEPT_OUTPUT_BYTES / 1024} KB are kept, U+0000 and bytes that are not UTF-8 as U+FFFD.`;

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
    ok: { status: 200, description: 'Taken.', body: { type: 'string', const: 'OK' }, mediaType: 'text/plain' },
    also: [
      { status: 404, description: 'No job has this key, or the path names no ping (plain text, without the key).', body: { type: 'string', const: 'not found' }, mediaType: 'text/plain' },
      { status: 400, description: `${suffix ? 'The exit code is over 255, or the' : 'The'} \`rid\` is not a UUID (\`validation_failed\`); nothing is recorded.`, body: 'Error' },
      ...(post ? [{ status: 413, description: `${OVER_LIMIT} (\`payload_too_large\`); nothing is recorded.`, body: 'Error' as const }] : []),
    ],
    errors: [429, 500, 503],
  });
}

/**
 * A POST body as the run's output, read as it arrives with only its end held (OutputTail): a
 * 1 MiB log costs a 20 KB buffer whatever its chunks, not a 1 MiB one. Read only for a known key.
 * Nothing in it refuses a ping, as in Healthchecks: a failing job's output is what is least
 * likely to be clean text, and refusing it would lose the failure. U+0000 is kept as U+FFFD,
 * as `lifeline run` sends it.
 */
async function output(c: Context): Promise<string | null> {
  if (c.req.method !== 'POST' || !c.req.raw.body) return null;
  const tail = new OutputTail();
  const reader = c.req.raw.body.getReader();
  let read = 0;
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    read += chunk.value.length;
    if (read > MAX_PING_BODY_BYTES) throw tooLarge();
    tail.push(chunk.value);
  }
  return tail.text();
}

export function pingRoutes(deps: AppDeps, ingestor: Ingestor, admitPing: Limits['admitPing']) {
  const app = new Hono();
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
    if (Number(c.req.header('content-length')) > MAX_PING_BODY_BYTES) throw tooLarge();
    // As for heartbeats: an OK says the ping will be stored, which it would not be with Postgres gone.
    if (!ingestor.writable) throw postgresUnavailable();
    const known = await ingestor.ping(key, what.kind, what.exitCode, rid, () => output(c), deps.clock);
    return known ? c.text('OK') : notFound(c);
  };

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
