import type { Queryable } from './client.ts';

/**
 * NOTIFYs `channel` once per payload, in order, in one statement. Inside a transaction Postgres
 * delivers them at commit (and drops them on rollback), so listeners never hear of a change that
 * did not happen. Each payload must stay under Postgres's 8,000-byte limit.
 */
export async function notifyAll(tx: Queryable, channel: string, payloads: string[]): Promise<void> {
  if (payloads.length === 0) return;
  await tx`select pg_notify(${channel}, p) from unnest(${payloads}::text[]) with ordinality as t(p, ord) order by ord`;
}
