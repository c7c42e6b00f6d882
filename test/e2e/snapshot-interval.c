// snapshot_interval=100ms: a timer sends the snapshot signal every 100 ms
// while the recording runs (cause "interval"), and stops at its end. A run
// of at least 450 ms takes 4 or more (3 at the least, counting the timer's
// first tick late on a busy machine).
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
    nanosleep(&step, NULL); // restarted after each signal (SA_RESTART)
  }
  return 0;
}

// CHECK: snapshot 1 interval live_allocations={{[0-9]+}}
// CHECK-NEXT: snapshot 2 interval
// CHECK-NEXT: snapshot 3 interval
// CHECK: status exited
// CHECK: count {{[3-9]|[1-9][0-9]}} numbered_1_to_n=1
// BAD: memscope: bad value 'soon' for option 'snapshot_interval' in MEMSCOPE_OPTIONS
