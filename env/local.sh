#!/usr/bin/env bash
# local.sh — the environment's local mode (no Docker): a PostgreSQL
# $SOURCE_VERSION source and a PostgreSQL $TARGET_VERSION target (14 and 16
# by default) under $RUN_DIR, and PgBouncer in front of the source (the
# application's entry point, database appdb), with the same databases,
# settings and ports as docker-compose.yml. The Makefile calls this with
# MODE=local (the default).
#
#   local.sh up | down | logs | status | job NAME
#
# SOURCE_VERSION (14), TARGET_VERSION (16): the majors `up` starts, 12 to 18,
# the target not older (env/versions.sh); a RUN_DIR holding a cluster of
# another major is refused (make down first). RUN_DIR (default ./.run),
# SOURCE_PORT (5432), TARGET_PORT (5433), PGBOUNCER_PORT (6432), PGBOUNCER
# (the binary; default: pgbouncer on PATH, else /usr/sbin/pgbouncer,
# Debian's package).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/versions.sh"
RUN_DIR=${RUN_DIR:-$top/.run}
SOURCE_PORT=${SOURCE_PORT:-5432}
TARGET_PORT=${TARGET_PORT:-5433}
PGBOUNCER_PORT=${PGBOUNCER_PORT:-6432}
PGBOUNCER=${PGBOUNCER:-$(command -v pgbouncer || echo /usr/sbin/pgbouncer)}
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

# As root, PgBouncer runs as the servers' unprivileged user (it refuses root).
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$PGPARITY_PG_USER" -- "$@"
  else
    "$@"
  fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Prints the pid of the PgBouncer of $RUN_DIR/pgbouncer; fails when none runs.
pgbouncer_pid() {
  local pid
  pid=$(cat "$RUN_DIR/pgbouncer/pgbouncer.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = pgbouncer ] && echo "$pid"
}

# psql on PgBouncer's admin console (the virtual database "pgbouncer").
pgbouncer_admin() {
  psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGBOUNCER_PORT" -d pgbouncer "$@"
}

# Writes PgBouncer's config under DIR: pgbouncer.ini (this mode's listen
# address and paths, then the shared env/pgbouncer/settings.ini) and the
# userlist, each time; databases.ini only when missing, because pgparity
# cutover rewrites it and a second `up` must not undo a cutover.
pgbouncer_config() {
  local dir=$1
  cp "$here/pgbouncer/settings.ini" "$dir/settings.ini"
  cat >"$dir/pgbouncer.ini" <<EOF
;; Written by env/local.sh up; shared settings: env/pgbouncer/settings.ini.
;; [databases] is alone in databases.ini: pgparity cutover rewrites only it.
%include $dir/databases.ini

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGBOUNCER_PORT
unix_socket_dir =
auth_file = $dir/userlist.txt
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
%include $dir/settings.ini
EOF
  if [ ! -s "$dir/databases.ini" ]; then
    printf '[databases]\nappdb = host=127.0.0.1 port=%s dbname=sourcedb\n' "$SOURCE_PORT" >"$dir/databases.ini"
  fi
  # "user" "password", a double quote doubled.
  (umask 077 && printf '"%s" "%s"\n' "${PGUSER//\"/\"\"}" "${PGPASSWORD//\"/\"\"}" >"$dir/userlist.txt")
  if [ "$(id -u)" = 0 ]; then
    chown -R "$PGPARITY_PG_USER" "$dir"
  fi
}

# PgBouncer on 127.0.0.1:$PGBOUNCER_PORT, database appdb -> the source;
# idempotent like pgenv.sh start.
pgbouncer_up() {
  local dir=$RUN_DIR/pgbouncer running_port
  [ -x "$PGBOUNCER" ] ||
    code=2 die "PgBouncer is not installed ($PGBOUNCER); install it (apt-get install pgbouncer, or make deps) or set PGBOUNCER="
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd -P)
  if pgbouncer_pid >/dev/null; then
    running_port=$(cat "$dir/port" 2>/dev/null || echo "?")
    [ "$running_port" = "$PGBOUNCER_PORT" ] ||
      code=2 die "PgBouncer is already running from $dir on port $running_port, not $PGBOUNCER_PORT; run 'make down' first"
    echo "local: PgBouncer already running on port $PGBOUNCER_PORT" >&2
    return 0
  fi
  ! port_in_use "$PGBOUNCER_PORT" ||
    code=2 die "port $PGBOUNCER_PORT is already in use by another process; stop it or choose another port (PGBOUNCER_PORT= for make)"
  pgbouncer_config "$dir"
  echo "$PGBOUNCER_PORT" >"$dir/port"
  as_pg "$PGBOUNCER" -d "$dir/pgbouncer.ini" >"$dir/start.log" 2>&1 ||
    die "PgBouncer failed to start: $(tail -n 1 "$dir/start.log"); read $dir/pgbouncer.log"
  local waited=0 # in steps of 0.1 s
  until pgbouncer_pid >/dev/null && port_in_use "$PGBOUNCER_PORT"; do
    [ "$waited" -lt 100 ] || die "PgBouncer did not come up on port $PGBOUNCER_PORT within 10s; read $dir/pgbouncer.log"
    sleep 0.1
    waited=$((waited + 1))
  done
  echo "local: PgBouncer started on port $PGBOUNCER_PORT (log: $dir/pgbouncer.log)" >&2
}

