// Allocations in static constructors (before main) and in atexit handlers
// (after main) are recorded.
// RUN: %memscope_cxx -O1 %s -o %t.exe
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe
// RUN: %merge %t.out -o %t.report > /dev/null
// RUN: %python %inputs/summarize.py %t.report/analysis.json | FileCheck %s
#include <cstdlib>

void *volatile sink;

struct Registry {
  Registry() {
    for (int i = 0; i < 10; ++i)
      sink = malloc(32);                                   // line 14
  }
};
Registry registry;

void at_exit_handler() {
  for (int i = 0; i < 5; ++i)
    sink = malloc(64);                                     // line 21
}

int main() {
  std::atexit(at_exit_handler);
  return 0;
}
// CHECK: site kind=malloc at=static-init-and-exit.cpp:14 {{.*}}allocations=10 bytes=320 live_allocations=10
// CHECK: site kind=malloc at=static-init-and-exit.cpp:21 {{.*}}allocations=5 bytes=320 live_allocations=5
