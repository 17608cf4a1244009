// Ping URLs of scheduled jobs: /ping/{key} and its suffixes, the paths Healthchecks uses, so a
// crontab moves here by changing the host. No header is needed (curl, wget, PowerShell). The key is
// the authority; each is rate-limited on its own, and a ping goes through ingest like a heartbeat
// (buffered, written by the next flush, behind the same watermark).

import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Ingestor } from '../../ingest/ingestor.ts';
import { keptOutput, MAX_PING_BODY_BYTES, type PingKind } from '../../jobs/model.ts';
import { Refusal, validationFailed } from '../../errors.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError, errorBody, renderError } from '../errors.ts';
import type { Limits } from '../limits.ts';

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

  for (const path of ['/:key', '/:key/:suffix']) {
    app.use(path, perKey);
    app.on(['GET', 'POST'], path, handle);
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
