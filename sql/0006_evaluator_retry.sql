-- Consecutive failed attempts to judge a node (its decision or its write raised). A node with
-- failures is judged alone, in its own transaction, and each failure pushes its due time out
-- (1 s doubling, capped at 5 min), so one bad row neither rolls back its batch every pass nor
-- spins the evaluator. A successful judgement sets it back to 0. See ARCHITECTURE.md, "The evaluator".
ALTER TABLE node_due ADD COLUMN failures integer NOT NULL DEFAULT 0;
