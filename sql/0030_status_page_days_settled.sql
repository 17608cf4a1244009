-- A day is kept with numbers only once the evaluator has judged past its end (plus 5 minutes): a
-- write that changes what a component holds before then records the nodes it held that day in
-- `node_ids`, with the milliseconds null, and the leader works them out from those nodes once the
-- day is judged. Numbers kept at 00:00:05 could miss a transition of 23:59:58 written late, or a
-- whole outage an evaluator that was down backdates when it catches up.
ALTER TABLE status_page_days
  ADD COLUMN node_ids uuid[],
  ALTER COLUMN healthy_ms DROP NOT NULL,
  ALTER COLUMN degraded_ms DROP NOT NULL,
  ALTER COLUMN down_ms DROP NOT NULL,
  ALTER COLUMN maintenance_ms DROP NOT NULL,
  ALTER COLUMN unknown_ms DROP NOT NULL;

-- The leader's search for days to work out, and a node delete's for the days it is in.
CREATE INDEX status_page_days_provisional ON status_page_days USING gin (node_ids) WHERE healthy_ms IS NULL;

-- Each component gets a stable id in the components jsonb, and its kept days are filed under it:
-- by name and occurrence, renaming a component (a typo fixed) made it a new one, its past rebuilt
-- from today's nodes, and removing the first of two components of one name handed its past to the
-- second. Existing days are re-keyed by the name and occurrence they were kept under; days of a
-- component no longer on its page are not read by anything and go.
UPDATE status_pages SET components = (
  SELECT coalesce(jsonb_agg(c || jsonb_build_object('id', gen_random_uuid()) ORDER BY ord), '[]'::jsonb)
  FROM jsonb_array_elements(components) WITH ORDINALITY AS x(c, ord)
);
ALTER TABLE status_page_days ADD COLUMN component_id uuid;
UPDATE status_page_days d SET component_id = (k.c->>'id')::uuid
FROM (
  SELECT p.id AS page_id, c, c->>'name' AS name, row_number() OVER (PARTITION BY p.id, c->>'name' ORDER BY ord)::int - 1 AS occurrence
  FROM status_pages p, jsonb_array_elements(p.components) WITH ORDINALITY AS x(c, ord)
) k
WHERE k.page_id = d.page_id AND k.name = d.component AND k.occurrence = d.occurrence;
DELETE FROM status_page_days WHERE component_id IS NULL;
ALTER TABLE status_page_days
  DROP CONSTRAINT status_page_days_pkey,
  DROP COLUMN component,
  DROP COLUMN occurrence,
  ALTER COLUMN component_id SET NOT NULL,
  ADD PRIMARY KEY (page_id, day, component_id);
