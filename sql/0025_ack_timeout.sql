-- An acknowledgement that expires: `ack_timeout_seconds` on a policy (null, the default: never)
-- puts an incident still acknowledged that long after its acknowledgement back to open and pages
-- its first level again. 60 s at least, since a shorter one reopens before the person who
-- acknowledged can open the console; 86,400 s (a day) at most, longer than any one shift.
--
-- `escalation_base` is the schedule step a reopening restarted the levels at: step n pages the
-- schedule's step n - escalation_base, counted from escalation_from. Steps keep counting up across
-- reopenings, so each page keeps a ledger key of its own (`escalated-<step>`, unique per
-- destination since 0017); 0 for an incident never reopened. `reopenings` counts the reopenings:
-- an acknowledgement after the nth is keyed `acknowledged-<n>`. escalation_base cannot key it: a
-- re-page held by maintenance does not move escalation_step, so two reopenings can share a base
-- and the later acknowledgement's rows would be refused as the earlier's. All three columns are
-- metadata only on PostgreSQL 11 and later (no row is rewritten).
ALTER TABLE escalation_policies
  ADD COLUMN ack_timeout_seconds integer CHECK (ack_timeout_seconds BETWEEN 60 AND 86400);
ALTER TABLE incidents
  ADD COLUMN escalation_base integer NOT NULL DEFAULT 0,
  ADD COLUMN reopenings integer NOT NULL DEFAULT 0;
