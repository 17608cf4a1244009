import { CronJob } from 'cron';
import type { Clock } from '../src/clock.ts';
import type { Sql } from '../src/db/client.ts';
import type { Events } from '../src/events.ts';
import type { Logger } from '../src/logger.ts';
import { PastDays, type KeepReport } from '../src/statuspages/service.ts';
import { UptimeHousekeeping } from '../src/uptime/housekeeping.ts';
import type { Retention } from '../src/uptime/retention.ts';

export interface UptimeHousekeepingOptions {
  sql: Sql;
  clock: Clock;
  log: Logger;
  /** Counts a status page whose days over could not be kept (the pass goes on with the others). */
  metrics: KeepReport['metrics'];
  /** Where a failed pass is announced (`loop.error`, as `uptime`). */
  events?: Events;
  /** The evaluator's leadership: only the leader runs the passes. */
  leadership: { readonly isLeader: boolean };
  retention: Retention;
  /** Six-field cron expression, UTC. */
  cronTime?: string;
}

// Every minute, 5 s past: an hour is closed within a minute of ending (a quiet node's queries then
// read rows for it), and a pass with nothing to do is one indexed query. Running every minute
// rather than hourly also makes a missed run or a leadership change cost a minute, not an hour.
const EVERY_MINUTE = '5 * * * * *';

/**
 * Runs uptime housekeeping (closing quiet nodes' hours, applying retention, keeping the status
 * pages' days once they are over) on a UTC cron schedule while this process leads the evaluators.
 */
export function startUptimeHousekeeping(o: UptimeHousekeepingOptions) {
  const log = o.log.child({ role: 'uptime' });
  const housekeeping = new UptimeHousekeeping({ sql: o.sql, clock: o.clock, retention: o.retention });
  const pastDays = new PastDays(o.sql, o.clock, o);
  let running: Promise<void> | undefined;
  const pass = async () => {
    try {
      const result = await housekeeping.runOnce();
      if (result.closed || result.hourRowsDeleted || result.dayRowsDeleted) log.debug(result, 'uptime housekeeping pass');
      // The status pages' days just settled: at the first pass after the evaluator has judged 5 min
      // past midnight; the rest of the day, only pages made or given components since the last pass.
      const days = await pastDays.runOnce();
      if (days.kept || days.forgotten) log.debug(days, 'status page days kept');
    } catch (err) {
      log.error({ err }, 'uptime housekeeping pass failed');
      o.events?.emit('loop.error', 'uptime', err);
    }
  };
  /** What each tick does; returns the pass under way, if any. */
  const tick = (): Promise<void> | undefined => {
    // A pass still running (a large fleet at midnight) is not overlapped.
    if (running || !o.leadership.isLeader) return running;
    running = pass().finally(() => (running = undefined));
    return running;
  };
  const job = CronJob.from({ cronTime: o.cronTime ?? EVERY_MINUTE, timeZone: 'UTC', start: true, onTick: () => void tick() });
  return {
    tick,
    async stop() {
      await job.stop();
      await running;
    },
  };
}
