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

# A PostgreSQL 14 source (sourcedb) and 16 target (targetdb), autovacuum
# off on both (no background work competing with what is measured). Sets
# SPORT, TPORT, SRC, TGT; qs/qt run one statement on either side.
start_pair() {
  export PGPASSWORD=postgres
  start_server 14 "$WORK/src" sourcedb
  SPORT=$started_port
  start_server 16 "$WORK/tgt" targetdb
  TPORT=$started_port
  SRC="host=127.0.0.1 port=$SPORT dbname=sourcedb user=postgres password=postgres"
  TGT="host=127.0.0.1 port=$TPORT dbname=targetdb user=postgres password=postgres"
  local q
  for q in qs qt; do
    $q "ALTER SYSTEM SET autovacuum = off" >/dev/null
    $q "SELECT pg_reload_conf()" >/dev/null
  done
}
qs() { psql -X -q -v ON_ERROR_STOP=1 -tAc "$1" "$SRC"; }
qt() { psql -X -q -v ON_ERROR_STOP=1 -tAc "$1" "$TGT"; }

# pgbench's tables at SCALE: filled on the source, empty on the target.
pgbench_pair() {
  pgbench -i -q -s "$1" "$SRC" >"$WORK/init.log" 2>&1 || { cat "$WORK/init.log" >&2; die "pgbench -i failed"; }
  pgbench -i -q -I dtp -s "$1" "$TGT" >>"$WORK/init.log" 2>&1 || { cat "$WORK/init.log" >&2; die "pgbench -i on the target failed"; }
}

# pgbench's tables at SCALE, generated on each server (-I dtGvp): pgbench's
# data is deterministic, so both sides hold the same rows without an initial
# copy (subscribe with copy_data = false). Drops pgbench's tables first.
pgbench_identical_pair() {
  pgbench -i -q -I dtGvp -s "$1" "$SRC" >"$WORK/init-src.log" 2>&1 &
  local src=$!
  pgbench -i -q -I dtGvp -s "$1" "$TGT" >"$WORK/init-tgt.log" 2>&1 || { cat "$WORK/init-tgt.log" >&2; die "pgbench -i on the target failed"; }
  wait "$src" || { cat "$WORK/init-src.log" >&2; die "pgbench -i on the source failed"; }
}

# pgbench's tables at SCALE generated anew on both sides (pgbench_identical_pair)
# and a fresh publication and subscription without copy: the pair as it is
# measured at each scale (bench/scale.sh, bench/verify_ab.sh).
identical_pair_subscribed() { # SCALE
  local start=$SECONDS
  qt "DROP SUBSCRIPTION IF EXISTS my_subscription" >/dev/null
  qs "DROP PUBLICATION IF EXISTS my_publication" >/dev/null
  pgbench_identical_pair "$1"
  note "scale $1: pgbench -i -I dtGvp on both sides in $((SECONDS - start)) s"
  subscribe_pair 60 "copy_data = false"
}

# my_publication (all tables) and my_subscription (WITH (OPTIONS) when
# given, e.g. "copy_data = false"), then waits (at most TIMEOUT seconds)
# until every table is ready.
subscribe_pair() { # TIMEOUT [OPTIONS]
  local start
  qs "CREATE PUBLICATION my_publication FOR ALL TABLES" >/dev/null
  qt "CREATE SUBSCRIPTION my_subscription CONNECTION '$SRC' PUBLICATION my_publication${2:+ WITH ($2)}" >/dev/null 2>&1
  start=$(date +%s)
  until [ "$(qt "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'")" = 0 ]; do
    [ $(($(date +%s) - start)) -lt "$1" ] || die "initial copy not done after $1 s"
    sleep 0.5
  done
  note "initial copy done in $(($(date +%s) - start)) s"
}

# Wall-clock seconds: t0=$(now); ...; elapsed "$t0". div A B: A/B, 1 decimal.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "nan" }'; }
# The 1-minute load average, recorded with every measurement (shared machines).
load1() { cut -d' ' -f1 /proc/loadavg; }
# The median of the arguments (numbers).
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# Whether my_subscription's slot has confirmed LSN: the target applied and
# flushed every commit before it.
sub_slot_flush_reached() { # LSN
  [ "$(qs "SELECT coalesce(bool_and(confirmed_flush_lsn >= '$1'), false) FROM pg_replication_slots WHERE slot_name = 'my_subscription'")" = t ]
}

# pg_recvlogical ARGS..., its decoded output thrown away: written to stdout
# (-f -) through a pipe into cat. Not -f /dev/null, the baseline before
# 2026-12-02 19:46 UTC: then every write is free, pg_recvlogical catches up
# with the walsender after each message and sleeps until the next one, and
# the two sides trade a wake-up per message. A 1 M-row streamed INSERT took
# 4.7-5.6 s that way (2.7-3.1 s of it system time, 197,000 context
# switches) against 1.8-2.1 s through a pipe (0.7 s, 2,500): the writes
# into the pipe let the messages gather in the socket between reads
# (bench/README.md, "pg_recvlogical's output"). BENCH_RECV_OUTPUT=devnull
# gives the old baseline, to compare with the figures measured with it.
recvlogical_run() { # ARGS...
  case ${BENCH_RECV_OUTPUT:-pipe} in
    pipe) pg_recvlogical "$@" -f - | cat >/dev/null ;;
    devnull) pg_recvlogical "$@" -f /dev/null ;;
    *) usage "BENCH_RECV_OUTPUT=$BENCH_RECV_OUTPUT: pipe or devnull" ;;
  esac
}

# pg_recvlogical drains pgoutput slot SLOT of my_publication up to LSN, with
# the options pgparity asks for (protocol 2, streaming, messages); its
# messages in LOG.
recvlogical_drain() { # SLOT LSN LOG
  recvlogical_run -d "$SRC" --slot "$1" --start --endpos "$2" --no-loop \
    -o proto_version=2 -o publication_names=my_publication -o streaming=on -o messages=true \
    >"$3" 2>&1 || { cat "$3" >&2; die "pg_recvlogical failed"; }
}
