// Threads created by a pool in an uninstrumented shared library still
// appear, with an unknown spawn site and the library named as their
// creator; their allocations in instrumented callbacks keep their lines.
// RUN: mkdir -p %t.dir
// RUN: %clang -O2 -g -fPIC -shared %S/Inputs/pool.c -o %t.dir/libpool.so -lpthread
// RUN: %memscope_cxx -O2 %s -o %t.exe -L%t.dir -lpool -Wl,-rpath,%t.dir
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe
// RUN: %merge %t.out -o %t.report > /dev/null
// RUN: %python %inputs/summarize.py %t.report/analysis.json | FileCheck %s
#include <cstdlib>

extern "C" void pool_run(void (*task)(int));
void *volatile sink;

void task(int index) {
  for (int i = 0; i <= index; ++i)
    sink = malloc(100);                                          // line 17
}

int main() { pool_run(task); }

// CHECK: site kind=malloc at=uninstrumented-pool.cpp:17 function=task(int) allocations=10 bytes=1000 live_allocations=10 live_bytes=1000 threads=4
// Their spawn site is unknown (libpool.so is not instrumented), but the
// creating stack leads back to the instrumented call of pool_run.
// CHECK-COUNT-4: thread id={{[2-5]}} name={{.*}} parent=1 spawned_at=uninstrumented-pool.cpp:20
// CHECK: spawn_site at=unknown threads=4 running=0 allocations=10 bytes=1000 creator=libpool.so
