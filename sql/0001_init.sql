-- Core pipeline: keys, nodes, heartbeats, health, transition log, due schedule, outbox.
-- Times are always written from the engine's clock (passed in as parameters) so tests can drive time.

CREATE TABLE api_keys (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name         text NOT NULL,
  scope        text NOT NULL CHECK (scope IN ('admin', 'write', 'read', 'ingest')),
  secret_hash  text NOT NULL UNIQUE,          -- sha256 hex of a 256-bit random secret
  created_at   timestamptz NOT NULL,
  revoked_at   timestamptz
);

CREATE TABLE nodes (
  id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name                        text NOT NULL UNIQUE,
  labels                      jsonb NOT NULL DEFAULT '{}',
  heartbeat_interval_seconds  integer NOT NULL CHECK (heartbeat_interval_seconds > 0),
  grace_seconds               integer NOT NULL CHECK (grace_seconds >= 0),
  failures_for_down           integer NOT NULL CHECK (failures_for_down > 0),
  successes_for_recovery      integer NOT NULL CHECK (successes_for_recovery > 0),
  escalation_policy_id        uuid,
  token_hash                  text NOT NULL UNIQUE,
  created_at                  timestamptz NOT NULL,
  updated_at                  timestamptz NOT NULL
);
CREATE INDEX nodes_labels ON nodes USING gin (labels jsonb_path_ops);

-- The narrow, hot table: one row per node, rewritten by every heartbeat flush. Only the primary key
-- is indexed and pages keep free space, so those updates stay HOT (heap-only, no index writes).
CREATE TABLE node_heartbeats (
  node_id            uuid PRIMARY KEY REFERENCES nodes (id) ON DELETE CASCADE,
  last_heartbeat_at  timestamptz,
  last_status        text,
  checks             jsonb,
  last_seq           bigint,
  ok_streak          integer NOT NULL DEFAULT 0,   -- consecutive ok heartbeats, reset by any non-ok one
  received           bigint NOT NULL DEFAULT 0     -- heartbeats accepted so far
) WITH (fillfactor = 50);

-- Written only by the evaluator (compare-and-set on version).
CREATE TABLE node_health (
  node_id      uuid PRIMARY KEY REFERENCES nodes (id) ON DELETE CASCADE,
  state        text NOT NULL CHECK (state IN ('unknown', 'healthy', 'degraded', 'down', 'maintenance')),
  since        timestamptz NOT NULL,
  reason       text,
  version      integer NOT NULL DEFAULT 0,
  received_at_entry bigint NOT NULL DEFAULT 0      -- node_heartbeats.received when the state was entered
);
CREATE INDEX node_health_state ON node_health (state);

-- When the evaluator must look at a node next. Ingest pulls due_at forward (and bumps wake) when a
-- heartbeat may change the state; the evaluator pushes it back only if wake is unchanged, so a
-- wake-up can never be lost between its read and its write.
CREATE TABLE node_due (
  node_id  uuid PRIMARY KEY REFERENCES nodes (id) ON DELETE CASCADE,
  due_at   timestamptz NOT NULL,
  wake     bigint NOT NULL DEFAULT 0
);
CREATE INDEX node_due_due_at ON node_due (due_at, node_id);

-- Append-only transition history: interval i runs from transition i to transition i+1.
CREATE TABLE node_state_log (
  node_id        uuid NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
  state_version  integer NOT NULL,
  from_state     text NOT NULL,
  to_state       text NOT NULL,
  at             timestamptz NOT NULL,
  reason         text,
  PRIMARY KEY (node_id, state_version)
);

-- Continuous ingest coverage: since when at least one ingest process has been observing without a
-- gap. Anything before `since` and after `blind_from` was invisible to the engine.
CREATE TABLE ingest_coverage (
  id          boolean PRIMARY KEY DEFAULT true CHECK (id),
  since       timestamptz NOT NULL,
  seen_at     timestamptz NOT NULL,
  blind_from  timestamptz
);

-- One row per running ingest process: every heartbeat it received before seen_at is persisted.
-- The evaluator's watermark is the oldest seen_at among live processes.
CREATE TABLE ingest_presence (
  instance_id  uuid PRIMARY KEY,
  seen_at      timestamptz NOT NULL
);

CREATE TABLE outbox (
  id            bigserial PRIMARY KEY,
  topic         text NOT NULL,
  key           text NOT NULL,              -- events of one key are handled strictly in id order
  payload       jsonb NOT NULL,
  created_at    timestamptz NOT NULL,
  available_at  timestamptz NOT NULL,
  attempts      integer NOT NULL DEFAULT 0,
  last_error    text
);
CREATE INDEX outbox_key_id ON outbox (key, id);
CREATE INDEX outbox_available ON outbox (available_at, id);

-- Events whose handler kept failing; kept for inspection and replay.
CREATE TABLE outbox_dead (
  id          bigint PRIMARY KEY,
  topic       text NOT NULL,
  key         text NOT NULL,
  payload     jsonb NOT NULL,
  created_at  timestamptz NOT NULL,
  attempts    integer NOT NULL,
  last_error  text,
  died_at     timestamptz NOT NULL
);
