-- When a failed delivery may be tried again, kept in the ledger rather than only in its BullMQ job:
-- a job re-added after Redis lost its data waits until then instead of hitting the receiver early,
-- and a storm digest (which has no job) is retried on the same schedule as a single delivery.
-- Null unless the row is 'failed'.
ALTER TABLE deliveries ADD COLUMN next_attempt_at timestamptz;
