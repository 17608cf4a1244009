-- Keys the engine generates for itself when the operator configures none. Today only
-- 'channel_secrets' (seals channel secrets when LIFELINE_SECRET_KEY is unset; see ARCHITECTURE.md,
-- "Channel secrets"). The first engine to start inserts it; every later one reads the same key.

CREATE TABLE engine_keys (
  name        text PRIMARY KEY,
  key         bytea NOT NULL CHECK (octet_length(key) = 32),
  created_at  timestamptz NOT NULL
);
