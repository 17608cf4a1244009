-- Room on each ledger page for a row's next version, so the lease (0014) is written in place: a
-- HOT update adds no entry to the four indexes a pending row is in, where the row moved to another
-- page adds one to each. Neither lease column is indexed, but a page filled by inserts had no room:
-- in bench section 7b only 1-15 % of lease writes were HOT; with fillfactor 75, 50-60 %; with 50,
-- ~90 %. The `sent` mark is never HOT (status is in the predicates of two partial indexes).
-- Size, four rounds of 20,000 rows each inserted, enqueued, leased, sent and vacuumed: heap 30.0 MB
-- at 75 against 29.5 at 100 (indexes 22.9 against 21.3), at 50 43.0 MB: 50 costs half again the
-- heap and measured no less CPU than 75. Pages already written keep their packing until rewritten.
ALTER TABLE deliveries SET (fillfactor = 75);
