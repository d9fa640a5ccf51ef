# Sourced by tests/env/*_test.sh: an environment of local mode on free
# ports under its own temp dir (always taken down), and the checks' harness.
#
#   . "$(dirname "$0")/lib.sh" NAME   # sets top, work, RUN_DIR, *_PORT
#   check NAME COMMAND...             # must succeed
#   expect_fail NAME CODE PATTERN COMMAND...
#   result NAME RC                    # a check computed by the caller
#   output_has PATTERN                # in the previous check's output
#   finish                            # "N passed, M failed"; the exit status
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d "/tmp/pgparity-${1:-env}-XXXXXX")
echo $$ >"$work/owner.pid" # env/cleanup-test-servers.sh spares it while we run
chmod 755 "$work"  # the servers' unprivileged user reaches their run dir
export RUN_DIR=$work/run
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SOURCE_PORT=$(free_port) TARGET_PORT=$(free_port) PGBOUNCER_PORT=$(free_port)
export SOURCE_PORT TARGET_PORT PGBOUNCER_PORT
local_sh="$top/env/local.sh"
cleanup() { "$local_sh" down >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT

passed=0 failed=0
result() { # NAME RC [WHY]
  cp "$work/out" "$work/last" 2>/dev/null
  if [ "$2" = 0 ]; then
    passed=$((passed + 1))
    echo "ok: $1"
  else
    failed=$((failed + 1))
    echo "FAILED: $1${3:+: $3}"
    sed 's/^/    /' "$work/out" 2>/dev/null | tail -25
  fi
}
check() { # NAME COMMAND...
  local name=$1 rc=0
  shift
  "$@" >"$work/out" 2>&1 || rc=$?
  result "$name" "$rc"
}
expect_fail() { # NAME CODE PATTERN COMMAND...: exit CODE and PATTERN in the output
  local name=$1 code=$2 pattern=$3 rc=0
  shift 3
  "$@" >"$work/out" 2>&1 || rc=$?
  if [ "$rc" = "$code" ] && grep -q -- "$pattern" "$work/out"; then
    result "$name (exit $rc: $(grep -m1 -- "$pattern" "$work/out"))" 0
  else
    result "$name" 1 "wanted exit $code and '$pattern', got exit $rc"
  fi
}
output_has() { grep -q -- "$1" "$work/last"; }
finish() {
  echo "$(basename "$0" .sh): $passed passed, $failed failed"
  [ "$failed" = 0 ]
}
