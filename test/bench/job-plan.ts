// CPU of the evaluator's pure step (plan → decide → the cron deadlines) for a fleet of scheduled
// jobs, with no database: what judging a job costs the evaluator's process.
//
//   nice -n 19 node --import tsx test/bench/job-plan.ts [jobs] [passes] [src]
//
// `src` is the source tree to measure (default: this one's), so a copy of another commit's can be
// run beside it, alternated, for A/B pairs. The fleet: 90% pinged and waiting for their next run,
// 5% never pinged and not yet due, 5% past their run (judged down), over three schedules (every
// 5 min in UTC, daily 03:00 in Berlin, six fields in New York). Prints one JSON line: CPU µs per
// judged job (process.cpuUsage, user + system) over all passes after one warm-up pass.
import { resolve } from 'node:path';
import type { CronSchedule } from '../../src/health/cron-deadline.ts';
import type { DueRow } from '../../src/health/model.ts';

const jobs = Number(process.argv[2] ?? 10_000);
const passes = Number(process.argv[3] ?? 20);
const src = resolve(process.argv[4] ?? new URL('../../src', import.meta.url).pathname);
const { plan } = (await import(`${src}/health/machine.ts`)) as typeof import('../../src/health/machine.ts');

const NOW = Date.parse('2026-12-06T12:00:00Z');
const SCHEDULES: CronSchedule[] = [
  { cron: '*/5 * * * *', time_zone: 'UTC', grace_seconds: 60 },
  { cron: '0 3 * * *', time_zone: 'Europe/Berlin', grace_seconds: 300 },
  { cron: '30 */10 * * * *', time_zone: 'America/New_York', grace_seconds: 30 },
];

function row(i: number): DueRow {
  const kind = i % 20 === 0 ? 'new' : i % 20 === 1 ? 'late' : 'waiting';
  const schedule = SCHEDULES[i % SCHEDULES.length]!;
  // A waiting job pinged a minute ago; a late one two days ago; a new one was made a minute ago.
  const last = kind === 'waiting' ? NOW - 60_000 : kind === 'late' ? NOW - 2 * 86_400_000 : null;
  return {
    node_id: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
    name: `job-${i}`,
    heartbeat_interval_seconds: 30,
    grace_seconds: 0,
    failures_for_down: 3,
    successes_for_recovery: 1,
    schedule,
    schedule_since_ms: kind === 'new' ? NOW - 60_000 : NOW - 30 * 86_400_000,
    state: kind === 'new' ? 'unknown' : 'healthy',
    since_ms: NOW - 3 * 86_400_000,
    version: 1,
    received_at_entry: 0,
    last_heartbeat_at_ms: last,
    last_status: last === null ? null : 'ok',
    checks: null,
    ok_streak: last === null ? 0 : 1,
    received: last === null ? 0 : 5,
    run_started_at_ms: null,
    reason: null,
    failed_run: null,
    hidden_failure_at_ms: null,
    streak_met_at_ms: null,
    hidden_failure_status: null,
    hidden_failure_checks: null,
    hidden_failure_run: null,
    wake: 0,
    failures: 0,
    due_us: NOW * 1000,
  };
}

const rows = Array.from({ length: jobs }, (_, i) => row(i));
const coverage = { since: new Date(NOW - 40 * 86_400_000), blindFrom: null, seenAt: new Date(NOW) };
const now = new Date(NOW);
const judge = () => plan(rows, coverage, new Map(), now);

const warm = judge();
const cpu = process.cpuUsage();
for (let p = 0; p < passes; p++) judge();
const used = process.cpuUsage(cpu);
console.log(
  JSON.stringify({
    src,
    jobs,
    passes,
    down: warm.writes.length,
    cpuUsPerJob: Number(((used.user + used.system) / (jobs * passes)).toFixed(2)),
  }),
);
