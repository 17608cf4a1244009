-- On-call: channels, escalation policies, maintenance windows, incidents and the delivery ledger.

CREATE TABLE channels (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name           text NOT NULL,
  type           text NOT NULL CHECK (type IN ('email', 'webhook', 'slack', 'pagerduty')),
  config         jsonb NOT NULL,          -- the non-secret part, safe to return
  secret_sealed  text,                    -- AES-256-GCM sealed secret (webhook secret, Slack URL, routing key)
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL
);

CREATE TABLE escalation_policies (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL UNIQUE,
  levels      jsonb NOT NULL,             -- [{"after_seconds", "channel_ids": [...]}], ascending
  repeat      integer NOT NULL DEFAULT 0 CHECK (repeat >= 0),
  is_default  boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL
);
-- At most one default policy, enforced by the database.
CREATE UNIQUE INDEX escalation_policies_one_default ON escalation_policies (is_default) WHERE is_default;

ALTER TABLE nodes
  ADD CONSTRAINT nodes_escalation_policy_fk FOREIGN KEY (escalation_policy_id)
  REFERENCES escalation_policies (id) ON DELETE SET NULL;

CREATE TABLE maintenances (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  node_ids    uuid[] NOT NULL DEFAULT '{}',
  labels      jsonb NOT NULL DEFAULT '{}',   -- matches nodes whose labels contain all of these
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz,                   -- null = open-ended
  reason      text,
  created_at  timestamptz NOT NULL
);
CREATE INDEX maintenances_window ON maintenances (starts_at, ends_at);

CREATE TABLE incidents (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  node_id           uuid NOT NULL,            -- no FK: an incident outlives its node
  node_name         text NOT NULL,
  category          text NOT NULL CHECK (category IN ('node_down', 'node_degraded')),
  severity          text NOT NULL CHECK (severity IN ('critical', 'warning')),
  status            text NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
  title             text NOT NULL,
  reason            text,
  policy_id         uuid,                     -- the policy that escalates it, fixed at opening
  opened_at         timestamptz NOT NULL,
  acknowledged_at   timestamptz,
  acknowledged_by   text,
  resolved_at       timestamptz,
  resolved_by       text,
  escalation_level  integer NOT NULL DEFAULT 0,
  escalation_step   integer NOT NULL DEFAULT 0,   -- steps of the schedule already notified
  version           integer NOT NULL DEFAULT 1
);
-- At most one open incident per node and category, whatever runs concurrently.
CREATE UNIQUE INDEX incidents_one_open ON incidents (node_id, category) WHERE status <> 'resolved';
CREATE INDEX incidents_status_opened ON incidents (status, opened_at DESC);
CREATE INDEX incidents_node ON incidents (node_id, opened_at DESC);

CREATE TABLE incident_timeline (
  id           bigserial PRIMARY KEY,
  incident_id  uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  at           timestamptz NOT NULL,
  kind         text NOT NULL,
  detail       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX incident_timeline_incident ON incident_timeline (incident_id, id);

-- The delivery ledger: one row per (incident event, channel). Its id is the BullMQ job id and the
-- basis of the webhook-id, so a retry or a redelivered event can never make a second delivery.
CREATE TABLE deliveries (
  id            text PRIMARY KEY,          -- '<incident_id>.<event_key>.<channel_id>' (BullMQ ids may not hold ':')
  incident_id   uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  event         text NOT NULL CHECK (event IN ('opened', 'escalated', 'acknowledged', 'resolved')),
  event_key     text NOT NULL,             -- 'opened', 'escalated-<step>', 'acknowledged', 'resolved'
  channel_id    uuid NOT NULL,             -- no FK: the ledger outlives a deleted channel
  channel_type  text NOT NULL,
  status        text NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'dead')),
  digest        boolean NOT NULL DEFAULT false,  -- held for the channel's storm digest, not sent alone
  attempts      integer NOT NULL DEFAULT 0,
  last_error    text,
  occurred_at   timestamptz NOT NULL,      -- when the incident event happened
  created_at    timestamptz NOT NULL,
  enqueued_at   timestamptz,
  sent_at       timestamptz,
  UNIQUE (incident_id, event_key, channel_id)
);
-- Rows whose job must be (re-)added to the queue: never enqueued, or enqueued long ago and still
-- unfinished (the job may have been lost with Redis's data; adding it again is a no-op otherwise).
CREATE INDEX deliveries_unfinished ON deliveries (enqueued_at NULLS FIRST, created_at) WHERE status IN ('pending', 'failed') AND NOT digest;
CREATE INDEX deliveries_digest ON deliveries (channel_id, created_at) WHERE digest AND status IN ('pending', 'failed');
CREATE INDEX deliveries_channel_recent ON deliveries (channel_id, created_at);
