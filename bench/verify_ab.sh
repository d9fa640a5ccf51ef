#!/usr/bin/env bash
# verify_ab.sh — two pgparity binaries' `verify` on the same idle pgbench
# pair, in alternating order: wall time, peak RSS and the shadow's bytes
# per row (the report's shadow.bytes / shadow.rows), per round. For a change
# to the shadow's memory or speed, measured against the binary before it.
#
#   bench/verify_ab.sh OLD_BINARY NEW_BINARY
#   BENCH_SCALES="10 100 300" BENCH_ROUNDS="3 3 2" bench/verify_ab.sh OLD NEW   # ~35 min
#
# On a PostgreSQL 14 -> 16 pair (bench/lib.sh: free ports, temp dirs gone at
# exit) per scale: pgbench's tables generated on both sides (-I dtGvp, the
# same rows), publication and subscription without copy, then per round both binaries, the order alternating, each
# `verify --memory-limit 0 --quiet` (no limit: the maps are measured, not
# the row store). Prints one line per run and, per scale and binary, the
# median [min-max] of each figure.
#
# Knobs: BENCH_SCALES ("10 100"), BENCH_ROUNDS ("3 3": per scale, the last
# figure repeats), BENCH_KEEP. Exit: 0 ran, 1 a step failed, 2 usage.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NAME=verify_ab
. "$ROOT/bench/lib.sh"
[ $# = 2 ] || usage "usage: bench/verify_ab.sh OLD_BINARY NEW_BINARY"
for b in "$1" "$2"; do
  [ -x "$b" ] || usage "$b is not an executable pgparity"
  "$b" verify --help 2>&1 | grep -q -- '--memory-limit' || usage "$b verify has no --memory-limit"
done
BENCH_SCALES=${BENCH_SCALES:-10 100}
BENCH_ROUNDS=${BENCH_ROUNDS:-3 3}
read -r -a ROUNDS <<<"$BENCH_ROUNDS"
BINS=("$1" "$2")
RESULTS=""

bench_init
start_pair
n=0
for SCALE in $BENCH_SCALES; do
  rounds=${ROUNDS[$n]:-${ROUNDS[-1]}}
  n=$((n + 1))
  identical_pair_subscribed "$SCALE"
  for r in $(seq "$rounds"); do
    order=(0 1)
    [ $((r % 2)) = 0 ] && order=(1 0)
    for i in "${order[@]}"; do
      load=$(cut -d' ' -f1 /proc/loadavg)
      rm -f "$WORK/verify.json"
      /usr/bin/time -f "%e %M" -o "$WORK/time" "${BINS[$i]}" verify --source "$SRC" --target "$TGT" \
        --quiet --memory-limit 0 --report "$WORK/verify.json" >"$WORK/verify.out" 2>&1 || true
      [ -s "$WORK/verify.json" ] || die "verify with ${BINS[$i]} wrote no report: $(tail -n 3 "$WORK/verify.out")"
      line=$(python3 - "$WORK/verify.json" "$(tail -n 1 "$WORK/time")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
secs, kib = sys.argv[2].split()
sh = r.get("shadow", {})
print(r["status"], secs, int(kib) // 1024, "%.1f" % (sh["bytes"] / max(1, sh["rows"])), sh["rows"])
PY
)
      read -r status secs mib bpr rows <<<"$line"
      echo "scale $SCALE round $r binary $((i + 1)) ($(basename "${BINS[$i]}")): $status, $secs s, $mib MiB peak RSS, $bpr bytes/row of $rows rows (load $load)"
      RESULTS+="$SCALE $((i + 1)) $secs $mib $bpr"$'\n'
    done
  done
done
python3 - "${BINS[@]}" <<PY
import statistics, sys
rows = [l.split() for l in """$RESULTS""".strip().splitlines()]
print("| scale | binary | wall s | peak RSS MiB | shadow bytes/row |")
print("|---|---|---|---|---|")
for scale in dict.fromkeys(r[0] for r in rows):
    for b in ("1", "2"):
        got = [r for r in rows if r[0] == scale and r[1] == b]
        cell = lambda k: "%s [%s-%s]" % (statistics.median(float(g[k]) for g in got), min(float(g[k]) for g in got), max(float(g[k]) for g in got))
        print(f"| {scale} | {b}: {sys.argv[int(b)].split('/')[-1]} | {cell(2)} | {cell(3)} | {cell(4)} |")
PY
