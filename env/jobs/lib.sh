# Shared by the replication job scripts (POSIX sh: they run unchanged in the
# postgres image as Kubernetes Jobs, through docker exec, and on the bare
# machine in local mode). Configuration comes from the environment:
#   SOURCE_HOST SOURCE_PORT SOURCE_DB   the publisher (SOURCE_VERSION, 12 to 18), as this script reaches it
#   TARGET_HOST TARGET_PORT TARGET_DB   the subscriber (TARGET_VERSION, the same major or newer)
#   SUBSCRIPTION_SOURCE_HOST/_PORT      the publisher as the *target server* reaches it
#   PGUSER PGPASSWORD                   credentials (both servers)
#   PGPARITY_ROLE PGPARITY_PASSWORD     the least-privileged role pgparity runs as (both servers;
#                                       default pgparity/pgparity), created by setup-replication
#   PGPARITY_REPAIR_ROLE                the target's role for repair --apply (default pgparity_repair)
#   SQL_DIR                             where the sql/ scripts are
#   WAIT_TIMEOUT                        seconds to wait for a server / for sync (default 120)
#   LOG_HINT                            where to look when a server misbehaves (printed in errors)
#   WAIT_FOR_SUBSCRIPTION               1: a missing subscription is waited for (Kubernetes starts
#                                       every Job at once), not an error
SOURCE_HOST=${SOURCE_HOST:-db_source}
SOURCE_PORT=${SOURCE_PORT:-5432}
SOURCE_DB=${SOURCE_DB:-sourcedb}
TARGET_HOST=${TARGET_HOST:-db_target}
TARGET_PORT=${TARGET_PORT:-5432}
TARGET_DB=${TARGET_DB:-targetdb}
SUBSCRIPTION_SOURCE_HOST=${SUBSCRIPTION_SOURCE_HOST:-$SOURCE_HOST}
SUBSCRIPTION_SOURCE_PORT=${SUBSCRIPTION_SOURCE_PORT:-$SOURCE_PORT}
PGUSER=${PGUSER:-postgres}
PGPASSWORD=${PGPASSWORD:-postgres}
PGPARITY_ROLE=${PGPARITY_ROLE:-pgparity}
PGPARITY_PASSWORD=${PGPARITY_PASSWORD:-pgparity}
PGPARITY_REPAIR_ROLE=${PGPARITY_REPAIR_ROLE:-pgparity_repair}
SQL_DIR=${SQL_DIR:-/sql}
WAIT_TIMEOUT=${WAIT_TIMEOUT:-120}
LOG_HINT=${LOG_HINT:-the server logs}
WAIT_FOR_SUBSCRIPTION=${WAIT_FOR_SUBSCRIPTION:-0}
PUBLICATION=my_publication
SUBSCRIPTION=my_subscription
export PGUSER PGPASSWORD
# Pinned output formats, so the text of a value is the same on 14 and 16.
export PGOPTIONS="-c DateStyle=ISO -c IntervalStyle=postgres -c TimeZone=UTC -c extra_float_digits=3 -c bytea_output=hex"
export PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10}

fail() {
  echo "error: $*" >&2
  exit 1
}

# Exits 3 with the failure reason when a server cannot be reached at all.
psql_source() { psql -X -q -v ON_ERROR_STOP=1 -h "$SOURCE_HOST" -p "$SOURCE_PORT" -d "$SOURCE_DB" "$@"; }
psql_target() { psql -X -q -v ON_ERROR_STOP=1 -h "$TARGET_HOST" -p "$TARGET_PORT" -d "$TARGET_DB" "$@"; }
# One value from a query.
source_value() { psql_source -tAc "$1"; }
target_value() { psql_target -tAc "$1"; }

# wait_ready NAME HOST PORT DB: bounded wait for pg_isready, then a real
# connection (pg_isready says nothing about credentials or the database).
wait_ready() {
  name=$1 host=$2 port=$3 db=$4
  waited=0
  until pg_isready -q -h "$host" -p "$port" -d "$db"; do
    [ "$waited" -lt "$WAIT_TIMEOUT" ] ||
      fail "$name ($host:$port) did not accept connections within ${WAIT_TIMEOUT}s; check that it is running ($LOG_HINT)"
    sleep 1
    waited=$((waited + 1))
  done
  out=$(psql -X -q -h "$host" -p "$port" -d "$db" -tAc 'SELECT 1' 2>&1) ||
    fail "cannot connect to $name database $db at $host:$port: $(echo "$out" | head -1)"
}

wait_both() {
  wait_ready "source" "$SOURCE_HOST" "$SOURCE_PORT" "$SOURCE_DB"
  wait_ready "target" "$TARGET_HOST" "$TARGET_PORT" "$TARGET_DB"
}

# Bounded wait until every table of the subscription finished its initial
# copy (srsubstate 'r'; 's' also counts: the apply worker takes over at once).
wait_subscription_ready() {
  waited=0
  while :; do
    state=$(target_value "SELECT (SELECT count(*) FROM pg_subscription WHERE subname = '$SUBSCRIPTION' AND subenabled)
                          || ' ' || count(*) FILTER (WHERE r.srsubstate NOT IN ('r', 's'))
                          || ' ' || coalesce(string_agg(c.relname || ':' || r.srsubstate::text, ',') FILTER (WHERE r.srsubstate NOT IN ('r', 's')), '')
                          FROM pg_subscription s
                          JOIN pg_subscription_rel r ON r.srsubid = s.oid
                          JOIN pg_class c ON c.oid = r.srrelid
                          WHERE s.subname = '$SUBSCRIPTION'") || fail "cannot query the target's subscription state"
    set -- $state
    if [ "${1:-0}" != 1 ]; then
      [ "$WAIT_FOR_SUBSCRIPTION" = 1 ] ||
        fail "subscription $SUBSCRIPTION does not exist or is disabled on the target; run the setup-replication step first"
      set -- 0 1 "subscription $SUBSCRIPTION not created yet"
    fi
    [ "${2:-1}" = 0 ] && return 0
    [ "$waited" -lt "$WAIT_TIMEOUT" ] ||
      fail "subscription $SUBSCRIPTION did not reach the ready state within ${WAIT_TIMEOUT}s (tables not ready: ${3:-?}); read the target's log ($LOG_HINT)"
    sleep 1
    waited=$((waited + 1))
  done
}

# Bounded wait until the subscriber has applied everything the source has
# flushed so far: the subscription's slot on the source confirms an LSN only
# after the target applied (and flushed) every commit before it.
wait_caught_up() {
  goal=$(source_value "SELECT pg_current_wal_flush_lsn()") || fail "cannot read the source's WAL position"
  waited=0 # in steps of 0.2 s
  while :; do
    done_=$(source_value "SELECT coalesce(bool_and(confirmed_flush_lsn >= '$goal'), false)
                          FROM pg_replication_slots WHERE slot_name = '$SUBSCRIPTION'") ||
      fail "cannot read the subscription's slot on the source"
    [ "$done_" = t ] && return 0
    [ "$waited" -lt $((WAIT_TIMEOUT * 5)) ] ||
      fail "the target did not catch up to source LSN $goal within ${WAIT_TIMEOUT}s (slot $SUBSCRIPTION confirmed $(source_value "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '$SUBSCRIPTION'")); read the target's log ($LOG_HINT)"
    sleep 0.2
    waited=$((waited + 1))
  done
}
