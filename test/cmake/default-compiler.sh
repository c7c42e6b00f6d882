#!/usr/bin/env bash
# The README's build commands name no compiler: CMake then builds with the
# clang of the chosen LLVM (LLVM_DIR, or LLVM 19), not the system's g++;
# a compiler given in CC/CXX or -DCMAKE_<LANG>_COMPILER is kept.
#   default-compiler.sh <source-dir> <llvm-major> [<other-llvm-major>]
set -euo pipefail
source=$1 major=$2 other=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset CC CXX
compiler_of() { # <build-dir> <lang>: the compiler CMake recorded
  sed -n "s/^set(CMAKE_$2_COMPILER \"\(.*\)\")$/\1/p" "$1"/CMakeFiles/*/CMake$2Compiler.cmake
}
configure() { # <build-dir> <cmake args...>
  local dir=$1; shift
  cmake -S "$source" -B "$dir" -DMEMSCOPE_BUILD_TESTS=OFF -DMEMSCOPE_BUILD_BENCH=OFF "$@" \
    > "$dir.log" 2>&1 || { cat "$dir.log"; exit 1; }
}
configure "$work/default"
for lang in C CXX; do
  case "$(compiler_of "$work/default" $lang)" in
    /usr/lib/llvm-$major/bin/clang*) ;;
    *) echo "FAIL: default $lang compiler is $(compiler_of "$work/default" $lang)"; exit 1 ;;
  esac
done
grep -q "The CXX compiler identification is Clang $major\." "$work/default.log" ||
  { echo "FAIL: not clang $major:"; grep identification "$work/default.log"; exit 1; }
if [ -n "$other" ]; then
  configure "$work/other" -DLLVM_DIR=/usr/lib/llvm-$other/lib/cmake/llvm
  grep -q "The CXX compiler identification is Clang $other\." "$work/other.log" ||
    { echo "FAIL: LLVM_DIR=$other did not choose clang $other"; exit 1; }
fi
CC=gcc CXX=g++ configure "$work/env"
grep -q "The CXX compiler identification is GNU" "$work/env.log" ||
  { echo "FAIL: CXX=g++ was not kept"; exit 1; }
echo "PASS: clang $major by default${other:+, clang $other with its LLVM_DIR}, CC/CXX kept"
