-- A non-ok report that a later report of the same node replaced before ingest's flush (a job's
-- /fail and its retry's success within 250 ms, an agent's `failing` then `ok`): the flush stores
-- one report per node, the latest, so without these the evaluator never saw the failure and the
-- node was never down. Written only by a flush that holds such a report, with the wake-up that
-- failure makes anyway (its other flushes leave them as they are); the evaluator judges one only
-- when it is newer than the node's state. On node_due, not node_heartbeats: node_due's rows have
-- no null yet, so three null columns add a one-byte null bitmap that fits in the 24-byte header's
-- alignment padding, where a ninth column of node_heartbeats (eight already, with nulls) grew its
-- null bitmap to two bytes and every row of the table ingest rewrites each flush by 8 bytes.
-- Nullable, no default: adding them rewrites nothing.
ALTER TABLE node_due
  ADD COLUMN hidden_failure_at timestamptz,
  ADD COLUMN hidden_failure_status text,
  ADD COLUMN hidden_failure_checks jsonb;
