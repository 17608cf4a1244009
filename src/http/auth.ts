import type { Context, MiddlewareHandler } from 'hono';
import type { Sql } from '../db/client.ts';
import type { Scope } from '../db/api-keys.ts';
import { findPrincipalByHash, IDENTITY_CHANNEL } from '../db/identity.ts';
import { hashSecret } from '../secrets.ts';
import { ApiError } from './errors.ts';

export type Principal =
  | { kind: 'key'; keyId: string; scope: Scope }
  | { kind: 'node'; nodeId: string; nodeName: string };

export type AuthEnv = { Variables: { principal: Principal } };

/**
 * Resolves bearer secrets to principals. Ingest authenticates every heartbeat, so lookups are
 * cached: a fleet posting every 30 s would otherwise cost a query per heartbeat. Revocation, token
 * rotation, renames and deletions NOTIFY every process, which forgets its cache at once; the
 * 5-minute TTL only bounds staleness if a notification is ever missed (listen() also forgets on
 * every reconnect). Concurrent misses for one secret share a single query.
 */
export class Authenticator {
  private cache = new Map<string, { principal: Principal; expires: number }>();
  private inflight = new Map<string, Promise<Principal | undefined>>();
  // Bumped by forget(): a lookup that started before a revocation must not cache what it read.
  private generation = 0;

  constructor(
    private readonly sql: Sql,
    private readonly ttlMs = 5 * 60_000,
  ) {}

  async resolve(secret: string): Promise<Principal | undefined> {
    const hash = hashSecret(secret);
    const hit = this.cache.get(hash);
    const nowMs = Date.now();
    if (hit && hit.expires > nowMs) return hit.principal;
    const generation = this.generation;
    let pending = this.inflight.get(hash);
    if (!pending) {
      pending = this.lookup(hash).finally(() => {
        if (this.inflight.get(hash) === pending) this.inflight.delete(hash);
      });
      this.inflight.set(hash, pending);
    }
    const principal = await pending;
    if (generation !== this.generation) return principal;
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
    this.generation += 1;
    this.cache.clear();
    this.inflight.clear();
  }

  /** Forgets on every identity change anywhere in the cluster; returns the way to stop. */
  async listen(): Promise<() => Promise<void>> {
    const l = await this.sql.listen(IDENTITY_CHANNEL, () => this.forget(), () => this.forget());
    return () => l.unlisten();
  }

  private async lookup(hash: string): Promise<Principal | undefined> {
    const row = await findPrincipalByHash(this.sql, hash);
    if (!row) return undefined;
    return row.kind === 'key' ? { kind: 'key', keyId: row.id, scope: row.scope } : { kind: 'node', nodeId: row.id, nodeName: row.name };
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
