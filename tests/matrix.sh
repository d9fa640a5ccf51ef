#!/usr/bin/env bash
# tests/matrix.sh — the version matrix (issue 16): the integration suites
# labelled `matrix` (tests/README.md) run once per source -> target pair of
# PostgreSQL majors, the pair given to every fixture by
# PGPARITY_SOURCE_MAJOR / PGPARITY_TARGET_MAJOR (tests/support/pg_server.h).
# Prints each pair's passed / failed / skipped counts and wall time, then a
# table of all pairs, also written to MATRIX_RESULTS. A failing pair does not
# stop the others. `make test-matrix` runs it after a build.
#
#   tests/matrix.sh
#
# Environment:
#   MATRIX_PAIRS    SOURCE-TARGET pairs (default "12-16 13-16 14-16 15-17 16-18 17-18 16-16")
#   MATRIX_LABEL    the ctest label to run (default matrix; make test uses matrix-quick)
#   BUILD_DIR       the build directory (default build)
#   MATRIX_JOBS     ctest -j (default: the number of cores)
#   MATRIX_RESULTS  the table's file (default $BUILD_DIR/matrix-results.md)
#   CTEST_ARGS      more ctest arguments, e.g. '-R Corpus'
#
# Exit: 0 every pair passed; 1 a pair had a failing test (or none ran);
# 2 bad MATRIX_PAIRS, no build, or a major's binaries could not be installed.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/env/versions.sh"
BUILD_DIR=${BUILD_DIR:-$top/build}
MATRIX_PAIRS=${MATRIX_PAIRS:-12-16 13-16 14-16 15-17 16-18 17-18 16-16}
MATRIX_LABEL=${MATRIX_LABEL:-matrix}
MATRIX_JOBS=${MATRIX_JOBS:-$(nproc)}
MATRIX_RESULTS=${MATRIX_RESULTS:-$BUILD_DIR/matrix-results.md}
read -r -a extra_args <<<"${CTEST_ARGS:-}"

die() { # die CODE MESSAGE
  echo "matrix: error: $2" >&2
  exit "$1"
}

# Every pair is checked, and every major installed, before the first test:
# a typo in MATRIX_PAIRS must not surface after an hour of other pairs.
pairs=()
majors=()
for pair in $MATRIX_PAIRS; do
  [[ "$pair" =~ ^([0-9]+)-([0-9]+)$ ]] ||
    die 2 "MATRIX_PAIRS entry '$pair' is not SOURCE-TARGET (e.g. MATRIX_PAIRS=\"12-16 17-18\")"
  SOURCE_VERSION=${BASH_REMATCH[1]} TARGET_VERSION=${BASH_REMATCH[2]}
  check_versions 2>&1 | sed 's/^versions: error: /matrix: error: pair '"$pair"': /' >&2
  [ "${PIPESTATUS[0]}" = 0 ] || exit 2
  pairs+=("$pair")
  majors+=("$SOURCE_VERSION" "$TARGET_VERSION")
done
[ ${#pairs[@]} -gt 0 ] || die 2 "MATRIX_PAIRS is empty; e.g. MATRIX_PAIRS=\"12-16 17-18\""
[ -f "$BUILD_DIR/CTestTestfile.cmake" ] || die 2 "$BUILD_DIR is not a build directory; run make build (or set BUILD_DIR)"
# Absolute: ctest takes --output-junit relative to the build directory.
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
ctest --test-dir "$BUILD_DIR" -N -L "^$MATRIX_LABEL\$" "${extra_args[@]}" | grep -q '^Total Tests: [1-9]' ||
  die 2 "no test in $BUILD_DIR is labelled '$MATRIX_LABEL'${CTEST_ARGS:+ (with $CTEST_ARGS)}; build first (make build) or fix MATRIX_LABEL"
for major in $(printf '%s\n' "${majors[@]}" | sort -un); do
  "$top/env/pgenv.sh" install "$major" >/dev/null || die 2 "cannot install the PostgreSQL $major binaries (the error above)"
done

# passed failed skipped, and the failing tests' names, from ctest's JUnit file.
junit_counts() { # junit_counts FILE
  python3 - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    cases = ET.parse(sys.argv[1]).getroot().iter("testcase")
except (OSError, ET.ParseError):
    print("0 0 0"); sys.exit()
passed = failed = skipped = 0
names = []
for case in cases:
    status = case.get("status", "")
    if status == "run" and case.find("failure") is None:
        passed += 1
    elif status in ("notrun", "disabled") or case.find("skipped") is not None:
        skipped += 1
    else:
        failed += 1
        names.append(case.get("name"))
print(passed, failed, skipped, *names)
PY
}

rows=()
failed_pairs=0
for pair in "${pairs[@]}"; do
  source=${pair%-*} target=${pair#*-}
  # Per label, so make test's matrix-quick run keeps a full matrix's logs.
  junit=$BUILD_DIR/$MATRIX_LABEL-$pair.xml
  log=$BUILD_DIR/$MATRIX_LABEL-$pair.log
  echo "matrix: PostgreSQL $source -> $target: ctest -L $MATRIX_LABEL -j$MATRIX_JOBS (log: $log)"
  start=$(date +%s)
  PGPARITY_SOURCE_MAJOR=$source PGPARITY_TARGET_MAJOR=$target \
    ctest --test-dir "$BUILD_DIR" -L "^$MATRIX_LABEL\$" -j"$MATRIX_JOBS" --output-on-failure \
    --output-junit "$junit" "${extra_args[@]}" >"$log" 2>&1
  rc=$?
  seconds=$(($(date +%s) - start))
  read -r passed failed skipped names < <(junit_counts "$junit")
  # ctest's own failure (a crash before the JUnit file, a timeout) counts too.
  if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then failed=1 names="(ctest exit $rc; read $log)"; fi
  [ "$passed" -gt 0 ] || [ "$failed" -gt 0 ] || { failed=1 names="(no test ran; read $log)"; }
  echo "matrix: PostgreSQL $source -> $target: $passed passed, $failed failed, $skipped skipped, ${seconds} s"
  if [ "$failed" != 0 ]; then
    failed_pairs=$((failed_pairs + 1))
    echo "matrix:   failing: $names"
  fi
  rows+=("| $source → $target | $passed | $failed | $skipped | $seconds | ${names:-} |")
done

{
  echo "Version matrix: ctest label \`$MATRIX_LABEL\`, $(date -u +%FT%TZ), $(nproc) cores, ctest -j$MATRIX_JOBS"
  echo
  echo "| pair | passed | failed | skipped | seconds | failing tests |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} >"$MATRIX_RESULTS"
echo
cat "$MATRIX_RESULTS"
echo
if [ "$failed_pairs" != 0 ]; then
  echo "matrix: FAIL — $failed_pairs of ${#pairs[@]} pairs had failures (logs: $BUILD_DIR/$MATRIX_LABEL-PAIR.log; table: $MATRIX_RESULTS)"
  exit 1
fi
echo "matrix: PASS — ${#pairs[@]} of ${#pairs[@]} pairs (table: $MATRIX_RESULTS)"
