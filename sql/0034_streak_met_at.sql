-- When a node's ok reports since its state was entered reached successes_for_recovery: the receive
-- time of the latest report of the flush that met it. Written by ingest only in the wake-up a
-- heartbeat for a node it reads as not healthy makes anyway (that row is rewritten regardless), or
-- for a node read as healthy in a flush holding its kept failure, so a healthy fleet reporting ok
-- writes nothing more. The evaluator stamps a recovery here rather
-- than at the latest heartbeat: an evaluator away for 30 s otherwise read 30 s more down.
-- On node_due for the reasons 0029 gives: its eighth column keeps the one-byte null bitmap.
-- Nullable, no default: adding it rewrites nothing.
ALTER TABLE node_due ADD COLUMN streak_met_at timestamptz;
