#!/usr/bin/env bash
# scale.sh — how pgparity's costs grow with the database (issue 15): pgbench
# scales 10 / 100 / 300 (1 M / 10 M / 30 M accounts) on a real
# PostgreSQL 14 -> 16 pair with the native subscription.
#
#   bench/scale.sh                                   # make bench-scale
#   BENCH_SCALES="10 100" BENCH_ROUNDS=3 bench/scale.sh
#   BENCH_SCALES=300 BENCH_ROUNDS=2 BENCH_PARTS=verify bench/scale.sh
#   BENCH_SCALES=100 BENCH_ROUNDS=2 BENCH_PARTS=mismatch bench/scale.sh   # a divergent table's rows compared
#   bench/scale_report.py bench/results/scale-*.csv  # the tables and plot again, from several runs
#
# Per scale, on one pair of servers (started once, autovacuum off):
#   1. `pgbench -i -I dtGvp -s SCALE` on both sides (server-side generation:
#      pgbench's data is deterministic, so no 30 M-row initial copy), then a
#      subscription WITH (copy_data = false) — verify checks they match;
#   2. scan: `psql -c "COPY pgbench_accounts TO STDOUT" > /dev/null` against
#      `pgparity digest --table public.pgbench_accounts --jobs N` for each N
#      of BENCH_JOBS (without --jobs, one stream, when digest lacks it), order
#      alternating by round; every digest must agree;
#   3. `pgparity verify` on the idle pair, unlimited (--memory-limit 0) and
#      with --memory-limit BENCH_MEMORY_LIMIT (when verify has the option),
#      order alternating by round:
#      wall time and peak RSS (/usr/bin/time -f "%e %M"), the report's shadow
#      figures and verdict;
#   3b. (part `mismatch`, not in the default set) the same with
#      BENCH_MISMATCH_ROWS rows of pgbench_accounts changed on the target
#      (every (rows / N)-th aid), so that the table's digest differs and its
#      rows are compared one by one: wall time, peak RSS, and the count of
#      divergent rows, which must be N in both variants; the rows put back;
#   4. `pgparity audit --scan-rate BENCH_SCAN_RATE` (when audit has it) for
#      BENCH_AUDIT_SECONDS once its target reads started: the target's tuples
#      read per second (pg_stat_user_tables seq_tup_read + idx_tup_fetch),
#      between the first and the last time the counter moved.
# The 1-minute load average is recorded with every measurement.
#
# Knobs: BUILD_DIR (./build) or PGPARITY (the binary); BENCH_SCALES ("10 100
# 300"); BENCH_ROUNDS ("3 3 2": rounds per scale, the last figure repeats);
# BENCH_PARTS ("scan verify audit"; also "mismatch"); BENCH_MISMATCH_ROWS (1000); BENCH_JOBS ("1 2 3": digest --jobs
# values); BENCH_MEMORY_LIMIT (256MiB); BENCH_SCAN_RATE (50000 rows/s);
# BENCH_AUDIT_SECONDS (60); BENCH_TIMEOUT (3600 s per step); BENCH_OUT;
# BENCH_KEEP=1 keeps the temp dir. Disk: about 11 GB at scale 300 (both
# servers under TMPDIR).
#
# Output in BENCH_OUT (default bench/results): scale-<UTC>.csv (one line per
# measurement: scale,rows,round,kind,variant,metric,value,load1), then
# bench/scale_report.py writes scale-<UTC>.md (tables, goals, fitted lines)
# and scale-<UTC>.png (wall time and RSS vs rows).
# Exit: 0 ran (goals met or not), 1 a step failed, 2 usage.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NAME=scale
. "$ROOT/bench/lib.sh"
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
PGPARITY=${PGPARITY:-$BUILD_DIR/cli/pgparity}
BENCH_SCALES=${BENCH_SCALES:-10 100 300}
BENCH_ROUNDS=${BENCH_ROUNDS:-3 3 2}  # per scale; the last figure repeats
BENCH_JOBS=${BENCH_JOBS:-1 2 3}
BENCH_MEMORY_LIMIT=${BENCH_MEMORY_LIMIT:-256MiB}
BENCH_SCAN_RATE=${BENCH_SCAN_RATE:-50000}
BENCH_AUDIT_SECONDS=${BENCH_AUDIT_SECONDS:-60}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-3600}  # seconds any one step may take
BENCH_OUT=${BENCH_OUT:-$ROOT/bench/results}
BENCH_PARTS=${BENCH_PARTS:-scan verify audit}  # which measurements run (also: mismatch)
BENCH_MISMATCH_ROWS=${BENCH_MISMATCH_ROWS:-1000}

