-- The zone a maintenance window's times were typed in, so the console shows "22:00 Europe/Berlin"
-- as it was entered; null for windows given as instants only (the API without time_zone, and
-- every window before this), shown in UTC. starts_at and ends_at stay the instants the evaluator reads.
ALTER TABLE maintenances ADD COLUMN time_zone text;
-- The console's form offers the zone last typed (lastTimeZone): without this, newest-first over
-- every window ever kept is a sort of the whole table on each showing of the form.
CREATE INDEX maintenances_zoned ON maintenances (created_at) WHERE time_zone IS NOT NULL;
