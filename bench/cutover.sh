#!/usr/bin/env bash
# cutover.sh — pgparity cutover under pgbench load through PgBouncer, at two
# database sizes: the write stall the application sees, the window (PAUSE
# to RESUME) and each phase's seconds. The point: the window does not grow
# with the database (the final check costs the changes since the pre-check,
# not the tables' size; the full scan is the pre-check's, outside the window).
#
#   bench/cutover.sh                              # scales 1 and 20, 3 rounds (~4 min on 2 cores)
#   BENCH_SCALES="1 50" BENCH_ROUNDS=5 bench/cutover.sh
#
# Each round, for each scale (the order alternates round by round):
#   1. a fresh environment (env/local.sh: PostgreSQL 14 source, 16 target,
#      PgBouncer's appdb -> source) on free ports under a temp dir;
#   2. pgbench -i -s SCALE on the source, the same tables empty on the
#      target (-I dtp), pgbench_history given a bigserial key on both
#      (the cutover's preflight refuses a keyless table), then
#      env/jobs/setup-replication.sh (publication FOR
#      ALL TABLES, subscription), which waits for the initial copy;
#   3. pgbench -N -c BENCH_CLIENTS through PgBouncer (appdb), started
#      BENCH_WARMUP s before the cutover and running past its end;
#   4. pgparity cutover --canary (appdb through PgBouncer) --report, as
#      postgres (the fence needs the database's owner or a superuser);
#   5. the report's canary (longest stall, failed, in doubt, missing on the
#      target), window and phases; pgbench's failed transactions and aborted
#      clients; then the environment is destroyed.
# Prints one line per round and a table per scale: median [min-max].
# Exit: 0 every round switched with no failed/missing write, 1 otherwise
# or a step failed, 2 usage.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NAME=cutover
. "$ROOT/bench/lib.sh"
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
PGPARITY=${PGPARITY:-$BUILD_DIR/cli/pgparity}
BENCH_SCALES=${BENCH_SCALES:-1 20}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_CLIENTS=${BENCH_CLIENTS:-4}
BENCH_WARMUP=${BENCH_WARMUP:-2}
BENCH_RESULTS=${BENCH_RESULTS:-} # also append the results table (markdown) here

for v in BENCH_ROUNDS BENCH_CLIENTS BENCH_WARMUP; do
  [[ "${!v}" =~ ^[0-9]+$ ]] && [ "${!v}" -ge 1 ] || usage "$v=${!v} is not a positive number"
done
for s in $BENCH_SCALES; do [[ "$s" =~ ^[0-9]+$ ]] && [ "$s" -ge 1 ] || usage "BENCH_SCALES: '$s' is not a positive number"; done
[ -x "$PGPARITY" ] || usage "$PGPARITY not found: build first (make build-cli, or BUILD_DIR=...)"
for tool in pgbench psql python3; do
  command -v "$tool" >/dev/null || usage "$tool not found (Debian: apt-get install postgresql-client python3)"
done

bench_init
export PGPASSWORD=postgres
ENVS=()
cleanup_envs() {
  local d
  for d in "${ENVS[@]}"; do RUN_DIR=$d "$ROOT/env/local.sh" down >/dev/null 2>&1 || true; done
}
trap 'cleanup_envs; bench_cleanup' EXIT

free_port() { # -> a port nobody listens on, outside the demo's 5432/5433/6432
  local p
  for _ in $(seq 20); do
    p=$((20000 + RANDOM % 20000))
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  die "no free port"
}

# Load seconds: long enough to outlast the cutover (pgbench prints its
# summary only when -T ends; SIGINT kills it silently). The first round of
# a scale guesses; later rounds use 1.5 x the longest cutover seen + 3 s.
declare -A longest_cutover

