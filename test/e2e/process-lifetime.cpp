// Blocks live at exit are leaks, except those system libraries keep for the
// process's lifetime: stdout's buffer (the first printf), libstdc++'s
// emergency exception pool (a library constructor, before main), the TLS
// glibc keeps with the stacks of exited threads. Those are reported apart,
// in every output, and a suppression file in the sanitizers' format adds
// the user's own (a cache kept on purpose).
// RUN: %memscope_cxx -O2 %s -o %t.exe
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe > %t.stdout
// RUN: %merge %t.out -o %t.report > %t.txt
// RUN: %python %S/Inputs/live-at-exit.py %t.report/analysis.json | FileCheck %s
// CHECK: summary leaks=2/104 process_lifetime={{[1-9][0-9]*}}/{{[0-9]+}}
// CHECK-DAG: lifetime at=<uninstrumented>:0 function=_dl_init via={{.*}} allocations=1
// CHECK-DAG: lifetime at=process-lifetime.cpp:[[#PRINTF:]] function=main via={{.*}}_IO_{{.*}}
// CHECK-DAG: leak at=process-lifetime.cpp:[[#]] function=leak() allocations=1 bytes=40
// CHECK-DAG: leak at=process-lifetime.cpp:[[#]] function=makeCache() allocations=1 bytes=64
// RUN: FileCheck %s --check-prefix=TEXT < %t.txt
// TEXT: live at exit 104 bytes in 2 allocations; process-lifetime {{[0-9]+}} bytes in {{[0-9]+}} allocations
// TEXT: _dl_init [via {{.*}}] [process-lifetime]
//
// The user's own: a suppression file moves the cache.
// RUN: printf '# a cache kept on purpose\nleak:makeCache\n' > %t.supp
// RUN: %merge %t.out -o %t.report2 --suppressions=%t.supp --format=json
// RUN: %python %S/Inputs/live-at-exit.py %t.report2/analysis.json | FileCheck %s --check-prefix=SUPP
// SUPP: summary leaks=1/40
// SUPP-DAG: lifetime at=process-lifetime.cpp:[[#]] function=makeCache() via= allocations=1
// SUPP-DAG: leak at=process-lifetime.cpp:[[#]] function=leak() allocations=1 bytes=40
//
// pprof marks the process-lifetime samples.
// RUN: gzip -dc %t.report/profile.pb.gz | strings | FileCheck %s --check-prefix=PPROF
// PPROF: lifetime
//
// Bad suppression files: a clear error naming the file and line.
// RUN: printf 'leak:ok\nrace:foo\n' > %t.bad
// RUN: not %merge %t.out -o %t.bad-report --suppressions=%t.bad 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: memscope-merge: error: bad suppressions: {{.*}}.bad:2: unsupported suppression type 'race' (expected 'leak:<pattern>')
// RUN: printf 'leak:\n' > %t.empty
// RUN: not %merge %t.out -o %t.bad-report --suppressions=%t.empty 2>&1 | FileCheck %s --check-prefix=EMPTY
// EMPTY: {{.*}}.empty:1: empty pattern
// RUN: not %merge %t.out -o %t.bad-report --suppressions=%t.missing 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: memscope-merge: error: cannot read suppressions '{{.*}}missing': No such file or directory
#include <cstdio>
#include <cstdlib>
#include <thread>

int *volatile sink;
char *volatile cache;

__attribute__((noinline)) void leak() { sink = new int[10]; }
__attribute__((noinline)) void makeCache() {
  cache = static_cast<char *>(std::malloc(64));
}

int main() {
  std::printf("working\n");
  std::thread worker([] { sink = nullptr; });
  worker.join();
  leak();
  makeCache();
  return 0;
}
