#!/usr/bin/env bash
# validate-deploy.sh — offline validation of the deployment files
# (docker-compose.yml and k8s/); needs no Docker engine and no cluster.
# Prints one "ok: ..." line per check passed, an "error: ... — fix" line per
# problem, and exits non-zero when any check failed.
#
#   env/validate-deploy.sh
#
# Installs what is missing: docker-compose and kubectl (apt), the pinned npm
# validator of k8s/validate (npm ci into k8s/validate/node_modules, ignored
# by git). Checks:
#   1. docker-compose.yml is valid (docker-compose config -q)
#   2. k8s/ renders with kubectl's kustomize (as kubectl apply -k does)
#   3. the rendered manifests match the Kubernetes schemas, have no unknown
#      fields, and their references resolve (k8s/validate/validate.mjs); the
#      same with k8s/cutover-job.yaml added, which apply -k must not include
#   4. k8s/generated/ is an exact copy of sql/*.sql, env/jobs/*.sh and
#      env/pgbouncer/*.ini, and the rendered ConfigMaps hold exactly those
#      files' bytes
#   5. docker-compose.yml, k8s/ and env/pgenv.sh agree on the server
#      settings (-c ...), images and database names; compose's and k8s/'s
#      PgBouncer on the image and on appdb pointing at the source
#   6. pgparity audit: k8s/ rendered with components/servicemonitor passes
#      check 3 (the ServiceMonitor against the Prometheus Operator's schema,
#      its Service and port); compose's audit service and the StatefulSet
#      pgparity-audit agree on the image, the metrics port (container port,
#      Service, prometheus.io/port) and the state directory's volume
#   7. versions: docker-compose.yml's image tags follow SOURCE_VERSION /
#      TARGET_VERSION; env/k8s-overlay.sh (k8s/components/versions) renders
#      k8s/ unchanged with the defaults, and with 13 -> 17 the images
#      postgres:13 / postgres:17 (Jobs included), passing check 3
#   8. the Dockerfile, without an engine (env/image-build-check.sh): its
#      stages and instructions, and its runtime packages cover every library
#      of the binary ($PGPARITY_BINARY, default build/cli/pgparity: make
#      build-cli first). The build rehearsal (--build) takes minutes: run
#      env/image-build-check.sh --build by hand
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0

ok() { echo "ok: $*"; }
error() {
  echo "error: $*"
  status=1
}
die() { # a failed prerequisite: the checks cannot run
  echo "error: $*"
  exit 1
}

# --- prerequisites -------------------------------------------------------------
apt_updated=0
apt_install() { # apt_install PACKAGE...
  if [ "$(id -u)" != 0 ]; then
    return 1
  fi
  if [ "$apt_updated" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$work/apt.log" 2>&1 || return 1
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >>"$work/apt.log" 2>&1
}

command -v docker-compose >/dev/null || apt_install docker-compose ||
  die "docker-compose is missing and 'apt-get install docker-compose' failed — install it (as root: apt-get install -y docker-compose)"
command -v kubectl >/dev/null || apt_install kubectl ||
  die "kubectl is missing and 'apt-get install kubectl' failed — install kubectl 1.27 or later (its kustomize must be v5)"
kustomize_version=$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: v\{0,1\}//p')
case "$kustomize_version" in
  [5-9].* | [1-9][0-9].*) ;;
  *) die "kubectl's kustomize is '${kustomize_version:-unknown}', k8s/ needs v5 or later — install kubectl 1.27 or later" ;;
esac
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm ||
  die "node/npm are missing and 'apt-get install nodejs npm' failed — install Node.js 18 or later"

# The validator's dependencies, pinned by k8s/validate/package-lock.json;
# reinstalled only when the lock file changed.
validate_dir=k8s/validate
lock_sum=$(sha256sum "$validate_dir/package-lock.json" | cut -d' ' -f1)
stamp=$validate_dir/node_modules/.pgparity-lock-sha256
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
  if ! (cd "$validate_dir" && npm ci --no-audit --no-fund --loglevel=error) >"$work/npm.log" 2>&1; then
    sed 's/^/  npm: /' "$work/npm.log" | tail -20
    die "npm ci in $validate_dir failed (output above) — check the npm registry is reachable and package-lock.json matches package.json"
  fi
  echo "$lock_sum" >"$stamp"
fi
validate() { node "$validate_dir/validate.mjs" "$@"; }

# --- 1. docker-compose.yml ---------------------------------------------------------
if docker-compose -f docker-compose.yml config -q 2>"$work/compose.err"; then
  ok "docker-compose.yml is valid (docker-compose $(docker-compose version --short 2>/dev/null || echo '?') config)"
else
  error "docker-compose.yml is invalid: $(grep -v '^\s*$' "$work/compose.err" | head -3 | tr -s '\n ' ' ' | sed 's/ *$//') — fix docker-compose.yml"
fi

# --- 2. kustomize render ---------------------------------------------------------
rendered=$work/rendered.yaml
if kubectl kustomize k8s/ >"$rendered" 2>"$work/kustomize.err"; then
  ok "k8s/ renders with kustomize v$kustomize_version ($(grep -c '^kind:' "$rendered") documents)"
else
  error "kubectl kustomize k8s/ failed: $(grep -v '^\s*$' "$work/kustomize.err" | head -1 | sed -E 's/^E[0-9]+ [0-9:.]+ +[0-9]+ [^]]*\] //') — fix k8s/ (generated/ copies missing? run env/sync-k8s.sh)"
  rendered=
fi

# --- 3. schemas -------------------------------------------------------------------------
if [ -n "$rendered" ]; then
  validate schema "$rendered" || status=1
