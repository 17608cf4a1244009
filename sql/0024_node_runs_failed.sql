-- The failed run a failure ping ended, for its node's reason (dueRows in src/health/store.ts): a
-- probe on node and end time. With node_runs_node alone, each failing node's lookup read up to its
-- 100 newest runs from the heap and sorted them (~104 buffers, ~1.1 ms; 555 failing nodes of a
-- 5,000-node batch took ~610 ms, the rest of the read ~100 ms). Partial: only failures, a small
-- share of the runs, are ever looked up this way. Not CONCURRENTLY: each file runs in a
-- transaction, as every index here was made.
CREATE INDEX node_runs_failed ON node_runs (node_id, finished_at) WHERE status = 'failure';
