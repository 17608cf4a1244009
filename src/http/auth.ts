import type { Context, MiddlewareHandler } from 'hono';
import type { Sql } from '../db/client.ts';
import { findApiKeyByHash, type Scope } from '../db/api-keys.ts';
import { findNodeByTokenHash } from '../db/nodes.ts';
import { hashSecret } from '../secrets.ts';
import { ApiError } from './errors.ts';

export type Principal =
  | { kind: 'key'; keyId: string; scope: Scope }
  | { kind: 'node'; nodeId: string; nodeName: string };

export type AuthEnv = { Variables: { principal: Principal } };

/**
 * Resolves bearer secrets to principals. Lookups are cached for a few seconds because ingest
 * authenticates every heartbeat: at 10k requests/s a database round trip each would cost more than
 * the rest of the request. Revocation and token rotation take effect at once in the process that
 * made them (it forgets its cache) and within `ttlMs` in the others.
 */
export class Authenticator {
  private cache = new Map<string, { principal: Principal; expires: number }>();

  constructor(
    private readonly sql: Sql,
    private readonly ttlMs = 5_000,
  ) {}

  async resolve(secret: string): Promise<Principal | undefined> {
    const hash = hashSecret(secret);
    const hit = this.cache.get(hash);
    const nowMs = Date.now();
    if (hit && hit.expires > nowMs) return hit.principal;
    const principal = await this.lookup(hash);
    if (principal) {
      // Bound memory against floods of distinct valid secrets; a miss is only a query.
      if (this.cache.size > 100_000) this.cache.clear();
      this.cache.set(hash, { principal, expires: nowMs + this.ttlMs });
    } else {
      this.cache.delete(hash);
    }
    return principal;
  }

  forget(): void {
    this.cache.clear();
  }

  private async lookup(hash: string): Promise<Principal | undefined> {
    const key = await findApiKeyByHash(this.sql, hash);
    if (key) return { kind: 'key', keyId: key.id, scope: key.scope };
    const node = await findNodeByTokenHash(this.sql, hash);
    if (node) return { kind: 'node', nodeId: node.id, nodeName: node.name };
    return undefined;
  }
}

const RANK: Record<Scope, number> = { ingest: 0, read: 1, write: 2, admin: 3 };

/** admin ⊃ write ⊃ read; ingest stands apart and grants heartbeats only. */
export function allows(p: Principal, need: 'read' | 'write' | 'admin' | 'heartbeat'): boolean {
  if (need === 'heartbeat') return p.kind === 'node' || p.scope === 'ingest' || RANK[p.scope] >= RANK.write;
  return p.kind === 'key' && p.scope !== 'ingest' && RANK[p.scope] >= RANK[need];
}

export function authenticate(auth: Authenticator): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
    if (!match) throw new ApiError(401, 'unauthorized', 'Send Authorization: Bearer <secret>.');
    const principal = await auth.resolve(match[1]!);
    if (!principal) throw new ApiError(401, 'unauthorized', 'The secret is not valid.');
    c.set('principal', principal);
    await next();
  };
}

export function requireScope(need: 'read' | 'write' | 'admin' | 'heartbeat'): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    if (!allows(c.get('principal'), need)) {
      throw new ApiError(403, 'forbidden', `This secret may not do that (needs ${need === 'heartbeat' ? 'a node token or an ingest key' : `${need} scope`}).`);
    }
    await next();
  };
}

export const principalOf = (c: Context<AuthEnv>): Principal => c.get('principal');
