-- Who may send a ledger row now: the sender whose read took the lease (lease_token) until
-- lease_until, Postgres's clock. A read leases a row only when it is unfinished and its lease is
-- absent or lapsed; the outcome (sent, failed, dead) clears it. Neither column is indexed, and no
-- index's predicate reads them, so taking a lease is a HOT update (no index entry written).
ALTER TABLE deliveries ADD COLUMN lease_until timestamptz;
ALTER TABLE deliveries ADD COLUMN lease_token uuid;
