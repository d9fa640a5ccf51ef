-- Monitoring queries for the target (PostgreSQL 12 to 18), used by `make status`.
\pset footer off
\echo '-- subscriptions'
SELECT subname, subenabled, subpublications, subslotname FROM pg_subscription;
\echo '-- apply workers'
SELECT subname, pid, received_lsn, latest_end_lsn, last_msg_receipt_time, latest_end_time
FROM pg_stat_subscription;
\echo '-- table sync states (r = ready)'
SELECT s.subname, r.srrelid::regclass AS table_name, r.srsubstate AS state, r.srsublsn
FROM pg_subscription_rel r JOIN pg_subscription s ON s.oid = r.srsubid ORDER BY 1, 2;
\echo '-- replication origins'
SELECT external_id, local_id, remote_lsn, local_lsn FROM pg_replication_origin_status;
