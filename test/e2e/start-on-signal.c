// MEMSCOPE_OPTIONS=start=signal: the program runs unrecorded until the first
// signal of signal= (SIGUSR2), then is recorded; later signals take
// snapshots. Nothing allocated before the signal is recorded (nor are its
// frees), everything after it is, at exact counts in exact mode. Without the
// signal nothing is written at all.
// RUN: %memscope_cc -O1 %s -o %t.exe
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1:start=signal %t.exe
// RUN: %merge %t.out -o %t.report -q
// RUN: %python %S/Inputs/sites.py %t.report/analysis.json --totals | FileCheck %s
// RUN: %python %S/Inputs/snapshots.py %t.report/analysis.json | FileCheck %s --check-prefix=SNAPSHOTS
// RUN: rm -rf %t.none && env MEMSCOPE_OUT=%t.none MEMSCOPE_OPTIONS=exact=1:start=signal %t.exe nosignal
// RUN: %python -c "import os, sys; sys.exit(os.path.exists(sys.argv[1]))" %t.none
// RUN: env MEMSCOPE_OUT=%t.bad MEMSCOPE_OPTIONS=start=later %t.exe nosignal 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: env MEMSCOPE_OUT=%t.bad2 MEMSCOPE_OPTIONS=start=signal:signal=none %t.exe nosignal 2>&1 | FileCheck %s --check-prefix=NONE
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static void *volatile before[1000], *volatile after[500];

int main(int argc, char **argv) {
  int signals = argc < 2 || strcmp(argv[1], "nosignal");
  for (int i = 0; i < 1000; ++i)
    before[i] = malloc(100); // never recorded
  if (signals)
    raise(SIGUSR2); // recording starts
  for (int i = 0; i < 500; ++i)
    after[i] = malloc(60);
  for (int i = 0; i < 100; ++i)
    free(before[i]);
  if (signals)
    raise(SIGUSR2); // snapshot 1
  return 0;
}

// CHECK-NOT: start-on-signal.c:24
// CHECK: malloc start-on-signal.c:28 main allocations=500 bytes=30000 frees=0 live_at_exit=30000
// CHECK-NOT: start-on-signal.c:24
// CHECK: totals allocations=500 sites=500 bytes=30000 sites=30000
// SNAPSHOTS: snapshot 1 signal live_allocations=500 live_bytes=30000 heap_counted=1
// BAD: memscope: bad value 'later' for option 'start' in MEMSCOPE_OPTIONS
// NONE: memscope: start=signal needs a signal, and signal=none gives none; recording starts now
