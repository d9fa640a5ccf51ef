-- Monitoring queries for the source (PostgreSQL 12 to 18), used by `make status`.
\pset footer off
\echo '-- publications'
SELECT pubname, puballtables, pubinsert, pubupdate, pubdelete, pubtruncate FROM pg_publication;
\echo '-- replication slots'
-- pg_replication_slots.wal_status exists from PostgreSQL 13 on.
SELECT current_setting('server_version_num')::int >= 130000 AS has_wal_status \gset
\if :has_wal_status
SELECT slot_name, plugin, slot_type, active, restart_lsn, confirmed_flush_lsn, wal_status,
       pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)) AS retained_wal
FROM pg_replication_slots;
\else
SELECT slot_name, plugin, slot_type, active, restart_lsn, confirmed_flush_lsn,
       pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)) AS retained_wal
FROM pg_replication_slots;
\endif
\echo '-- walsenders'
SELECT application_name, client_addr, state, sent_lsn, write_lsn, flush_lsn, replay_lsn,
       write_lag, flush_lag, replay_lag
FROM pg_stat_replication;
