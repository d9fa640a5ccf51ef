#!/usr/bin/env bash
# audit_catchup.sh — how fast a restarted `pgparity audit` catches up a
# backlog, its per-change checks against the target on, compared with
# pg_recvlogical draining the same backlog from a slot at the same point
# (issue 15: audit >= 0.95x pg_recvlogical on every workload).
#
#   bench/audit_catchup.sh                                  # ~10 min on 2 cores
#   BENCH_WORKLOADS=bulk BENCH_ROUNDS=5 bench/audit_catchup.sh
#   BENCH_SECONDS=20 BENCH_BULK_ROWS=200000 bench/audit_catchup.sh   # smaller
#
# On a PostgreSQL 14 -> 16 pair (bench/lib.sh: free ports, temp dirs gone at
# exit), pgbench -i -s BENCH_SCALE, a keyed table `bulk`, publication and
# subscription; then per workload (simple = pgbench -N, tpcb = pgbench's
# TPC-B-like script, both -T BENCH_SECONDS -c BENCH_CLIENTS; bulk = one
# BENCH_BULK_ROWS-row INSERT ... SELECT generate_series):
#   1. per round, an audit's first run (its slot, the bootstrap, the
#      checkpoint in its state dir), stopped by SIGTERM; its slot copied
#      twice for pg_recvlogical (pg_copy_logical_replication_slot: the same
#      point);
#   2. the workload builds the backlog; END = pg_current_wal_lsn() after it;
#      the subscription is waited for until its slot confirmed END, so the
#      target has applied the backlog before anything is timed;
#   3. per round, in rotating order, one at a time:
#        pgparity audit --state-dir DIR --slot S --until-lsn END --quiet
#          (restarted from its checkpoint; exits once every commit up to END
#          is in its shadow and the per-change checks compared the rows they
#          changed on the target — so it includes loading the checkpoint,
#          the per-change checks and the final checkpoint)
#        pg_recvlogical --start --endpos END -f - -o proto_version=2
#          -o publication_names=my_publication -o streaming=on -o messages=true
#          | cat > /dev/null
#        the same with -f /dev/null
#      (audit asks the PostgreSQL 14 source for protocol 2, streaming and
#      messages: the same options). pg_recvlogical's two outputs: which one
#      drains faster depends on the backlog (bench/lib.sh, recvlogical_run;
#      bench/README.md, "pg_recvlogical's output"), and the baseline is the
#      faster of the two in the round;
#   4. prints per round the wall seconds of the three, the ratio
#      recvlogical/audit (the faster pg_recvlogical), the 1-minute load
#      average, audit's rows compared by the per-change checks; per workload
#      the median ratio and its spread. Fails when a per-change check finds
#      a divergent row.
#
# Knobs: BUILD_DIR (./build), BENCH_SCALE (10), BENCH_SECONDS (30),
# BENCH_CLIENTS (2), BENCH_BULK_ROWS (1000000), BENCH_ROUNDS (3, at most 3:
# three slots a round, the server has 10), BENCH_WORKLOADS ("simple tpcb
# bulk"), BENCH_AUDIT_OPTS (more audit options, e.g. "--interval 5"),
# BENCH_RESULTS (also append the markdown tables to this file), BENCH_KEEP.
# Exit: 0 ran (whether or not the target was met), 1 a step failed, 2 usage.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NAME=audit_catchup
. "$ROOT/bench/lib.sh"
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
PGPARITY=${PGPARITY:-$BUILD_DIR/cli/pgparity}
BENCH_SCALE=${BENCH_SCALE:-10}
BENCH_SECONDS=${BENCH_SECONDS:-30}
BENCH_CLIENTS=${BENCH_CLIENTS:-2}
BENCH_BULK_ROWS=${BENCH_BULK_ROWS:-1000000}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_WORKLOADS=${BENCH_WORKLOADS:-simple tpcb bulk}
BENCH_AUDIT_OPTS=${BENCH_AUDIT_OPTS:-}
BENCH_RESULTS=${BENCH_RESULTS:-}

