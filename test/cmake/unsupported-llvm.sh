#!/usr/bin/env bash
# Configuring against an LLVM outside 14..22 stops with a message that names
# the version found and the supported range.
#   unsupported-llvm.sh <source-dir>
set -euo pipefail
source=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if cmake -S "$source" -B "$work/build" \
     -DLLVM_DIR="$source/test/cmake/fake-llvm-13" > "$work/out.txt" 2>&1; then
  echo "configure succeeded against LLVM 13"; exit 1
fi
grep -q "Memscope supports LLVM 14 to 22, but LLVM_DIR" "$work/out.txt" &&
  grep -q "is LLVM 13.0.1" "$work/out.txt" || { cat "$work/out.txt"; exit 1; }
echo "unsupported LLVM rejected: OK"
