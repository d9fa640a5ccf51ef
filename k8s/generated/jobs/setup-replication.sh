#!/bin/sh
# Creates the publication on the source and the subscription on the target
# (both idempotent), then waits until the initial copy has finished.
set -eu
. "$(dirname "$0")/lib.sh"

wait_both
echo "setup-replication: creating publication $PUBLICATION on $SOURCE_HOST:$SOURCE_PORT/$SOURCE_DB"
psql_source -f "$SQL_DIR/setup-replication.sql" >/dev/null
echo "setup-replication: creating subscription $SUBSCRIPTION on $TARGET_HOST:$TARGET_PORT/$TARGET_DB"
psql_target \
  -v source_conninfo="host=$SUBSCRIPTION_SOURCE_HOST port=$SUBSCRIPTION_SOURCE_PORT dbname=$SOURCE_DB user=$PGUSER password=$PGPASSWORD" \
  -f "$SQL_DIR/setup-subscription.sql" >/dev/null
wait_subscription_ready
echo "setup-replication: initial copy done, subscription $SUBSCRIPTION is streaming"
