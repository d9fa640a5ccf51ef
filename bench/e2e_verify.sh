#!/usr/bin/env bash
# e2e_verify.sh — pgparity verify end to end on a real PostgreSQL 14 -> 16
# pair with the native subscription: how fast the full check scans the
# target compared with a plain COPY of the same table, how much memory the
# shadow state takes per row, and how long `verify` takes, idle and under
# pgbench load.
#
#   bench/e2e_verify.sh                      # BENCH_SCALE=10 (1 M accounts), ~2 min
#   BENCH_SCALE=100 bench/e2e_verify.sh      # 10 M rows, ~15 min on 2 cores
#
#   1. starts PostgreSQL 14 and 16 on free ports under a temp dir (always
#      destroyed at exit), `pgbench -i -s BENCH_SCALE` on the source, the
#      same tables empty on the target, publication + subscription, waits
#      for the initial copy; autovacuum off, VACUUM ANALYZE on both;
#   2. target scan, BENCH_ROUNDS rounds, on pgbench_accounts, the order
#      rotated each round:
#        baseline: psql -c "COPY pgbench_accounts TO STDOUT" > /dev/null
#        pgparity: pgparity digest --jobs N for each N of BENCH_JOBS ("1 2 3";
#                  COPY + parse + row digests, exactly the full check's
#                  per-table work; N > 1: N sessions in one snapshot, the
#                  table in key ranges, as verify --jobs N reads it)
#                  and, for reference (BENCH_SQL=1, default at scale <= 20),
#                  pgparity digest --server-side (SQL), which must agree;
#      prints rows/s and the ratio COPY time / pgparity time per N (target
#      >= 0.8 for --jobs 1, >= 1.2 for the best N): of the bests, and the
#      median and spread of the rounds' ratios, with each round's 1-minute
#      load average;
#   3. pgparity verify on the idle pair: wall time, max RSS, the report's
#      shadow bytes per tracked row (target <= 64), verdict;
#   4. the same under `pgbench -N -c 2` on the source (verdict must be
#      consistent).
# Exit: 0 ran (targets met or not), 1 a step failed, 2 usage.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NAME=e2e_verify
. "$ROOT/bench/lib.sh"
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
PGPARITY=${PGPARITY:-$BUILD_DIR/cli/pgparity}
BENCH_SCALE=${BENCH_SCALE:-10}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
# The server-side SQL digest (for reference) takes ~12 s per million rows.
BENCH_SQL=${BENCH_SQL:-$([ "$BENCH_SCALE" -le 20 ] && echo 1 || echo 0)}
BENCH_RESULTS=${BENCH_RESULTS:-}  # also append the results table (markdown) here
BENCH_JOBS=${BENCH_JOBS:-1 2 3}   # pgparity digest --jobs N, each N

for v in BENCH_SCALE BENCH_ROUNDS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] && [ "${!v}" -ge 1 ] || usage "$v=${!v} is not a positive number"
done
for j in $BENCH_JOBS; do
  [[ "$j" =~ ^[0-9]+$ ]] && [ "$j" -ge 1 ] && [ "$j" -le 64 ] || usage "BENCH_JOBS: $j is not 1 to 64"
done
[[ " $BENCH_JOBS " == *" 1 "* ]] || usage "BENCH_JOBS must include 1 (the one-stream scan)"
[ -x "$PGPARITY" ] || usage "$PGPARITY not found: build first (make build, or BUILD_DIR=...)"
for tool in pgbench psql; do
  command -v "$tool" >/dev/null || usage "$tool not found (Debian: apt-get install postgresql-client)"
done
[ -x /usr/bin/time ] || usage "/usr/bin/time not found (Debian: apt-get install time)"

bench_init
start_pair
note "pgbench -i -s $BENCH_SCALE on the source; schema on the target"
pgbench_pair "$BENCH_SCALE"
subscribe_pair 1800
qs "VACUUM ANALYZE" >/dev/null
qt "VACUUM ANALYZE" >/dev/null
ROWS=$(qt "SELECT count(*) FROM pgbench_accounts")

