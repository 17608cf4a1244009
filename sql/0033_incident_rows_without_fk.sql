-- The timeline's and the ledger's foreign keys to `incidents` checked every inserted row with its
-- own query taking a KEY SHARE lock on the incident's row: three per page in a mass outage (its
-- `opened` entry, its webhook and its email rows), 18-20 of the 46-59 ms a batch of 500 pages
-- spent executing statements (auto_explain of a 10,000-node outage's batches). No row can
-- point at a missing incident without them: the engine never deletes an incident. What the keys also did,
-- take an incident's rows with it when it is deleted or truncated (a test's or an operator's
-- cleanup: ON DELETE CASCADE, TRUNCATE ... CASCADE), statement triggers do instead, at no cost
-- to an insert.
ALTER TABLE incident_timeline DROP CONSTRAINT incident_timeline_incident_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_incident_id_fkey;

-- As the owner, with the search_path of this migration: the keys' cascade ran as the table's owner
-- whatever the deleting session's path or rights were.
CREATE FUNCTION incidents_deleted() RETURNS trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  DELETE FROM incident_timeline t USING gone g WHERE t.incident_id = g.id;
  DELETE FROM deliveries d USING gone g WHERE d.incident_id = g.id;
  RETURN NULL;
END
$$;

CREATE TRIGGER incidents_deleted AFTER DELETE ON incidents
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION incidents_deleted();

-- DELETE, not TRUNCATE: a TRUNCATE naming `deliveries` with `incidents` holds it in this session.
CREATE FUNCTION incidents_truncated() RETURNS trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  DELETE FROM incident_timeline;
  DELETE FROM deliveries;
  RETURN NULL;
END
$$;

CREATE TRIGGER incidents_truncated AFTER TRUNCATE ON incidents
  FOR EACH STATEMENT EXECUTE FUNCTION incidents_truncated();
