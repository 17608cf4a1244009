-- A status page's past days as they were published: once a UTC day is over, each component's time
-- per state that day is kept here and the page reads it from here, so relabelling or deleting a
-- node, or editing the page's components, no longer rewrites what the page said about yesterday.
-- A component is its name and, for a name used more than once on the page, which of them it is
-- (0 for the first): PATCH replaces the whole list, so a position would move history from one
-- component to another when the list is reordered; a name does not. `nodes` is how many nodes it
-- held when the day was kept: the page shows a component's time per node (model.ts).
-- At most 50 components × 89 days = 4,450 rows a page, 100 bytes each; older days are deleted.
CREATE TABLE status_page_days (
  page_id         uuid NOT NULL REFERENCES status_pages (id) ON DELETE CASCADE,
  component       text NOT NULL,
  occurrence      integer NOT NULL,
  day             timestamptz NOT NULL,   -- 00:00 UTC
  nodes           integer NOT NULL,
  healthy_ms      bigint NOT NULL,        -- summed over the nodes: 1,000 nodes' day is 8.64e10 ms
  degraded_ms     bigint NOT NULL,
  down_ms         bigint NOT NULL,
  maintenance_ms  bigint NOT NULL,
  unknown_ms      bigint NOT NULL,
  PRIMARY KEY (page_id, day, component, occurrence)
);
