#!/usr/bin/env bash
# migration_bench.sh — the two questions a team asks before a logical-
# replication upgrade: can the PostgreSQL 16 subscriber keep up with our
# write rate, and how far behind is it under steady load? Measured on a real
# PostgreSQL 14 -> 16 pair with the native subscription, all in one run.
#
#   bench/migration_bench.sh                               # default size (~4 min on 2 cores)
#   BENCH_SECONDS=30 BENCH_SCALE=50 bench/migration_bench.sh
#   BENCH_WORKLOADS="simple bulk" bench/migration_bench.sh
#
# Per workload (simple = pgbench -N, tpcb = pgbench's TPC-B-like script,
# bulk = BENCH_BULK_ROWS rows in one transaction, wide = 8 kB TOASTed rows
# inserted and updated with the value unchanged, small = one-row insert
# transactions from 2x BENCH_CLIENTS clients):
#   1. the subscription is disabled; three slots are created at one point
#      (pg_copy_logical_replication_slot): for pg_recvlogical, pgparity, and
#      (bulk only) pgparity with proto_version 1 and no streaming;
#   2. the workload runs on the source: commit rate, WAL bytes/s;
#   3. catch-up: the subscription is enabled and timed until its slot has
#      confirmed the backlog's end — the native apply throughput;
#   4. the same backlog is drained by pg_recvlogical (pgoutput, proto 2,
#      streaming) and by `pgparity record` (decode + digest every change),
#      one after the other;
# then, under steady load (pgbench -N -R BENCH_LAG_RATE for
# BENCH_LAG_SECONDS), the apply lag is sampled every 0.5 s: source WAL
# position minus the target's remote_lsn (what the subscriber has applied),
# and minus its slot's confirmed_flush_lsn (what it has confirmed).
#
# Output, in BENCH_OUT (default bench/results): results.csv
# (workload,metric,value,unit), lag.csv (seconds,apply_lag_bytes,flush_lag_bytes),
# throughput.png and lag.png (gnuplot), results.md (the table printed).
# Exit: 0 ran, 1 a step failed, 2 usage.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NAME=migration_bench
. "$ROOT/bench/lib.sh"
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
PGPARITY=${PGPARITY:-$BUILD_DIR/cli/pgparity}
BENCH_SCALE=${BENCH_SCALE:-10}
BENCH_SECONDS=${BENCH_SECONDS:-15}
BENCH_CLIENTS=${BENCH_CLIENTS:-2}
BENCH_BULK_ROWS=${BENCH_BULK_ROWS:-1000000}
BENCH_LAG_SECONDS=${BENCH_LAG_SECONDS:-20}
BENCH_LAG_RATE=${BENCH_LAG_RATE:-300}
BENCH_WORKLOADS=${BENCH_WORKLOADS:-simple tpcb bulk wide small}
BENCH_OUT=${BENCH_OUT:-$ROOT/bench/results}

for v in BENCH_SCALE BENCH_SECONDS BENCH_CLIENTS BENCH_BULK_ROWS BENCH_LAG_SECONDS BENCH_LAG_RATE; do
  [[ "${!v}" =~ ^[0-9]+$ ]] && [ "${!v}" -ge 1 ] || usage "$v=${!v} is not a positive number"
done
for w in $BENCH_WORKLOADS; do
  case $w in simple | tpcb | bulk | wide | small) ;; *) usage "unknown workload '$w' (simple tpcb bulk wide small)" ;; esac
done
[ -x "$PGPARITY" ] || usage "$PGPARITY not found: build first (make build, or BUILD_DIR=...)"
for tool in pgbench psql pg_recvlogical gnuplot; do
  command -v "$tool" >/dev/null ||
    usage "$tool not found (Debian: apt-get install postgresql-client gnuplot-nox; make bench installs them)"
done
mkdir -p "$BENCH_OUT" || usage "cannot create $BENCH_OUT"

bench_init
start_pair