pgbouncer_down() {
  local pid
  pid=$(pgbouncer_pid) || return 0
  # SIGTERM is PgBouncer 1.18's immediate shutdown; the servers stop next anyway.
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  echo "local: stopped PgBouncer (pid $pid)" >&2
}

up() {
  # The user is needed before prepare_run_dir can test what it reaches.
  if [ "$(id -u)" = 0 ] && ! id "$PGPARITY_PG_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$PGPARITY_PG_USER"
  fi
  check_versions || exit 2
  # Both sides before either starts: no half-started pair of mixed majors.
  "$here/pgenv.sh" check "$SOURCE_VERSION" "$RUN_DIR/source"
  "$here/pgenv.sh" check "$TARGET_VERSION" "$RUN_DIR/target"
  prepare_run_dir
  "$here/pgenv.sh" start "$SOURCE_VERSION" "$RUN_DIR/source" "$SOURCE_PORT" sourcedb
  "$here/pgenv.sh" start "$TARGET_VERSION" "$RUN_DIR/target" "$TARGET_PORT" targetdb
  psql_at "$SOURCE_PORT" sourcedb -f "$top/sql/init-source.sql" >/dev/null ||
    die "sql/init-source.sql failed on the source; read $RUN_DIR/source/server.log"
  psql_at "$TARGET_PORT" targetdb -f "$top/sql/init-target.sql" >/dev/null ||
    die "sql/init-target.sql failed on the target; read $RUN_DIR/target/server.log"
  pgbouncer_up
  echo "local: source PostgreSQL $SOURCE_VERSION at 127.0.0.1:$SOURCE_PORT/sourcedb, target PostgreSQL $TARGET_VERSION at 127.0.0.1:$TARGET_PORT/targetdb, PgBouncer at 127.0.0.1:$PGBOUNCER_PORT/appdb (-> $(sed -n 's/^appdb = //p' "$RUN_DIR/pgbouncer/databases.ini")) (user postgres, password postgres)"
}

down() {
  local real
  pgbouncer_down
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
  echo "local: PgBouncer and servers stopped and $RUN_DIR removed"
}

logs() {
  local f found=0
  for f in "$RUN_DIR/source/server.log" "$RUN_DIR/target/server.log" "$RUN_DIR/pgbouncer/pgbouncer.log"; do
    [ -f "$f" ] || continue
    found=1
    echo "==> $f <=="
    tail -n "${LOG_LINES:-50}" "$f"
  done
  [ "$found" = 1 ] || die "no logs under $RUN_DIR; run 'make up' first"
}

# The major of the cluster in RUN_DIR/SIDE, whatever SOURCE_/TARGET_VERSION say now.
cluster_major() { cat "$RUN_DIR/$1/data/PG_VERSION" 2>/dev/null || echo "?"; }

status() {
  echo "== source (PostgreSQL $(cluster_major source), 127.0.0.1:$SOURCE_PORT/sourcedb)"
  psql_at "$SOURCE_PORT" sourcedb -f "$top/sql/status-source.sql" ||
    code=3 die "cannot query the source on port $SOURCE_PORT; is it up? (make up; make logs)"
  echo "== target (PostgreSQL $(cluster_major target), 127.0.0.1:$TARGET_PORT/targetdb)"
  psql_at "$TARGET_PORT" targetdb -f "$top/sql/status-target.sql" ||
    code=3 die "cannot query the target on port $TARGET_PORT; is it up? (make up; make logs)"
  echo "== PgBouncer (127.0.0.1:$PGBOUNCER_PORT, admin console: database pgbouncer)"
  pgbouncer_admin -c "SHOW DATABASES" -c "SHOW POOLS" ||
    code=3 die "cannot query PgBouncer's admin console on port $PGBOUNCER_PORT; is it up? (make up; make logs)"
}

# Runs one of env/jobs/*.sh (the Kubernetes Jobs' scripts) against the
# local servers; the subscription reaches the source over loopback. The test
# DML is the application's traffic, so it goes through PgBouncer (appdb) like
# an application's would (TEST_DML_VIA_PGBOUNCER=0: straight to the source).
job() {
  local name=$1 source_port=$SOURCE_PORT source_db=sourcedb
  [ -f "$here/jobs/$name.sh" ] || code=2 die "no job script env/jobs/$name.sh"
  if [ "$name" = test-replication ] && [ "${TEST_DML_VIA_PGBOUNCER:-1}" = 1 ]; then
    source_port=$PGBOUNCER_PORT source_db=appdb
    echo "local: test-replication through PgBouncer (127.0.0.1:$PGBOUNCER_PORT/appdb)"
  fi
  SOURCE_HOST=127.0.0.1 SOURCE_PORT=$source_port SOURCE_DB=$source_db \
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
