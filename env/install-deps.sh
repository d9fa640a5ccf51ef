#!/usr/bin/env bash
# install-deps.sh [runtime|build|all] — installs from Debian's packages what
# pgparity needs, skipping what is already there (a second run takes well
# under a second). runtime: the client tools, PgBouncer and npm for the local
# servers; build: the C++ toolchain and libraries; bench: what bench/'s
# drivers run (gnuplot, GNU time); all: runtime, build and the CI validators
# (and prometheus, with promtool, for the rules and scrape tests; chromium
# for the live page's browser test).
set -euo pipefail
what=${1:-all}
runtime=(postgresql-client pgbouncer python3 util-linux passwd)
build=(cmake g++ make pkg-config librocksdb-dev liblmdb-dev libpq-dev libboost-dev libboost-program-options-dev protobuf-compiler libprotobuf-dev
  libspdlog-dev libgtest-dev libgmock-dev libbenchmark-dev libxxhash-dev libssl-dev libabsl-dev nlohmann-json3-dev)
extra=(docker-compose kubectl clang libclang-rt-14-dev prometheus chromium)
bench=(gnuplot-nox time)
case "$what" in
  runtime) pkgs=("${runtime[@]}") ;;
  build) pkgs=("${build[@]}") ;;
  bench) pkgs=("${runtime[@]}" "${bench[@]}") ;;
  all) pkgs=("${runtime[@]}" "${build[@]}" "${extra[@]}") ;;
  *) echo "install-deps: error: unknown set '$what' (use runtime, build, bench or all)" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm may come from a nodejs package that bundles it (and conflicts with
# Debian's npm), so it is looked up as a command.
case "$what" in runtime | bench | all) command -v npm >/dev/null || missing+=(npm) ;; esac
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: error: missing packages ${missing[*]}; install them as root (apt-get install ${missing[*]})" >&2; exit 2; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
