#!/usr/bin/env bash
# Builds the runtime and merge unit tests under a sanitizer in their own
# build tree and runs them.
#   run-sanitized.sh asan|tsan SOURCE_DIR BUILD_DIR C_COMPILER CXX_COMPILER LLVM_DIR
# asan = AddressSanitizer + UndefinedBehaviorSanitizer. The runtime's malloc
# and pthread_create interposers are left out (MEMSCOPE_RT_INTERPOSE=OFF):
# the sanitizers own those functions in these binaries. TSan runs with no
# suppressions.
set -euo pipefail
kind=$1 src=$2 build=$3 cc=$4 cxx=$5 llvm_dir=$6
case $kind in
  asan) flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
        export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:halt_on_error=1
        export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ;;
  tsan) flags="-fsanitize=thread"
        export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ;;
  *) echo "run-sanitized.sh: unknown sanitizer '$kind'" >&2; exit 2 ;;
esac
flags="$flags -fno-omit-frame-pointer -g -O1"
start=$(date +%s)
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" -DLLVM_DIR="$llvm_dir" \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="$flags" -DCMAKE_SHARED_LINKER_FLAGS="$flags" \
  -DMEMSCOPE_RT_INTERPOSE=OFF -DMEMSCOPE_BUILD_TESTS=ON -DMEMSCOPE_BUILD_BENCH=OFF \
  -DMEMSCOPE_SANITIZER_TESTS=OFF -DMEMSCOPE_OTHER_LLVM_MAJORS= >/dev/null
# Only what the two test binaries need.
cmake --build "$build" -j2 --target memscope-runtime-tests memscope-merge-tests
echo "$kind: built in $(( $(date +%s) - start )) s"
"$build/bin/memscope-runtime-tests"
if [ "$kind" = tsan ]; then
  # See tbb-one-worker.cpp: libtbb itself is not TSan-instrumented.
  "$cxx" -shared -fPIC -O1 -o "$build/tbb-one-worker.so" \
    "$(dirname "$0")/tbb-one-worker.cpp" -ltbb
  # The CLI tests start memscope-merge, which inherits the preload.
  LD_PRELOAD="$build/tbb-one-worker.so" "$build/bin/memscope-merge-tests"
else
  "$build/bin/memscope-merge-tests"
fi
echo "$kind: runtime and merge unit tests clean"
