-- The windows still open or yet to begin, found by where they end: the status page's read
-- (windowsAhead) and the evaluator's probe (anyWindowAhead) ask for `coalesce(ends_at, 'infinity')
-- > now`. The `(starts_at, ends_at)` index cannot serve "ends_at is null or ends_at > now", so both
-- read the whole table, every window ever kept: 10–25 ms a page at 22,000 past windows. Past
-- windows are nearly all of it and never match, so this index holds them but is never walked past
-- the first that ends after now.
CREATE INDEX maintenances_ahead ON maintenances ((coalesce(ends_at, 'infinity'::timestamptz)));
