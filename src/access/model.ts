// Who may call the engine: API keys with a scope, and node tokens that speak for one node.

export const SCOPES = ['admin', 'write', 'read', 'ingest'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKeyRow {
  id: string;
  name: string;
  scope: Scope;
  created_at: Date;
  revoked_at: Date | null;
}

/** Where a page of keys ends: lists go by name, the id breaking ties between keys of one name. */
export type KeyCursor = [name: string, id: string];

/** Whoever a bearer secret stands for. */
export type Principal =
  | { kind: 'key'; keyId: string; keyName: string; scope: Scope }
  | { kind: 'node'; nodeId: string; nodeName: string };

/** What a caller may need: a scope, or the right to post heartbeats. */
export type Need = 'read' | 'write' | 'admin' | 'heartbeat';

const RANK: Record<Scope, number> = { ingest: 0, read: 1, write: 2, admin: 3 };

/** admin ⊃ write ⊃ read; ingest stands apart and grants heartbeats only. */
export function allows(p: Principal, need: Need): boolean {
  if (need === 'heartbeat') return p.kind === 'node' || p.scope === 'ingest' || RANK[p.scope] >= RANK.write;
  return p.kind === 'key' && p.scope !== 'ingest' && RANK[p.scope] >= RANK[need];
}

/** Who did something, for timelines: the name given, else the key or node that asked. */
export function actorOf(p: Principal, by: string | undefined): string {
  return by ?? (p.kind === 'key' ? `api-key:${p.keyId}` : `node:${p.nodeName}`);
}
