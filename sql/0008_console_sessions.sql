-- Web console sessions. The browser holds a random 256-bit session id in an HttpOnly cookie; only
-- its SHA-256 is stored, so a copy of this table cannot be replayed as a cookie. A session acts
-- with the API key it was opened with, and only while that key is valid and unchanged: lookups join
-- api_keys on key_hash, so revoking the key (or replacing the bootstrap admin's secret) ends it.

CREATE TABLE console_sessions (
  id_hash       text PRIMARY KEY,
  key_id        uuid NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
  key_hash      text NOT NULL,          -- the key's secret_hash when the session was opened
  created_at    timestamptz NOT NULL,
  last_seen_at  timestamptz NOT NULL,   -- idle timeout counts from here
  expires_at    timestamptz NOT NULL    -- absolute lifetime, whatever the activity
);
CREATE INDEX console_sessions_key ON console_sessions (key_id);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
