-- The least-privileged role pgparity runs as on the TARGET (PostgreSQL 16 by default, the
-- subscriber), and the extra role `repair --apply` needs. Run as a superuser
-- in the target database, once per replicated schema; idempotent. The grants,
-- and the command that needs each, are measured and listed in
-- docs/privileges.md.
--
--   psql -X -v ON_ERROR_STOP=1 -v role=pgparity -v password=... -v schema=public \
--        [-v repair_role=pgparity_repair -v repair_password=...] \
--        -d targetdb -f sql/pgparity-role-target.sql
--
-- Variables (all optional): role (default pgparity), password (default: left
-- as it is; psql's \password keeps it out of the server log), schema (default
-- public), repair_role (when set: also create the role for repair --apply),
-- repair_password.
\if :{?role}
\else
\set role pgparity
\endif
\if :{?schema}
\else
\set schema public
\endif

-- 1. The read-only role: preflight, verify, audit, digest, repair (dry run).
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') AS need_role \gset
\if :need_role
CREATE ROLE :"role";
\endif
-- No REPLICATION here: pgparity opens no replication connection to the target.
-- BYPASSRLS: every row of a table with row-level security, as on the source.
ALTER ROLE :"role" WITH LOGIN BYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
\if :{?password}
ALTER ROLE :"role" WITH PASSWORD :'password';
\endif

-- SELECT on the replicated tables: verify and audit scan them, digest reads
-- them.
GRANT USAGE ON SCHEMA :"schema" TO :"role";
GRANT SELECT ON ALL TABLES IN SCHEMA :"schema" TO :"role";
-- SELECT on the sequences: preflight compares their last_value (a warning
-- without it).
GRANT SELECT ON ALL SEQUENCES IN SCHEMA :"schema" TO :"role";
-- The subscription's applied position (verify, audit): the view is revoked
-- from PUBLIC and reading it also executes the function behind it, which is
-- revoked too; both grants are needed (pg_read_all_stats gives neither).
GRANT SELECT ON pg_catalog.pg_replication_origin_status TO :"role";
GRANT EXECUTE ON FUNCTION pg_catalog.pg_show_replication_origin_status() TO :"role";
-- pg_read_all_stats: preflight sees other roles' sessions; a warning without.
GRANT pg_read_all_stats TO :"role";

ALTER DEFAULT PRIVILEGES IN SCHEMA :"schema" GRANT SELECT ON TABLES TO :"role";
ALTER DEFAULT PRIVILEGES IN SCHEMA :"schema" GRANT SELECT ON SEQUENCES TO :"role";

-- 2. repair --apply: writes the listed rows with replication triggers off
-- (session_replication_role = replica) in one transaction. A separate role,
-- member of the read-only one, so the everyday role never writes.
\if :{?repair_role}
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'repair_role') AS need_repair_role \gset
\if :need_repair_role
CREATE ROLE :"repair_role";
\endif
-- BYPASSRLS: a policy would make a repair's UPDATE or DELETE skip the row
-- (its session's row_security=off makes that an error instead).
ALTER ROLE :"repair_role" WITH LOGIN BYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
\if :{?repair_password}
ALTER ROLE :"repair_role" WITH PASSWORD :'repair_password';
\endif
GRANT :"role" TO :"repair_role";
-- SET ON PARAMETER is PostgreSQL 15+; on 14 only a superuser can set it.
-- PostgreSQL 15+; before, only a superuser may set it (repair --apply must
-- then run as one, or you run the dry run's SQL yourself).
SELECT current_setting('server_version_num')::int >= 150000 AS parameter_grants \gset
\if :parameter_grants
GRANT SET ON PARAMETER session_replication_role TO :"repair_role";
\else
\echo 'pgparity-role-target.sql: PostgreSQL 14 cannot GRANT SET ON PARAMETER; repair --apply needs a superuser on this target'
\endif
-- INSERT ... ON CONFLICT DO UPDATE for a row missing on the target (INSERT
-- and UPDATE), UPDATE for a differing row, DELETE for an extra one.
GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA :"schema" TO :"repair_role";
ALTER DEFAULT PRIVILEGES IN SCHEMA :"schema"
    GRANT INSERT, UPDATE, DELETE ON TABLES TO :"repair_role";
\endif
