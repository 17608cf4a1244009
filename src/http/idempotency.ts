import type { MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { validationFailed } from '../errors.ts';
import { credentialOf, fingerprintOf, isSaneKey } from '../idempotency/model.ts';
import { claim, pruneKeys, release, remember } from '../idempotency/service.ts';
import { principalOf, type AuthEnv } from './auth.ts';
import type { AppDeps } from './deps.ts';
import { ApiError } from './errors.ts';

export const IDEMPOTENCY_KEY = 'Idempotency-Key';

// Expired keys are never replayed (a claim takes them over), so pruning only bounds the table; once
// a minute per process costs one indexed delete however busy the API is.
const PRUNE_EVERY_MS = 60_000;

/**
 * POST and PATCH with an Idempotency-Key: the first request acts and its successful answer is kept;
 * a retry with the same key and credential within 24 h gets that answer again (with
 * `Idempotent-Replayed: true`, and the ETag it had) without acting. A retry while the first is still in flight is 409
 * with Retry-After; the key reused for a different method, path or body is 422. A first request
 * that fails gives its key up, so its retry acts. Requests without the header are untouched.
 */
export function idempotentRetries(deps: Pick<AppDeps, 'sql' | 'clock' | 'secretKey'>): MiddlewareHandler<AuthEnv> {
  let prunedAt = 0;
  return async (c, next) => {
    const key = c.req.header(IDEMPOTENCY_KEY);
    if (key === undefined || (c.req.method !== 'POST' && c.req.method !== 'PATCH')) return next();
    if (!isSaneKey(key)) throw validationFailed([{ field: IDEMPOTENCY_KEY, message: 'must be 1-255 visible ASCII characters' }]);
    const now = deps.clock.now();
    if (now.getTime() - prunedAt >= PRUNE_EVERY_MS) {
      prunedAt = now.getTime();
      await pruneKeys(deps.sql, now);
    }
    const url = new URL(c.req.url);
    // hono keeps the text it read: the route reads the same body again.
    const k = { credential: credentialOf(principalOf(c)), key, fingerprint: fingerprintOf(c.req.method, url.pathname + url.search, await c.req.text()) };
    const claimed = await claim(deps.sql, deps.secretKey, k, now);
    if (claimed.kind === 'replay') {
      const { status, contentType, body, etag } = claimed.answer;
      c.header('idempotent-replayed', 'true');
      if (etag) c.header('etag', etag);
      if (status === 204) return c.body(null, 204);
      return c.body(body, status as ContentfulStatusCode, contentType ? { 'content-type': contentType } : {});
    }
    if (claimed.kind === 'in_flight') {
      c.header('retry-after', '1');
      throw new ApiError(409, 'conflict', `A request with this ${IDEMPOTENCY_KEY} is still being answered; retry it in a moment.`);
    }
    if (claimed.kind === 'mismatch') {
      throw new ApiError(422, 'idempotency_key_reused', `This ${IDEMPOTENCY_KEY} was used for a different request; use a new key for a new request.`);
    }
    let answered = false;
    try {
      // onError has already turned a failure into an answer by the time next() returns.
      await next();
      if (c.res.status >= 200 && c.res.status < 300) {
        const { headers } = c.res;
        const answer = { status: c.res.status, contentType: headers.get('content-type'), body: await c.res.clone().text(), etag: headers.get('etag') };
        await remember(deps.sql, deps.secretKey, k, answer);
        answered = true;
      }
    } finally {
      if (!answered) await release(deps.sql, k);
    }
  };
}
