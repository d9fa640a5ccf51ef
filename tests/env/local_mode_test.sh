#!/usr/bin/env bash
# The environment's local mode and the Kubernetes Jobs' scripts, exercised
# on real servers on free ports: up (twice), PgBouncer's appdb reaching the
# source and, after a cutover-style rewrite + RELOAD, the target;
# setup-replication (twice) with pgparity's roles, test-replication (through
# PgBouncer), verify -> PASS; an injected divergence -> FAIL (exit 1); the
# failure paths (bad SOURCE_VERSION/TARGET_VERSION, another major in the run
# directory, port in use, bad binaries, down after a failed up).
set -uo pipefail
. "$(dirname "$0")/lib.sh" localmode

# Bad majors: one line naming the allowed values, exit 2, nothing started.
nothing_started() {
  [ ! -e "$RUN_DIR" ] && ! (exec 3<>"/dev/tcp/127.0.0.1/$SOURCE_PORT") 2>/dev/null &&
    ! (exec 3<>"/dev/tcp/127.0.0.1/$TARGET_PORT") 2>/dev/null
}
expect_fail "SOURCE_VERSION=11 is refused" 2 "SOURCE_VERSION='11' is not a supported PostgreSQL major; use one of 12 13 14 15 16 17 18" \
  env SOURCE_VERSION=11 "$local_sh" up
check "  and nothing started" nothing_started
expect_fail "TARGET_VERSION=19 is refused" 2 "TARGET_VERSION='19' is not a supported" env TARGET_VERSION=19 "$local_sh" up
expect_fail "SOURCE_VERSION=abc is refused" 2 "SOURCE_VERSION='abc' is not a supported" env SOURCE_VERSION=abc "$local_sh" up
expect_fail "a target older than 15 is refused" 2 "TARGET_VERSION=14 is not a supported target; use 15 16 17 or 18" \
  env SOURCE_VERSION=12 TARGET_VERSION=14 "$local_sh" up
expect_fail "a target older than the source is refused" 2 "TARGET_VERSION=15 is older than SOURCE_VERSION=16" \
  env SOURCE_VERSION=16 TARGET_VERSION=15 "$local_sh" up
expect_fail "make up refuses a bad major before installing anything" 2 "SOURCE_VERSION='19' is not a supported" \
  make -s -C "$top" up SOURCE_VERSION=19
check "  and nothing started" nothing_started

check "up" "$local_sh" up
check "up again is harmless" "$local_sh" up
# The run directory keeps its majors: another one is refused, naming make down.
expect_fail "up with another source major on the same RUN_DIR" 2 "holds a PostgreSQL 14 cluster, not 13; remove it first (make down" \
  env SOURCE_VERSION=13 "$local_sh" up
expect_fail "up with another target major on the same RUN_DIR" 2 "holds a PostgreSQL 16 cluster, not 17; remove it first (make down" \
  env TARGET_VERSION=17 "$local_sh" up
check "  and the pair still runs 14 -> 16" bash -c \
  "[[ \$(PGPASSWORD=postgres psql -XtA -h 127.0.0.1 -p $SOURCE_PORT -U postgres -d sourcedb -c 'show server_version_num') == 14???? ]] &&
   [[ \$(PGPASSWORD=postgres psql -XtA -h 127.0.0.1 -p $TARGET_PORT -U postgres -d targetdb -c 'show server_version_num') == 16???? ]]"
check "appdb through PgBouncer reaches the source (PostgreSQL 14)" bash -c \
  "[[ \$(PGPASSWORD=postgres psql -XtA 'host=127.0.0.1 port=$PGBOUNCER_PORT dbname=appdb user=postgres' \
       -c 'show server_version_num') == 14???? ]]"
check "PgBouncer refuses a wrong password" bash -c \
  "! PGPASSWORD=wrong psql -XtA 'host=127.0.0.1 port=$PGBOUNCER_PORT dbname=appdb user=postgres' -c 'select 1'"
