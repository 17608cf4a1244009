-- People and on-call schedules: users reached by email and by their own channels, schedules made
-- of layers and overrides, and a delivery ledger that names the person each message went to.
-- See ARCHITECTURE.md, "People and schedules".

CREATE TABLE users (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL,
  email       text NOT NULL,
  time_zone   text NOT NULL DEFAULT 'UTC',
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL
);
-- One person, one address; mail systems treat the local part case-insensitively in practice.
CREATE UNIQUE INDEX users_email ON users (lower(email));

-- A user's own channels, in the order given. The service refuses to delete a channel a user names
-- (and says who); the foreign key is the backstop.
CREATE TABLE user_channels (
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  channel_id  uuid NOT NULL REFERENCES channels (id),
  position    integer NOT NULL,
  PRIMARY KEY (user_id, channel_id)
);
CREATE INDEX user_channels_channel ON user_channels (channel_id);

CREATE TABLE schedules (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL UNIQUE,
  time_zone   text NOT NULL,
  layers      jsonb NOT NULL,   -- [{"name", "user_ids", "starts_at", "rotation", "restrictions"}], lowest first
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL
);

-- The user's foreign key cascades only for overrides that have ended: the service refuses to delete
-- a user a current or future override names.
CREATE TABLE schedule_overrides (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  schedule_id  uuid NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  starts_at    timestamptz NOT NULL,
  ends_at      timestamptz NOT NULL CHECK (ends_at > starts_at),
  created_at   timestamptz NOT NULL
);
CREATE INDEX schedule_overrides_schedule ON schedule_overrides (schedule_id, ends_at);
CREATE INDEX schedule_overrides_user ON schedule_overrides (user_id, ends_at);

-- The ledger names the person a message went to: a row is a channel on the level (channel_id), a
-- person's email (user_id, no channel) or one of a person's own channels (both). Ids stay
-- deterministic: '<incident>.<event_key>.<channel>' or '<incident>.<event_key>.<user>.<channel|email>'.
ALTER TABLE deliveries ALTER COLUMN channel_id DROP NOT NULL;
ALTER TABLE deliveries ADD COLUMN user_id uuid;   -- no FK: the ledger outlives a deleted user
ALTER TABLE deliveries ADD CONSTRAINT deliveries_recipient CHECK (channel_id IS NOT NULL OR user_id IS NOT NULL);

-- Storm counting and digests go by where a message lands: its channel, or the person's mailbox.
DROP INDEX deliveries_channel_recent;
CREATE INDEX deliveries_destination_recent ON deliveries ((coalesce(channel_id, user_id)), created_at);
DROP INDEX deliveries_digest;
CREATE INDEX deliveries_digest ON deliveries ((coalesce(channel_id, user_id)), created_at) WHERE digest AND status IN ('pending', 'failed');