round() { # ROUND SCALE
  local r=$1 scale=$2 dir sport tport bport
  dir=$WORK/env-$scale-$r
  ENVS+=("$dir")
  sport=$(free_port) tport=$(free_port) bport=$(free_port)
  local env=(RUN_DIR="$dir" SOURCE_PORT="$sport" TARGET_PORT="$tport" PGBOUNCER_PORT="$bport")
  env "${env[@]}" "$ROOT/env/local.sh" up >"$WORK/up.log" 2>&1 || { cat "$WORK/up.log" >&2; die "local.sh up failed"; }
  local src="host=127.0.0.1 port=$sport dbname=sourcedb user=postgres password=postgres"
  local tgt="host=127.0.0.1 port=$tport dbname=targetdb user=postgres password=postgres"
  local app="host=127.0.0.1 port=$bport dbname=appdb user=postgres password=postgres"
  pgbench -i -q -s "$scale" "$src" >"$WORK/init.log" 2>&1 || { cat "$WORK/init.log" >&2; die "pgbench -i failed"; }
  pgbench -i -q -I dtp -s "$scale" "$tgt" >>"$WORK/init.log" 2>&1 || { cat "$WORK/init.log" >&2; die "pgbench -i on the target failed"; }
  # pgbench_history has no key: the cutover's preflight refuses it (its
  # UPDATEs would fail once published). A bigserial key, on both sides.
  psql -X -q -v ON_ERROR_STOP=1 -c "ALTER TABLE pgbench_history ADD COLUMN hid bigserial PRIMARY KEY" "$src" >/dev/null
  psql -X -q -v ON_ERROR_STOP=1 -c "ALTER TABLE pgbench_history ADD COLUMN hid bigserial PRIMARY KEY" "$tgt" >/dev/null
  local t0=$SECONDS
  env "${env[@]}" WAIT_TIMEOUT=1800 "$ROOT/env/local.sh" job setup-replication >"$WORK/setup.log" 2>&1 ||
    { cat "$WORK/setup.log" >&2; die "setup-replication failed"; }
  local copy_s=$((SECONDS - t0))

  local load_s=$((BENCH_WARMUP + 10 + scale))
  [ -n "${longest_cutover[$scale]:-}" ] &&
    load_s=$(awk -v w="$BENCH_WARMUP" -v c="${longest_cutover[$scale]}" 'BEGIN { printf "%d", w + 1.5 * c + 3 }')
  pgbench -n -N -c "$BENCH_CLIENTS" -T "$load_s" "$app" >"$WORK/pgbench.out" 2>&1 &
  local load=$!
  sleep "$BENCH_WARMUP"
  kill -0 "$load" 2>/dev/null || { cat "$WORK/pgbench.out" >&2; die "pgbench ended before the cutover"; }
  local report=$WORK/report-$scale-$r.json rc=0 c0=$SECONDS loadavg
  loadavg=$(cut -d' ' -f1 /proc/loadavg) # other work on the machine shows in the window
  "$PGPARITY" cutover --source "$src" --target "$tgt" \
    --pgbouncer "host=127.0.0.1 port=$bport dbname=pgbouncer user=postgres password=postgres" \
    --pgbouncer-config "$dir/pgbouncer/databases.ini" --canary "$app" --report "$report" \
    --timeout 600 >"$WORK/cutover.out" 2>"$WORK/cutover.err" || rc=$?
  local cut_s=$((SECONDS - c0)) outlasted=1
  kill -0 "$load" 2>/dev/null || outlasted=0
  local load_rc=0
  wait "$load" || load_rc=$?
  [ "$rc" = 0 ] || { cat "$WORK/cutover.out" "$WORK/cutover.err" >&2; die "scale $scale round $r: cutover exited $rc"; }
  [ "$outlasted" = 1 ] || die "scale $scale round $r: pgbench (-T $load_s) ended before the cutover (${cut_s} s)"
  [ "${longest_cutover[$scale]:-0}" -ge "$cut_s" ] || longest_cutover[$scale]=$cut_s
  local failed aborted
  failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$WORK/pgbench.out")
  aborted=$(grep -c 'aborted in command' "$WORK/pgbench.out" || true)
  python3 - "$report" "$scale" "$r" "$copy_s" "${failed:-?}" "$aborted" "$load_rc" "$loadavg" >>"$WORK/rounds.tsv" <<'EOF'
import json, sys
rep, scale, rnd, copy_s, failed, aborted, load_rc, loadavg = sys.argv[1:]
r = json.load(open(rep))
c = r["canary"]
ph = {p["name"]: p["seconds"] for p in r["phases"]}
row = [scale, rnd, r["status"], copy_s, c["longest_stall_ms"], c["failed"], c["in_doubt"],
       c["check"]["missing"], c["acknowledged"], r["window_seconds"], failed, aborted, load_rc]
row += [ph.get(n, "") for n in ("gates", "catch_up", "pre_check", "fence", "drain", "final_check", "sequences", "switch")]
row += [loadavg, r["final_check_rows"]]
print("\t".join(str(x) for x in row))
EOF
  note "scale $scale round $r: $(tail -n 1 "$WORK/rounds.tsv" | awk -F'\t' '{ printf "%s, stall %.0f ms, canary failed %s in doubt %s missing %s, window %.3f s, pgbench failed %s aborted %s (initial copy %s s, load average %s)", $3, $5, $6, $7, $8, $10, $11, $12, $4, $22 }')"
  RUN_DIR=$dir "$ROOT/env/local.sh" down >/dev/null 2>&1 || true
}

