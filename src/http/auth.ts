import type { Context, MiddlewareHandler } from 'hono';
import type { IdentityCache } from '../access/identity-cache.ts';
import { allows, type Need, type Principal } from '../access/model.ts';
import { ApiError } from './errors.ts';
import type { FailureCount } from './rate-limit.ts';

export type AuthEnv = { Variables: { principal: Principal } };

/** The secret of an Authorization header of the form `Bearer <secret>`. */
export function bearerSecret(header: string | undefined): string | undefined {
  return header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
}

/**
 * The principal of the request's Bearer secret; 401 without one or with one that is not valid.
 *
 * The failed-authentication budget of the client's address counts each 401 and refuses (429) only
 * a secret the identity cache neither holds nor knew valid at its last lookup, before its query: a
 * client whose secret is known is never held back by wrong secrets from the same address (a NAT, a
 * proxy not trusted for X-Forwarded-For). A guesser past the budget still gets no query and no
 * answer about its guesses.
 */
export async function bearerPrincipal(c: Context, identity: IdentityCache, failures: FailureCount): Promise<Principal> {
  const refuseIfOver = () => failures.refuseIfOver(failures.key(c));
  const secret = bearerSecret(c.req.header('authorization'));
  try {
    if (secret === undefined) {
      refuseIfOver();
      throw new ApiError(401, 'unauthorized', 'Send Authorization: Bearer <secret>.');
    }
    const principal = await identity.principal(secret, refuseIfOver);
    if (!principal) throw new ApiError(401, 'unauthorized', 'The secret is not valid.');
    return principal;
  } catch (err) {
    // A failed lookup (Postgres away) is no failed authentication.
    if (err instanceof ApiError && err.status === 401) failures.count(failures.key(c));
    throw err;
  }
}

export function requireScope(need: Need): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    if (!allows(c.get('principal'), need)) {
      throw new ApiError(403, 'forbidden', `This secret may not do that (needs ${need === 'heartbeat' ? 'a node token or an ingest key' : `${need} scope`}).`);
    }
    await next();
  };
}

export const principalOf = (c: Context<AuthEnv>): Principal => c.get('principal');
