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
            include/memscope/abi.h include/memscope/LogFormat.h \
            include/memscope/version.h share/memscope/memscope-toolchain.cmake \
            lib/cmake/Memscope/MemscopeConfig.cmake \
            lib/cmake/Memscope/MemscopeConfigVersion.cmake; do
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
# The moved prefix's CMake files: the toolchain file, and find_package()
# with memscope_instrument().
mkdir -p "$work/cmake-app"
cp "$work/app.cpp" "$work/cmake-app/"
cat > "$work/cmake-app/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.20)
project(RelocatedApp CXX)
find_package(Threads REQUIRED)
add_executable(app app.cpp)
target_link_libraries(app PRIVATE Threads::Threads)
if(USE_PACKAGE)
  find_package(Memscope 0.1 CONFIG REQUIRED)
  memscope_instrument(app)
endif()
CMAKE
cmake -S "$work/cmake-app" -B "$work/cmake-toolchain" \
  -DCMAKE_TOOLCHAIN_FILE="$P/share/memscope/memscope-toolchain.cmake" >/dev/null
cmake --build "$work/cmake-toolchain" >/dev/null
cp "$work/cmake-toolchain/app" "$work/app-cmake-toolchain"
cmake -S "$work/cmake-app" -B "$work/cmake-package" -DUSE_PACKAGE=ON \
  -DCMAKE_PREFIX_PATH="$P" -DCMAKE_CXX_COMPILER="$clang++" >/dev/null
cmake --build "$work/cmake-package" >/dev/null
cp "$work/cmake-package/app" "$work/app-cmake-package"

for app in app-wrapper app-plain-clang app-cmake-toolchain app-cmake-package; do
  MEMSCOPE_OUT="$work/logs-$app" MEMSCOPE_OPTIONS=exact=1 "$work/$app"
  "$P/bin/memscope-merge" "$work/logs-$app" -o "$work/report-$app" > "$work/$app.txt"
  grep -E "^ +4800 +300 +0  new\[\] +.*app.cpp:7 " "$work/$app.txt" >/dev/null || {
    echo "unexpected summary for $app:"; cat "$work/$app.txt"; exit 1; }
done
echo "relocatable install: OK ($P)"
