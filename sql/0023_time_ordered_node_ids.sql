-- New nodes get time-ordered ids (UUID version 7, RFC 9562): 48 bits of Unix milliseconds, 12 bits
-- of the sub-millisecond fraction (the layout PostgreSQL 18's uuidv7() uses; 15 has none), then 62
-- random bits. A node's four rows (nodes, node_health, node_heartbeats, node_due) are written
-- together when it is created, so node id order is then their heap order too: the evaluator's walk
-- of a mostly-due fleet by node id reads each heap page once and in order, where random v4 ids sent
-- every 5,000-row batch to nearly every page of all four tables, and a new node's index entries go
-- to one edge of each primary key instead of a random leaf. The time is clock_timestamp(), per row:
-- now() is the transaction's start, the same for every node one statement registers. Ids stay
-- opaque to the engine, though one now tells whoever sees it when its node was created, to the
-- millisecond; the v4 ids already issued keep working and sort among themselves as before. OR
-- REPLACE, so the file also runs where the function was made by hand.
CREATE OR REPLACE FUNCTION time_ordered_uuid() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
  SELECT encode(
           substring(int8send(us / 1000) FROM 3)                            -- 48-bit Unix ms
           || int2send((x'7000'::int | (us % 1000) * 4096 / 1000)::int2)     -- version 7, sub-ms
           || substring(uuid_send(gen_random_uuid()) FROM 9),               -- variant, random
           'hex')::uuid
  FROM (SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::int8 AS us) t
$$;

ALTER TABLE nodes ALTER COLUMN id SET DEFAULT time_ordered_uuid();
