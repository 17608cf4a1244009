import type { Sql } from '../../src/db/client.ts';

/** `n` open incidents opened at `at`, each with one pending page to the webhook channel `channelId`; their ledger ids, sorted. */
export async function pendingPages(sql: Sql, channelId: string, n: number, at: Date): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    with i as (
      insert into incidents (node_id, node_name, category, severity, status, title, reason, opened_at)
      select gen_random_uuid(), 'node-' || g, 'node_down', 'critical', 'open', 'node-' || g || ' is down', 'no heartbeat for 90s', ${at}
      from generate_series(1, ${n}::int) as g
      returning id, opened_at)
    insert into deliveries (id, incident_id, event, event_key, channel_id, channel_type, status, occurred_at, created_at)
    select i.id || '.opened.' || ${channelId}, i.id, 'opened', 'opened', ${channelId}::uuid, 'webhook', 'pending', i.opened_at, i.opened_at from i
    returning id`;
  return rows.map((r) => r.id).sort();
}
