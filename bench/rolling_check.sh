#!/usr/bin/env bash
# rolling_check.sh — audit --scan-rate (the rolling check, issue 15): how
# well the cap holds, and how soon a divergence is reported against the
# period the report states, on a real PostgreSQL 14 -> 16 pair at pgbench
# scale BENCH_SCALE (10: 1 M accounts) with the native subscription.
#
#   bench/rolling_check.sh                        # scale 10, rates 2000 10000 50000, 3 rounds
#   BENCH_RATES="5000 20000" BENCH_ROUNDS=5 BENCH_SECONDS=90 bench/rolling_check.sh
#
#   1. Cap: per round and rate (the rates' order rotates by round),
#      `pgparity audit --scan-rate RATE --scan-window BENCH_WINDOW` on the
#      idle pair (one state directory: the first run bootstraps, the others
#      resume from its checkpoint and walk from the first range again);
#      once the target's tuples-read counter (pg_stat_user_tables
#      seq_tup_read + idx_tup_fetch) moves, it is sampled every second for
#      BENCH_SECONDS; the rate is (last move - first sample) / their time
#      apart — whole ranges, since a range's reads reach the statistics when
#      its snapshot ends. Ratio to the cap, median and spread per rate.
#   2. Detection: audit at the highest rate; after its first whole walk,
#      BENCH_ROUNDS times: one row of pgbench_accounts changed on the target
#      (BENCH_DETECT=random: a random aid; next: the first aid of the range
#      read next, as soon as the report shows the one before it done — just
#      after that range's snapshot, the worst moment), the seconds until the
#      report lists it, over the report's period; the row put back, and its
#      going awaited.
# The 1-minute load average is recorded with every measurement.
#
# Output in BENCH_OUT (default bench/results): rolling-<UTC>.csv
# (round,kind,rate,metric,value,load1) and a summary on stdout.
# Exit: 0 ran, 1 a step failed, 2 usage.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NAME=rolling_check
. "$ROOT/bench/lib.sh"
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
PGPARITY=${PGPARITY:-$BUILD_DIR/cli/pgparity}
BENCH_SCALE=${BENCH_SCALE:-10}
BENCH_RATES=${BENCH_RATES:-2000 10000 50000}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_SECONDS=${BENCH_SECONDS:-60}
BENCH_WINDOW=${BENCH_WINDOW:-5}
BENCH_DETECT=${BENCH_DETECT:-random}
BENCH_PARTS=${BENCH_PARTS:-cap detect}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-900}  # seconds any one wait may take
BENCH_OUT=${BENCH_OUT:-$ROOT/bench/results}

positive() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ]; }
[ -n "${BENCH_RATES// /}" ] || usage "BENCH_RATES is empty"
for x in $BENCH_RATES; do positive "$x" || usage "BENCH_RATES='$BENCH_RATES': '$x' is not a positive number"; done
case "$BENCH_DETECT" in random | next) ;; *) usage "BENCH_DETECT='$BENCH_DETECT': random or next" ;; esac
for p in $BENCH_PARTS; do case "$p" in cap | detect) ;; *) usage "BENCH_PARTS='$BENCH_PARTS': 'cap' and/or 'detect'" ;; esac; done
for v in BENCH_SCALE BENCH_ROUNDS BENCH_SECONDS BENCH_WINDOW BENCH_TIMEOUT; do
  positive "${!v}" || usage "$v=${!v} is not a positive number"
done
[ -x "$PGPARITY" ] || usage "$PGPARITY not found: build first (make build-cli, or BUILD_DIR=...)"
"$PGPARITY" audit --help 2>&1 | grep -q -- "--scan-rate " || usage "$PGPARITY audit has no --scan-rate"
for tool in pgbench psql python3; do
  command -v "$tool" >/dev/null || usage "$tool not found (Debian: apt-get install postgresql-client python3)"
done
mkdir -p "$BENCH_OUT" || usage "cannot create $BENCH_OUT"