else
  error "schema validation skipped: nothing rendered — fix check 2 first"
fi

# The cutover Job is applied on its own (kubectl apply -f), never by
# apply -k: checked with the rendered set, which holds what it references.
if [ -n "$rendered" ]; then
  if grep -q 'cutover-job.yaml' k8s/kustomization.yaml; then
    error "k8s/kustomization.yaml lists cutover-job.yaml: applying k8s/ would switch the application — remove it from resources"
  fi
  { cat "$rendered"; echo "---"; cat k8s/cutover-job.yaml; } >"$work/with-cutover.yaml"
  validate schema "$work/with-cutover.yaml" | sed 's/^ok: /ok: with k8s\/cutover-job.yaml: /' || status=1
fi

# --- 4. one source of truth ------------------------------------------------------------
if bash env/sync-k8s.sh --check 2>"$work/sync.err"; then
  ok "k8s/generated/ is an exact copy of sql/*.sql, env/jobs/*.sh and env/pgbouncer/*.ini"
else
  while IFS= read -r line; do
    error "${line#sync-k8s: } — run env/sync-k8s.sh"
  done <"$work/sync.err"
fi
if [ -n "$rendered" ]; then
  validate configmaps "$rendered" 'pgparity-sql=sql/*.sql' 'pgparity-jobs=env/jobs/*.sh' \
    'pgbouncer-config=env/pgbouncer/*.ini' || status=1
fi

# --- 5. compose and k8s agree -------------------------------------------------------------
if [ -n "$rendered" ]; then
  validate settings "$rendered" docker-compose.yml env/pgenv.sh \
    db_source=postgres-source db_target=postgres-target || status=1
fi
if [ -n "$rendered" ]; then
  validate pgbouncer "$rendered" docker-compose.yml pgbouncer=pgbouncer db_source=postgres-source || status=1
fi

# --- 6. pgparity audit -----------------------------------------------------------------
# The optional component, through a throwaway overlay (kustomize takes
# relative paths only).
if [ -n "$rendered" ]; then
  mkdir -p "$work/overlay"
  printf 'namespace: pgparity\nresources:\n  - %s\ncomponents:\n  - %s\n' \
    "$(realpath --relative-to="$work/overlay" k8s)" \
    "$(realpath --relative-to="$work/overlay" k8s/components/servicemonitor)" >"$work/overlay/kustomization.yaml"
  if kubectl kustomize "$work/overlay" >"$work/with-monitor.yaml" 2>"$work/monitor.err"; then
    validate schema "$work/with-monitor.yaml" | sed 's/^ok: /ok: with components\/servicemonitor: /' || status=1
  else
    error "k8s/ with components/servicemonitor does not render: $(grep -v '^\s*$' "$work/monitor.err" | head -1) — fix k8s/components/servicemonitor"
  fi
  validate audit "$rendered" docker-compose.yml audit=pgparity-audit || status=1
fi

# --- 7. versions -------------------------------------------------------------------------
# The PostgreSQL majors as a parameter: compose's image tags from
# SOURCE_VERSION/TARGET_VERSION; k8s/ through env/k8s-overlay.sh, which with
# the defaults renders exactly k8s/ and with other majors changes only the
# images (and still passes check 3).
compose_images=$(SOURCE_VERSION=13 TARGET_VERSION=17 docker-compose -f docker-compose.yml config 2>/dev/null |
  sed -n 's/^ *image: \(postgres:.*\)/\1/p' | tr '\n' ' ')
if [ "$compose_images" = "postgres:13 postgres:17 " ]; then
  ok "docker-compose.yml with SOURCE_VERSION=13 TARGET_VERSION=17 runs postgres:13 and postgres:17"
else
  error "docker-compose.yml with SOURCE_VERSION=13 TARGET_VERSION=17 runs '${compose_images% }', not postgres:13 postgres:17 — use image: postgres:\${SOURCE_VERSION:-14} / \${TARGET_VERSION:-16}"
fi
if [ -n "$rendered" ]; then
  if bash env/k8s-overlay.sh "$work/versions-default" 2>"$work/overlay.err" &&
    kubectl kustomize "$work/versions-default" >"$work/versions-default.yaml" 2>>"$work/overlay.err" &&
    cmp -s "$rendered" "$work/versions-default.yaml"; then
    ok "env/k8s-overlay.sh with the default versions renders exactly k8s/"
  else
    error "env/k8s-overlay.sh with the default versions does not render k8s/ unchanged: $(head -1 "$work/overlay.err") — fix k8s/components/versions"
  fi
  if SOURCE_VERSION=13 TARGET_VERSION=17 bash env/k8s-overlay.sh "$work/versions" 2>"$work/overlay.err" &&
    kubectl kustomize "$work/versions" >"$work/versions.yaml" 2>>"$work/overlay.err"; then
    validate versions "$work/versions.yaml" 13 17 || status=1
    validate schema "$work/versions.yaml" | sed 's/^ok: /ok: with PostgreSQL 13 -> 17: /' || status=1
  else
    error "k8s/ with PostgreSQL 13 -> 17 (env/k8s-overlay.sh) does not render: $(grep -v '^\s*$' "$work/overlay.err" | head -1) — fix k8s/components/versions"
  fi
fi

# --- 8. the Dockerfile ------------------------------------------------------------------
bash env/image-build-check.sh --binary "${PGPARITY_BINARY:-build/cli/pgparity}" | grep -v '^image-build-check: ' || status=1

if [ "$status" = 0 ]; then
  echo "validate-deploy: all checks passed"
else
  echo "validate-deploy: FAILED (see the error lines above)"
fi
exit "$status"
