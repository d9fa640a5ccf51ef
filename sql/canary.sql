-- The table `pgparity canary` writes (docs/cli.md, "canary"): one row per
-- acknowledged-or-attempted canary transaction, keyed by the run's id and a
-- sequence number, so that afterwards every acknowledged write can be looked
-- for on the target.
--
-- It must exist on BOTH servers, the source (PostgreSQL 14 by default) and the target
-- (16 by default), with the same definition, and be replicated like the
-- application's tables: create it before the subscription is created, or
-- run on the target afterwards
--     ALTER SUBSCRIPTION <subscription> REFRESH PUBLICATION;
-- (a publication FOR ALL TABLES picks it up by itself; one with a table list
-- needs ALTER PUBLICATION ... ADD TABLE pgparity_canary on the source first).
--
--   psql -X -v ON_ERROR_STOP=1 -d sourcedb -f sql/canary.sql
--   psql -X -v ON_ERROR_STOP=1 -d targetdb -f sql/canary.sql
--
-- Idempotent: a second run changes nothing. The canary's role needs INSERT
-- and SELECT on it (GRANT INSERT, SELECT ON pgparity_canary TO <role>).
-- Rows may be deleted once a run is checked: DELETE FROM pgparity_canary
-- WHERE written_at < now() - interval '7 days' (on the source; it replicates).
CREATE TABLE IF NOT EXISTS pgparity_canary (
  run_id text NOT NULL,
  seq bigint NOT NULL,
  written_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, seq)
);
