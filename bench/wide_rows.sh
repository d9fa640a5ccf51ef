#!/usr/bin/env bash
# wide_rows.sh — issue 17's goals, measured: the shadow state's bytes per
# row, verify's peak RSS and wall time, for rows from 100 B to 10 MB, on a
# real PostgreSQL 14 -> 16 pair with the native subscription. It only runs
# the pgparity binary, psql and COPY, so it measures any build of pgparity.
#
#   bench/wide_rows.sh                                  # all shapes, 3 rounds (~6 min on 2 cores)
#   BENCH_SHAPES="narrow huge4" bench/wide_rows.sh      # some shapes
#   BENCH_W8K_ROWS=20000 BENCH_ROUNDS=5 bench/wide_rows.sh
#
# Shapes (one table each; text made of distinct MD5 hex digests, which
# pglz cannot compress, so the wide values are TOASTed at full size):
#   narrow  BENCH_NARROW_ROWS (100,000) rows: int key + 90 characters of text;
#   w8k     BENCH_W8K_ROWS (100,000) rows: int key + 8 KiB of text (256 MD5s);
#   w10m    BENCH_W10M_ROWS (8) rows: int key + 10 MiB of text (327,680 MD5s);
#   huge4   4 rows (id, name, doc text, blob bytea); row 4 holds a 40 MiB
#           text (MD5 hex) and a 48 MiB bytea (raw MD5 bytes), rows 1-3 are
#           small — issue 17's table.
#
# Per shape, one after another: the table is filled on the source (PG14),
# created empty on the target (PG16), published (my_publication) and
# subscribed (my_subscription, initial copy); VACUUM ANALYZE on both; then
# BENCH_ROUNDS runs of `pgparity verify` under /usr/bin/time -v (wall
# time, "Maximum resident set size"; the report's shadow {rows, bytes}).
# For w8k each round also runs `psql -c "COPY w8k TO STDOUT" > /dev/null`
# on the target, the order alternating by round; the ratio is verify's wall
# time / COPY's (issue 17's goal: <= 1.2). Then the subscription,
# publication and table are dropped, so each shape is verified alone.
#
# Key size: the key is one int column; its size is taken as its decimal
# length + 3 (average over the table), a stand-in for an encoded key.
#
# Output: a markdown table on stdout and in
# BENCH_OUT/wide_rows-<UTC date and time>.md (BENCH_OUT: bench/results).
# Knobs: BUILD_DIR (./build) or PGPARITY, BENCH_ROUNDS (3), BENCH_W8K_ROWS
# (100000), BENCH_NARROW_ROWS (100000), BENCH_SHAPES, BENCH_OUT,
# BENCH_KEEP (1: keep the temp dir), BENCH_LABEL (what the binary is, for
# the results' title; default: the commit of the script's tree).
# Exit: 0 ran (goals met or not), 1 a step failed or a verify was not
# consistent, 2 usage.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NAME=wide_rows
. "$ROOT/bench/lib.sh"
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
PGPARITY=${PGPARITY:-$BUILD_DIR/cli/pgparity}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_W8K_ROWS=${BENCH_W8K_ROWS:-100000}
BENCH_NARROW_ROWS=${BENCH_NARROW_ROWS:-100000}
BENCH_W10M_ROWS=${BENCH_W10M_ROWS:-8}
BENCH_SHAPES=${BENCH_SHAPES:-narrow w8k w10m huge4}
BENCH_OUT=${BENCH_OUT:-$ROOT/bench/results}
BENCH_LABEL=${BENCH_LABEL:-commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)}

for v in BENCH_ROUNDS BENCH_W8K_ROWS BENCH_NARROW_ROWS BENCH_W10M_ROWS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] && [ "${!v}" -ge 1 ] || usage "$v=${!v} is not a positive number"
done
for shape in $BENCH_SHAPES; do
  case $shape in narrow | w8k | w10m | huge4) ;; *) usage "unknown shape '$shape' (narrow w8k w10m huge4)" ;; esac
done
[ -x "$PGPARITY" ] || usage "$PGPARITY not found: build first (make build-cli, or BUILD_DIR=...)"
command -v psql >/dev/null || usage "psql not found (Debian: apt-get install postgresql-client)"
[ -x /usr/bin/time ] || usage "/usr/bin/time not found (Debian: apt-get install time)"