note "PostgreSQL 14 on $SPORT, 16 on $TPORT; pgbench -i -s $BENCH_SCALE"
pgbench_pair "$BENCH_SCALE"
EXTRA="CREATE TABLE wide (id int PRIMARY KEY, n int NOT NULL DEFAULT 0, doc text);
CREATE TABLE bulk (id bigint PRIMARY KEY, pad text);
CREATE TABLE small (id bigserial PRIMARY KEY, v int);
CREATE SEQUENCE wide_ids START 1000001;"
qs "$EXTRA" >/dev/null
qt "$EXTRA" >/dev/null
# 1000 wide rows to update; each doc ~8 kB of hex: stored out of line.
qs "INSERT INTO wide (id, doc) SELECT g, (SELECT string_agg(md5(g || ':' || i), '') FROM generate_series(1, 256) i) FROM generate_series(1, 1000) g" >/dev/null
subscribe_pair 900

cat >"$WORK/wide.sql" <<'SQL'
\set id random(1, 1000)
INSERT INTO wide (id, doc) SELECT nextval('wide_ids'), (SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 256));
UPDATE wide SET n = n + 1 WHERE id = :id;
SQL
cat >"$WORK/small.sql" <<'SQL'
INSERT INTO small (v) VALUES (1);
SQL

CSV=$BENCH_OUT/results.csv
echo "workload,metric,value,unit" >"$CSV"
row() { echo "$1,$2,$3,$4" >>"$CSV"; }

