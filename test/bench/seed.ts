import type { Sql } from '../../src/db/client.ts';
import { vacuumAnalyze } from './databases.ts';

export interface FleetSpec {
  count: number;
  intervalSeconds: number;
  failuresForDown: number;
  /** 'healthy' with a heartbeat `lastHeartbeatAgoMs` ago, or 'unknown' with none (as created). */
  state: 'healthy' | 'unknown';
  lastHeartbeatAgoMs?: number;
  /** 'now' = every node due at once (the evaluator's worst case); 'infinity' = nothing due. */
  due: 'now' | 'infinity';
}

export const nodeName = (i: number): string => `bench-node-${String(i).padStart(7, '0')}`;
const NAME_SQL = `'bench-node-' || lpad(i::text, 7, '0')`;

/**
 * Inserts a fleet set-wise, as a fleet would look after running a while: every node with its
 * health, heartbeat and due rows (the same four rows insertNode writes). Tokens are never used by
 * these fleets (they post by name with an ingest key), so token_hash only has to be unique.
 */
export async function seedFleet(sql: Sql, f: FleetSpec): Promise<void> {
  const healthy = f.state === 'healthy';
  const ago = `${f.lastHeartbeatAgoMs ?? 1000} milliseconds`;
  await sql.begin(async (tx) => {
    await tx.unsafe(
      `insert into nodes (name, heartbeat_interval_seconds, grace_seconds, failures_for_down, successes_for_recovery,
                          token_hash, created_at, updated_at)
       select ${NAME_SQL}, $1, 0, $2, 1, md5('bench-token-' || i), now() - interval '1 hour', now() - interval '1 hour'
       from generate_series(1, $3::int) as i`,
      [f.intervalSeconds, f.failuresForDown, f.count],
    );
    await tx.unsafe(
      `insert into node_health (node_id, state, since, version, received_at_entry)
       select id, $1, now() - interval '1 hour', $2, 0 from nodes`,
      [f.state, healthy ? 1 : 0],
    );
    await tx.unsafe(
      healthy
        ? `insert into node_heartbeats (node_id, last_heartbeat_at, last_status, ok_streak, received)
           select id, now() - interval '${ago}', 'ok', 10, 10 from nodes`
        : `insert into node_heartbeats (node_id) select id from nodes`,
    );
    await tx.unsafe(`insert into node_due (node_id, due_at) select id, ${f.due === 'now' ? 'now()' : `'infinity'`} from nodes`);
  });
  await vacuumAnalyze(sql, FLEET_TABLES);
}

export const FLEET_TABLES = ['nodes', 'node_health', 'node_heartbeats', 'node_due'];

/**
 * Ingest coverage as a running ingest process leaves it: watching for the last hour, flushed up to
 * now. Without it the evaluator has nothing any node could be judged on and does nothing.
 */
/** The ingest process the seeded coverage stands for. */
export const BENCH_INGEST_ID = '00000000-0000-4000-8000-00000000be9c';

export async function seedCoverage(sql: Sql): Promise<void> {
  await sql`
    insert into ingest_coverage (since, seen_at) values (now() - interval '1 hour', now())
    on conflict (id) do update set since = excluded.since, seen_at = excluded.seen_at, blind_from = null`;
  await sql`
    insert into ingest_presence (instance_id, seen_at) values (${BENCH_INGEST_ID}, now())
    on conflict (instance_id) do update set seen_at = excluded.seen_at`;
}

/** Keeps the seeded coverage current, as the ingest flusher would between evaluator passes. */
export async function touchCoverage(sql: Sql): Promise<void> {
  await sql`update ingest_coverage set seen_at = now()`;
  await sql`update ingest_presence set seen_at = now()`;
}
