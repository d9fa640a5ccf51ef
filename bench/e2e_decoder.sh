#!/usr/bin/env bash
# e2e_decoder.sh — pgparity's decoder end to end on a real PostgreSQL 14:
# how fast `pgparity record` drains a slot compared with pg_recvlogical
# draining an identical slot with the same plugin (pgoutput) and options.
#
#   bench/e2e_decoder.sh                         # default size (a few minutes on 2 cores)
#   BENCH_SECONDS=10 BENCH_BULK_ROWS=200000 bench/e2e_decoder.sh   # smaller
#
# What it does:
#   1. starts a PostgreSQL 14 on a free port under a temp dir (env/pgenv.sh;
#      always destroyed at exit), autovacuum off (no background transactions
#      or CPU competing with the drains), `pgbench -i -s BENCH_SCALE`,
#      CREATE PUBLICATION p FOR ALL TABLES;
#   2. creates every slot at the same point, before the backlog: per round one
#      pgoutput slot for pg_recvlogical, one for `pgparity record`, one for
#      `pgparity record --raw`, and (BENCH_TEST_DECODING=1) one test_decoding
#      slot for pg_recvlogical as a reference (a slot drains only once);
#   3. builds the backlog: `pgbench -N -n -T BENCH_SECONDS -c BENCH_CLIENTS`
#      (synchronous_commit off, to make more transactions), then one
#      BENCH_BULK_ROWS-row INSERT in a single transaction; notes its end LSN;
#   4. drains each slot up to that LSN, one drain at a time (2 cores: never
#      concurrently), BENCH_ROUNDS rounds in alternating order:
#        pg_recvlogical --start --endpos LSN -f - -o proto_version=2
#                       -o publication_names=p -o streaming=on -o messages=true
#          | cat > /dev/null     (bench/lib.sh, recvlogical_run: not -f
#                                 /dev/null; BENCH_RECV_OUTPUT=devnull)
#        pgparity record --until-lsn LSN --status-interval 0 --out FILE [--raw]
#      (pgparity asks for proto_version 2, streaming on and messages true: the
#      same options; BENCH_STREAMING=off runs both without streaming);
#   5. prints, per drain: wall seconds, changes/s, the client's CPU (user +
#      sys, and per change), the walsender's CPU (the postmaster's reaped
#      children during that drain); then pgparity/pg_recvlogical ratios
#      (target >= 0.95);
#   6. BENCH_REPLAY=1: runs decode_bench over the raw recording
#      (PGPARITY_BENCH_RAW) — the decoder on the real frames, no network.
#
# BENCH_BASELINE_PGPARITY=/path/to/an/older/pgparity adds a drain of that
# binary's `record` per round (a fifth slot): before/after on one backlog.
#
# Changes are counted by `pgparity record` (its final line); every pgparity
# drain must count the same changes and end with the same chained digest,
# and the count must equal 2 x pgbench transactions + BENCH_BULK_ROWS.
#
# Needs: a built tree (BUILD_DIR, default ./build: cli/pgparity,
# bench/decode_bench), pgbench, pg_recvlogical and psql (Debian's
# postgresql-client), env/pgenv.sh's PostgreSQL 14 binaries.
# Exit: 0 ran (whether or not the target was met), 1 a step failed, 2 usage.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
PGPARITY=${PGPARITY:-$BUILD_DIR/cli/pgparity}
DECODE_BENCH=${DECODE_BENCH:-$BUILD_DIR/bench/decode_bench}
PGENV=$ROOT/env/pgenv.sh
BENCH_SCALE=${BENCH_SCALE:-10}
BENCH_SECONDS=${BENCH_SECONDS:-30}
BENCH_CLIENTS=${BENCH_CLIENTS:-2}
BENCH_BULK_ROWS=${BENCH_BULK_ROWS:-1000000}
BENCH_ROUNDS=${BENCH_ROUNDS:-2}
BENCH_TEST_DECODING=${BENCH_TEST_DECODING:-1}
BENCH_STREAMING=${BENCH_STREAMING:-on}
BENCH_REPLAY=${BENCH_REPLAY:-1}
BENCH_KEEP=${BENCH_KEEP:-0}
BENCH_PORT=${BENCH_PORT:-}
BENCH_RESULTS=${BENCH_RESULTS:-}  # also append the results table (markdown) here
# Another pgparity binary (e.g. built from an older commit) drained like
# `pgparity record` on slots of the same backlog: before/after in one run.
BENCH_BASELINE_PGPARITY=${BENCH_BASELINE_PGPARITY:-}

NAME=e2e_decoder
# die, usage, note; recvlogical_run (pg_recvlogical's output through a pipe).
. "$ROOT/bench/lib.sh"

