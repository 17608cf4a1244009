import type { Sql } from '../../src/db/client.ts';

/**
 * Every stored uptime row (hourly, daily with the running totals, progress), in a form two
 * snapshots compare by: what the pipeline maintained against what a rebuild writes.
 */
export function storedUptimeRows(sql: Sql) {
  return sql`
    select 'hour' as kind, node_id, day as at,
           array[healthy_ms, degraded_ms, down_ms, maintenance_ms, unknown_ms]::text as v
    from uptime_hourly
    union all
    select 'day', node_id, day, array[healthy_ms::bigint, degraded_ms, down_ms, maintenance_ms, unknown_ms, healthy_running_ms,
                                      degraded_running_ms, down_running_ms, maintenance_running_ms, unknown_running_ms]::text
    from uptime_daily
    union all
    select 'progress', node_id, closed_until,
           array[state_version::text, hours_from::text, days_from::text, last_at::text, closed_state, today_ms::text, days_running_ms::text]::text
    from uptime_progress
    order by 1, 2, 3`;
}