positive() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ]; }
for v in BENCH_SCALES BENCH_ROUNDS BENCH_JOBS; do
  [ -n "${!v// /}" ] || usage "$v is empty"
  for x in ${!v}; do positive "$x" || usage "$v='${!v}': '$x' is not a positive number"; done
done
for v in BENCH_SCAN_RATE BENCH_AUDIT_SECONDS BENCH_TIMEOUT BENCH_MISMATCH_ROWS; do
  positive "${!v}" || usage "$v=${!v} is not a positive number"
done
for p in $BENCH_PARTS; do
  case $p in scan | verify | mismatch | audit) ;; *) usage "BENCH_PARTS: unknown part '$p' (scan verify mismatch audit)" ;; esac
done
part() { [[ " $BENCH_PARTS " == *" $1 "* ]]; }
[ -x "$PGPARITY" ] || usage "$PGPARITY not found: build first (make build-cli, or BUILD_DIR=...)"
for tool in pgbench psql python3 gnuplot; do
  command -v "$tool" >/dev/null ||
    usage "$tool not found (Debian: apt-get install postgresql-client python3 gnuplot-nox; make bench-scale installs them)"
done
[ -x /usr/bin/time ] || usage "/usr/bin/time not found (Debian: apt-get install time)"
mkdir -p "$BENCH_OUT" || usage "cannot create $BENCH_OUT"

# What this build offers (the options arrive with issue 15).
has_option() { "$PGPARITY" "$1" --help 2>&1 | grep -q -- "$2 "; }
HAS_LIMIT=0 HAS_JOBS=0 HAS_RATE=0
has_option verify --memory-limit && HAS_LIMIT=1 || note "verify has no --memory-limit: only unlimited verify is measured"
has_option digest --jobs && HAS_JOBS=1 || note "digest has no --jobs: the scan is measured as one stream"
has_option audit --scan-rate && HAS_RATE=1 || note "audit has no --scan-rate: the rolling check's cap is not measured"

STAMP=$(date -u +%Y-%m-%dT%H%M%SZ)
CSV=$BENCH_OUT/scale-$STAMP.csv
echo "scale,rows,round,kind,variant,metric,value,load1" >"$CSV"
# record ROUND KIND VARIANT METRIC VALUE (SCALE, ROWS and LOAD are the current ones)
record() { echo "$SCALE,$ROWS,$1,$2,$3,$4,$5,$LOAD" >>"$CSV"; }

# The scale's tables, identical on both sides, and a fresh subscription.
prepare_scale() {
  identical_pair_subscribed "$SCALE"
  qs "CHECKPOINT" >/dev/null
  qt "CHECKPOINT" >/dev/null
  ROWS=$(qt "SELECT count(*) FROM pgbench_accounts")
}

# timed NAME CMD... -> "$WORK/NAME.time" holds "seconds max_rss_kib"; returns CMD's status.
timed() {
  local name=$1 rc=0
  shift
  timeout "$BENCH_TIMEOUT" /usr/bin/time -f "%e %M" -o "$WORK/$name.time.raw" "$@" \
    >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
  tail -n 1 "$WORK/$name.time.raw" >"$WORK/$name.time"  # GNU time puts "Command exited ..." first
  return "$rc"
}

# scan_once ROUND VARIANT: copy | stream (digest, no --jobs) | jobsN.
scan_once() {
  local cmd secs rss digest
  case $2 in
    copy) cmd=(psql -X -q -c "COPY pgbench_accounts TO STDOUT" -o /dev/null "$TGT") ;;
    stream) cmd=("$PGPARITY" digest --dsn "$TGT" --table public.pgbench_accounts) ;;
    jobs*) cmd=("$PGPARITY" digest --dsn "$TGT" --table public.pgbench_accounts --jobs "${2#jobs}") ;;
  esac
  LOAD=$(load1)
  timed scan "${cmd[@]}" || { tail -n 5 "$WORK/scan.err" >&2; die "scan ($2) failed at scale $SCALE"; }
  read -r secs rss <"$WORK/scan.time"
  record "$1" scan "$2" wall_s "$secs"
  note "scale $SCALE round $1: scan $2 $secs s (load $LOAD)"
  [ "$2" = copy ] && return 0
  digest=$(grep -o 'digest=[0-9a-f]*' "$WORK/scan.out") || die "no digest= in the output of digest ($2)"
  SCAN_DIGEST=${SCAN_DIGEST:-$digest}
  [ "$digest" = "$SCAN_DIGEST" ] || die "scale $SCALE: digest ($2) gave $digest, an earlier scan $SCAN_DIGEST"
}

