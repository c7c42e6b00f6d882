// Snapshots (memscope_snapshot(), and the signal of signal=, SIGUSR2 by
// default) mark moments of a run; memscope-merge reports the live heap at
// each from the events before it (exact mode: exact), and --from/--to
// limit a report to the allocations between two of them.
// RUN: %memscope_cc -O1 %s -o %t.exe
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe
// RUN: %merge %t.out -o %t.report > %t.txt
// RUN: %python %S/Inputs/snapshots.py %t.report/analysis.json | FileCheck %s
// RUN: FileCheck %s --check-prefix=TEXT < %t.txt
// What happened between snapshots 1 and 2: the 300 blocks of phase 2, of
// which 100 were freed before snapshot 2.
// RUN: %merge %t.out -o %t.window --from=snapshot:1 --to=snapshot:2 > %t.window.txt
// RUN: %python %S/Inputs/totals.py %t.window/analysis.json | FileCheck %s --check-prefix=WINDOW
// RUN: FileCheck %s --check-prefix=WINDOW-TEXT < %t.window.txt
// RUN: not %merge %t.out -o %t.bad --from=snapshot:9 2>&1 | FileCheck %s --check-prefix=NOSNAP
// RUN: not %merge %t.out -o %t.bad --from=soon 2>&1 | FileCheck %s --check-prefix=BADTIME
// RUN: not %merge %t.out -o %t.bad --from=snapshot:3 --to=snapshot:1 2>&1 | FileCheck %s --check-prefix=ORDER
// The signal can be another, or none: then SIGUSR2 keeps its default action.
// RUN: rm -rf %t.none && env MEMSCOPE_OUT=%t.none MEMSCOPE_OPTIONS=exact=1:signal=none %t.exe nosignal
// RUN: %merge %t.none -o %t.none-report -q
// RUN: %python %S/Inputs/snapshots.py %t.none-report/analysis.json | FileCheck %s --check-prefix=NONE
#include <memscope/memscope.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *volatile sink;
static void *phase1[200], *phase2[300];

int main(int argc, char **argv) {
  for (int i = 0; i < 200; ++i)
    phase1[i] = malloc(100);
  if (memscope_snapshot() != 1)
    return 1;
  for (int i = 0; i < 300; ++i)
    phase2[i] = malloc(50);
  for (int i = 0; i < 100; ++i)
    free(phase2[i]);
  if (memscope_snapshot() != 2)
    return 2;
  for (int i = 0; i < 200; ++i)
    free(phase1[i]);
  if (argc < 2)
    raise(SIGUSR2); // snapshot 3, by signal
  return 0;
}

// CHECK: snapshot 1 call live_allocations=200 live_bytes=20000 heap_counted=1
// CHECK-NEXT: snapshot 2 call live_allocations=400 live_bytes=30000 heap_counted=1
// CHECK-NEXT: snapshot 3 signal live_allocations=200 live_bytes=10000 heap_counted=1
// CHECK-NEXT: live_now 3
// TEXT: snapshot 3 of 3 at {{[0-9.]+}} s (signal): live 10000 bytes in 200 allocations; heap in use {{[0-9]+}} bytes (counted)

// WINDOW: totals allocations=300 bytes=15000 exact=0
// WINDOW-TEXT: total: 300 allocations, 15000 bytes; peak live 15000 bytes; live at exit 10000 bytes in 200 allocations
// WINDOW-TEXT-NEXT: window: allocations made from snapshot:1 to snapshot:2; "live at exit" is live at its end

// NOSNAP: memscope-merge: error: --from=snapshot:9: pid {{[0-9]+}} has no snapshot 9 (its snapshots are 1 to 3)
// BADTIME: memscope-merge: error: --from: 'soon' is neither a time since the process started (30, 1.5s, 500ms, 2m, 1h) nor a snapshot (snapshot:3)
// ORDER: memscope-merge: error: --from=snapshot:3 is after --to=snapshot:1 in pid {{[0-9]+}}

// NONE: snapshot 1 call
// NONE-NEXT: snapshot 2 call
// NONE-NEXT: live_now 2
