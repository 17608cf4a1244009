-- Public status pages, and a badge id for every node. See README.md, "Status pages and badges".

-- 32 random bytes from two v4 UUIDs (244 random bits; gen_random_uuid draws from the same strong
-- source as pgcrypto), as 43 characters of base64url. Unlike the node token it is no credential:
-- it only names a node's badge, so it is stored as it is and shown to read keys.
CREATE FUNCTION new_badge_id() RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT rtrim(translate(encode(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), 'base64'), '+/', '-_'), '=')
$$;

-- A volatile default gives every existing node its own id. Rotating is `SET badge_id = DEFAULT`.
ALTER TABLE nodes ADD COLUMN badge_id text NOT NULL DEFAULT new_badge_id();
CREATE UNIQUE INDEX nodes_badge_id ON nodes (badge_id);

CREATE TABLE status_pages (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug         text NOT NULL UNIQUE,
  title        text NOT NULL,
  description  text,
  public       boolean NOT NULL,
  show_nodes   boolean NOT NULL,      -- node names, labels and reasons appear only when true
  -- [{"name", "node_ids": [uuid…], "labels": {k: v}}] in display order. Node ids are not foreign
  -- keys: a deleted node simply stops matching, and the page is read through the nodes table.
  components   jsonb NOT NULL,
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL
);
