-- An incident's timeline by time: its latest entry (the stamp a resolve, note or acknowledgement
-- must not precede) is read under the incident's lock, and the timeline is listed by (at, id).
-- On (incident_id, id) alone the latest was an aggregate over every entry: 100,000 notes made it
-- a 15 s read holding the lock. With `id` last, listing in (at, id) order needs no sort either.
CREATE INDEX IF NOT EXISTS incident_timeline_incident_at ON incident_timeline (incident_id, at, id);
