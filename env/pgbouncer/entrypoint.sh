#!/bin/sh
# Starts PgBouncer in a container: writes the [databases] entry and the
# userlist from the environment, then runs PgBouncer in the foreground.
#
#   PGBOUNCER_DB_HOST, PGBOUNCER_DB_PORT, PGBOUNCER_DB_NAME  the server appdb points at
#                                                (default db_source:5432/sourcedb)
#   PGBOUNCER_USER, PGBOUNCER_PASSWORD           the one user of userlist.txt
#                                                (default postgres/postgres)
#
# databases.ini is written only when missing: after a cutover rewrote it,
# a restarted container (same filesystem) keeps pointing at the target.
set -eu
state=/var/lib/pgbouncer
host=${PGBOUNCER_DB_HOST:-db_source}
port=${PGBOUNCER_DB_PORT:-5432}
db=${PGBOUNCER_DB_NAME:-sourcedb}
user=${PGBOUNCER_USER:-postgres}
password=${PGBOUNCER_PASSWORD:-postgres}

if [ ! -s "$state/databases.ini" ]; then
  printf '[databases]\nappdb = host=%s port=%s dbname=%s\n' "$host" "$port" "$db" >"$state/databases.ini.tmp"
  mv "$state/databases.ini.tmp" "$state/databases.ini"
fi
# userlist.txt: "user" "password", a double quote doubled.
quote() { printf '"%s"' "$(printf '%s' "$1" | sed 's/"/""/g')"; }
umask 077
printf '%s %s\n' "$(quote "$user")" "$(quote "$password")" >"$state/userlist.txt"
exec pgbouncer /etc/pgbouncer/pgbouncer.ini