for v in BENCH_SCALE BENCH_SECONDS BENCH_CLIENTS BENCH_BULK_ROWS BENCH_ROUNDS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] && [ "${!v}" -ge 1 ] || usage "$v=${!v} is not a positive number"
done
# env/pgenv.sh starts servers with max_replication_slots=10; the subscription has one.
[ "$BENCH_ROUNDS" -le 3 ] || usage "BENCH_ROUNDS=$BENCH_ROUNDS: at most 3 (three slots a round, 10 on the server)"
for w in $BENCH_WORKLOADS; do
  case $w in simple | tpcb | bulk) ;; *) usage "unknown workload '$w' (simple tpcb bulk)" ;; esac
done
[ -x "$PGPARITY" ] || usage "$PGPARITY not found: build first (make build, or BUILD_DIR=...)"
"$PGPARITY" audit --help 2>&1 | grep -q -- '--until-lsn' || usage "$PGPARITY audit has no --until-lsn: build a newer pgparity"
for tool in pgbench psql pg_recvlogical; do
  command -v "$tool" >/dev/null || usage "$tool not found (Debian: apt-get install postgresql-client)"
done

bench_init
start_pair
note "PostgreSQL 14 on $SPORT, 16 on $TPORT; pgbench -i -s $BENCH_SCALE"
pgbench_pair "$BENCH_SCALE"
qs "CREATE TABLE bulk (id bigint PRIMARY KEY, pad text)" >/dev/null
qt "CREATE TABLE bulk (id bigint PRIMARY KEY, pad text)" >/dev/null
subscribe_pair 900

audit_cmd() { # SLOT DIR [OPTIONS...]: the audit process itself (exec: a signal reaches pgparity)
  local slot=$1 dir=$2
  shift 2
  # shellcheck disable=SC2086  # BENCH_AUDIT_OPTS is a list of options
  exec "$PGPARITY" audit --source "$SRC" --target "$TGT" --state-dir "$dir" --slot "$slot" --quiet \
    $BENCH_AUDIT_OPTS "$@"
}

# An audit's first run: its slot, the bootstrap and the first checkpoint
# (written before it streams), then a stop as an operator would (SIGTERM).
audit_first_run() { # SLOT DIR
  local pid
  (audit_cmd "$1" "$2") >"$2.first.log" 2>&1 &
  pid=$!
  until [ -e "$2/shadow.ckpt" ]; do
    kill -0 "$pid" 2>/dev/null || { cat "$2.first.log" >&2; die "audit's first run ($1) ended"; }
    sleep 0.2
  done
  kill -TERM "$pid"
  wait "$pid" || { cat "$2.first.log" >&2; die "audit's first run ($1) failed on SIGTERM"; }
}

build_backlog() { # WORKLOAD -> END
  local w=$1
  case $w in
    simple) pgbench -n -N -c "$BENCH_CLIENTS" -j "$BENCH_CLIENTS" -T "$BENCH_SECONDS" "$SRC" >"$WORK/$w.log" 2>&1 ;;
    tpcb) pgbench -n -c "$BENCH_CLIENTS" -j "$BENCH_CLIENTS" -T "$BENCH_SECONDS" "$SRC" >"$WORK/$w.log" 2>&1 ;;
    bulk) qs "INSERT INTO bulk SELECT g, md5(g::text) FROM generate_series(1, $BENCH_BULK_ROWS) g" >"$WORK/$w.log" 2>&1 ;;
  esac || { cat "$WORK/$w.log" >&2; die "workload $w failed"; }
  END=$(qs "SELECT pg_current_wal_lsn()")
}

await_subscription() { # LSN
  local t0
  t0=$(now)
  until sub_slot_flush_reached "$1"; do
    [ "$(awk -v s="$(elapsed "$t0")" 'BEGIN { print (s > 1800) }')" = 0 ] || die "the subscription did not reach $1 in 1800 s"
    sleep 0.2
  done
  note "the subscription applied the backlog ($(elapsed "$t0") s after it ended)"
}

