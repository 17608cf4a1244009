-- A step that falls due while the incident's node is in maintenance is held, not used up:
-- `escalation_held` says step escalation_step + 1 waits for the node to be judged down or degraded
-- again, when it fires at once. `escalation_from` is what the steps' delays count from once a held
-- step has fired (that moment less its own delay), so the steps after it keep their gaps instead of
-- all falling due together; null until then, meaning opened_at.
ALTER TABLE incidents
  ADD COLUMN escalation_held boolean NOT NULL DEFAULT false,
  ADD COLUMN escalation_from timestamptz;
