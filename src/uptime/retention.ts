// How long stored rollups are kept. The log itself is never trimmed, so a window older than the
// retention is still answered, from the log.

import { bucketStart, DAY_MS } from './buckets.ts';

export interface Retention {
  /** Days of hour rows kept (LIFELINE_UPTIME_HOURLY_RETENTION_DAYS). */
  hourlyDays: number;
  /** Days of day rows kept (LIFELINE_UPTIME_DAILY_RETENTION_DAYS). */
  dailyDays: number;
}

/** The first day whose hour rows, and the first day whose day rows, are kept at `now`. */
export function retentionHorizons(now: number, retention: Retention): { hours: number; days: number } {
  return {
    hours: bucketStart(now - retention.hourlyDays * DAY_MS, 'day'),
    days: bucketStart(now - retention.dailyDays * DAY_MS, 'day'),
  };
}
