-- node_state_log's foreign key checked every inserted row with its own query locking the node's
-- row (FOR KEY SHARE): a WAL record and a dirtied `nodes` page per transition. In a 5,000-node
-- batch of a mass outage that check took 75 of the 190 ms the log and outbox insert took
-- (EXPLAIN ANALYZE, 100,000 nodes). The rows cannot outlive their node without it: the evaluator
-- writes one only when its compare-and-set on node_health won, and holds that row until commit,
-- which a node's deletion (cascading to node_health) waits for; deleteNode then deletes the
-- node's log in its next statement, which sees every log row committed before it.
ALTER TABLE node_state_log DROP CONSTRAINT node_state_log_node_id_fkey;
