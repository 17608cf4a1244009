import type { Context, MiddlewareHandler } from 'hono';
import type { IdentityCache } from '../access/identity-cache.ts';
import { allows, type Need, type Principal } from '../access/model.ts';
import { ApiError } from './errors.ts';

export type AuthEnv = { Variables: { principal: Principal } };

/** The secret of an Authorization header of the form `Bearer <secret>`. */
export function bearerSecret(header: string | undefined): string | undefined {
  return header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
}

/** The principal of the request's Bearer secret; 401 without one or with one that is not valid. */
export async function bearerPrincipal(c: Context, identity: IdentityCache): Promise<Principal> {
  const secret = bearerSecret(c.req.header('authorization'));
  if (secret === undefined) throw new ApiError(401, 'unauthorized', 'Send Authorization: Bearer <secret>.');
  const principal = await identity.principal(secret);
  if (!principal) throw new ApiError(401, 'unauthorized', 'The secret is not valid.');
  return principal;
}

export function authenticate(identity: IdentityCache): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    c.set('principal', await bearerPrincipal(c, identity));
    await next();
  };
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
