#!/usr/bin/env bash
# sync-k8s.sh — refresh k8s/generated/, the byte-identical copies of sql/*.sql,
# env/jobs/*.sh and env/pgbouncer/*.ini that k8s/kustomization.yaml turns into
# ConfigMaps.
# (Kustomize loads no file from outside k8s/, symlinks included, so the
# ConfigMaps cannot be generated from the originals directly.)
#
#   env/sync-k8s.sh          write the copies (and remove stale ones)
#   env/sync-k8s.sh --check  change nothing; exit 1 listing every copy that is
#                            missing, differs from its original, or is stale
#
# A new file in sql/, env/jobs/ or env/pgbouncer/ (*.ini) must also be listed
# under configMapGenerator in k8s/kustomization.yaml; env/validate-deploy.sh
# says so when it is not.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  *)
    echo "usage: $0 [--check]" >&2
    exit 2
    ;;
esac

# PAIRS: original directory, glob, copy directory (all relative to the root).
pairs=(
  "sql" "*.sql" "k8s/generated/sql"
  "env/jobs" "*.sh" "k8s/generated/jobs"
  "env/pgbouncer" "*.ini" "k8s/generated/pgbouncer"
)

problems=()
for ((i = 0; i < ${#pairs[@]}; i += 3)); do
  src=${pairs[i]} glob=${pairs[i + 1]} dst=${pairs[i + 2]}
  shopt -s nullglob
  # shellcheck disable=SC2206 # $glob must expand
  originals=("$root/$src"/$glob)
  copies=("$root/$dst"/*)
  shopt -u nullglob
  [ ${#originals[@]} -gt 0 ] || problems+=("$src/ has no $glob files")
  for f in "${originals[@]}"; do
    name=${f##*/}
    if ! cmp -s "$f" "$root/$dst/$name"; then
      if [ "$check" = 1 ]; then
        if [ -e "$root/$dst/$name" ]; then
          problems+=("$dst/$name differs from $src/$name")
        else
          problems+=("$dst/$name is missing (copy of $src/$name)")
        fi
      else
        mkdir -p "$root/$dst"
        cp "$f" "$root/$dst/$name"
        chmod 644 "$root/$dst/$name"
        echo "sync-k8s: $src/$name -> $dst/$name"
      fi
    fi
  done
  for c in "${copies[@]}"; do
    name=${c##*/}
    # shellcheck disable=SC2053 # $glob is a pattern on purpose
    if [[ ! -f "$root/$src/$name" || $name != $glob ]]; then
      if [ "$check" = 1 ]; then
        problems+=("$dst/$name is stale (no $src/$name)")
      else
        rm -rf "$c"
        echo "sync-k8s: removed stale $dst/$name"
      fi
    fi
  done
done

if [ ${#problems[@]} -gt 0 ]; then
  for p in "${problems[@]}"; do echo "sync-k8s: $p" >&2; done
  exit 1
fi
