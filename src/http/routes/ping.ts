// Ping URLs of scheduled jobs: /ping/{key} and its suffixes, the paths Healthchecks uses, so a
// crontab moves here by changing the host. No header is needed (curl, wget, PowerShell). The key is
// the authority; each is rate-limited on its own, and a ping goes through ingest like a heartbeat
// (buffered, written by the next flush, behind the same watermark).

import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Ingestor } from '../../ingest/ingestor.ts';
import { KEPT_OUTPUT_BYTES, keptOutput, MAX_PING_BODY_BYTES, type PingKind } from '../../jobs/model.ts';
import { Refusal, validationFailed } from '../../errors.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError, errorBody, renderError } from '../errors.ts';
import { LIMIT_DEFAULTS } from '../../config.ts';
import type { Limits } from '../limits.ts';
import { operationDocs } from '../openapi.ts';

/** What a ping key looks like (43 characters today; a little room for older or longer ones). */
const KEY = /^[A-Za-z0-9_-]{16,64}$/;

/** What the path after the key says; undefined for a suffix that is no ping (404). */
function kindOf(suffix: string | undefined): { kind: PingKind; exitCode: number | null } | undefined {
  if (suffix === undefined) return { kind: 'success', exitCode: null };
  if (suffix === 'start' || suffix === 'log') return { kind: suffix, exitCode: null };
  if (suffix === 'fail') return { kind: 'failure', exitCode: null };
  if (!/^\d{1,6}$/.test(suffix)) return undefined;
  const code = Number(suffix);
  if (code > 255) throw validationFailed([{ field: 'exit_code', message: 'must be an exit code from 0 to 255' }]);
  return { kind: code === 0 ? 'success' : 'failure', exitCode: code };
}

const notFound = (c: Context) => c.text('not found', 404);
const tooLarge = (c: Context) => c.json(errorBody('payload_too_large', `The body is over ${MAX_PING_BODY_BYTES / 1024} KB.`), 413);

const doc = operationDocs('Pings');
const DESCRIPTION = `No header is needed (curl, wget, PowerShell): the key in the path is the credential, a node's \`ping_key\`. A malformed or unknown key gets a plain-text 404 that does not echo it. Each key may ping LIFELINE_PING_RATE_LIMIT times a minute (${LIMIT_DEFAULTS.pingsPerMinute} by default), counted before any lookup. A ping is buffered like a heartbeat and written by the next flush.`;
const KEY_PARAM = 'The ping key of a scheduled job (its `ping_key`).';
const SUFFIX_PARAM = '`start`: a run begins; `fail`: it failed; `log`: output only, no change of state; an exit code from 0 to 255: the run ended, successfully if 0.';
const OUTPUT = `The run's output, of any content type, up to ${MAX_PING_BODY_BYTES / 1024} KB: its last ${KEPT_OUTPUT_BYTES / 1024} KB are kept, bytes that are not UTF-8 as U+FFFD. It may not hold U+0000.`;

/** The document's account of GET or POST on /ping/{key}, or on /ping/{key}/{suffix}. */
function pingDoc(suffix: boolean, post: boolean): MiddlewareHandler {
  const invalid = suffix ? (post ? 'The exit code is over 255, or the body holds U+0000' : 'The exit code is over 255') : post ? 'The body holds U+0000' : undefined;
  return doc({
    summary: suffix ? 'Report a start, a failure, output or an exit code' : 'Report a successful run',
    description: DESCRIPTION,
    access: 'none',
    pathParams: suffix ? { key: KEY_PARAM, suffix: SUFFIX_PARAM } : { key: KEY_PARAM },
    ...(post ? { rawBody: OUTPUT } : {}),
    ok: { status: 200, description: 'Taken.', body: { type: 'string', const: 'OK' }, mediaType: 'text/plain' },
    also: [
      { status: 404, description: 'No job has this key, or the path names no ping (plain text, without the key).', body: { type: 'string', const: 'not found' }, mediaType: 'text/plain' },
      ...(invalid ? [{ status: 400, description: `${invalid} (\`validation_failed\`); nothing is recorded.`, body: 'Error' as const }] : []),
      ...(post ? [{ status: 413, description: `The body is over ${MAX_PING_BODY_BYTES / 1024} KB (\`payload_too_large\`).`, body: 'Error' as const }] : []),
    ],
    errors: [429, 500],
  });
}

/**
 * A POST body as the run's output. Like every text the engine stores, it may not hold U+0000:
 * such a ping is refused whole (400) rather than stored altered, and changes nothing. Bytes that
 * are not UTF-8 are shown as U+FFFD. `lifeline run` replaces NUL in what it sends.
 */
async function output(c: Context): Promise<string | null> {
  if (c.req.method !== 'POST') return null;
  const body = new Uint8Array(await c.req.arrayBuffer());
  if (body.includes(0)) throw validationFailed([{ field: '(body)', message: 'must not contain U+0000 (NUL)' }]);
  return keptOutput(body);
}

export function pingRoutes(deps: AppDeps, ingestor: Ingestor, admitPing: Limits['admitPing']) {
  const app = new Hono();
  // Counted before any lookup, malformed keys included.
  const perKey: MiddlewareHandler = async (c, next) => {
    admitPing(c.req.param('key') ?? '');
    await next();
  };
  const streamingLimit = bodyLimit({ maxSize: MAX_PING_BODY_BYTES, onError: tooLarge });

  const handle = async (c: Context) => {
    const key = c.req.param('key') ?? '';
    const what = kindOf(c.req.param('suffix'));
    // A malformed key or suffix names no node: answered without a query.
    if (!KEY.test(key) || what === undefined) return notFound(c);
    const declared = c.req.header('content-length');
    if (declared !== undefined && Number(declared) > MAX_PING_BODY_BYTES) return tooLarge(c);
    let text: string | null = null;
    const read = async () => void (text = await output(c));
    if (declared === undefined && c.req.method === 'POST') {
      const refused = await streamingLimit(c, read);
      if (refused) return refused;
    } else {
      await read();
    }
    const known = await ingestor.ping(key, what.kind, what.exitCode, text, deps.clock);
    return known ? c.text('OK') : notFound(c);
  };

  for (const [path, suffix] of [['/:key', false], ['/:key/:suffix', true]] as const) {
    app.use(path, perKey);
    app.get(path, pingDoc(suffix, false), handle);
    app.post(path, pingDoc(suffix, true), handle);
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