# recv_s / recv_cpu: the faster of pg_recvlogical's two drains (pipe_s, devnull_s).
ROWS=() # "workload|round|first|load1|audit_s|audit_cpu|recv_s|recv_cpu|compared|phase_s|pipe_s|devnull_s"
timed() { # LOG CMD... -> "wall cpu" on stdout (bash time; CPU = user + sys); fails as CMD does
  local log=$1 tf=$WORK/time TIMEFORMAT='%3R %3U %3S' w u s
  shift
  sync
  { time "$@" >"$log" 2>&1; } 2>"$tf" || { cat "$log" >&2; return 1; }
  read -r w u s <"$tf"
  awk -v w="$w" -v u="$u" -v s="$s" 'BEGIN { printf "%s %.3f\n", w, u + s }'
}

run_audit() { (audit_cmd "$@"); }
recv_pipe() { BENCH_RECV_OUTPUT=pipe recvlogical_drain "$@"; }
recv_devnull() { BENCH_RECV_OUTPUT=devnull recvlogical_drain "$@"; }

# Seconds from audit's "streaming slot" line to its "caught up" line: the
# catch-up itself, without the start (catalogs, loading the checkpoint) and
# the stop (the last checkpoint).
# From `streaming slot` to `caught up`. The checkpoint's rows load after
# the first (e53e4a7: while the stream starts), so the phase includes them.
catchup_phase() { # LOG
  awk 'function t(s, a) { split(s, a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
       /streaming slot/ && s == "" { s = t($2) } /caught up:/ { c = t($2) }
       END { if (s == "" || c == "") exit 1; printf "%.3f\n", c - s }' "$1"
}

round() { # WORKLOAD ROUND
  local w=$1 r=$2 first load kind a=() rp=() rd=() rl=() compared divergent phase
  local alog=$WORK/audit-$w-$r.log kinds=(audit pipe devnull)
  # Rotated by round: each drain goes first once in three rounds.
  kinds=("${kinds[@]:$(((r - 1) % 3))}" "${kinds[@]:0:$(((r - 1) % 3))}")
  first=${kinds[0]}
  load=$(load1)
  for kind in "${kinds[@]}"; do
    case $kind in
      audit) a=($(timed "$alog" run_audit "audit_${w}_$r" "$WORK/state-$w-$r" --until-lsn "$END")) ||
        die "$w round $r: audit --until-lsn $END failed" ;;
      pipe) rp=($(timed "$WORK/recv-$w-$r.log" recv_pipe "recv_${w}_$r" "$END" "$WORK/recv-$w-$r.out")) ||
        die "$w round $r: pg_recvlogical failed" ;;
      devnull) rd=($(timed "$WORK/recvnull-$w-$r.log" recv_devnull "recvnull_${w}_$r" "$END" "$WORK/recvnull-$w-$r.out")) ||
        die "$w round $r: pg_recvlogical -f /dev/null failed" ;;
    esac
  done
  rl=("${rp[@]}")
  [ "$(awk -v p="${rp[0]}" -v d="${rd[0]}" 'BEGIN { print (d < p) }')" = 1 ] && rl=("${rd[@]}")
  phase=$(catchup_phase "$alog") || { cat "$alog" >&2; die "$w round $r: no 'streaming slot' or 'caught up' line in audit's log"; }
  compared=$(sed -n 's/.*per-change checks: \([0-9]*\) changed rows compared.*/\1/p' "$alog" | tail -1)
  divergent=$(sed -n 's/.*compared on the target, \([0-9]*\) divergent.*/\1/p' "$alog" | tail -1)
  [ -n "$compared" ] || { cat "$alog" >&2; die "$w round $r: audit did not stop with its per-change checks' count"; }
  [ "$divergent" = 0 ] || { cat "$alog" >&2; die "$w round $r: audit's per-change checks found $divergent divergent rows"; }
  ROWS+=("$w|$r|$first|$load|${a[0]}|${a[1]}|${rl[0]}|${rl[1]}|$compared|$phase|${rp[0]}|${rd[0]}")
  note "$w round $r ($first first, load $load): audit ${a[0]} s (CPU ${a[1]} s, $compared rows compared), pg_recvlogical ${rp[0]} s through a pipe, ${rd[0]} s to /dev/null: catch-up phase $phase s; ratio $(awk -v a="${a[0]}" -v b="${rl[0]}" 'BEGIN { printf "%.3f", b / a }')"
}