STAMP=$(date -u +%Y-%m-%dT%H%M%SZ)
CSV=$BENCH_OUT/rolling-$STAMP.csv
echo "round,kind,rate,metric,value,load1" >"$CSV"
load1() { cut -d' ' -f1 /proc/loadavg; }
record() { echo "$1,$2,$3,$4,$5,$(load1)" >>"$CSV"; }  # ROUND KIND RATE METRIC VALUE

target_tuples_read() { qt "SELECT coalesce(sum(seq_tup_read + coalesce(idx_tup_fetch, 0)), 0) FROM pg_stat_user_tables"; }

STATE=""
AUDIT_PID=""
start_audit() { # RATE
  STATE=$WORK/state
  "$PGPARITY" audit --source "$SRC" --target "$TGT" --state-dir "$STATE" --scan-rate "$1" \
    --scan-window "$BENCH_WINDOW" --quiet >>"$WORK/audit.log" 2>&1 &
  AUDIT_PID=$!
}

stop_audit() {
  local waited=0
  kill -TERM "$AUDIT_PID" 2>/dev/null || true
  while kill -0 "$AUDIT_PID" 2>/dev/null && [ $waited -lt 60 ]; do sleep 1; waited=$((waited + 1)); done
  kill -0 "$AUDIT_PID" 2>/dev/null && { note "audit did not stop in 60 s after SIGTERM: killed"; kill -KILL "$AUDIT_PID"; }
  wait "$AUDIT_PID" 2>/dev/null || true
}

alive() { kill -0 "$AUDIT_PID" 2>/dev/null || { tail -n 20 "$WORK/audit.log" >&2; die "audit ended"; }; }

# report_field PYTHON_EXPR: evaluated on the report `r` ("" while there is none).
report_field() {
  python3 - "$STATE/report.json" "$1" <<'EOF' 2>/dev/null || true
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception:
    sys.exit(0)
print(eval(sys.argv[2]))
EOF
}