for v in BENCH_SCALE BENCH_SECONDS BENCH_CLIENTS BENCH_BULK_ROWS BENCH_ROUNDS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || usage "$v=${!v} is not a number"
done
[ "$BENCH_ROUNDS" -ge 1 ] || usage "BENCH_ROUNDS must be at least 1"
case "$BENCH_STREAMING" in on | off) ;; *) usage "BENCH_STREAMING must be on or off" ;; esac
slots_per_round=$((3 + (BENCH_TEST_DECODING == 1 ? 1 : 0) + (${#BENCH_BASELINE_PGPARITY} > 0 ? 1 : 0)))
# env/pgenv.sh starts servers with max_replication_slots=10.
[ $((slots_per_round * BENCH_ROUNDS)) -le 10 ] ||
  usage "$BENCH_ROUNDS rounds need $((slots_per_round * BENCH_ROUNDS)) slots; the server has 10 (BENCH_ROUNDS=2, or BENCH_TEST_DECODING=0 for 3)"
[ -x "$PGPARITY" ] || usage "$PGPARITY not found: build first (make build, or BUILD_DIR=...)"
[ -z "$BENCH_BASELINE_PGPARITY" ] || [ -x "$BENCH_BASELINE_PGPARITY" ] ||
  usage "BENCH_BASELINE_PGPARITY=$BENCH_BASELINE_PGPARITY is not an executable"
for tool in pgbench pg_recvlogical psql; do
  command -v "$tool" >/dev/null || usage "$tool not found (Debian: apt-get install postgresql-client)"
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pgparity-e2e.XXXXXX")
chmod 755 "$WORK"  # the server runs as an unprivileged user when we are root
PGDIR=$WORK/pg
cleanup() {
  local rc=$?
  "$PGENV" destroy "$PGDIR" >/dev/null 2>&1 || true
  if [ "$BENCH_KEEP" = 1 ]; then
    note "kept $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_server() {
  local attempt port
  for attempt in 1 2 3 4 5; do
    if [ -n "$BENCH_PORT" ]; then
      port=$BENCH_PORT
    else
      port=$((20000 + RANDOM % 20000))
      port_in_use "$port" && continue
    fi
    if "$PGENV" start 14 "$PGDIR" "$port" bench >"$WORK/pgenv.log" 2>&1; then
      PORT=$port
      return 0
    fi
    # Exit 2 with "in use": a race for the port; anything else is fatal.
    grep -q "in use" "$WORK/pgenv.log" && [ -z "$BENCH_PORT" ] || {
      cat "$WORK/pgenv.log" >&2
      die "could not start PostgreSQL 14"
    }
  done
  die "no free port found for PostgreSQL 14"
}

note "starting PostgreSQL 14 in $PGDIR"
start_server
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres PGPASSWORD=postgres PGDATABASE=bench
DSN="host=127.0.0.1 port=$PORT dbname=bench user=postgres password=postgres"
q() { psql -X -q -v ON_ERROR_STOP=1 -tAc "$1"; }
POSTMASTER=$(head -1 "$PGDIR/data/postmaster.pid")
CLK_TCK=$(getconf CLK_TCK)

q "ALTER SYSTEM SET autovacuum = off" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
note "pgbench -i -s $BENCH_SCALE"
pgbench -i -s "$BENCH_SCALE" -q >"$WORK/pgbench-init.log" 2>&1 ||
  { cat "$WORK/pgbench-init.log" >&2; die "pgbench -i failed"; }
q "CREATE PUBLICATION p FOR ALL TABLES" >/dev/null

# Every slot at the same point, before the backlog.
declare -A SLOT
for r in $(seq "$BENCH_ROUNDS"); do
  SLOT[recv,$r]=bench_recv_$r
  SLOT[record,$r]=bench_pgparity_$r
  SLOT[raw,$r]=bench_raw_$r
  [ "$BENCH_TEST_DECODING" = 1 ] && SLOT[td,$r]=bench_td_$r
  [ -n "$BENCH_BASELINE_PGPARITY" ] && SLOT[base,$r]=bench_baseline_$r
done
for key in "${!SLOT[@]}"; do
  plugin=pgoutput
  [[ $key == td,* ]] && plugin=test_decoding
  q "SELECT pg_create_logical_replication_slot('${SLOT[$key]}', '$plugin')" >/dev/null
done
START_LSN=$(q "SELECT max(confirmed_flush_lsn) FROM pg_replication_slots")

note "backlog: pgbench -N -n -T $BENCH_SECONDS -c $BENCH_CLIENTS, then one $BENCH_BULK_ROWS-row INSERT"
PGOPTIONS='-c synchronous_commit=off' pgbench -N -n -T "$BENCH_SECONDS" -c "$BENCH_CLIENTS" \
  -j "$BENCH_CLIENTS" >"$WORK/pgbench.log" 2>&1 || { cat "$WORK/pgbench.log" >&2; die "pgbench failed"; }
PGBENCH_TXNS=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$WORK/pgbench.log")
[ -n "$PGBENCH_TXNS" ] || { cat "$WORK/pgbench.log" >&2; die "no transaction count in pgbench's output"; }
END_LSN=$(psql -X -q -v ON_ERROR_STOP=1 -tA <<SQL
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime)
  SELECT 1 + g % (10 * $BENCH_SCALE), 1 + g % $BENCH_SCALE, 1 + g % (100000 * $BENCH_SCALE),
         g % 10001 - 5000, now()
  FROM generate_series(1, $BENCH_BULK_ROWS) AS g;
SELECT pg_current_wal_insert_lsn();
SQL
)
q "CHECKPOINT" >/dev/null
EXPECTED_CHANGES=$((2 * PGBENCH_TXNS + BENCH_BULK_ROWS))
WAL_BYTES=$(q "SELECT pg_wal_lsn_diff('$END_LSN', '$START_LSN')")
note "backlog: $PGBENCH_TXNS pgbench transactions + $BENCH_BULK_ROWS bulk rows = $EXPECTED_CHANGES changes, $((WAL_BYTES / 1048576)) MiB of WAL ($START_LSN .. $END_LSN)"

# CPU seconds of the postmaster's reaped children (the walsender of a drain
# once it exited, plus the few psql backends of this script).
children_cpu() { # -> ticks
  sed 's/^.*) //' "/proc/$POSTMASTER/stat" | awk '{ print $14 + $15 }'
}
wait_walsenders_gone() {
  local i
  for i in $(seq 200); do
    pgrep -P "$POSTMASTER" -f 'walsender' >/dev/null || return 0
    sleep 0.05
  done
  note "warning: a walsender is still running after 10 s"
}

stream_opts=(-o proto_version=2 -o publication_names=p -o messages=true)
record_opts=()
if [ "$BENCH_STREAMING" = on ]; then
  stream_opts+=(-o streaming=on)
else
  record_opts+=(--no-streaming)
fi

RESULTS=()  # "round|label|seconds|user|sys|walsender|changes|chain"
drain() { # drain ROUND KIND
  local r=$1 kind=$2 slot=${SLOT[$2,$1]} label log timefile changes chain out=""
  log=$WORK/$kind-$r.log
  timefile=$WORK/$kind-$r.time
  local cmd
  case "$kind" in
    recv)
      label="pg_recvlogical (pgoutput)"
      cmd=(recvlogical_run -d bench --slot "$slot" --start --endpos "$END_LSN" --no-loop
        "${stream_opts[@]}") ;;
    td)
      label="pg_recvlogical (test_decoding)"
      cmd=(recvlogical_run -d bench --slot "$slot" --start --endpos "$END_LSN" --no-loop) ;;
    record)
      label="pgparity record"
      out=$WORK/record-$r.pb
      cmd=("$PGPARITY" record --source "$DSN" --publication p --slot "$slot" --out "$out"
        --until-lsn "$END_LSN" --status-interval 0 "${record_opts[@]}") ;;
    base)
      label="pgparity record (baseline)"
      out=$WORK/base-$r.pb
      cmd=("$BENCH_BASELINE_PGPARITY" record --source "$DSN" --publication p --slot "$slot"
        --out "$out" --until-lsn "$END_LSN" --status-interval 0 "${record_opts[@]}") ;;
    raw)
      label="pgparity record --raw"
      out=$WORK/raw-$r.pb
      cmd=("$PGPARITY" record --source "$DSN" --publication p --slot "$slot" --out "$out"
        --until-lsn "$END_LSN" --status-interval 0 --raw "${record_opts[@]}") ;;
  esac
  sync
  local before after
  before=$(children_cpu)
  local TIMEFORMAT='%3R %3U %3S'
  { time "${cmd[@]}" >"$log" 2>&1; } 2>"$timefile" || {
    cat "$log" >&2
    die "round $r: $label failed"
  }
  wait_walsenders_gone
  after=$(children_cpu)
  read -r secs user sys <"$timefile"
  changes=-
  chain=-
  if [[ $kind == record || $kind == raw || $kind == base ]]; then
    changes=$(sed -n 's/.*recorded [0-9]* transactions, \([0-9]*\) changes.*/\1/p' "$log")
    chain=$(sed -n 's/.*; chain \([0-9a-f]*\).*/\1/p' "$log")
    [ -n "$changes" ] || { cat "$log" >&2; die "round $r: no change count in $label's output"; }
    [ "$changes" = "$EXPECTED_CHANGES" ] ||
      note "warning: $label counted $changes changes, expected $EXPECTED_CHANGES"
    # Keep one raw recording for the replay; drop the others (disk).
    if [ "$kind" = raw ] && [ ! -e "$WORK/replay.pb" ]; then mv "$out" "$WORK/replay.pb"; fi
    rm -f "$out"
  fi
  local ws
  ws=$(awk -v a="$after" -v b="$before" -v t="$CLK_TCK" 'BEGIN { printf "%.2f", (a - b) / t }')
  RESULTS+=("$r|$label|$secs|$user|$sys|$ws|$changes|$chain")
  note "round $r: $label: ${secs} s (client CPU ${user} user + ${sys} sys, walsender ${ws} s)"
}