run_workload() { # NAME
  local w=$1 t0 secs txns start_lsn end_lsn wal tps
  note "workload $w"
  qt "ALTER SUBSCRIPTION my_subscription DISABLE" >/dev/null
  until [ "$(qs "SELECT coalesce(bool_or(active), false) FROM pg_replication_slots WHERE slot_name = 'my_subscription'")" = f ]; do sleep 0.2; done
  qs "SELECT pg_create_logical_replication_slot('rl_$w', 'pgoutput')" >/dev/null
  qs "SELECT pg_copy_logical_replication_slot('rl_$w', 'pgp_$w')" >/dev/null
  [ "$w" = bulk ] && qs "SELECT pg_copy_logical_replication_slot('rl_$w', 'p1_$w')" >/dev/null
  start_lsn=$(qs "SELECT pg_current_wal_lsn()")
  t0=$(now)
  case $w in
    simple) pgbench -n -N -c "$BENCH_CLIENTS" -T "$BENCH_SECONDS" "$SRC" >"$WORK/$w.log" 2>&1 ;;
    tpcb) pgbench -n -c "$BENCH_CLIENTS" -T "$BENCH_SECONDS" "$SRC" >"$WORK/$w.log" 2>&1 ;;
    wide) pgbench -n -f "$WORK/wide.sql" -c "$BENCH_CLIENTS" -T "$BENCH_SECONDS" "$SRC" >"$WORK/$w.log" 2>&1 ;;
    small) pgbench -n -f "$WORK/small.sql" -c $((2 * BENCH_CLIENTS)) -T "$BENCH_SECONDS" "$SRC" >"$WORK/$w.log" 2>&1 ;;
    bulk) qs "INSERT INTO bulk SELECT g, md5(g::text) FROM generate_series(1, $BENCH_BULK_ROWS) g" >/dev/null ;;
  esac || { cat "$WORK/$w.log" >&2; die "workload $w failed"; }
  secs=$(elapsed "$t0")
  end_lsn=$(qs "SELECT pg_current_wal_lsn()")
  wal=$(qs "SELECT pg_wal_lsn_diff('$end_lsn', '$start_lsn')::bigint")
  if [ "$w" = bulk ]; then
    txns=1
    tps=$(div 1 "$secs")
    row "$w" source_rows_per_s "$(div "$BENCH_BULK_ROWS" "$secs")" rows/s
  else
    txns=$(awk '/number of transactions actually processed/ { print $NF }' "$WORK/$w.log" | cut -d/ -f1)
    tps=$(div "$txns" "$secs")
  fi
  row "$w" source_commits_per_s "$tps" txn/s
  row "$w" source_wal_mb_per_s "$(div "$((wal / 1048576))" "$secs")" MB/s
  row "$w" backlog_wal_mb "$((wal / 1048576))" MB

  # Native apply, catching up from the backlog.
  t0=$(now)
  qt "ALTER SUBSCRIPTION my_subscription ENABLE" >/dev/null
  until sub_slot_flush_reached "$end_lsn"; do
    [ "$(awk -v s="$(elapsed "$t0")" 'BEGIN { print (s > 1800) }')" = 0 ] || die "$w: the subscription did not catch up in 1800 s"
    sleep 0.1
  done
  secs=$(elapsed "$t0")
  row "$w" native_apply_s "$secs" s
  row "$w" native_apply_mb_per_s "$(div "$((wal / 1048576))" "$secs")" MB/s
  row "$w" native_apply_txn_per_s "$(div "$txns" "$secs")" txn/s

  # The same backlog, drained by pg_recvlogical and by pgparity.
  t0=$(now)
  recvlogical_drain "rl_$w" "$end_lsn" "$WORK/rl.log"
  secs=$(elapsed "$t0")
  row "$w" pg_recvlogical_s "$secs" s
  row "$w" pg_recvlogical_mb_per_s "$(div "$((wal / 1048576))" "$secs")" MB/s
  t0=$(now)
  "$PGPARITY" record --source "$SRC" --slot "pgp_$w" --until-lsn "$end_lsn" --out "$WORK/$w.pb" \
    --status-interval 0 >"$WORK/pgp.log" 2>&1 || { cat "$WORK/pgp.log" >&2; die "pgparity record failed"; }
  secs=$(elapsed "$t0")
  row "$w" pgparity_s "$secs" s
  row "$w" pgparity_mb_per_s "$(div "$((wal / 1048576))" "$secs")" MB/s
  local changes
  changes=$(grep -o 'transactions, [0-9]* changes' "$WORK/pgp.log" | awk '{ print $2 }')
  row "$w" pgparity_changes_per_s "$(div "${changes:-0}" "$secs")" changes/s
  if [ "$w" = bulk ]; then
    t0=$(now)
    "$PGPARITY" record --source "$SRC" --slot "p1_$w" --until-lsn "$end_lsn" --out "$WORK/$w-p1.pb" \
      --status-interval 0 --proto-version 1 --no-streaming >"$WORK/pgp1.log" 2>&1 ||
      { cat "$WORK/pgp1.log" >&2; die "pgparity record (proto 1) failed"; }
    secs=$(elapsed "$t0")
    row "$w" pgparity_proto1_nostream_s "$secs" s
    qs "SELECT pg_drop_replication_slot('p1_$w')" >/dev/null
  fi
  qs "SELECT pg_drop_replication_slot('rl_$w'), pg_drop_replication_slot('pgp_$w')" >/dev/null
  rm -f "$WORK/$w.pb" "$WORK/$w-p1.pb"
}

for w in $BENCH_WORKLOADS; do run_workload "$w"; done

# Apply lag under steady load.
note "apply lag under pgbench -N -R $BENCH_LAG_RATE for $BENCH_LAG_SECONDS s"
LAG=$BENCH_OUT/lag.csv
echo "seconds,apply_lag_bytes,flush_lag_bytes" >"$LAG"
pgbench -n -N -c "$BENCH_CLIENTS" -R "$BENCH_LAG_RATE" -T "$BENCH_LAG_SECONDS" "$SRC" >"$WORK/lag.log" 2>&1 &
LOAD=$!
t0=$(now)
while kill -0 "$LOAD" 2>/dev/null; do
  # How far the target applied first (its origin's remote_lsn moves with
  # every applied commit), then the source's position: the sample's lag is
  # never understated (it includes the few ms between the two queries).
  remote=$(qt "SELECT coalesce(max(remote_lsn), '0/0') FROM pg_replication_origin_status")
  read -r cur flush < <(qs "SELECT pg_current_wal_lsn(), confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'my_subscription'" | tr '|' ' ')
  qs "SELECT $(elapsed "$t0"), greatest(pg_wal_lsn_diff('$cur', '$remote'), 0)::bigint, greatest(pg_wal_lsn_diff('$cur', '$flush'), 0)::bigint" |
    tr '|' ',' >>"$LAG"
  sleep 0.5