: >"$WORK/rounds.tsv"
scales=($BENCH_SCALES)
for r in $(seq "$BENCH_ROUNDS"); do
  order=("${scales[@]}")
  [ $((r % 2)) = 0 ] && order=($(printf '%s\n' "${scales[@]}" | tac))
  for s in "${order[@]}"; do round "$r" "$s"; done
done

python3 - "$WORK/rounds.tsv" "$BENCH_CLIENTS" <<'EOF' | tee -a "${BENCH_RESULTS:-/dev/null}"
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
clients = sys.argv[2]
phases = ["gates", "catch_up", "pre_check", "fence", "drain", "final_check", "sequences", "switch"]
cols = {"stall_ms": 4, "failed": 5, "in_doubt": 6, "missing": 7, "acknowledged": 8, "window_s": 9,
        "pgbench_failed": 10, "pgbench_aborted": 11}
cols.update({p: 13 + i for i, p in enumerate(phases)})
cols["loadavg"] = 21
cols["final_rows"] = 22
scales = sorted({r[0] for r in rows}, key=int)
def cell(vals, fmt):
    v = [float(x) if x not in ("", "?") else float("nan") for x in vals]
    return f"{fmt(statistics.median(v))} [{fmt(min(v))}-{fmt(max(v))}]"
ms = lambda x: f"{x:.0f}"
sec = lambda x: f"{x:.3f}"
n = lambda x: f"{x:g}"
accounts = {s: int(s) * 100000 for s in scales}
print()
print(f"| pgbench -N -c {clients} through PgBouncer; median [min-max] of {len(rows) // len(scales)} rounds | "
      + " | ".join(f"scale {s} ({accounts[s]:,} accounts)" for s in scales) + " |")
print("|---|" + "---|" * len(scales))
def line(label, key, fmt):
    print(f"| {label} | " + " | ".join(cell([r[cols[key]] for r in rows if r[0] == s], fmt) for s in scales) + " |")
line("**canary: longest write stall (ms)**", "stall_ms", ms)
line("canary: acknowledged writes", "acknowledged", n)
for key in ("failed", "in_doubt", "missing"):
    line(f"canary: {key.replace('_', ' ')}", key, n)
line("pgbench: failed transactions", "pgbench_failed", n)
line("pgbench: aborted clients", "pgbench_aborted", n)
line("**window, PAUSE to RESUME (s)**", "window_s", sec)
line("final check: rows compared (changed since the last change round before PAUSE)", "final_rows", n)
for p in phases:
    line(f"phase {p} (s)", p, sec)
line("machine: 1-minute load average at the cutover's start", "loadavg", lambda x: f"{x:.1f}")
# The point, as ratios of the same round: largest scale / smallest scale.
if len(scales) > 1:
    lo, hi = scales[0], scales[-1]
    def ratio(key):
        by = {(r[0], r[1]): float(r[cols[key]]) for r in rows}
        return [by[(hi, k)] / by[(lo, k)] for (s, k) in by if s == hi and (lo, k) in by and by[(lo, k)] > 0]
    for label, key in (("**window**", "window_s"), ("pre_check (the full scan, outside the window)", "pre_check")):
        v = ratio(key)
        if v:
            print(f"| ratio scale {hi} / scale {lo}, same round: {label} | "
                  f"{statistics.median(v):.2f} [{min(v):.2f}-{max(v):.2f}] (rows: {int(hi) // int(lo)}x) |" + " |" * (len(scales) - 1))
EOF

bad=$(awk -F'\t' '$3 != "switched" || $6 != 0 || $8 != 0 || $11 != 0 || $12 != 0' "$WORK/rounds.tsv" | wc -l)
[ "$bad" = 0 ] || die "$bad round(s) not switched cleanly (failed, missing or aborted writes): see the table"
