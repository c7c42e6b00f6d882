#!/usr/bin/env bash
# Installs what Memscope needs on Debian 12 (bookworm), as root.
#
#   setup-debian.sh            what building and running Memscope needs
#                              (scripts/demo.sh)
#   setup-debian.sh --tests    that and what the tests and benchmarks add
#                              (scripts/test.sh)
#   setup-debian.sh --list [--tests]   print the packages, install nothing
#
# Idempotent: re-running only checks that everything is there.
set -euo pipefail
# Build and run: the plugin (clang and LLVM 19), the runtime, memscope-merge
# (TBB, fmt, nlohmann-json, protobuf with pprof's profile.proto, zlib).
main_packages=(
  cmake ninja-build ccache g++
  clang-19 llvm-19-dev
  libtbb-dev libfmt-dev nlohmann-json3-dev zlib1g-dev
  protobuf-compiler libprotobuf-dev golang-github-google-pprof-dev
)
# The tests: lit and FileCheck, GoogleTest, Google Benchmark, libc++ (its
# std::thread), the heaptrack comparison, valgrind (benchmarks), Go and
# Chromium (the real pprof and report.html), LLVM 14 and 22, autotools,
# the sanitizer and libFuzzer runtimes, the benchmark plots, strace and file.
test_packages=(
  python3 file strace llvm-19-tools libgtest-dev libbenchmark-dev
  libc++-19-dev libc++abi-19-dev
  heaptrack valgrind golang-go chromium
  clang-14 llvm-14-dev llvm-14-tools clang-22 llvm-22-dev llvm-22-tools
  autoconf automake make libclang-rt-19-dev python3-matplotlib
)
packages=("${main_packages[@]}")
list=no
for arg in "$@"; do
  case "$arg" in
    --tests) packages+=("${test_packages[@]}") ;;
    --list) list=yes ;;
    *) echo "setup-debian: unknown option '$arg' (--tests, --list)" >&2; exit 2 ;;
  esac
done
if [ "$list" = yes ]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup-debian: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup-debian: all packages present"
