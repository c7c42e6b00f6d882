#!/usr/bin/env bash
# Builds the plugin, the runtime and the wrappers of this source tree against
# another LLVM, with that LLVM's clang (a plugin-and-runtime-only build), and
# links the main build's memscope-merge into it so that the lit tests find
# every tool in one bin/.
#   build-plugin.sh <source-dir> <build-dir> <llvm-prefix> <generator> <memscope-merge>
set -euo pipefail
source=$1 build=$2 llvm=$3 generator=$4 merge=$5
cmake -S "$source" -B "$build" -G "$generator" \
  -DCMAKE_BUILD_TYPE=Release \
  -DLLVM_DIR="$llvm/lib/cmake/llvm" \
  -DCMAKE_C_COMPILER="$llvm/bin/clang" -DCMAKE_CXX_COMPILER="$llvm/bin/clang++" \
  -DMEMSCOPE_PLUGIN_AND_RUNTIME_ONLY=ON > "$build.configure.log" 2>&1 ||
  { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j2
ln -sf "$merge" "$build/bin/memscope-merge"
for file in lib/MemscopePass.so lib/libmemscope_rt.so bin/memscope-clang bin/memscope-clang++; do
  [ -e "$build/$file" ] || { echo "build-plugin.sh: $build/$file was not built"; exit 1; }
done
echo "plugin and runtime for $("$llvm/bin/clang" --version | head -1): $build"