done
wait "$LOAD" || { cat "$WORK/lag.log" >&2; die "pgbench for the lag run failed"; }
lag_tps=$(awk '/^tps/ { print $3; exit }' "$WORK/lag.log")
column() { tail -n +2 "$LAG" | cut -d, -f"$1" | sort -n; }
row steady apply_lag_max_bytes "$(column 2 | tail -1)" bytes
row steady apply_lag_p50_bytes "$(column 2 | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')" bytes
row steady flush_lag_max_bytes "$(column 3 | tail -1)" bytes
row steady source_commits_per_s "${lag_tps:-nan}" txn/s

# The table, and the plots.
MD=$BENCH_OUT/results.md
val() { awk -F, -v w="$1" -v m="$2" '$1 == w && $2 == m { print $3 }' "$CSV"; }
{
  echo "| workload | source txn/s | source WAL MB/s | backlog MB | native apply MB/s (txn/s) | pg_recvlogical MB/s | pgparity MB/s | pgparity / pg_recvlogical |"
  echo "|---|---|---|---|---|---|---|---|"
  for w in $BENCH_WORKLOADS; do
    echo "| $w | $(val "$w" source_commits_per_s) | $(val "$w" source_wal_mb_per_s) | $(val "$w" backlog_wal_mb) | $(val "$w" native_apply_mb_per_s) ($(val "$w" native_apply_txn_per_s)) | $(val "$w" pg_recvlogical_mb_per_s) | $(val "$w" pgparity_mb_per_s) | $(awk -v a="$(val "$w" pg_recvlogical_s)" -v b="$(val "$w" pgparity_s)" 'BEGIN { printf "%.2f", a / b }') |"
  done
  [ -n "$(val bulk pgparity_proto1_nostream_s)" ] &&
    echo "" && echo "bulk backlog drained by pgparity: proto 2 + streaming $(val bulk pgparity_s) s, proto 1 without streaming $(val bulk pgparity_proto1_nostream_s) s"
  echo ""
  echo "steady load (pgbench -N -R $BENCH_LAG_RATE: $(val steady source_commits_per_s) txn/s), sampled every 0.5 s: apply lag (source WAL position - target remote_lsn) p50 $(val steady apply_lag_p50_bytes) bytes, max $(val steady apply_lag_max_bytes) bytes; not yet confirmed by the subscriber (its slot's confirmed_flush_lsn) max $(val steady flush_lag_max_bytes) bytes"
} | tee "$MD"

: >"$WORK/bars.dat"
for w in $BENCH_WORKLOADS; do
  echo "$w $(val "$w" native_apply_mb_per_s) $(val "$w" pg_recvlogical_mb_per_s) $(val "$w" pgparity_mb_per_s)" >>"$WORK/bars.dat"
done
gnuplot <<GP || die "gnuplot failed"
set terminal png size 1000,560 font ",11" noenhanced
set output "$BENCH_OUT/throughput.png"
set title "Draining the same backlog: native apply (PG16 subscriber) vs decoders (MB of source WAL per second)"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "MB/s of source WAL"
set key top left
set grid ytics
plot "$WORK/bars.dat" using 2:xtic(1) title "native apply", '' using 3 title "pg_recvlogical", '' using 4 title "pgparity record"
set output "$BENCH_OUT/lag.png"
set title "Apply lag under steady load (pgbench -N -R $BENCH_LAG_RATE)"
set datafile separator ","
set style data lines
set xlabel "seconds"
set ylabel "kB of source WAL"
set key top left
plot "$LAG" every ::1 using 1:(\$2/1024) title "apply lag (source WAL position - target remote_lsn)" lw 2, '' every ::1 using 1:(\$3/1024) title "not yet confirmed by the subscriber (slot confirmed_flush_lsn)" lw 1 dt 2
GP
note "wrote $CSV, $LAG, $MD, $BENCH_OUT/throughput.png, $BENCH_OUT/lag.png"
