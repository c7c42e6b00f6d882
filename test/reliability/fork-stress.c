// fork() while four other threads are inside the runtime all the time (exact
// mode records every allocation): every child records into its own folder,
// never deadlocks on a lock a parent thread held, and the parent's counts
// are exact.
// RUN: %clang_memscope -O1 %s %link_rt -lpthread -o %t.exe
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 timeout 120 %t.exe > %t.stdout
// RUN: ls %t.out | wc -l | FileCheck %s --check-prefix=FOLDERS
// RUN: %python %S/Inputs/logcheck.py check %t.out | FileCheck %s --check-prefix=OK
// RUN: %merge %t.out -o %t.report > /dev/null
// RUN: %python %S/Inputs/logcheck.py site-count %t.report/analysis.json fork-stress.c:39 > %t.workers
// RUN: %python %S/Inputs/logcheck.py site-count %t.report/analysis.json fork-stress.c:66 > %t.children
// RUN: %python %S/Inputs/logcheck.py site-count %t.report/analysis.json fork-stress.c:52 > %t.child-threads
// RUN: cat %t.stdout %t.workers %t.children %t.child-threads | FileCheck %s --check-prefix=COUNTS
// RUN: %python %S/Inputs/logcheck.py process %t.report/analysis.json | sort | uniq -c | FileCheck %s --check-prefix=STATES
// FOLDERS: {{^}}41{{$}}
// OK: logs ok files=
// STATES: 41 process state=exited exit_kind=0
// COUNTS: worker allocations [[W:[0-9]+]]
// COUNTS-NEXT: children ok 40
// COUNTS-NEXT: {{^}}[[W]]{{$}}
// COUNTS-NEXT: {{^}}4000{{$}}
// COUNTS-NEXT: {{^}}2000{{$}}
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

enum { kWorkers = 4, kForks = 40 };
void *volatile sink;
static volatile int stop;
static uint64_t counts[kWorkers * 8];

static void *worker(void *arg) {
  uintptr_t index = (uintptr_t)arg;
  uint64_t count = 0;
  while (!stop) {
    void *block = malloc(40); // line 39
    sink = block;
    free(block);
    if (++count % 32 == 0) // keep the log small enough to merge quickly
      usleep(100);
  }
  counts[index * 8] = count;
  return 0;
}

static void *child_thread(void *arg) {
  (void)arg;
  for (int i = 0; i < 50; ++i)
    sink = malloc(16); // line 52
  return 0;
}

int main(void) {
  pthread_t workers[kWorkers];
  for (uintptr_t i = 0; i < kWorkers; ++i)
    pthread_create(&workers[i], 0, worker, (void *)i);
  int ok = 0;
  for (int f = 0; f < kForks; ++f) {
    usleep(2000);
    pid_t child = fork();
    if (child == 0) {
      for (int i = 0; i < 100; ++i)
        sink = malloc(24); // line 66
      pthread_t thread;
      pthread_create(&thread, 0, child_thread, 0);
      pthread_join(thread, 0);
      exit(7);
    }
    int status = 0;
    if (child > 0 && waitpid(child, &status, 0) == child &&
        WIFEXITED(status) && WEXITSTATUS(status) == 7)
      ++ok;
  }
  stop = 1;
  uint64_t total = 0;
  for (int i = 0; i < kWorkers; ++i) {
    pthread_join(workers[i], 0);
    total += counts[i * 8];
  }
  printf("worker allocations %llu\nchildren ok %d\n", (unsigned long long)total,
         ok);
  return 0;
}
