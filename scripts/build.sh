#!/usr/bin/env bash
# Configures and builds Memscope into build/ (or $MEMSCOPE_BUILD_DIR) with
# clang 19 and Ninja, two jobs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MEMSCOPE_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
  -DLLVM_DIR=/usr/lib/llvm-19/lib/cmake/llvm >/dev/null
cmake --build "$build" -j2