MIB=1048576
# Each shape: the table's columns, then the INSERT that fills it on the source.
schema() {
  case $1 in
    narrow | w8k | w10m) echo "CREATE TABLE $1 (id int PRIMARY KEY, body text NOT NULL)" ;;
    huge4) echo "CREATE TABLE huge4 (id int PRIMARY KEY, name text NOT NULL, doc text, blob bytea)" ;;
  esac
}
md5s() { # N SEED -> a SQL expression: N distinct MD5 hex digests (32 N characters)
  echo "(SELECT string_agg(md5($2 || ':' || j), '') FROM generate_series(1, $1) j)"
}
fill() {
  case $1 in
    narrow) echo "INSERT INTO narrow SELECT i, md5(i::text) || md5((-i)::text) || left(md5((i + 1)::text), 26)
                  FROM generate_series(1, $BENCH_NARROW_ROWS) i" ;;
    w8k) echo "INSERT INTO w8k SELECT i, $(md5s 256 i) FROM generate_series(1, $BENCH_W8K_ROWS) i" ;;
    w10m) echo "INSERT INTO w10m SELECT i, $(md5s $((10 * MIB / 32)) i) FROM generate_series(1, $BENCH_W10M_ROWS) i" ;;
    huge4) echo "INSERT INTO huge4 VALUES
                   (1, 'small 1', 'a short document', '\\x0102'),
                   (2, 'small 2', NULL, NULL),
                   (3, 'small 3', repeat('abc', 50), '\\xdeadbeef'),
                   (4, 'huge', $(md5s $((40 * MIB / 32)) "'doc'"), decode($(md5s $((48 * MIB / 16)) "'blob'"), 'hex'))" ;;
  esac
}

# "median [min-max]" of numbers, each printed with FORMAT.
stats() {
  local fmt=$1
  shift
  printf '%s\n' "$@" | sort -g | awk -v f="$fmt" '{ a[NR] = $1 }
    END { printf f " [" f "-" f "]", a[int((NR + 1) / 2)], a[1], a[NR] }'
}
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# /usr/bin/time -v's "Elapsed (wall clock) time (h:mm:ss or m:ss): 1:02.31" -> seconds.
wall_seconds() {
  sed -n 's/.*Elapsed (wall clock) time.*: \([0-9:.]*\)$/\1/p' "$1" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }'
}
rss_kib() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }
json() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

bench_init
start_pair
STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
ROWS_MD="" W8K_MD="" FAILED="" GOALS=""
declare -A PER_ROW KEY SHADOW_BYTES RSS_MED RATIO_MED

measure_shape() {
  local shape=$1 r t what status rc order
  local walls=() rsses=() copies=() ratios=() statuses=() shadow_rows="" shadow_bytes=""
  note "$shape: filling the source"
  qs "$(schema "$shape")" >/dev/null
  qt "$(schema "$shape")" >/dev/null
  t=$(date +%s)
  qs "$(fill "$shape")" >/dev/null
  note "$shape: filled in $(($(date +%s) - t)) s"
  subscribe_pair 1800
  qs "VACUUM ANALYZE $shape" >/dev/null
  qt "VACUUM ANALYZE $shape" >/dev/null
  local rows text_bytes disk_bytes key
  rows=$(qt "SELECT count(*) FROM $shape")
  [ "$rows" = "$(qs "SELECT count(*) FROM $shape")" ] || die "$shape: the target has $rows rows, the source $(qs "SELECT count(*) FROM $shape")"
  text_bytes=$(qt "SELECT round(avg(octet_length(t::text))) FROM $shape t")
  disk_bytes=$(qt "SELECT pg_total_relation_size('$shape')")
  key=$(qt "SELECT round(avg(length(id::text)) + 3, 1) FROM $shape")

  for r in $(seq "$BENCH_ROUNDS"); do
    order=verify
    if [ "$shape" = w8k ]; then
      if [ $((r % 2)) = 1 ]; then order="copy verify"; else order="verify copy"; fi
    fi
    for what in $order; do
      case $what in
        copy)
          /usr/bin/time -f %e -o "$WORK/t" psql -X -q -v ON_ERROR_STOP=1 -c "COPY $shape TO STDOUT" -o /dev/null "$TGT" \
            2>"$WORK/copy.err" || { cat "$WORK/copy.err" >&2; die "COPY $shape failed"; }
          t=$(cat "$WORK/t")
          copies+=("$t")
          ;;
        verify)
          rc=0
          /usr/bin/time -v -o "$WORK/time-$shape-$r" "$PGPARITY" verify --source "$SRC" --target "$TGT" \
            --report "$WORK/$shape-$r.json" --timeout 600 >"$WORK/verify-$shape-$r.out" 2>"$WORK/verify-$shape-$r.err" || rc=$?
          t=$(wall_seconds "$WORK/time-$shape-$r")
          walls+=("$t")
          rsses+=("$(rss_kib "$WORK/time-$shape-$r")")
          if [ -s "$WORK/$shape-$r.json" ]; then
            status=$(json "$WORK/$shape-$r.json" "r['status']")
            read -r shadow_rows shadow_bytes < <(json "$WORK/$shape-$r.json" "'%d %d' % (r['shadow']['rows'], r['shadow']['bytes'])")
          else
            status="exit $rc"
            tail -5 "$WORK/verify-$shape-$r.err" >&2
          fi
          statuses+=("$status")
          [ "$status" = consistent ] || FAILED="$FAILED $shape/round$r:$status"
          ;;
      esac
      note "$shape round $r: $what $t s${status:+ ($status)}"
      status=""
    done
    [ "$shape" = w8k ] && ratios+=("$(awk -v v="${walls[-1]}" -v c="${copies[-1]}" 'BEGIN { printf "%.2f", v / c }')")
  done

  local per_row="-" rss_mib=()
  for t in "${rsses[@]}"; do rss_mib+=("$(awk -v k="$t" 'BEGIN { printf "%.0f", k / 1024 }')"); done
  [ -n "$shadow_rows" ] && [ "$shadow_rows" -gt 0 ] && per_row=$(awk -v b="$shadow_bytes" -v n="$shadow_rows" 'BEGIN { printf "%.1f", b / n }')
  PER_ROW[$shape]=$per_row KEY[$shape]=$key SHADOW_BYTES[$shape]=${shadow_bytes:--}
  RSS_MED[$shape]=$(median "${rss_mib[@]}")
  ROWS_MD="$ROWS_MD| $shape | $rows | $text_bytes | $((disk_bytes / MIB)) | ${shadow_rows:--} | ${shadow_bytes:--} | **$per_row** | $key | $(stats %.0f "${rss_mib[@]}") | $(stats %.2f "${walls[@]}") | $(printf '%s\n' "${statuses[@]}" | sort -u | paste -sd/) |
