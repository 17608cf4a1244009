-- Escalation timers armed at once (the level before reached nobody) now say so in their payload
-- (`at_once`), which keeps a policy edit or an early-firing check from putting them back to their
-- step's own time, possibly an hour away. Timers armed that way before carry no flag; each was
-- made available the moment it was written, which a timer armed for its step's time never is
-- (its step's delay counts from the opening, before it was written), except a step due at the
-- opening itself, which is due at once either way.
UPDATE outbox SET payload = payload || '{"at_once": true}'
WHERE topic = 'incident.escalation_due' AND available_at = created_at AND NOT payload ? 'at_once';
