// Child-process entry for the failover floor: nothing but a dedicated connection polling
// pg_try_advisory_lock every BENCH_INTERVAL_MS, logging as the evaluator does when it wins. The
// time a follower of this kind needs after the leader's SIGKILL is what Postgres and the polling
// interval allow; the evaluator's failover is compared with it.
import postgres from 'postgres';
import { guardChild } from './child-guard.ts';

guardChild();
const LOCK = 7_346_999; // not the evaluator's lock: this baseline never competes with an engine
const intervalMs = Number(process.env.BENCH_INTERVAL_MS ?? 250);
const sql = postgres(process.env.DATABASE_URL!, { max: 1, idle_timeout: 0, max_lifetime: null, onnotice: () => {} });

let leader = false;
const tick = async () => {
  if (leader) return;
  const [row] = await sql<{ ok: boolean }[]>`select pg_try_advisory_lock(${LOCK}) as ok`;
  if (row?.ok) {
    leader = true;
    process.stdout.write(`${JSON.stringify({ msg: 'became evaluator leader', time: new Date().toISOString() })}\n`);
  }
};
process.stdout.write(`${JSON.stringify({ msg: 'polling' })}\n`);
const timer = setInterval(() => void tick().catch((err: unknown) => process.stderr.write(`${String(err)}\n`)), intervalMs);
process.on('SIGTERM', () => {
  clearInterval(timer);
  void sql.end({ timeout: 1 }).then(() => process.exit(0));
});