"
  if [ "$shape" = w8k ]; then
    RATIO_MED[w8k]=$(median "${ratios[@]}")
    W8K_MD="| w8k ($rows rows): COPY w8k TO STDOUT > /dev/null (psql, target), s | $(stats %.2f "${copies[@]}") |
| w8k: pgparity verify, s | $(stats %.2f "${walls[@]}") |
| **w8k: ratio verify / COPY** (same round; goal <= 1.2) | **$(stats %.2f "${ratios[@]}")** (rounds: ${ratios[*]}) |
"
  fi

  qt "DROP SUBSCRIPTION my_subscription" >/dev/null
  qs "DROP PUBLICATION my_publication" >/dev/null
  qs "DROP TABLE $shape" >/dev/null
  qt "DROP TABLE $shape" >/dev/null
  qs "CHECKPOINT" >/dev/null
  qt "CHECKPOINT" >/dev/null
}

for shape in $BENCH_SHAPES; do measure_shape "$shape"; done

# The goals of issue 17, as far as the shapes run measure them.
verdict() { awk -v a="$1" -v b="$2" 'BEGIN { print (a != "-" && a + 0 <= b + 0) ? "met" : "missed" }'; }
for shape in narrow w8k w10m; do
  [ -n "${PER_ROW[$shape]:-}" ] || continue
  limit=$(awk -v k="${KEY[$shape]}" 'BEGIN { printf "%.1f", 64 + k }')
  GOALS="$GOALS| $shape: shadow bytes/row <= 64 + key ($limit) | ${PER_ROW[$shape]} | $(verdict "${PER_ROW[$shape]}" "$limit") |
"
done
if [ -n "${SHADOW_BYTES[huge4]:-}" ]; then
  GOALS="$GOALS| huge4: shadow < 1 kB (1000 bytes) | ${SHADOW_BYTES[huge4]} bytes | $(verdict "${SHADOW_BYTES[huge4]}" 999) |
| huge4: peak RSS < 150 MB (143 MiB), median of rounds | ${RSS_MED[huge4]} MiB | $(verdict "${RSS_MED[huge4]}" 143) |
"
fi
if [ -n "${SHADOW_BYTES[w8k]:-}" ]; then
  GOALS="$GOALS| w8k: shadow <= 10 MB (10,000,000 bytes) | ${SHADOW_BYTES[w8k]} bytes | $(verdict "${SHADOW_BYTES[w8k]}" 10000000) |
| w8k: verify wall time <= 1.2 x COPY (median of the same-round ratios) | ${RATIO_MED[w8k]} | $(verdict "${RATIO_MED[w8k]}" 1.2) |
"
fi

mkdir -p "$BENCH_OUT"
OUT=$BENCH_OUT/wide_rows-$(date -u +%Y-%m-%dT%H%MZ).md
{
  echo "# bench/wide_rows.sh: $STARTED, $BENCH_LABEL"
  echo
  echo "\`$PGPARITY\`; BENCH_ROUNDS=$BENCH_ROUNDS, BENCH_W8K_ROWS=$BENCH_W8K_ROWS, BENCH_NARROW_ROWS=$BENCH_NARROW_ROWS, BENCH_W10M_ROWS=$BENCH_W10M_ROWS;" \
    "$(nproc) CPUs, 1-minute load average $LOAD_START at the start, $(cut -d' ' -f1 /proc/loadavg) at the end."
  echo
  echo "| shape | rows | row as text, avg bytes | table on disk (MiB) | shadow rows | shadow bytes | **shadow bytes/row** | key size (int: decimal length + 3, avg) | verify peak RSS (MiB), median [min-max] | verify wall (s), median [min-max] | verdict |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s' "$ROWS_MD"
  if [ -n "$W8K_MD" ]; then
    echo
    echo "| w8k vs COPY, $BENCH_ROUNDS rounds, order alternating; median [min-max] | value |"
    echo "|---|---|"
    printf '%s' "$W8K_MD"
  fi
  echo
  echo "| issue 17 goal | measured | |"
  echo "|---|---|---|"
  printf '%s' "$GOALS"
} | tee "$OUT"
note "results in $OUT"
[ -z "$FAILED" ] || die "verify was not consistent:$FAILED"
