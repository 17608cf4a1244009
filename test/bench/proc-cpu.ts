// CPU time of processes from /proc (utime + stime), for figures that carry over from a loaded
// machine to a quiet one: the work done per operation, not how long it waited for a core.
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { Sql } from '../../src/db/client.ts';

const TICKS_PER_S = 100; // USER_HZ on Linux: /proc/<pid>/stat counts CPU in these

/** utime + stime of a process, in ms; 0 once it is gone. */
export function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
  } catch {
    return 0;
  }
}

/** CPU so far (ms) of each Postgres backend serving this database under one of `applications`. */
export async function backendCpu(sql: Sql, applications: readonly string[]): Promise<Map<number, number>> {
  const rows = await sql<{ pid: number }[]>`
    select pid from pg_stat_activity where application_name = any(${[...applications]}) and datname = current_database()`;
  return new Map(rows.map((r) => [r.pid, cpuMs(r.pid)]));
}

/** CPU (ms) the backends used since `before` was read; a backend opened since counts from zero. */
export async function backendCpuSince(sql: Sql, applications: readonly string[], before: Map<number, number>): Promise<number> {
  let total = 0;
  for (const [pid, ms] of await backendCpu(sql, applications)) total += ms - (before.get(pid) ?? 0);
  return total;
}

/** The pid of the Redis at `url` (it runs on this machine), from its own INFO. */
export async function redisPid(url: string): Promise<number> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    return Number(/^process_id:(\d+)/m.exec(await redis.info('server'))?.[1]);
  } finally {
    redis.disconnect();
  }
}
