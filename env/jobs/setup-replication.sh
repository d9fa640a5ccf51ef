#!/bin/sh
# Creates the canary's table and pgparity's least-privileged roles on both
# sides (the tables exist: the init scripts made them), the publication on the source and the
# subscription on the target (all idempotent), then waits until the initial
# copy has finished.
set -eu
. "$(dirname "$0")/lib.sh"

wait_both
# The canary's table (pgparity canary / cutover --canary) on both sides,
# before the subscription, so that it is replicated like the others.
echo "setup-replication: table pgparity_canary on both sides (sql/canary.sql)"
psql_source -c "SET client_min_messages = warning" -f "$SQL_DIR/canary.sql" >/dev/null
psql_target -c "SET client_min_messages = warning" -f "$SQL_DIR/canary.sql" >/dev/null
# The grants cover the tables that exist now (docs/privileges.md); rerun this
# step after adding tables. A rerun's NOTICEs ("already a member") are noise.
quiet="SET client_min_messages = warning"
echo "setup-replication: role $PGPARITY_ROLE on the source (sql/pgparity-role-source.sql)"
psql_source -c "$quiet" -v role="$PGPARITY_ROLE" -v password="$PGPARITY_PASSWORD" \
  -f "$SQL_DIR/pgparity-role-source.sql" >/dev/null
echo "setup-replication: roles $PGPARITY_ROLE and $PGPARITY_REPAIR_ROLE on the target (sql/pgparity-role-target.sql)"
psql_target -c "$quiet" -v role="$PGPARITY_ROLE" -v password="$PGPARITY_PASSWORD" -v repair_role="$PGPARITY_REPAIR_ROLE" \
  -f "$SQL_DIR/pgparity-role-target.sql" >/dev/null
echo "setup-replication: creating publication $PUBLICATION on $SOURCE_HOST:$SOURCE_PORT/$SOURCE_DB"
psql_source -f "$SQL_DIR/setup-replication.sql" >/dev/null
echo "setup-replication: creating subscription $SUBSCRIPTION on $TARGET_HOST:$TARGET_PORT/$TARGET_DB"
psql_target \
  -v source_conninfo="host=$SUBSCRIPTION_SOURCE_HOST port=$SUBSCRIPTION_SOURCE_PORT dbname=$SOURCE_DB user=$PGUSER password=$PGPASSWORD" \
  -f "$SQL_DIR/setup-subscription.sql" >/dev/null
wait_subscription_ready
echo "setup-replication: initial copy done, subscription $SUBSCRIPTION is streaming"
