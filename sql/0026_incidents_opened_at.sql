-- Incidents by opening time, for a review's range (GET /v1/incidents?opened_after=&opened_before=
-- without a status or node, and GET /v1/incidents/summary): no index started with opened_at
-- (incidents_status_opened and incidents_node lead with status and node_id), so both read every
-- incident ever kept. Over 300,000 incidents a week's summary seq-scanned 5,845 buffers (~180 ms)
-- for 8,640 rows; the list's first page of that week sorted all of them. With this index the week's
-- summary reads ~730 buffers (~60 ms, the percentiles' sorts most of it) and, (opened_at, id) desc
-- being the list's order and cursor, a page reads its 51 rows (5 buffers) and stops. Not
-- CONCURRENTLY: each file runs in a transaction, as every index here was made.
CREATE INDEX incidents_opened ON incidents (opened_at DESC, id DESC);
