-- How an incident ended, for every message batch (endingsOf): its resolve note and its last
-- `reason_changed` line. On (incident_id, at, id) the read fetched every line of each incident in
-- the batch, most of them `notified` and the like, and filtered them out: at 20,000 incidents with
-- 1 in 100 at 150 lines, 0.80 ms of Postgres CPU per batch of 64 (12.5 µs a delivery), 204 heap
-- pages. Only these two kinds are indexed here, so a batch reads only the lines it keeps: 0.43 ms
-- (6.8 µs), 16 heap pages. endingsOf's WHERE implies this predicate, so its plans (generic ones too) use it.
CREATE INDEX IF NOT EXISTS incident_timeline_endings ON incident_timeline (incident_id, kind, at DESC, id DESC)
  WHERE kind IN ('resolved', 'reason_changed');
