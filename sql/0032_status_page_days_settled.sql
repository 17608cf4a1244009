-- A day is kept with numbers only once the evaluator has judged past its end (plus 5 minutes): a
-- write that changes what a component holds before then records the nodes it held that day in
-- `node_ids`, with the milliseconds null, and the leader works them out from those nodes once the
-- day is judged. Numbers kept at 00:00:05 could miss a transition of 23:59:58 written late, or a
-- whole outage an evaluator that was down backdates when it catches up.
ALTER TABLE status_page_days
  ADD COLUMN node_ids uuid[],
  ALTER COLUMN healthy_ms DROP NOT NULL,
  ALTER COLUMN degraded_ms DROP NOT NULL,
  ALTER COLUMN down_ms DROP NOT NULL,
  ALTER COLUMN maintenance_ms DROP NOT NULL,
  ALTER COLUMN unknown_ms DROP NOT NULL;

-- The leader's search for days to work out, and a node delete's for the days it is in.
CREATE INDEX status_page_days_provisional ON status_page_days USING gin (node_ids) WHERE healthy_ms IS NULL;
