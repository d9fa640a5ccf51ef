#!/usr/bin/env bash
# Builds the libFuzzer target fuzz_pgoutput with clang (ASan + UBSan) in
# build-fuzz/ and runs it for a bounded time over the committed seed corpus.
# Exits non-zero when the fuzzer finds a crash; the crashing input is left in
# build-fuzz/fuzz-artifacts/.
#
# Usage: decoder/fuzz/run.sh [seconds]     (default 60)
#        CXX_FUZZ=clang++-14 decoder/fuzz/run.sh 300
set -euo pipefail

seconds="${1:-60}"
if ! [[ "${seconds}" =~ ^[0-9]+$ ]] || [ "${seconds}" -eq 0 ]; then
  echo "usage: $0 [seconds > 0]" >&2
  exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${FUZZ_BUILD_DIR:-${root}/build-fuzz}"
cxx="${CXX_FUZZ:-$(command -v clang++ || command -v clang++-14 || true)}"
if [ -z "${cxx}" ]; then
  echo "run.sh: clang++ not found (Debian: apt-get install clang libclang-rt-14-dev)" >&2
  exit 2
fi

mkdir -p "${build}"
cmake -S "${root}" -B "${build}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER="${cxx}" -DPGPARITY_FUZZ=ON >"${build}/configure.log" 2>&1 ||
  { cat "${build}/configure.log" >&2; exit 1; }
cmake --build "${build}" --target fuzz_pgoutput -j "$(nproc)"

# New interesting inputs go to the scratch corpus (first directory); the
# committed seeds (second) are only read.
work="${build}/fuzz-corpus"
artifacts="${build}/fuzz-artifacts"
mkdir -p "${work}" "${artifacts}"

echo "fuzz_pgoutput: running for ${seconds} s"
"${build}/decoder/fuzz_pgoutput" \
  -max_total_time="${seconds}" \
  -print_final_stats=1 \
  -artifact_prefix="${artifacts}/" \
  "${work}" "${root}/decoder/fuzz/corpus"
