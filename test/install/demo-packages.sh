#!/usr/bin/env bash
# The main job installs only what the main job needs: the demo's package
# list (scripts/setup-debian.sh without --tests) holds no test-only package,
# and configuring the build the demo makes (scripts/build.sh without
# --tests) opens or runs no file of a test-only package.
#   demo-packages.sh <source-dir> <scratch-dir>
set -euo pipefail
source=$1 scratch=$2
rm -rf "$scratch" && mkdir -p "$scratch"
setup="$source/scripts/setup-debian.sh"
bash "$setup" --list > "$scratch/main.txt"
bash "$setup" --list --tests > "$scratch/all.txt"
grep -vxF -f "$scratch/main.txt" "$scratch/all.txt" > "$scratch/tests-only.txt"
[ -s "$scratch/tests-only.txt" ] || { echo "FAIL: --tests adds no package"; exit 1; }
for heavy in chromium golang-go heaptrack valgrind clang-14 clang-22 libgtest-dev python3-matplotlib; do
  if grep -qxF "$heavy" "$scratch/main.txt"; then
    echo "FAIL: the demo installs $heavy, which only the tests need"
    exit 1
  fi
  grep -qxF "$heavy" "$scratch/tests-only.txt" ||
    { echo "FAIL: $heavy is not in the test list"; exit 1; }
done
if bash "$setup" --bogus 2> "$scratch/bad.txt"; then
  echo "FAIL: an unknown option was accepted"; exit 1
fi
grep -q "unknown option '--bogus'" "$scratch/bad.txt"

# Every regular file the test-only packages install (not their folders).
while read -r package; do
  dpkg -L "$package" 2>/dev/null || true
done < "$scratch/tests-only.txt" | while read -r path; do
  [ -f "$path" ] && ! [ -d "$path" ] && echo "$path"
done | sort -u > "$scratch/test-files.txt"
[ -s "$scratch/test-files.txt" ] || { echo "FAIL: no files of test-only packages found"; exit 1; }

# Configure as build.sh does without --tests, recording every file opened
# or run.
strace -f -qq -o "$scratch/trace.txt" -e trace=open,openat,execve \
  cmake -S "$source" -B "$scratch/build" -G Ninja \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
    -DLLVM_DIR=/usr/lib/llvm-19/lib/cmake/llvm \
    -DMEMSCOPE_BUILD_TESTS=OFF -DMEMSCOPE_BUILD_BENCH=OFF > "$scratch/configure.txt"
# Files read or run; calls that failed (a probe that found nothing) do not
# count, nor what pkg-config reads: asked for a package that is missing
# (LLVM's CMake files probe libedit and libcurl), it reads every .pc file.
awk '$2 ~ /^execve\("\/usr\/bin\/pkg-config"/ { skip[$1] = 1 }
     !($1 in skip) && !/= -1 /' "$scratch/trace.txt" |
  grep -o '"/[^"]*"' | tr -d '"' | sort -u > "$scratch/used.txt"
comm -12 "$scratch/used.txt" "$scratch/test-files.txt" > "$scratch/overlap.txt"
if [ -s "$scratch/overlap.txt" ]; then
  echo "FAIL: configuring the demo build uses files of test-only packages:"
  head -20 "$scratch/overlap.txt"
  exit 1
fi
grep -q "build files have been written\|Build files have been written" "$scratch/configure.txt"
echo "PASS: demo needs $(wc -l < "$scratch/main.txt") packages; the tests add $(wc -l < "$scratch/tests-only.txt"), none used by the demo build's configuration"