# alternate ROUND WORD...: the words, reversed in even rounds.
alternate() {
  local r=$1
  shift
  if [ $((r % 2)) = 1 ]; then printf '%s\n' "$@"; else printf '%s\n' "$@" | tac; fi
}

measure_scan() { # ROUNDS
  local variants=(copy) r v j
  if [ "$HAS_JOBS" = 1 ]; then for j in $BENCH_JOBS; do variants+=("jobs$j"); done; else variants+=(stream); fi
  SCAN_DIGEST=""
  for r in $(seq "$1"); do
    for v in $(alternate "$r" "${variants[@]}"); do scan_once "$r" "$v"; done
  done
}

# verify_once ROUND VARIANT [KIND]: unlimited | limited (--memory-limit);
# KIND (verify) names the measurement.
verify_once() {
  local args=() rc=0 secs rss m value kind=${3:-verify}
  # Since --memory-limit exists its default is a limit (1GiB or a quarter of RAM): 0 is unlimited.
  if [ "$HAS_LIMIT" = 1 ]; then
    args=(--memory-limit "$([ "$2" = limited ] && echo "$BENCH_MEMORY_LIMIT" || echo 0)")
  fi
  rm -f "$WORK/verify.json"
  LOAD=$(load1)
  timed verify "$PGPARITY" verify --source "$SRC" --target "$TGT" --quiet --report "$WORK/verify.json" \
    --timeout "$BENCH_TIMEOUT" "${args[@]}" || rc=$?
  [ "$rc" -le 1 ] || { tail -n 5 "$WORK/verify.err" >&2; die "verify ($2) exited $rc at scale $SCALE"; }
  read -r secs rss <"$WORK/verify.time"
  record "$1" "$kind" "$2" wall_s "$secs"
  record "$1" "$kind" "$2" rss_kib "$rss"
  # The verdict, the divergent rows counted, and every figure the report
  # gives about the shadow state.
  python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
print("verdict", r["status"])
print("divergent_rows", sum(t.get("divergent_row_count", 0) for t in r["tables"]))
def figures(name, v):
    if isinstance(v, dict):
        for k, x in v.items(): figures(name + "_" + k, x)
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        print(name, v)
figures("shadow", r.get("shadow", {}))' "$WORK/verify.json" >"$WORK/verify.figures"
  while read -r m value; do record "$1" "$kind" "$2" "$m" "$value"; done <"$WORK/verify.figures"
  note "scale $SCALE round $1: $kind $2 $secs s, $((rss / 1024)) MiB, $(head -n 2 "$WORK/verify.figures" | tr '\n' ' ')(load $LOAD)"
}

measure_verify() { # ROUNDS
  local variants=(unlimited) r v
  [ "$HAS_LIMIT" = 1 ] && variants+=(limited)
  for r in $(seq "$1"); do
    for v in $(alternate "$r" "${variants[@]}"); do verify_once "$r" "$v"; done
  done
}

# BENCH_MISMATCH_ROWS rows changed on the target, verify as measure_verify
# does; each run must count exactly those rows.
measure_mismatch() { # ROUNDS
  local variants=(unlimited) r v step counted
  [ "$HAS_LIMIT" = 1 ] && variants+=(limited)
  step=$((ROWS / BENCH_MISMATCH_ROWS))
  [ "$step" -ge 1 ] || die "BENCH_MISMATCH_ROWS=$BENCH_MISMATCH_ROWS is more than the $ROWS rows"
  qt "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid % $step = 0 AND aid <= $((step * BENCH_MISMATCH_ROWS))" >/dev/null
  for r in $(seq "$1"); do
    for v in $(alternate "$r" "${variants[@]}"); do
      verify_once "$r" "$v" mismatch
      counted=$(awk '$1 == "divergent_rows" { print $2 }' "$WORK/verify.figures")
      [ "$counted" = "$BENCH_MISMATCH_ROWS" ] ||
        die "scale $SCALE: verify ($v) counted $counted divergent rows, $BENCH_MISMATCH_ROWS were changed"
    done
  done
  qt "UPDATE pgbench_accounts SET abalance = abalance - 1 WHERE aid % $step = 0 AND aid <= $((step * BENCH_MISMATCH_ROWS))" >/dev/null
}

