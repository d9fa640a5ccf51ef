#!/usr/bin/env bash
# versions.sh — the environment's pair of PostgreSQL majors, checked before
# anything starts: SOURCE_VERSION (default 14) -> TARGET_VERSION (default 16),
# a source of 12 to 18 and a target of 15 to 18, the target the same major as
# the source or newer (logical replication upgrades; it never goes back) —
# the pairs docs/versions.md supports and preflight's server_version check
# accepts. The Makefile runs it before
# `make up` in every mode; env/local.sh sources it.
#
#   env/versions.sh            exit 0, or one line naming the bad value and exit 2
#
# Sourced: check_versions does the same and sets SOURCE_VERSION and
# TARGET_VERSION to their defaults when unset.

check_versions() {
  SOURCE_VERSION=${SOURCE_VERSION:-14}
  TARGET_VERSION=${TARGET_VERSION:-16}
  local name value
  for name in SOURCE_VERSION TARGET_VERSION; do
    value=${!name}
    if ! [[ "$value" =~ ^1[2-8]$ ]]; then
      echo "versions: error: $name='$value' is not a supported PostgreSQL major; use one of 12 13 14 15 16 17 18 (e.g. make up SOURCE_VERSION=13 TARGET_VERSION=17)" >&2
      return 2
    fi
  done
  if [ "$TARGET_VERSION" -lt 15 ]; then
    echo "versions: error: TARGET_VERSION=$TARGET_VERSION is not a supported target; use 15 16 17 or 18 (docs/versions.md)" >&2
    return 2
  fi
  if [ "$TARGET_VERSION" -lt "$SOURCE_VERSION" ]; then
    echo "versions: error: TARGET_VERSION=$TARGET_VERSION is older than SOURCE_VERSION=$SOURCE_VERSION; the target must be the same major or newer ($SOURCE_VERSION to 18)" >&2
    return 2
  fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  check_versions || exit 2
fi
