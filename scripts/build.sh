#!/usr/bin/env bash
# Configures and builds Memscope into build/ (or $MEMSCOPE_BUILD_DIR) with
# clang 19 and Ninja, two jobs.
#
#   build.sh            Memscope itself: plugin, runtime, memscope-merge,
#                       wrappers, C++ API, examples
#   build.sh --tests    also the tests and benchmarks (scripts/test.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MEMSCOPE_BUILD_DIR:-$root/build}
tests=OFF
for arg in "$@"; do
  case "$arg" in
    --tests) tests=ON ;;
    *) echo "build.sh: unknown option '$arg' (--tests)" >&2; exit 2 ;;
  esac
done
cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
  -DLLVM_DIR=/usr/lib/llvm-19/lib/cmake/llvm \
  -DMEMSCOPE_BUILD_TESTS=$tests -DMEMSCOPE_BUILD_BENCH=$tests >/dev/null
cmake --build "$build" -j2
