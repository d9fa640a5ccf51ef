#!/usr/bin/env bash
# local.sh — the environment's local mode (no Docker): a PostgreSQL 14
# source and a PostgreSQL 16 target under $RUN_DIR, the same databases,
# settings and ports as docker-compose.yml. The Makefile calls this with
# MODE=local (the default).
#
#   local.sh up | down | logs | status | job NAME
#
# RUN_DIR (default ./.run), SOURCE_PORT (5432), TARGET_PORT (5433).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
RUN_DIR=${RUN_DIR:-$top/.run}
SOURCE_PORT=${SOURCE_PORT:-5432}
TARGET_PORT=${TARGET_PORT:-5433}
PGPARITY_PG_USER=${PGPARITY_PG_USER:-pgparity}
export PGPASSWORD=${PGPASSWORD:-postgres}
export PGUSER=${PGUSER:-postgres}
# NOTICEs of the idempotent init scripts ("already exists, skipping") are noise.
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

die() {
  echo "local: error: $*" >&2
  exit "${code:-1}"
}

# As root the servers run as an unprivileged user, which must be able to
# reach the run directory. A checkout under a closed directory (/root, a
# mktemp -d) gets its data under /var/tmp instead, linked from RUN_DIR.
prepare_run_dir() {
  [ -e "$RUN_DIR" ] && return 0
  local parent
  parent=$(dirname "$RUN_DIR")
  mkdir -p "$parent"
  if [ "$(id -u)" = 0 ] && id "$PGPARITY_PG_USER" >/dev/null 2>&1 &&
    ! runuser -u "$PGPARITY_PG_USER" -- test -x "$parent"; then
    local alt
    alt=/var/tmp/pgparity/$(echo "$RUN_DIR" | sha1sum | cut -c1-12)
    mkdir -p "$alt"
    chmod 755 /var/tmp/pgparity "$alt"
    ln -sfn "$alt" "$RUN_DIR"
  else
    mkdir -p "$RUN_DIR"
  fi
}

psql_at() { # PORT DB args...
  local port=$1 db=$2
  shift 2
  psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -d "$db" "$@"
}

up() {
  # The user is needed before prepare_run_dir can test what it reaches.
  if [ "$(id -u)" = 0 ] && ! id "$PGPARITY_PG_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$PGPARITY_PG_USER"
  fi
  prepare_run_dir
  "$here/pgenv.sh" start 14 "$RUN_DIR/source" "$SOURCE_PORT" sourcedb
  "$here/pgenv.sh" start 16 "$RUN_DIR/target" "$TARGET_PORT" targetdb
  psql_at "$SOURCE_PORT" sourcedb -f "$top/sql/init-source.sql" >/dev/null ||
    die "sql/init-source.sql failed on the source; read $RUN_DIR/source/server.log"
  psql_at "$TARGET_PORT" targetdb -f "$top/sql/init-target.sql" >/dev/null ||
    die "sql/init-target.sql failed on the target; read $RUN_DIR/target/server.log"
  echo "local: source PostgreSQL 14 at 127.0.0.1:$SOURCE_PORT/sourcedb, target PostgreSQL 16 at 127.0.0.1:$TARGET_PORT/targetdb (user postgres, password postgres)"
}

down() {
  local real
  for side in target source; do
    "$here/pgenv.sh" stop "$RUN_DIR/$side" || true
  done
  if [ -L "$RUN_DIR" ]; then
    real=$(readlink -f "$RUN_DIR")
    rm -rf "$real"
    rm -f "$RUN_DIR"
  else
    rm -rf "$RUN_DIR"
  fi
  echo "local: servers stopped and $RUN_DIR removed"
}

logs() {
  local f found=0
  for f in "$RUN_DIR/source/server.log" "$RUN_DIR/target/server.log"; do
    [ -f "$f" ] || continue
    found=1
    echo "==> $f <=="
    tail -n "${LOG_LINES:-50}" "$f"
  done
  [ "$found" = 1 ] || die "no server logs under $RUN_DIR; run 'make up' first"
}

status() {
  echo "== source (PostgreSQL 14, 127.0.0.1:$SOURCE_PORT/sourcedb)"
  psql_at "$SOURCE_PORT" sourcedb -f "$top/sql/status-source.sql" ||
    code=3 die "cannot query the source on port $SOURCE_PORT; is it up? (make up; make logs)"
  echo "== target (PostgreSQL 16, 127.0.0.1:$TARGET_PORT/targetdb)"
  psql_at "$TARGET_PORT" targetdb -f "$top/sql/status-target.sql" ||
    code=3 die "cannot query the target on port $TARGET_PORT; is it up? (make up; make logs)"
}

# Runs one of env/jobs/*.sh (the Kubernetes Jobs' scripts) against the
# local servers; the subscription reaches the source over loopback.
job() {
  local name=$1
  [ -f "$here/jobs/$name.sh" ] || code=2 die "no job script env/jobs/$name.sh"
  SOURCE_HOST=127.0.0.1 SOURCE_PORT=$SOURCE_PORT SOURCE_DB=sourcedb \
    TARGET_HOST=127.0.0.1 TARGET_PORT=$TARGET_PORT TARGET_DB=targetdb \
    SUBSCRIPTION_SOURCE_HOST=127.0.0.1 SUBSCRIPTION_SOURCE_PORT=$SOURCE_PORT \
    SQL_DIR="$top/sql" LOG_HINT="make logs; $RUN_DIR/*/server.log" \
    sh "$here/jobs/$name.sh"
}

case "${1:-}" in
  up | down | logs | status) "$1" ;;
  job)
    [ $# = 2 ] || code=2 die "usage: local.sh job NAME"
    job "$2"
    ;;
  *)
    echo "usage: local.sh up|down|logs|status|job NAME" >&2
    exit 2
    ;;
esac