# 2. target scan rates.
secs() { /usr/bin/time -f %e -o "$WORK/t" "$@" >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/err" >&2; die "$1 failed"; }; cat "$WORK/t"; }
copy_best="" sql_best="" loads="" client=""
declare -A best ratios
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }
# "median (min-max)" of the numbers given.
spread() { echo "$@" | tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ a[NR] = $1 } END { printf "%s (%s-%s)", a[int((NR + 1) / 2)], a[1], a[NR] }'; }
variants=(copy)
for j in $BENCH_JOBS; do variants+=("j$j"); done
for r in $(seq "$BENCH_ROUNDS"); do
  # Rotate the order each round so no variant always runs first or last.
  k=$(((r - 1) % ${#variants[@]}))
  order="${variants[*]:k} ${variants[*]:0:k}"
  load=$(cut -d' ' -f1 /proc/loadavg)
  loads="$loads $load"
  declare -A t_round=()
  for what in $order; do
    case $what in
      copy) t=$(secs psql -X -q -c "COPY pgbench_accounts TO STDOUT" -o /dev/null "$TGT"); copy_best=$(min "$copy_best" "$t") ;;
      j*) t=$(secs "$PGPARITY" digest --dsn "$TGT" --table public.pgbench_accounts --jobs "${what#j}")
          best[$what]=$(min "${best[$what]:-}" "$t")
          d=$(grep -o 'digest=[0-9a-f]*' "$WORK/out")
          [ -z "$client" ] || [ "$d" = "$client" ] || die "digest --jobs ${what#j}: $d != $client"
          client=$d ;;
    esac
    t_round[$what]=$t
    note "round $r (load $load): $what $t s"
  done
  for j in $BENCH_JOBS; do
    ratios[j$j]="${ratios[j$j]:-} $(awk -v a="${t_round[copy]}" -v b="${t_round[j$j]}" 'BEGIN { printf "%.2f", a / b }')"
  done
done
pg_best=${best[j1]}
if [ "$BENCH_SQL" = 1 ]; then
  sql_best=$(secs "$PGPARITY" digest --dsn "$TGT" --table public.pgbench_accounts --server-side)
  server=$(grep -o 'digest=[0-9a-f]*' "$WORK/out")
  [ "$client" = "$server" ] || die "client-side $client != server-side $server"
fi

# 3. verify, idle.
vt=$(/usr/bin/time -f "%e %M" -o "$WORK/t" "$PGPARITY" verify --source "$SRC" --target "$TGT" \
  --report "$WORK/idle.json" --timeout 600 >"$WORK/verify-idle.out" 2>"$WORK/verify-idle.err"; echo $?)
read -r idle_secs idle_rss <"$WORK/t"
idle_status=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['status'])" "$WORK/idle.json")
read -r shadow_rows shadow_bytes < <(python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['shadow']; print(r['rows'], r['bytes'])" "$WORK/idle.json")

# 4. verify under load.
pgbench -n -N -c 2 -T 3600 "$SRC" >"$WORK/load.log" 2>&1 &
LOAD=$!
sleep 2
lt=$(/usr/bin/time -f "%e %M" -o "$WORK/t" "$PGPARITY" verify --source "$SRC" --target "$TGT" \
  --report "$WORK/load.json" --timeout 600 >"$WORK/verify-load.out" 2>"$WORK/verify-load.err"; echo $?)
read -r load_secs load_rss <"$WORK/t"
kill "$LOAD" 2>/dev/null || true
wait "$LOAD" 2>/dev/null || true
load_status=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['status'])" "$WORK/load.json" 2>/dev/null || echo none)
[ "$vt" = 0 ] || { cat "$WORK/verify-idle.err" >&2; die "verify (idle) exited $vt"; }
[ "$lt" = 0 ] || { cat "$WORK/verify-load.err" >&2; die "verify (under load) exited $lt"; }

rate() { awk -v n="$ROWS" -v s="$1" 'BEGIN { printf "%.0f", n / s }'; }
ratio=$(awk -v a="$copy_best" -v b="$pg_best" 'BEGIN { printf "%.2f", a / b }')
per_row=$(awk -v b="$shadow_bytes" -v n="$shadow_rows" 'BEGIN { printf "%.1f", b / n }')
{
  echo
  echo "| measure (pgbench scale $BENCH_SCALE, $ROWS accounts rows, best of $BENCH_ROUNDS) | value |"
  echo "|---|---|"
  echo "| COPY pgbench_accounts TO STDOUT > /dev/null (psql) | $copy_best s, $(rate "$copy_best") rows/s |"
  echo "| pgparity full-check scan (COPY + parse + row digests), --jobs 1 | $pg_best s, $(rate "$pg_best") rows/s |"
  echo "| **ratio pgparity / COPY** (target >= 0.8), --jobs 1: of the bests; median (min-max) of the rounds (each round's pair) | **$ratio**; **$(spread ${ratios[j1]})** (rounds:${ratios[j1]}) |"
  for j in $BENCH_JOBS; do
    [ "$j" = 1 ] && continue
    echo "| pgparity digest --jobs $j (key ranges, one snapshot): best; **ratio to COPY** (target >= 1.2) of the bests; median (min-max) of the rounds | ${best[j$j]} s, $(rate "${best[j$j]}") rows/s; **$(awk -v a="$copy_best" -v b="${best[j$j]}" 'BEGIN { printf "%.2f", a / b }')**; **$(spread ${ratios[j$j]})** (rounds:${ratios[j$j]}) |"
  done
  echo "| 1-minute load average at each round's start | $loads |"
  [ "$BENCH_SQL" = 1 ] && echo "| server-side SQL digest (docs/digest.md; same digest), for reference | $sql_best s, $(rate "$sql_best") rows/s |"
  echo "| shadow state: tracked rows, bytes, **bytes/row** (target <= 64) | $shadow_rows, $shadow_bytes, **$per_row** |"
  echo "| pgparity verify, idle: wall, max RSS, verdict | $idle_secs s, $((idle_rss / 1024)) MiB, $idle_status |"
  echo "| pgparity verify under pgbench -N -c 2: wall, max RSS, verdict | $load_secs s, $((load_rss / 1024)) MiB, $load_status |"
} | tee -a "${BENCH_RESULTS:-/dev/null}"
[ "$idle_status" = consistent ] && [ "$load_status" = consistent ] || die "verify was not consistent"
