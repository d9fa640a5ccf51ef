-- Monitoring queries for the source (PostgreSQL 14), used by `make status`.
\pset footer off
\echo '-- publications'
SELECT pubname, puballtables, pubinsert, pubupdate, pubdelete, pubtruncate FROM pg_publication;
\echo '-- replication slots'
SELECT slot_name, plugin, slot_type, active, restart_lsn, confirmed_flush_lsn, wal_status,
       pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)) AS retained_wal
FROM pg_replication_slots;
\echo '-- walsenders'
SELECT application_name, client_addr, state, sent_lsn, write_lsn, flush_lsn, replay_lsn,
       write_lag, flush_lag, replay_lag
FROM pg_stat_replication;