# The cap at RATE: the target's tuples read per second over BENCH_SECONDS.
cap_once() { # ROUND RATE
  local base start end rate
  start_audit "$2"
  base=$(target_tuples_read)
  start=$SECONDS
  while [ "$(target_tuples_read)" = "$base" ]; do
    alive
    [ $((SECONDS - start)) -lt "$BENCH_TIMEOUT" ] || die "audit read nothing on the target in $BENCH_TIMEOUT s"
    sleep 0.5
  done
  : >"$WORK/samples"
  end=$((SECONDS + BENCH_SECONDS))
  while [ $SECONDS -lt $end ]; do
    echo "$(date +%s.%N) $(target_tuples_read)" >>"$WORK/samples"
    sleep 1
  done
  alive
  stop_audit
  rate=$(awk 'NR == 1 { t0 = $1; c0 = $2 } NR > 1 && $2 != last { t1 = $1; c1 = $2 } { last = $2 }
    END { if (t1 > t0) printf "%.0f", (c1 - c0) / (t1 - t0); else print "nan" }' "$WORK/samples")
  record "$1" cap "$2" tuples_per_s "$rate"
  note "round $1: --scan-rate $2: the target read $rate tuples/s (load $(load1))"
}

# Seconds until the report lists aid AID of pgbench_accounts with KIND
# ("" = until it lists it no more).
await_listed() { # AID KIND
  local start=$SECONDS kinds
  while :; do
    alive
    kinds=$(report_field "[d['kind'] for t in r['tables'] if t['table'] == 'public.pgbench_accounts' for d in t['divergent_rows'] if d['key'].get('aid') == '$1']")
    if [ -n "$2" ] && [ "$kinds" = "['$2']" ]; then return 0; fi
    if [ -z "$2" ] && [ "$kinds" = "[]" ]; then return 0; fi
    [ $((SECONDS - start)) -lt "$BENCH_TIMEOUT" ] || die "aid $1: not seen as '$2' in $BENCH_TIMEOUT s"
    sleep 0.2
  done
}

# The first aid of the range of pgbench_accounts read next, as soon as the
# report shows a new range done (not the table's last).
next_range_aid() {
  local done0 aid start=$SECONDS
  done0=$(report_field "r['rolling']['ranges_done']")
  while :; do
    alive
    aid=$(report_field "(lambda p: p['range'].split(', ')[1].rstrip(')') if r['rolling']['ranges_done'] > $done0 and p['table'] == 'public.pgbench_accounts' and p['range'].startswith('[') and not p['range'].endswith('inf)') else '')(r['rolling']['position'])")
    [ -n "$aid" ] && { echo "$aid"; return 0; }
    [ $((SECONDS - start)) -lt "$BENCH_TIMEOUT" ] || die "no range of pgbench_accounts done in $BENCH_TIMEOUT s"
    sleep 0.1
  done
}

detect() { # RATE
  local r aid t0 t1 secs period filler start=$SECONDS
  start_audit "$1"
  until [ "$(report_field "r['rolling']['walks']")" -ge 1 ] 2>/dev/null; do
    alive
    [ $((SECONDS - start)) -lt "$BENCH_TIMEOUT" ] || die "no whole walk in $BENCH_TIMEOUT s"
    sleep 1
  done
  for r in $(seq "$BENCH_ROUNDS"); do
    if [ "$BENCH_DETECT" = next ]; then
      aid=$(next_range_aid)
    else
      aid=$(( (RANDOM * 32768 + RANDOM) % (BENCH_SCALE * 100000) + 1 ))
    fi
    filler=$(qt "SELECT filler FROM pgbench_accounts WHERE aid = $aid")
    t0=$(date +%s.%N)
    qt "UPDATE pgbench_accounts SET filler = 'changed by rolling_check.sh' WHERE aid = $aid" >/dev/null
    await_listed "$aid" differs
    t1=$(date +%s.%N)
    period=$(report_field "r['rolling']['period_seconds']")
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    record "$r" "detect-$BENCH_DETECT" "$1" seconds "$secs"
    record "$r" "detect-$BENCH_DETECT" "$1" period_s "$period"
    note "round $r: aid $aid changed on the target, reported after $secs s; period $period s (load $(load1))"
    qt "UPDATE pgbench_accounts SET filler = '$filler' WHERE aid = $aid" >/dev/null
    await_listed "$aid" ""
  done
  stop_audit
}

bench_init
start_pair
note "PostgreSQL 14 on $SPORT, 16 on $TPORT; results in $CSV"
pgbench_identical_pair "$BENCH_SCALE"
subscribe_pair 60 "copy_data = false"
note "scale $BENCH_SCALE: $(qt "SELECT count(*) FROM pgbench_accounts") accounts"

rates=($BENCH_RATES)
if [[ " $BENCH_PARTS " == *" cap "* ]]; then
  for r in $(seq "$BENCH_ROUNDS"); do
    n=${#rates[@]}
    for i in $(seq 0 $((n - 1))); do cap_once "$r" "${rates[$(((i + r - 1) % n))]}"; done
  done
fi
highest=$(printf '%s\n' "${rates[@]}" | sort -n | tail -n 1)
[[ " $BENCH_PARTS " == *" detect "* ]] && detect "$highest"

python3 - "$CSV" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def summary(values):
    return "median %.3f, spread %.3f..%.3f (n=%d)" % (statistics.median(values), min(values), max(values), len(values))
print("rolling check: the target's tuples read per second / --scan-rate")
for rate in sorted({int(r["rate"]) for r in rows if r["kind"] == "cap"}):
    ratios = [float(r["value"]) / rate for r in rows if r["kind"] == "cap" and int(r["rate"]) == rate and r["value"] != "nan"]
    loads = [r["load1"] for r in rows if r["kind"] == "cap" and int(r["rate"]) == rate]
    if ratios:
        print("  %6d rows/s: %s; load1 %s" % (rate, summary(ratios), " ".join(loads)))
det = [r for r in rows if r["kind"].startswith("detect")]
secs = [float(r["value"]) for r in det if r["metric"] == "seconds"]
periods = [float(r["value"]) for r in det if r["metric"] == "period_s"]
if secs:
    print("detection (%s) at %s rows/s: %s s; over the period: %s" % (det[0]["kind"], det[0]["rate"], summary(secs),
          summary([s / p for s, p in zip(secs, periods)])))
EOF
