-- Who changed what: one row per privileged change (keys, nodes, channels, policies, people,
-- schedules, maintenance, status pages, acknowledgements and resolutions by a person), written in
-- the transaction of the change itself, so a change without its row (or a row without its change)
-- cannot commit. Read by admins at GET /v1/audit, newest first (the id is the cursor).

CREATE TABLE audit_log (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at           timestamptz NOT NULL,
  actor_kind   text NOT NULL CHECK (actor_kind IN ('key', 'node', 'person', 'operator')),
  actor_id     text NOT NULL,           -- the API key's or node's id, the user or channel a signed link names, or the system account at the CLI
  actor_name   text NOT NULL,           -- the key's or the person's name as it was then
  via          text NOT NULL CHECK (via IN ('api', 'console', 'link', 'cli')),
  action       text NOT NULL,           -- `node.create`, `incident.acknowledge` …
  target_type  text NOT NULL,
  target_id    text NOT NULL,
  target_name  text,
  result       text NOT NULL,           -- `done`, or `unchanged` when the command found nothing to do
  request_id   text NOT NULL,
  detail       jsonb NOT NULL DEFAULT '{}'   -- names of changed fields and the like, never a secret
);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id DESC);
CREATE INDEX audit_log_target ON audit_log (target_id, id DESC);
CREATE INDEX audit_log_request ON audit_log (request_id);

-- The first answer to a POST or PATCH sent with an Idempotency-Key, per credential, so a retry gets
-- that answer instead of acting twice. `answer` is NULL while the first request is in flight; once
-- it succeeded, the answer is sealed with the engine's secret key (it may hold a node token or a key's
-- secret). Rows older than 24 h are pruned.

CREATE TABLE idempotency_keys (
  credential   text NOT NULL,           -- `key:<id>` or `node:<id>`
  key          text NOT NULL,
  fingerprint  text NOT NULL,           -- SHA-256 of method, path and body
  created_at   timestamptz NOT NULL,
  answer       text,
  PRIMARY KEY (credential, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
