-- Test messages sent through a channel on request (the console's "Send a test",
-- POST /v1/channels/{id}/test): when, by whom, and whether the receiver accepted it. Kept with the
-- channel, so whoever opens it sees that it was last proven to work (or how it failed).

CREATE TABLE channel_tests (
  id          bigserial PRIMARY KEY,
  channel_id  uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  at          timestamptz NOT NULL,
  by          text NOT NULL,
  status      text NOT NULL CHECK (status IN ('sent', 'failed')),
  error       text                      -- a code and Lifeline's own sentence, as in deliveries
);
CREATE INDEX channel_tests_channel ON channel_tests (channel_id, id DESC);