run_workload() { # WORKLOAD
  local w=$1 r start_lsn wal
  note "workload $w: $BENCH_ROUNDS audits' first runs"
  for r in $(seq "$BENCH_ROUNDS"); do
    audit_first_run "audit_${w}_$r" "$WORK/state-$w-$r"
    qs "SELECT pg_copy_logical_replication_slot('audit_${w}_$r', 'recv_${w}_$r'),
               pg_copy_logical_replication_slot('audit_${w}_$r', 'recvnull_${w}_$r')" >/dev/null
  done
  start_lsn=$(qs "SELECT min(confirmed_flush_lsn) FROM pg_replication_slots WHERE slot_name LIKE 'audit\_${w}\_%'")
  note "workload $w: building the backlog"
  build_backlog "$w"
  wal=$(qs "SELECT pg_wal_lsn_diff('$END', '$start_lsn')::bigint")
  BACKLOG[$w]="$((wal / 1048576)) MiB of WAL ($start_lsn .. $END)"
  [ "$w" = bulk ] && BACKLOG[$w]+=", $BENCH_BULK_ROWS rows in one transaction" ||
    BACKLOG[$w]+=", $(awk '/number of transactions actually processed/ { print $NF }' "$WORK/$w.log" | cut -d/ -f1) transactions in $BENCH_SECONDS s"
  note "workload $w: backlog ${BACKLOG[$w]}"
  await_subscription "$END"
  qs "CHECKPOINT" >/dev/null
  for r in $(seq "$BENCH_ROUNDS"); do round "$w" "$r"; done
  for r in $(seq "$BENCH_ROUNDS"); do
    qs "SELECT pg_drop_replication_slot('audit_${w}_$r'), pg_drop_replication_slot('recv_${w}_$r'),
               pg_drop_replication_slot('recvnull_${w}_$r')" >/dev/null
    rm -rf "$WORK/state-$w-$r"
  done
}

declare -A BACKLOG
for w in $BENCH_WORKLOADS; do run_workload "$w"; done

report() {
  echo "| workload | round | first | load1 | audit s (CPU s) | of which catch-up s | pg_recvlogical through a pipe s | to /dev/null s | the faster (CPU s) | ratio recvlogical/audit | ratio recvlogical/catch-up | rows compared by the per-change checks |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}" | awk -F'|' '{ printf "| %s | %s | %s | %s | %.2f (%.2f) | %.2f | %.2f | %.2f | %.2f (%.2f) | %.3f | %.3f | %s |\n", $1, $2, $3, $4, $5, $6, $10, $11, $12, $7, $8, $7 / $5, $7 / $10, $9 }'
  echo
  echo "| workload | backlog | audit s | catch-up s | pg_recvlogical through a pipe s | to /dev/null s | ratio recvlogical/audit (the faster) | ratio recvlogical/catch-up | target 0.95 (whole audit) |"
  echo "|---|---|---|---|---|---|---|---|---|"
  local w m
  for w in $BENCH_WORKLOADS; do
    m=$(spread "$w" '$7 / $5')
    echo "| $w | ${BACKLOG[$w]} | $(spread "$w" '$5') | $(spread "$w" '$10') | $(spread "$w" '$11') | $(spread "$w" '$12') | $m | $(spread "$w" '$7 / $10') | $(awk -v m="${m%% *}" 'BEGIN { print (m >= 0.95) ? "met" : "MISSED" }') |"
  done
}
# "median [min-max]" of EXPR (awk, over the fields of ROWS) for WORKLOAD's rounds.
spread() { # WORKLOAD EXPR
  local v
  v=$(printf '%s\n' "${ROWS[@]}" | awk -F'|' -v w="$1" "\$1 == w { printf \"%.3f\\n\", $2 }" | sort -g)
  # shellcheck disable=SC2086
  echo "$(median $v) [$(head -1 <<<"$v")-$(tail -1 <<<"$v")]"
}

{
  echo
  echo "## audit_catchup: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, PostgreSQL $(qs 'SHOW server_version') -> $(qt 'SHOW server_version'), scale $BENCH_SCALE, $BENCH_ROUNDS rounds${BENCH_AUDIT_OPTS:+, audit $BENCH_AUDIT_OPTS}"
  echo
  report
} | tee -a "${BENCH_RESULTS:-/dev/null}"
