import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { IdentityCache } from '../access/identity-cache.ts';
import { bearerPrincipal, type AuthEnv } from './auth.ts';
import type { AppDeps } from './deps.ts';
import { errorBody } from './errors.ts';
import { IDEMPOTENCY_KEY, idempotentRetries } from './idempotency.ts';
import type { Limits } from './limits.ts';
import { refuseUnstorableRequestText } from './validation.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * A page's form, the console's or a Resolve link's: nothing either posts comes near this (the link
 * page's one field is a note of at most 2,000 characters, ~24 KB percent-encoded at worst).
 */
export const MAX_FORM_BYTES = 64 * 1024;

const tooLarge = (c: Context) => c.json(errorBody('payload_too_large', 'The body is over 1 MiB.'), 413);

/**
 * What every /v1 request passes before its route, in this order: a body of at most 1 MiB, the
 * Bearer secret (401; one the identity cache does not hold within the failed-authentication budget
 * of the client's address, bearerPrincipal), the node token's requests a minute, the text rule for path and query, and Idempotency-Key on POST and PATCH.
 *
 * One middleware rather than six: each async layer of hono's compose costs a closure, a promise
 * and a dispatch per request. As six layers, with a limiter that set the RateLimit headers on every
 * answer, a single heartbeat cost ~49 µs of CPU; folded, ~41 µs (CPU per request of an api-only
 * process under autocannon, 100 connections over 1,000 node tokens, medians of five runs).
 *
 * A declared Content-Length is checked directly (Node's parser never reads past it): hono's
 * streaming limiter wraps every body in a web stream, which cost ~18 % of ingest CPU in profiles.
 * Bodies without a length (chunked) still go through the streaming limiter.
 */
export function apiGate(deps: Pick<AppDeps, 'identity' | 'sql' | 'clock' | 'secretKey'>, limits: Pick<Limits, 'authBudget' | 'admitRequest'>): MiddlewareHandler<AuthEnv> {
  const identity: IdentityCache = deps.identity;
  const idempotent = idempotentRetries(deps);
  const streaming = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: tooLarge });
  const pass: MiddlewareHandler<AuthEnv> = async (c, next) => {
    const principal = await bearerPrincipal(c, identity, limits.authBudget);
    limits.admitRequest(principal);
    refuseUnstorableRequestText(c);
    c.set('principal', principal);
    if (c.req.header(IDEMPOTENCY_KEY) !== undefined) return idempotent(c, next);
    await next();
  };
  return async (c, next) => {
    const declared = c.req.header('content-length');
    if (declared === undefined || c.req.header('transfer-encoding') !== undefined) {
      return streaming(c, async () => {
        // An answer returned rather than set (an idempotent replay) is set, as hono's compose would.
        const answered = await pass(c, next);
        if (answered instanceof Response) c.res = answered;
      });
    }
    if (Number(declared) > MAX_BODY_BYTES) return tooLarge(c);
    return pass(c, next);
  };
}
