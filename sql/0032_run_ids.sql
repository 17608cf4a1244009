-- The run id a client gives its pings (`?rid=`, a UUID, as Healthchecks takes it): a start and an
-- end with the same one are one run, so runs of one job that overlap are paired each with its own
-- end (src/jobs/model.ts, planRuns). Null for pings without one, which pair by the latest start.
-- A nullable column without a default: adding it rewrites no row.
ALTER TABLE node_runs ADD COLUMN rid uuid;
