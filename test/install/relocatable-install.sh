#!/usr/bin/env bash
# Installs the build into a prefix, moves the prefix, and checks that the
# moved wrappers and the documented plain-clang command line still build,
# run and merge a program (the prefix is relocatable).
#   relocatable-install.sh <build-dir> <source-dir> <clang>
set -euo pipefail
build=$1 source=$2 clang=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
for file in bin/memscope-merge bin/memscope-clang bin/memscope-clang++ \
            lib/MemscopePass.so lib/libmemscope_rt.so lib/libmemscope_rt.a \
            lib/libmemscope_lockfree.so include/memscope/lockfree.hpp \
            include/memscope/memscope.h \
            include/memscope/abi.h include/memscope/LogFormat.h; do
  [ -e "$work/prefix/$file" ] || { echo "missing $file in the install prefix"; exit 1; }
done
mv "$work/prefix" "$work/moved"
P=$work/moved

cat > "$work/app.cpp" <<'CPP'
#include <thread>
#include <vector>
int *volatile sink;
int main() {
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([] { for (int i = 0; i < 100; ++i) { sink = new int[4]; delete[] sink; } });
  for (auto &t : threads) t.join();
}
CPP
"$P/bin/memscope-clang++" -O2 "$work/app.cpp" -o "$work/app-wrapper"
# The documented command line without the wrappers.
"$clang++" -O2 -g -fno-omit-frame-pointer -fpass-plugin="$P/lib/MemscopePass.so" \
  "$work/app.cpp" -o "$work/app-plain-clang" \
  -L"$P/lib" -Wl,-rpath,"$P/lib" -lmemscope_rt
for app in app-wrapper app-plain-clang; do
  MEMSCOPE_OUT="$work/logs-$app" MEMSCOPE_OPTIONS=exact=1 "$work/$app"
  "$P/bin/memscope-merge" "$work/logs-$app" -o "$work/report-$app" > "$work/$app.txt"
  grep -E "^ +4800 +300 +0  new\[\] +.*app.cpp:7 " "$work/$app.txt" >/dev/null || {
    echo "unexpected summary for $app:"; cat "$work/$app.txt"; exit 1; }
done
echo "relocatable install: OK ($P)"
