#!/usr/bin/env bash
# Configuring against an LLVM outside 14..22 (13 below, 23 above) stops with
# a message that names the version found and the supported range.
#   unsupported-llvm.sh <source-dir>
set -euo pipefail
source=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for fake in 13:13.0.1 23:23.0.0; do
  major=${fake%%:*} version=${fake#*:}
  if cmake -S "$source" -B "$work/build-$major" \
       -DLLVM_DIR="$source/test/cmake/fake-llvm-$major" > "$work/out-$major.txt" 2>&1; then
    echo "configure succeeded against LLVM $major"; exit 1
  fi
  grep -q "Memscope supports LLVM 14 to 22, but LLVM_DIR" "$work/out-$major.txt" &&
    grep -q "is LLVM $version" "$work/out-$major.txt" || { cat "$work/out-$major.txt"; exit 1; }
done
echo "unsupported LLVM rejected: OK (13 and 23)"
