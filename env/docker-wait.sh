#!/usr/bin/env bash
# docker-wait.sh — after `docker-compose up -d`: bounded wait until both
# containers and PgBouncer report healthy (their pg_isready health checks).
set -euo pipefail
timeout=${WAIT_TIMEOUT:-120}
for c in postgres_source postgres_target pgbouncer; do
  waited=0
  until [ "$(docker inspect -f '{{.State.Health.Status}}' "$c" 2>/dev/null)" = healthy ]; do
    if [ "$waited" -ge "$timeout" ]; then
      echo "docker-wait: error: container $c not healthy after ${timeout}s; read 'docker logs $c'" >&2
      exit 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  echo "docker-wait: $c is healthy"
done
