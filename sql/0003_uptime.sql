-- Uptime rollups: milliseconds per state, per node, per closed UTC hour and day. They are recomputed
-- from node_state_log (which stays the source of truth), never incremented, so a redelivered event,
-- two passes racing or a rebuild all write the same numbers. See ARCHITECTURE.md, "Uptime".

-- What each node's rows cover. A pass locks this row first, so passes over one node take turns.
CREATE TABLE uptime_progress (
  node_id        uuid PRIMARY KEY REFERENCES nodes (id) ON DELETE CASCADE,
  state_version  integer NOT NULL DEFAULT 0,  -- the rows reflect node_state_log up to this version
  closed_until   timestamptz,                 -- an hour boundary: rows are complete before it (null: nothing stored yet)
  hours_from     timestamptz,                 -- uptime_hourly is complete from here (a day boundary, or closed_until while empty) to closed_until
  days_from      timestamptz,                 -- a day boundary: uptime_daily is complete from here to the day of closed_until
  -- The stored end, kept here so a report reads neither the last rows nor the log up to now for a
  -- node with no transition since (3 of the 6 probes per node a 30-day fleet report needed):
  last_at          timestamptz,               -- when the transition of state_version happened (null: none)
  closed_state     text,                      -- the state just before closed_until
  today_ms         integer[],                 -- ms per state (healthy, degraded, down, maintenance, unknown) over closed_until's day so far
  days_running_ms  bigint[]                   -- running totals, same order, through the day before (null: no day stored)
) WITH (fillfactor = 50);                     -- rewritten by every pass over the node: keep those updates HOT

-- One row per node and UTC day. Element i of each array is the running total through the day: the
-- milliseconds spent in that state from 00:00 to the end of hour i - 1 (element 1 is 00:00-01:00;
-- hours not closed yet add nothing). Hour h alone is element h+1 − element h; any run of hours in a
-- row is two element reads, without unnesting. A day's 24 hours in one row: a window's edge hours are
-- one or two row reads, and 90 days of 10k nodes take ~0.6 GB where a row per hour (76 bytes + 36 of
-- index each) would take ~2.4 GB.
CREATE TABLE uptime_hourly (
  node_id         uuid NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
  day             timestamptz NOT NULL,
  healthy_ms      integer[] NOT NULL,
  degraded_ms     integer[] NOT NULL,
  down_ms         integer[] NOT NULL,
  maintenance_ms  integer[] NOT NULL,
  unknown_ms      integer[] NOT NULL,
  PRIMARY KEY (node_id, day)
);

-- One row per node and closed UTC day: milliseconds per state that day, and running totals since the
-- first day of the node's stored run (uptime_progress.days_from), so any range of whole days is two
-- row reads (last running − first running + first day) instead of a sum over up to 1,098 rows: the
-- fleet's 365-day report reads 20k rows, not 3.6M.
CREATE TABLE uptime_daily (
  node_id                 uuid NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
  day                     timestamptz NOT NULL,
  healthy_ms              integer NOT NULL,
  degraded_ms             integer NOT NULL,
  down_ms                 integer NOT NULL,
  maintenance_ms          integer NOT NULL,
  unknown_ms              integer NOT NULL,
  healthy_running_ms      bigint NOT NULL,
  degraded_running_ms     bigint NOT NULL,
  down_running_ms         bigint NOT NULL,
  maintenance_running_ms  bigint NOT NULL,
  unknown_running_ms      bigint NOT NULL,
  PRIMARY KEY (node_id, day)
);

-- The log by time: "the state at t" and "the transitions in [t, u)" of a node are index probes,
-- for the open edges of every uptime query and for each rollup pass. Carrying to_state makes "the
-- state at t" index-only: the fleet report probes it twice per node (20k probes at 10k nodes).
CREATE INDEX uptime_state_log_at ON node_state_log (node_id, at, state_version) INCLUDE (to_state);
