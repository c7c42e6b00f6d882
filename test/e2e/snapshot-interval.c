// snapshot_interval=100ms: the first allocation recorded past each 100 ms
// takes a snapshot (cause "interval"), with no signal (the program's
// sleeps are not interrupted) and no thread of the runtime's. A run that
// allocates every 10 ms for at least 450 ms takes 4 or more (3 at the
// least on a busy machine).
// RUN: %memscope_cc -O1 %s -o %t.exe
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1:snapshot_interval=100ms %t.exe
// RUN: %merge %t.out -o %t.report -q
// RUN: %python %S/Inputs/snapshots.py %t.report/analysis.json | FileCheck %s
// RUN: env MEMSCOPE_OUT=%t.bad MEMSCOPE_OPTIONS=snapshot_interval=soon %t.exe 2>&1 | FileCheck %s --check-prefix=BAD
#include <stdlib.h>
#include <time.h>

void *volatile sink;

int main(void) {
  struct timespec step = {0, 10000000}; // 10 ms
  for (int i = 0; i < 45; ++i) {
    sink = malloc(64);
    nanosleep(&step, NULL);
  }
  return 0;
}

// CHECK: snapshot 1 interval live_allocations={{[0-9]+}}
// CHECK-NEXT: snapshot 2 interval
// CHECK-NEXT: snapshot 3 interval
// CHECK: status exited
// CHECK: count {{[3-9]|[1-9][0-9]}} numbered_1_to_n=1
// BAD: memscope: bad value 'soon' for option 'snapshot_interval' in MEMSCOPE_OPTIONS
