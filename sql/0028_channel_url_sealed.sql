-- A webhook's URL often is a credential (`?token=…`, Discord's, Teams' or Zapier's hook URLs):
-- stored whole in `config` it was in every backup and pg_dump. It is now sealed here, as the
-- channel's secret is in secret_sealed, and `config` keeps its origin only (what answers show).
-- The engine seals the URLs stored before this at start: the key lives outside SQL.
ALTER TABLE channels ADD COLUMN url_sealed text;
