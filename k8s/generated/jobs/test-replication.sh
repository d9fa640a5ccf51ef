#!/bin/sh
# Applies the test DML (INSERT, UPDATE, DELETE) on the source.
set -eu
. "$(dirname "$0")/lib.sh"

wait_ready "source" "$SOURCE_HOST" "$SOURCE_PORT" "$SOURCE_DB"
psql_source -f "$SQL_DIR/test-replication.sql"
echo "test-replication: DML applied on the source"
