// memscope-merge on the folder of a process that is still running: its
// status is "running" (the pid is alive, runs the same executable, and
// started when the logs say), and its latest snapshot says what is live
// now. After it ends (SIGTERM, no exit record), it is "killed or still
// running" again.
// RUN: %memscope_cc -O1 %s -o %t.exe
// RUN: rm -rf %t.out %t.ready %t.series %t.series-after && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %python %S/Inputs/while_running.py %t.ready %t.exe %t.ready -- %merge %t.out -o %t.report --pprof-series %t.series | FileCheck %s --check-prefix=TEXT
// RUN: %python %S/Inputs/snapshots.py %t.report/analysis.json | FileCheck %s
// RUN: %check_html %t.report/report.html --expect "running (snapshot 1" | FileCheck %s --check-prefix=HTML
// RUN: %merge %t.out -o %t.after -q --pprof-series %t.series-after
// The series of a running process ends at its latest snapshot (the rest of
// the run is not over); once it is gone, the interval to its end follows.
// RUN: rm -rf %t.named && %python %S/../report/Inputs/series.py %t.series --alias %t.named | FileCheck %s --check-prefix=SERIES
// SERIES: processes 1 intervals_each 1 snapshots 1 ordered=1 files=1
// RUN: %python %S/../report/Inputs/series.py %t.series-after --alias %t.named | FileCheck %s --check-prefix=SERIES-AFTER
// SERIES-AFTER: processes 1 intervals_each 2 snapshots 1,null ordered=1 files=1
// RUN: %python %S/Inputs/snapshots.py %t.after/analysis.json | FileCheck %s --check-prefix=AFTER
#include <memscope/memscope.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void *volatile kept[64];

int main(int argc, char **argv) {
  for (int i = 0; i < 64; ++i)
    kept[i] = malloc(1000);
  if (memscope_snapshot() != 1)
    return 1;
  FILE *ready = fopen(argv[1], "w");
  if (!ready)
    return 2;
  fclose(ready);
  sleep(60); // until the test's SIGTERM
  return 0;
}

// TEXT: pid {{[0-9]+}} {{.*}}running-service.c.tmp.exe: running; 1 thread
// TEXT-NEXT: snapshot 1 of 1 at {{[0-9.]+}} s (call): live 64000 bytes in 64 allocations; heap in use {{[0-9]+}} bytes (counted)
// CHECK: snapshot 1 call live_allocations=64 live_bytes=64000 heap_counted=1
// CHECK: live_now 1
// CHECK: status running
// AFTER: status killed-or-running
// HTML: html ok