target_tuples_read() { qt "SELECT coalesce(sum(seq_tup_read + coalesce(idx_tup_fetch, 0)), 0) FROM pg_stat_user_tables"; }

# Waits (BENCH_TIMEOUT at most) until the target's tuples-read counter moves:
# audit's bootstrap scan reads the source first.
await_target_reads() { # AUDIT_PID
  local base start=$SECONDS
  base=$(target_tuples_read)
  while [ "$(target_tuples_read)" = "$base" ]; do
    kill -0 "$1" 2>/dev/null || { tail -n 5 "$WORK/audit.err" >&2; die "audit ended before reading the target"; }
    [ $((SECONDS - start)) -lt "$BENCH_TIMEOUT" ] || die "audit read nothing on the target in $BENCH_TIMEOUT s"
    sleep 1
  done
}

stop_audit() { # PID
  local waited=0
  kill -TERM "$1" 2>/dev/null || true
  while kill -0 "$1" 2>/dev/null && [ $waited -lt 60 ]; do sleep 1; waited=$((waited + 1)); done
  kill -0 "$1" 2>/dev/null && { note "audit did not stop in 60 s after SIGTERM: killed"; kill -KILL "$1"; }
  wait "$1" 2>/dev/null || true
  qs "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'pgparity_audit' AND NOT active" >/dev/null
}

# The rolling check's cap: the target's tuples read per second between the
# first sample and the last time the counter moved (statistics reach
# pg_stat_user_tables when a read's transaction ends).
measure_audit_cap() {
  local state=$WORK/audit-$SCALE pid end rate
  mkdir -p "$state"
  LOAD=$(load1)
  "$PGPARITY" audit --source "$SRC" --target "$TGT" --state-dir "$state" --scan-rate "$BENCH_SCAN_RATE" --quiet \
    >"$WORK/audit.out" 2>"$WORK/audit.err" &
  pid=$!
  await_target_reads "$pid"
  : >"$WORK/audit.samples"
  end=$((SECONDS + BENCH_AUDIT_SECONDS))
  while [ $SECONDS -lt $end ]; do
    echo "$(date +%s.%N) $(target_tuples_read)" >>"$WORK/audit.samples"
    sleep 1
  done
  stop_audit "$pid"
  rm -rf "$state"
  rate=$(awk 'NR == 1 { t0 = $1; c0 = $2 } NR > 1 && $2 != last { t1 = $1; c1 = $2 } { last = $2 }
    END { if (t1 > t0) printf "%.0f", (c1 - c0) / (t1 - t0); else print "nan" }' "$WORK/audit.samples")
  record 1 audit "rate$BENCH_SCAN_RATE" tuples_per_s "$rate"
  note "scale $SCALE: audit --scan-rate $BENCH_SCAN_RATE: the target read $rate tuples/s (load $LOAD)"
}

scales=($BENCH_SCALES)
rounds=($BENCH_ROUNDS)
bench_init
start_pair
note "PostgreSQL 14 on $SPORT, 16 on $TPORT; results in $CSV"
for i in "${!scales[@]}"; do
  SCALE=${scales[$i]}
  n=${rounds[$i]:-${rounds[-1]}}
  prepare_scale
  LOAD=$(load1)
  record 0 setup pgbench_accounts rows "$ROWS"
  if part scan; then measure_scan "$n"; fi
  if part verify; then measure_verify "$n"; fi
  if part mismatch; then measure_mismatch "$n"; fi
  if part audit && [ "$HAS_RATE" = 1 ]; then measure_audit_cap; fi
done
python3 "$ROOT/bench/scale_report.py" --out "${CSV%.csv}" "$CSV"
