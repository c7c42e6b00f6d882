#!/usr/bin/env bash
# Builds this source tree against another LLVM, with that LLVM's clang: the
# plugin, the runtime, memscope-merge, the C++ API, the wrappers and the
# runtime and merge unit tests (the whole project; not its benchmarks,
# fuzzers or sanitizer runs, which the main build covers).
#   build-llvm.sh <source-dir> <build-dir> <llvm-prefix> <generator>
set -euo pipefail
source=$1 build=$2 llvm=$3 generator=$4
cmake -S "$source" -B "$build" -G "$generator" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLLVM_DIR="$llvm/lib/cmake/llvm" \
  -DCMAKE_C_COMPILER="$llvm/bin/clang" -DCMAKE_CXX_COMPILER="$llvm/bin/clang++" \
  -DMEMSCOPE_PLUGIN_AND_RUNTIME_ONLY=OFF -DMEMSCOPE_BUILD_TESTS=ON \
  -DMEMSCOPE_BUILD_BENCH=OFF -DMEMSCOPE_SANITIZER_TESTS=OFF \
  -DMEMSCOPE_OTHER_LLVM_MAJORS= > "$build.configure.log" 2>&1 ||
  { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j2 --target MemscopePass memscope_rt memscope_rt_static \
  memscope_lockfree memscope-merge memscope-merge-tests memscope-runtime-tests
for file in lib/MemscopePass.so lib/libmemscope_rt.so bin/memscope-clang bin/memscope-clang++ \
            bin/memscope-merge bin/memscope-merge-tests bin/memscope-runtime-tests; do
  [ -e "$build/$file" ] || { echo "build-llvm.sh: $build/$file was not built"; exit 1; }
done
echo "Memscope for $("$llvm/bin/clang" --version | head -1): $build"
