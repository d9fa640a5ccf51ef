-- The least-privileged role pgparity runs as on the SOURCE (PostgreSQL 14 by default, the
-- publisher). Run as a superuser in the source database, once per published
-- schema; idempotent (a second run changes nothing). The grants, and the
-- command that needs each, are measured and listed in docs/privileges.md.
--
--   psql -X -v ON_ERROR_STOP=1 -v role=pgparity -v password=... -v schema=public \
--        -d sourcedb -f sql/pgparity-role-source.sql
--
-- Variables (all optional): role (default pgparity), password (default: the
-- role's password is left as it is; set it later with psql's \password to keep
-- it out of the server log), schema (default public).
\if :{?role}
\else
\set role pgparity
\endif
\if :{?schema}
\else
\set schema public
\endif

SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') AS need_role \gset
\if :need_role
CREATE ROLE :"role";
\endif
-- REPLICATION: verify, audit and record open a replication connection and
-- create their slot (verify: a temporary one; audit and record: their own).
-- BYPASSRLS: a table with row-level security shows a role its policies'
-- rows only; pgparity must read every row (its sessions set
-- row_security=off, so without it they fail on such a table rather than
-- check part of it). It lifts policies only on tables the role may read.
ALTER ROLE :"role" WITH LOGIN REPLICATION BYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE;
\if :{?password}
ALTER ROLE :"role" WITH PASSWORD :'password';
\endif

-- SELECT on the published tables: verify and audit scan them (bootstrap),
-- digest reads them, repair reads the source's rows it writes to the target.
-- record needs none of these (the walsender decodes the tables itself).
GRANT USAGE ON SCHEMA :"schema" TO :"role";
GRANT SELECT ON ALL TABLES IN SCHEMA :"schema" TO :"role";
-- SELECT on the sequences: preflight compares their last_value (a warning
-- without it).
GRANT SELECT ON ALL SEQUENCES IN SCHEMA :"schema" TO :"role";
-- pg_read_all_stats: preflight sees other roles' sessions (long transactions,
-- WAL senders); without it, a warning and possibly low counts.
GRANT pg_read_all_stats TO :"role";

-- Tables created later: ALTER DEFAULT PRIVILEGES applies to the tables the
-- role running this script creates; run it as the tables' owner, or rerun
-- this script after adding tables.
ALTER DEFAULT PRIVILEGES IN SCHEMA :"schema" GRANT SELECT ON TABLES TO :"role";
ALTER DEFAULT PRIVILEGES IN SCHEMA :"schema" GRANT SELECT ON SEQUENCES TO :"role";
