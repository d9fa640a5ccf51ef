#!/usr/bin/env bash
# cleanup-test-servers.sh — stops and removes PostgreSQL servers that test
# fixtures left behind when a test process crashed (a fixture removes its
# own servers on every normal exit). Run after a test run (make test does).
# A server whose fixture still runs (owner.pid names a live process: another
# test run on the same machine) is left alone.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
found=0
for dir in /tmp/pgparity-test-*/server /tmp/pgparity-localmode-*/run/source /tmp/pgparity-localmode-*/run/target; do
  [ -d "$dir" ] || continue
  top=${dir#/tmp/}
  owner=$(cat "/tmp/${top%%/*}/owner.pid" 2>/dev/null)
  if [ -n "$owner" ] && kill -0 "$owner" 2>/dev/null; then continue; fi
  found=$((found + 1))
  "$here/pgenv.sh" destroy "$dir" >/dev/null 2>&1
  rmdir "$(dirname "$dir")" 2>/dev/null
done
[ "$found" = 0 ] || echo "cleanup: removed $found test server(s) left behind by crashed tests"
exit 0
