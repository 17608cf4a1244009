-- When a scheduled job's schedule took its present form: its cron expression or time zone last
-- changed (null: it has not since the node was created, so created_at). A job is given a new
-- job's margin before its first run from then (src/health/cron-deadline.ts, firstRunDue): a daily
-- job edited to */5 at 10:00 was judged against the 03:05 run the new expression names after its
-- last success at 03:00, and went down at once. Nullable without a default, so adding it rewrites
-- no row.
ALTER TABLE nodes ADD COLUMN schedule_since timestamptz;
