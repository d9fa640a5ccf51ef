#!/usr/bin/env bash
# make cutover / make cutover-load (env/cutover.sh) on a local environment
# on free ports: --dry-run through CUTOVER_ARGS changes nothing; the cutover
# under pgbench load switches PgBouncer's appdb to PostgreSQL 16 with 0
# failed canary writes, none missing, 0 failed pgbench transactions; a
# second cutover is refused by the gates (exit 2) and docker mode at once.
#
#   tests/env/cutover_make_test.sh BUILD_DIR     # BUILD_DIR/cli/pgparity must exist
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=${1:?usage: cutover_make_test.sh BUILD_DIR}
[ -x "$build_dir/cli/pgparity" ] || { echo "FAILED: no $build_dir/cli/pgparity"; exit 1; }
work=$(mktemp -d /tmp/pgparity-cutover-make-XXXXXX)
chmod 755 "$work"
export RUN_DIR=$work/run BUILD_DIR=$build_dir
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SOURCE_PORT=$(free_port) TARGET_PORT=$(free_port) PGBOUNCER_PORT=$(free_port)
export SOURCE_PORT TARGET_PORT PGBOUNCER_PORT
cleanup() { "$top/env/local.sh" down >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
# -o build-cli: the binary is given; the test must not rebuild it.
mk() { make --no-print-directory -C "$top" -o build-cli "$@"; }

passed=0 failed=0
result() { # NAME RC
  if [ "$2" = 0 ]; then
    passed=$((passed + 1))
    echo "ok: $1"
  else
    failed=$((failed + 1))
    echo "FAILED: $1"
    sed 's/^/    /' "$work/out" | tail -25
  fi
}
run() { # NAME COMMAND...: must succeed
  local name=$1 rc=0
  shift
  "$@" >"$work/out" 2>&1 || rc=$?
  result "$name" "$rc"
}
report() { python3 -c "import json,sys; r=json.load(open('$RUN_DIR/cutover-report.json')); print(eval(sys.argv[1]))" "$1"; }
appdb_version() {
  PGPASSWORD=postgres psql -XtA "host=127.0.0.1 port=$PGBOUNCER_PORT dbname=appdb user=postgres" -c 'show server_version_num'
}

run "up + setup-replication" "$top/env/local.sh" up
run "setup-replication" "$top/env/local.sh" job setup-replication

run "make cutover CUTOVER_ARGS=--dry-run" mk cutover CUTOVER_ARGS=--dry-run
rc=0
grep -q '^cutover: dry_run' "$work/out" && [ "$(report 'r["status"]')" = dry_run ] &&
  [[ "$(appdb_version)" == 14???? ]] || rc=1
result "dry run: report dry_run, appdb still on PostgreSQL 14" "$rc"

run "make cutover-load" mk cutover-load LOAD_SECONDS=12
rc=0
grep -q '^cutover: switched' "$work/out" &&
  grep -q '^cutover: load (pgbench.*, 0 failed, 0 clients aborted' "$work/out" &&
  [ "$(report '(r["status"], r["canary"]["failed"], r["canary"]["check"]["missing"])')" = "('switched', 0, 0)" ] &&
  [ "$(report 'r["canary"]["acknowledged"] > 0')" = True ] || rc=1
result "switched: canary 0 failed, 0 missing; pgbench 0 failed, none aborted" "$rc"
rc=0
[[ "$(appdb_version)" == 16???? ]] && grep -q "port=$TARGET_PORT " "$RUN_DIR/pgbouncer/databases.ini" || rc=1
result "appdb now reaches PostgreSQL 16; databases.ini names the target" "$rc"

rc=0
mk cutover >"$work/out" 2>&1 && rc=1
grep -q "appdb points at 127.0.0.1:$TARGET_PORT/targetdb, not at the source" "$work/out" || rc=1
result "a second make cutover is refused by the gates" "$rc"

rc=0
MODE=docker mk cutover >"$work/out" 2>&1 && rc=1
grep -q 'MODE=local only' "$work/out" || rc=1
result "MODE=docker make cutover is refused at once" "$rc"

echo "cutover_make_test: $passed passed, $failed failed"
[ "$failed" = 0 ]
