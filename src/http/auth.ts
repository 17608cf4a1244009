import type { Context, MiddlewareHandler } from 'hono';
import type { IdentityCache } from '../access/identity-cache.ts';
import { allows, type Need, type Principal } from '../access/model.ts';
import { ApiError } from './errors.ts';
import type { AuthBudget } from './auth-budget.ts';

export type AuthEnv = { Variables: { principal: Principal } };

/** The secret of an Authorization header of the form `Bearer <secret>`. */
export function bearerSecret(header: string | undefined): string | undefined {
  return header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
}

/**
 * The principal of the request's Bearer secret; 401 without one or with one that is not valid.
 *
 * Within the failed-authentication budget of the client's address (auth-budget.ts): a secret the
 * identity cache neither holds nor knew valid at its last lookup is charged to the address before
 * its query, and refused (429) there once the address is past the hard cap. A known secret is
 * never refused, and costs no client address: the cache hit is the whole of it.
 */
export async function bearerPrincipal(c: Context, identity: IdentityCache, budget: AuthBudget): Promise<Principal> {
  const secret = bearerSecret(c.req.header('authorization'));
  const principal = await budget.authenticate(c, (charge) => (secret === undefined ? undefined : identity.principal(secret, charge)));
  if (principal) return principal;
  throw new ApiError(401, 'unauthorized', secret === undefined ? 'Send Authorization: Bearer <secret>.' : 'The secret is not valid.');
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
