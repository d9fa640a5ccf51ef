# bench/lib.sh — what the end-to-end benchmark drivers share: servers on
# free ports under a temp dir (env/pgenv.sh), always destroyed at exit.
# Source it after setting NAME (the script's name, for messages) and ROOT.
#
#   bench_init                       # WORK (temp dir), cleanup trap
#   start_server 14 "$WORK/src" db   # sets started_port
die() { echo "$NAME: error: $*" >&2; exit 1; }
usage() { echo "$NAME: $*" >&2; exit 2; }
note() { echo "$NAME: $*" >&2; }

PGENV=$ROOT/env/pgenv.sh
BENCH_SERVERS=()

bench_init() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/pgparity-$NAME.XXXXXX")
  chmod 755 "$WORK"  # the servers run as an unprivileged user when we are root
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_cleanup() {
  local rc=$? dir
  for dir in "${BENCH_SERVERS[@]}"; do "$PGENV" destroy "$dir" >/dev/null 2>&1 || true; done
  [ -n "${BENCH_KEEP:-}" ] && [ "$BENCH_KEEP" = 1 ] && note "kept $WORK" || rm -rf "$WORK"
  exit "$rc"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_server() { # MAJOR DIR DB -> started_port
  local attempt port
  for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 20000))
    port_in_use "$port" && continue
    BENCH_SERVERS+=("$2")
    if "$PGENV" start "$1" "$2" "$port" "$3" >"$WORK/pgenv-$1.log" 2>&1; then
      started_port=$port
      return 0
    fi
    grep -q "in use" "$WORK/pgenv-$1.log" || { cat "$WORK/pgenv-$1.log" >&2; die "could not start PostgreSQL $1"; }
  done
  die "no free port for PostgreSQL $1"
}
