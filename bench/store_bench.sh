#!/usr/bin/env bash
# bench/store_bench.sh — RocksDB vs LMDB for the shadow state on disk (issue 15):
# runs build/bench/store_bench once per configuration and row count, ROUNDS
# rounds, the configurations in reverse order every other round (the machine
# is shared and noisy), and prints a markdown table: per configuration, rows
# and phase the ops/s of each round, the peak RssAnon and RssFile over the
# rounds, the median CPU time per operation (all threads: flushes and
# compactions count), and the disk bytes. The 1-minute load average before each run is
# in the raw file. See bench/README.md, "Shadow store: RocksDB or LMDB".
#
# Knobs: BUILD_DIR (./build), STORE_BENCH_ROWS ("10000000 30000000"),
# STORE_BENCH_ROUNDS (2), STORE_BENCH_CONFIGS (names in args_of), STORE_BENCH_DIR
# (where the stores live, ${TMPDIR:-/tmp}), STORE_BENCH_RAW (write the raw TSV
# there, run by run), BENCH_RESULTS (append the table to this file), STORE_BENCH_FROM_RAW
# (print the table of such a raw TSV, or several concatenated, and run nothing).
set -euo pipefail
NAME=store_bench
ROOT=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "$NAME: error: $*" >&2; exit 1; }
note() { echo "$NAME: $*" >&2; }

summarize() { # RAW STARTED -> the markdown table on stdout (and BENCH_RESULTS)
  python3 - "$1" "$2" <<'EOF' | tee -a "${BENCH_RESULTS:-/dev/null}"
import collections, statistics, sys
raw, started = sys.argv[1], sys.argv[2]
runs = collections.defaultdict(list)
loads = collections.defaultdict(set)
order = []
for line in open(raw):
    f = line.rstrip("\n").split("\t")
    rnd, load, config, rows, phase = f[0], float(f[1]), f[2], int(f[3]), f[4]
    ops, secs, rate, panon, pfile, anon, file_, disk, written, ckpt, ckpt_own = map(float, f[5:16])
    key = (config, rows, phase)
    if key not in runs:
        order.append(key)
    cpu = float(f[16]) if len(f) > 16 else None  # runs before the CPU column have none
    runs[key].append(dict(rate=rate, secs=secs, panon=panon, pfile=pfile, disk=disk,
                          written=written, ckpt=ckpt, ckpt_own=ckpt_own,
                          cpu_us=cpu * 1e6 / ops if cpu is not None else None))
    loads[rnd].add(load)
print(f"store_bench, {started}; 1-minute load average before the runs, per round: "
      + "; ".join(f"round {r}: {min(v):.2f}-{max(v):.2f}" for r, v in sorted(loads.items())))
print()
print("| config | rows | phase | ops/s per round | median | CPU µs/op | peak RssAnon MiB | peak RssFile MiB | disk MiB | written MiB |")
print("|---|---|---|---|---|---|---|---|---|---|")
for key in order:
    config, rows, phase = key
    r = runs[key]
    rates = " / ".join(f"{x['rate']:,.0f}" if phase != "ckpt" else f"{x['secs']:.2f} s" for x in r)
    med = statistics.median(x["rate"] if phase != "ckpt" else x["secs"] for x in r)
    med = f"{med:,.0f}" if phase != "ckpt" else f"{med:.2f} s"
    cpus = [x["cpu_us"] for x in r if x["cpu_us"] is not None]
    cpu = "-" if not cpus else (f"{statistics.median(cpus)/1e6:.2f} s" if phase == "ckpt"
                                else f"{statistics.median(cpus):.2f}")
    disk = max(x["disk"] for x in r)
    if phase == "ckpt":
        disk = f"{disk:,.0f} (+ckpt {max(x['ckpt'] for x in r):,.0f}, own {max(x['ckpt_own'] for x in r):,.0f})"
    else:
        disk = f"{disk:,.0f}"
    print(f"| {config} | {rows/1e6:g} M | {phase} | {rates} | {med} | {cpu} | {max(x['panon'] for x in r):,.0f} "
          f"| {max(x['pfile'] for x in r):,.0f} | {disk} | {max(x['written'] for x in r):,.0f} |")
EOF
}

if [ -n "${STORE_BENCH_FROM_RAW:-}" ]; then
  summarize "$STORE_BENCH_FROM_RAW" "(from $STORE_BENCH_FROM_RAW)"
  exit 0
fi

BUILD_DIR=${BUILD_DIR:-$ROOT/build}
BIN=$BUILD_DIR/bench/store_bench
ROWS=${STORE_BENCH_ROWS:-10000000 30000000}
ROUNDS=${STORE_BENCH_ROUNDS:-2}
CONFIGS=${STORE_BENCH_CONFIGS:-rocksdb-64 rocksdb-192 lmdb lmdb-writemap lmdb-trim256}
[ -x "$BIN" ] || die "$BIN not found; build it: cmake --build $BUILD_DIR --target store_bench"

args_of() { # CONFIG -> store_bench options
  case $1 in
    rocksdb-*-plain) # 4 KiB blocks, no compression: a cache miss reads less and decompresses nothing
      local mib=${1#rocksdb-}
      echo "--store=rocksdb --cache-mib=${mib%-plain} --block-kib=4 --compression=none" ;;
    rocksdb-*) echo "--store=rocksdb --cache-mib=${1#rocksdb-}" ;;
    lmdb) echo "--store=lmdb" ;;
    lmdb-writemap) echo "--store=lmdb --writemap" ;;
    lmdb-trim*) echo "--store=lmdb --trim-mib=${1#lmdb-trim}" ;;
    *) die "unknown configuration '$1' (rocksdb-MIB, rocksdb-MIB-plain, lmdb, lmdb-writemap, lmdb-trimMIB)" ;;
  esac
}
for config in $CONFIGS; do args_of "$config" >/dev/null; done

WORK=$(mktemp -d "${STORE_BENCH_DIR:-${TMPDIR:-/tmp}}/pgparity-store-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
RAW=${STORE_BENCH_RAW:-$WORK/raw.tsv}  # appended run by run: a cut-short run keeps its rows
: >"$RAW"
started=$(date -u +%Y-%m-%dT%H:%MZ)
for round in $(seq 1 "$ROUNDS"); do
  order=$CONFIGS
  [ $((round % 2)) = 0 ] && order=$(echo "$CONFIGS" | tr ' ' '\n' | tac | tr '\n' ' ')
  for rows in $ROWS; do
    for config in $order; do
      load=$(cut -d' ' -f1 /proc/loadavg)
      note "round $round, $config, $rows rows (load $load)"
      # shellcheck disable=SC2046
      "$BIN" $(args_of "$config") --label="$config" --rows="$rows" --dir="$WORK/store" |
        tail -n +2 | sed "s/^/$round\t$load\t/" >>"$RAW"
    done
  done
done
summarize "$RAW" "$started"