order=(recv record raw)
[ -n "$BENCH_BASELINE_PGPARITY" ] && order+=(base)
[ "$BENCH_TEST_DECODING" = 1 ] && order+=(td)
for r in $(seq "$BENCH_ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then
    kinds=("${order[@]}")
  else
    kinds=()
    for ((i = ${#order[@]} - 1; i >= 0; i--)); do kinds+=("${order[i]}"); done
  fi
  for kind in "${kinds[@]}"; do drain "$r" "$kind"; done
done

# Every pgparity drain saw the same transactions: same count, same chain.
chains=$(printf '%s\n' "${RESULTS[@]}" | awk -F'|' '$8 != "-" { print $8 }' | sort -u)
[ "$(printf '%s\n' "$chains" | wc -l)" = 1 ] || die "pgparity drains ended with different chained digests: $chains"

report() {
  printf '%s\n' "${RESULTS[@]}" | awk -F'|' -v n="$EXPECTED_CHANGES" '
    BEGIN {
      printf "| round | drain | seconds | changes/s | client CPU s (user+sys) | client CPU µs/change | walsender CPU s |\n"
      printf "|---|---|---|---|---|---|---|\n"
    }
    {
      cpu = $4 + $5
      printf "| %s | %s | %.2f | %.0f | %.2f (%.2f+%.2f) | %.2f | %s |\n", $1, $2, $3, n / $3, cpu, $4, $5, cpu * 1e6 / n, $6
      rate[$2] += n / $3; runs[$2]++
      if ($2 == "pg_recvlogical (pgoutput)") base[$1] = n / $3
      if ($2 ~ /^pgparity/) mine[$2, $1] = n / $3
      seen[$2] = 1; if ($1 > nrounds) nrounds = $1
    }
    END {
      printf "\n| drain | mean changes/s | ratio to pg_recvlogical (pgoutput) | per round |\n|---|---|---|---|\n"
      b = rate["pg_recvlogical (pgoutput)"] / runs["pg_recvlogical (pgoutput)"]
      for (d in seen) {
        per = ""
        if (d ~ /^pgparity/) for (r = 1; r <= nrounds; r++) if (base[r] > 0) per = per sprintf("%s%.3f", per == "" ? "" : ", ", mine[d, r] / base[r])
        printf "| %s | %.0f | %.3f | %s |\n", d, rate[d] / runs[d], (rate[d] / runs[d]) / b, per
      }
    }'
}

{
  echo
  echo "## e2e_decoder: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, PostgreSQL $(q 'SHOW server_version'), streaming $BENCH_STREAMING"
  echo
  echo "backlog: pgbench -N -T $BENCH_SECONDS -c $BENCH_CLIENTS at scale $BENCH_SCALE ($PGBENCH_TXNS transactions, $((2 * PGBENCH_TXNS)) changes) + one $BENCH_BULK_ROWS-row INSERT = $EXPECTED_CHANGES changes, $((WAL_BYTES / 1048576)) MiB of WAL; chain $(printf '%s' "$chains")"
  echo
  report
} | tee -a "${BENCH_RESULTS:-/dev/null}"

ratio=$(printf '%s\n' "${RESULTS[@]}" | awk -F'|' -v n="$EXPECTED_CHANGES" '
  $2 == "pg_recvlogical (pgoutput)" { b += n / $3; nb++ }
  $2 == "pgparity record" { m += n / $3; nm++ }
  END { printf "%.3f", (m / nm) / (b / nb) }')
if awk -v x="$ratio" 'BEGIN { exit !(x >= 0.95) }'; then
  echo "target met: pgparity record / pg_recvlogical = $ratio (>= 0.95)"
else
  echo "target MISSED: pgparity record / pg_recvlogical = $ratio (< 0.95)"
fi

if [ "$BENCH_REPLAY" = 1 ] && [ -x "$DECODE_BENCH" ] && [ -e "$WORK/replay.pb" ]; then
  echo
  echo "decode_bench over the raw recording ($(du -m "$WORK/replay.pb" | cut -f1) MB):"
  PGPARITY_BENCH_RAW=$WORK/replay.pb PGPARITY_BENCH_DIR=$WORK "$DECODE_BENCH" \
    --benchmark_filter=Recorded --benchmark_min_time=0.1 2>&1 | grep -E '^BM_|frames'
fi
