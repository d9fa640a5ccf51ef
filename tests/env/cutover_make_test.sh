#!/usr/bin/env bash
# make cutover / make cutover-load (env/cutover.sh) on a local environment
# on free ports: --dry-run through CUTOVER_ARGS changes nothing; the cutover
# under pgbench load switches PgBouncer's appdb to PostgreSQL 16 with 0
# failed canary writes, none missing, 0 failed pgbench transactions; a
# second cutover is refused by the gates (exit 2) and docker mode at once.
#
#   tests/env/cutover_make_test.sh BUILD_DIR     # BUILD_DIR/cli/pgparity must exist
set -uo pipefail
build_dir=${1:?usage: cutover_make_test.sh BUILD_DIR}
[ -x "$build_dir/cli/pgparity" ] || { echo "FAILED: no $build_dir/cli/pgparity"; exit 1; }
. "$(dirname "$0")/lib.sh" cutover-make
export BUILD_DIR=$build_dir
# -o build-cli: the binary is given; the test must not rebuild it.
mk() { make --no-print-directory -C "$top" -o build-cli "$@"; }

report() { python3 -c "import json,sys; r=json.load(open('$RUN_DIR/cutover-report.json')); print(eval(sys.argv[1]))" "$1"; }
appdb_version() {
  PGPASSWORD=postgres psql -XtA "host=127.0.0.1 port=$PGBOUNCER_PORT dbname=appdb user=postgres" -c 'show server_version_num'
}

check "up + setup-replication" "$top/env/local.sh" up
check "setup-replication" "$top/env/local.sh" job setup-replication

check "make cutover CUTOVER_ARGS=--dry-run" mk cutover CUTOVER_ARGS=--dry-run
rc=0
grep -q '^cutover: dry_run' "$work/out" && [ "$(report 'r["status"]')" = dry_run ] &&
  [[ "$(appdb_version)" == 14???? ]] || rc=1
result "dry run: report dry_run, appdb still on PostgreSQL 14" "$rc"

check "make cutover-load" mk cutover-load LOAD_SECONDS=12
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

finish
