#!/usr/bin/env bash
# cutover.sh — `pgparity cutover` on the local environment (make cutover,
# make cutover-load): PAUSE PgBouncer's appdb, fence the source, drain,
# check, copy the sequences, repoint appdb at the target and RESUME, with
# the canary writing through PgBouncer the whole time.
#
#   cutover.sh          # the cutover alone
#   cutover.sh --load   # the same while pgbench writes through PgBouncer
#
# Configured by the environment (the Makefile sets all of them):
#   PGPARITY            the binary
#   CUTOVER_SOURCE_DSN  the source; the fence needs the database's owner or a
#   CUTOVER_TARGET_DSN  superuser, hence postgres in this environment
#   PGBOUNCER_ADMIN_DSN PgBouncer's admin console (dbname=pgbouncer)
#   PGBOUNCER_CONFIG    the file holding appdb's [databases] entry
#   CANARY_DSN          appdb through PgBouncer (the canary; the load)
#   CUTOVER_REPORT      the JSON report
#   CUTOVER_ARGS        more options for pgparity cutover, word-split
#   LOAD_SECONDS (15), LOAD_CLIENTS (4), LOAD_WARMUP (2): --load's pgbench
#
# pgbench has no way to stop early and still print its summary (SIGINT
# kills it silently), so the load runs for LOAD_SECONDS: started
# LOAD_WARMUP seconds before the cutover, it must still be running when the
# cutover returns (else this fails and asks for a larger LOAD_SECONDS), and
# its remaining seconds write to the target through the switched PgBouncer.
# Exit: the cutover's (0 switched, see docs/cli.md), or 1 when the load
# failed or ended too early, 2 configuration error.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
NAME=cutover
die() {
  echo "$NAME: error: $*" >&2
  exit "${code:-1}"
}

load=0
case "${1:-}" in
  "") ;;
  --load) load=1 ;;
  *) code=2 die "usage: cutover.sh [--load]" ;;
esac
for v in PGPARITY CUTOVER_SOURCE_DSN CUTOVER_TARGET_DSN PGBOUNCER_ADMIN_DSN PGBOUNCER_CONFIG CANARY_DSN CUTOVER_REPORT; do
  [ -n "${!v:-}" ] || code=2 die "$v is not set (make cutover sets it)"
done
LOAD_SECONDS=${LOAD_SECONDS:-15}
LOAD_CLIENTS=${LOAD_CLIENTS:-4}
LOAD_WARMUP=${LOAD_WARMUP:-2}
for v in LOAD_SECONDS LOAD_CLIENTS LOAD_WARMUP; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || code=2 die "$v=${!v} is not a number"
done
[ -x "$PGPARITY" ] || code=2 die "$PGPARITY not found; make build-cli"
[ -f "$PGBOUNCER_CONFIG" ] ||
  code=2 die "no PgBouncer config $PGBOUNCER_CONFIG; start the environment first (make up setup-replication)"
mkdir -p "$(dirname "$CUTOVER_REPORT")"
rm -f "$CUTOVER_REPORT"

# The load's password: pgbench reads PGPASSWORD (the DSN may carry one too).
export PGPASSWORD=${PGPASSWORD:-postgres}
work=$(mktemp -d "${TMPDIR:-/tmp}/pgparity-cutover.XXXXXX")
load_pid=""
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  if [ -n "$load_pid" ]; then kill "$load_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$load" = 1 ]; then
  command -v pgbench >/dev/null || code=2 die "pgbench not found (Debian: apt-get install postgresql-client)"
  echo "$NAME: pgbench -c $LOAD_CLIENTS -T $LOAD_SECONDS through PgBouncer (env/cutover-load.sql), cutover in ${LOAD_WARMUP} s"
  pgbench -n -f "$here/cutover-load.sql" -c "$LOAD_CLIENTS" -T "$LOAD_SECONDS" \
    -l --log-prefix="$work/txn" "$CANARY_DSN" >"$work/pgbench.out" 2>&1 &
  load_pid=$!
  sleep "$LOAD_WARMUP"
  kill -0 "$load_pid" 2>/dev/null || { cat "$work/pgbench.out" >&2; die "pgbench ended before the cutover began"; }
fi

set +e
# shellcheck disable=SC2086 # CUTOVER_ARGS is a list of options
"$PGPARITY" cutover --source "$CUTOVER_SOURCE_DSN" --target "$CUTOVER_TARGET_DSN" \
  --pgbouncer "$PGBOUNCER_ADMIN_DSN" --pgbouncer-config "$PGBOUNCER_CONFIG" \
  --canary "$CANARY_DSN" --report "$CUTOVER_REPORT" ${CUTOVER_ARGS:-}
rc=$?
set -e
echo "$NAME: report $CUTOVER_REPORT (exit $rc)"
[ "$load" = 1 ] || exit "$rc"

still_running=0
kill -0 "$load_pid" 2>/dev/null && still_running=1
set +e
wait "$load_pid"
load_rc=$?
set -e
load_pid=""
failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$work/pgbench.out")
done_txn=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/pgbench.out")
aborted=$(grep -c 'aborted in command' "$work/pgbench.out" || true)
# Per-transaction log: client, txn, latency (us), script, epoch s, us.
longest=$(cat "$work"/txn* 2>/dev/null | awk '$3 > m { m = $3 } END { printf "%.1f", m / 1000 }')
echo "$NAME: load (pgbench, $LOAD_CLIENTS clients, ${LOAD_SECONDS} s): ${done_txn:-?} transactions, ${failed:-?} failed, $aborted clients aborted, longest transaction $longest ms, pgbench exit $load_rc"
if [ "$load_rc" != 0 ] || [ "$aborted" != 0 ]; then
  grep -iE 'error|abort' "$work/pgbench.out" | head -5 >&2
  die "the load failed (pgbench exit $load_rc, $aborted clients aborted)"
fi
[ "$still_running" = 1 ] ||
  die "pgbench ended before the cutover did: its numbers do not cover the whole cutover; raise LOAD_SECONDS"
exit "$rc"
