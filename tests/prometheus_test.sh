#!/usr/bin/env bash
# prometheus_test.sh — the alert rules of deploy/prometheus/ as `make test`
# runs them (ctest prometheus.rules): `promtool check rules` (syntax, PromQL,
# templates) and `promtool test rules` (each alert firing and not firing,
# deploy/prometheus/pgparity-rules.test.yml). Exit 77 (ctest: skipped) with a
# message when promtool is not installed (Debian: apt-get install prometheus;
# env/install-deps.sh all installs it).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$here/deploy/prometheus
if ! command -v promtool >/dev/null; then
  echo "prometheus_test: SKIPPED — promtool not found (apt-get install prometheus, or env/install-deps.sh all)" >&2
  exit 77
fi
promtool check rules "$dir/pgparity-rules.yml"
# promtool resolves rule_files relative to the test file's directory.
promtool test rules "$dir/pgparity-rules.test.yml"
