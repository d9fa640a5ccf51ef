#!/usr/bin/env bash
# The environment's local mode and the Kubernetes Jobs' scripts, exercised
# on real servers on free ports: up (twice), setup-replication (twice),
# test-replication, verify -> PASS; an injected divergence -> FAIL (exit 1);
# the failure paths (port in use, bad binaries, down after a failed up).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/pgparity-localmode-XXXXXX)
chmod 755 "$work"
export RUN_DIR=$work/run
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export SOURCE_PORT=$(free_port) TARGET_PORT=$(free_port)
local_sh="$top/env/local.sh"
cleanup() { "$local_sh" down >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT

passed=0 failed=0
check() { # check NAME COMMAND... : the command must succeed
  local name=$1
  shift
  local rc=0
  "$@" >"$work/out" 2>&1 || rc=$?
  cp "$work/out" "$work/last"
  if [ "$rc" = 0 ]; then
    passed=$((passed + 1))
    echo "ok: $name"
  else
    failed=$((failed + 1))
    echo "FAILED: $name"
    sed 's/^/    /' "$work/out" | tail -20
  fi
}
# expect_fail NAME CODE PATTERN COMMAND...: exit CODE and PATTERN in the output
expect_fail() {
  local name=$1 code=$2 pattern=$3 rc
  shift 3
  "$@" >"$work/out" 2>&1
  rc=$?
  cp "$work/out" "$work/last"
  if [ "$rc" = "$code" ] && grep -q -- "$pattern" "$work/out"; then
    passed=$((passed + 1))
    echo "ok: $name (exit $rc: $(grep -m1 -- "$pattern" "$work/out"))"
  else
    failed=$((failed + 1))
    echo "FAILED: $name: wanted exit $code and '$pattern', got exit $rc:"
    sed 's/^/    /' "$work/out" | tail -20
  fi
}
# output_has PATTERN: in the output of the previous check
output_has() { grep -q -- "$1" "$work/last"; }

check "up" "$local_sh" up
check "up again is harmless" "$local_sh" up
check "setup-replication" "$local_sh" job setup-replication
check "setup-replication again is harmless" "$local_sh" job setup-replication
check "one publication, one subscription" bash -c \
  "[ \$(PGPASSWORD=postgres psql -XtA -h 127.0.0.1 -p $SOURCE_PORT -U postgres -d sourcedb -c 'select count(*) from pg_publication') = 1 ] &&
   [ \$(PGPASSWORD=postgres psql -XtA -h 127.0.0.1 -p $TARGET_PORT -U postgres -d targetdb -c 'select count(*) from pg_subscription') = 1 ]"
check "test-replication" "$local_sh" job test-replication
EXPECT_TEST_DML=1 check "verify passes" "$local_sh" job verify-replication
check "verify printed PASS for 2 tables" output_has "PASS: target equals source (2 tables, 12 rows)"
check "status" "$local_sh" status
check "logs" "$local_sh" logs

# A divergence behind the subscriber's back must fail the verification.
PGPASSWORD=postgres psql -Xq -h 127.0.0.1 -p "$TARGET_PORT" -U postgres -d targetdb \
  -c "UPDATE orders SET quantity = 99 WHERE id = 1" >/dev/null
expect_fail "verify fails on a diverged row" 1 "MISMATCH public.orders" "$local_sh" job verify-replication
check "verify names the differing row" output_has "+ 1	1	Laptop	99"

# Failure paths: a clear one-line error and a non-zero exit, never a hang.
expect_fail "port in use" 2 "port $SOURCE_PORT is already in use" \
  "$top/env/pgenv.sh" start 14 "$work/other" "$SOURCE_PORT"
expect_fail "bad PG14_BINDIR" 2 "PG14_BINDIR=/nonexistent has no postgres" \
  env PG14_BINDIR=/nonexistent "$top/env/pgenv.sh" start 14 "$work/other2" "$(free_port)"
expect_fail "wrong major in PG16_BINDIR" 2 "is not PostgreSQL 16" \
  env PG16_BINDIR="$("$top/env/pgenv.sh" bindir 14)" "$top/env/pgenv.sh" start 16 "$work/other3" "$(free_port)"
expect_fail "bad port" 2 "is not a TCP port" "$top/env/pgenv.sh" start 14 "$work/other4" 99999
expect_fail "unreachable target" 1 "did not accept connections within 2s" \
  env WAIT_TIMEOUT=2 TARGET_PORT="$(free_port)" "$local_sh" job verify-replication

check "down" "$local_sh" down
check "down removed the run directory" test ! -e "$RUN_DIR"
check "no server left listening" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$SOURCE_PORT) && ! (exec 3<>/dev/tcp/127.0.0.1/$TARGET_PORT)"
# A failed up (second port taken) and then down still cleans up.
python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the old server left TIME_WAITs
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
time.sleep(30)' "$TARGET_PORT" &
blocker=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$TARGET_PORT") 2>/dev/null && break; sleep 0.1; done
expect_fail "up with the target port taken" 2 "port $TARGET_PORT is already in use" "$local_sh" up
kill "$blocker" 2>/dev/null
check "down after a failed up" "$local_sh" down
check "down after a failed up removed everything" test ! -e "$RUN_DIR"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
