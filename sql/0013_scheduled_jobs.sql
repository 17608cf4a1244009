-- Scheduled jobs (a cron `schedule` instead of a heartbeat interval), their ping keys and their
-- runs. See README.md, "Scheduled jobs and ping URLs".

-- {"cron", "time_zone", "grace_seconds", "max_run_seconds"} or null for a heartbeat node. One
-- column read whole by the evaluator: the four values only ever change together.
ALTER TABLE nodes ADD COLUMN schedule jsonb;

-- Names the node in /ping/{ping_key}, the same 32 random bytes as a badge id. It is a capability
-- URL like Healthchecks' (it may only report this node's runs, and is shown wherever the ping URL
-- is), so it is stored as it is; POST /v1/nodes/{id}/ping-key sets it to DEFAULT to revoke it.
ALTER TABLE nodes ADD COLUMN ping_key text NOT NULL DEFAULT new_badge_id();
CREATE UNIQUE INDEX nodes_ping_key ON nodes (ping_key);

-- The start ping of the run in progress, cleared by the run's end: what max_run_seconds is
-- measured from. In the heartbeat row, written by the same flush.
ALTER TABLE node_heartbeats ADD COLUMN run_started_at timestamptz;

-- One row per run (start … end), per end ping that says more than "ok" (a failure, an exit code,
-- an output), and per /log message. Kept to the newest 100 per node (src/jobs/store.ts).
CREATE TABLE node_runs (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  node_id      uuid NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
  started_at   timestamptz,          -- null: an end (or a log) with no start before it
  finished_at  timestamptz,          -- null while running
  exit_code    smallint CHECK (exit_code BETWEEN 0 AND 255),
  status       text NOT NULL CHECK (status IN ('running', 'success', 'failure', 'log', 'unfinished')),
  output       text                  -- the last 10 KB of a POST body
);
CREATE INDEX node_runs_node ON node_runs (node_id, id DESC);
