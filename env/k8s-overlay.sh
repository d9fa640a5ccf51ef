#!/usr/bin/env bash
# k8s-overlay.sh DIR — writes into DIR a kustomize overlay of k8s/ with the
# PostgreSQL majors SOURCE_VERSION and TARGET_VERSION (env/versions.sh:
# 12 to 18, target not older; defaults 14 and 16): k8s/ plus the component
# k8s/components/versions, which sets the images' tags from the overlay's
# local-config ConfigMap pgparity-versions. `make k8s-apply` applies it;
# env/validate-deploy.sh renders and checks it. Kustomize refuses an overlay
# inside k8s/ (its base), hence one written elsewhere.
#
#   SOURCE_VERSION=13 TARGET_VERSION=17 env/k8s-overlay.sh /tmp/overlay && kubectl apply -k /tmp/overlay
#
# Exit 2: bad versions or no DIR.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.sh"
check_versions || exit 2
[ $# = 1 ] && [ -n "$1" ] || { echo "k8s-overlay: error: usage: env/k8s-overlay.sh DIR" >&2; exit 2; }
mkdir -p "$1"
dir=$(cd "$1" && pwd -P)
k8s=$(cd "$here/../k8s" && pwd -P)
cat >"$dir/versions.yaml" <<YAML
# Read by k8s/components/versions, not applied (local-config).
apiVersion: v1
kind: ConfigMap
metadata:
  name: pgparity-versions
  annotations:
    config.kubernetes.io/local-config: "true"
data:
  SOURCE_VERSION: "$SOURCE_VERSION"
  TARGET_VERSION: "$TARGET_VERSION"
YAML
# Kustomize takes relative paths only.
cat >"$dir/kustomization.yaml" <<YAML
# Written by env/k8s-overlay.sh: k8s/ with PostgreSQL $SOURCE_VERSION -> $TARGET_VERSION.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $(realpath --relative-to="$dir" "$k8s")
  - versions.yaml
components:
  - $(realpath --relative-to="$dir" "$k8s/components/versions")
YAML