# What pgparity cutover does (env/README.md): rewrite databases.ini, RELOAD;
# a client connected before sees the target from its next transaction.
pgb=$RUN_DIR/pgbouncer
cp "$pgb/databases.ini" "$work/databases.ini"
check "cutover-style switch: an open client session moves to the target" python3 - "$PGBOUNCER_PORT" "$TARGET_PORT" "$pgb/databases.ini" <<'PY_EOF'
import subprocess, sys, time
bouncer, target, ini = sys.argv[1:]
env = {"PGPASSWORD": "postgres", "PATH": "/usr/bin:/bin"}
app = subprocess.Popen(["psql", "-XtAq", f"host=127.0.0.1 port={bouncer} dbname=appdb user=postgres"],
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
def ask(sql):
    app.stdin.write(sql + "\n"); app.stdin.flush()
    return app.stdout.readline().strip()
def admin(sql):
    subprocess.run(["psql", "-Xq", "-v", "ON_ERROR_STOP=1", f"host=127.0.0.1 port={bouncer} dbname=pgbouncer user=postgres",
                    "-c", sql], check=True, env=env, stdout=subprocess.DEVNULL)
before = ask("SELECT current_setting('server_version_num');")
admin("PAUSE appdb")
open(ini, "w").write(f"[databases]\nappdb = host=127.0.0.1 port={target} dbname=targetdb\n")
admin("RELOAD")
admin("RESUME appdb")
after = ask("SELECT current_setting('server_version_num') || ' ' || current_database();")
app.stdin.close(); app.wait()
print("before", before, "after", after)
sys.exit(0 if before.startswith("14") and after.startswith("16") and after.endswith(" targetdb") else 1)
PY_EOF
check "up again keeps a switched databases.ini" bash -c \
  "'$local_sh' up && grep -q 'port=$TARGET_PORT dbname=targetdb' '$pgb/databases.ini'"
cp "$work/databases.ini" "$pgb/databases.ini"
check "switch back" bash -c \
  "PGPASSWORD=postgres psql -Xq 'host=127.0.0.1 port=$PGBOUNCER_PORT dbname=pgbouncer user=postgres' -c RELOAD &&
   [ \$(PGPASSWORD=postgres psql -XtA 'host=127.0.0.1 port=$PGBOUNCER_PORT dbname=appdb user=postgres' -c 'select current_database()') = sourcedb ]"
check "setup-replication" "$local_sh" job setup-replication
check "setup-replication again is harmless" "$local_sh" job setup-replication
check "pgparity's roles: REPLICATION on the source, read-only and repair roles on the target" bash -c \
  "[ \"\$(PGPASSWORD=postgres psql -XtA -h 127.0.0.1 -p $SOURCE_PORT -U postgres -d sourcedb -c \"select rolreplication and rolcanlogin and not rolsuper from pg_roles where rolname = 'pgparity'\")\" = t ] &&
   [ \"\$(PGPASSWORD=postgres psql -XtA -h 127.0.0.1 -p $TARGET_PORT -U postgres -d targetdb -c \"select string_agg(rolname || ':' || rolreplication, ',' order by rolname) from pg_roles where rolname like 'pgparity%'\")\" = pgparity:false,pgparity_repair:false ] &&
   [ \"\$(PGPASSWORD=pgparity psql -XtA -h 127.0.0.1 -p $SOURCE_PORT -U pgparity -d sourcedb -c 'select count(*) from users')\" = 5 ]"
check "one publication, one subscription" bash -c \
  "[ \$(PGPASSWORD=postgres psql -XtA -h 127.0.0.1 -p $SOURCE_PORT -U postgres -d sourcedb -c 'select count(*) from pg_publication') = 1 ] &&
   [ \$(PGPASSWORD=postgres psql -XtA -h 127.0.0.1 -p $TARGET_PORT -U postgres -d targetdb -c 'select count(*) from pg_subscription') = 1 ]"
check "test-replication" "$local_sh" job test-replication
check "test-replication went through PgBouncer" output_has "through PgBouncer (127.0.0.1:$PGBOUNCER_PORT/appdb)"
EXPECT_TEST_DML=1 check "verify passes" "$local_sh" job verify-replication
check "verify printed PASS for 3 tables (users, orders, pgparity_canary)" output_has "PASS: target equals source (3 tables, 12 rows)"
check "status" "$local_sh" status
check "status shows PgBouncer's pools" output_has "appdb.*transaction"
check "logs" "$local_sh" logs
check "logs include PgBouncer's" output_has "pgbouncer/pgbouncer.log"

# A divergence behind the subscriber's back must fail the verification.
PGPASSWORD=postgres psql -Xq -h 127.0.0.1 -p "$TARGET_PORT" -U postgres -d targetdb \
  -c "UPDATE orders SET quantity = 99 WHERE id = 1" >/dev/null
expect_fail "verify fails on a diverged row" 1 "MISMATCH public.orders" "$local_sh" job verify-replication
check "verify names the differing row" output_has "+ 1	1	Laptop	99"

# Failure paths: a clear one-line error and a non-zero exit, never a hang.
expect_fail "port in use" 2 "port $SOURCE_PORT is already in use" \
  "$top/env/pgenv.sh" start 14 "$work/other" "$SOURCE_PORT"
expect_fail "bad PG14_BINDIR" 2 "PG14_BINDIR=/nonexistent has no postgres" \
  env PG14_BINDIR=/nonexistent "$top/env/pgenv.sh" start 14 "$work/other2" "$(free_port)"
expect_fail "wrong major in PG16_BINDIR" 2 "is not PostgreSQL 16" \
  env PG16_BINDIR="$("$top/env/pgenv.sh" bindir 14)" "$top/env/pgenv.sh" start 16 "$work/other3" "$(free_port)"
expect_fail "bad port" 2 "is not a TCP port" "$top/env/pgenv.sh" start 14 "$work/other4" 99999
expect_fail "unreachable target" 1 "did not accept connections within 2s" \
  env WAIT_TIMEOUT=2 TARGET_PORT="$(free_port)" "$local_sh" job verify-replication

check "down" "$local_sh" down
check "down removed the run directory" test ! -e "$RUN_DIR"
check "no server left listening" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$SOURCE_PORT) && ! (exec 3<>/dev/tcp/127.0.0.1/$TARGET_PORT) && ! (exec 3<>/dev/tcp/127.0.0.1/$PGBOUNCER_PORT)"
# A failed up (second port taken) and then down still cleans up.
python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the old server left TIME_WAITs
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
time.sleep(30)' "$TARGET_PORT" &
blocker=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$TARGET_PORT") 2>/dev/null && break; sleep 0.1; done
expect_fail "up with the target port taken" 2 "port $TARGET_PORT is already in use" "$local_sh" up
kill "$blocker" 2>/dev/null
check "down after a failed up" "$local_sh" down
check "down after a failed up removed everything" test ! -e "$RUN_DIR"

finish
