-- One row per (incident event, destination): a destination is a channel, or a person's mailbox
-- (coalesce(channel_id, user_id), as storm counting and digests already go). 0002's
-- UNIQUE (incident_id, event_key, channel_id) predates people (0010): a channel paged both as a
-- level's channel and as a person's own (channel, null) and (channel, person) kept one resolve row,
-- whichever the insert met first, so that resolve could wait on the wrong page. The fan-out now
-- tells each destination once per event (the first row that paged it), and this index says so;
-- every ledger written under 0002 already satisfies it (a second row to a channel was refused, and a
-- mailbox's rows have distinct ids).
ALTER TABLE deliveries DROP CONSTRAINT deliveries_incident_id_event_key_channel_id_key;
CREATE UNIQUE INDEX deliveries_once_per_destination ON deliveries (incident_id, event_key, (coalesce(channel_id, user_id)));
