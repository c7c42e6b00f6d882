// Snapshots by signal while eight threads allocate and free as fast as they
// can (exact mode): no deadlock (a signal may land inside the runtime,
// inside process.log's append, inside malloc), every allocation still
// counted exactly (each worker's own count is its thread's in the report),
// and the snapshots that arrived are numbered 1 to n with no gap. Signals
// sent while one is pending merge into one, so n is at most the number
// sent. Then SIGKILL right after a snapshot: the snapshot is readable.
// RUN: %memscope_cc -O1 %s -o %t.exe -pthread
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe > %t.counts
// RUN: %merge %t.out -o %t.report -q
// RUN: %python %S/../e2e/Inputs/totals.py %t.report/analysis.json > %t.totals
// RUN: FileCheck %s --check-prefix=THREADS < %t.totals
// RUN: %python %S/../e2e/Inputs/snapshots.py %t.report/analysis.json | FileCheck %s
// RUN: rm -rf %t.killed && env MEMSCOPE_OUT=%t.killed MEMSCOPE_OPTIONS=exact=1 not --crash %t.exe kill
// RUN: %merge %t.killed -o %t.killed-report -q
// RUN: %python %S/../e2e/Inputs/snapshots.py %t.killed-report/analysis.json | FileCheck %s --check-prefix=KILLED
#define _GNU_SOURCE
#include <memscope/memscope.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { kThreads = 8, kAllocations = 200000, kSignals = 200, kCalls = 500 };
static atomic_int running;
static void *volatile kept;

static void *worker(void *arg) {
  (void)arg;
  void *ring[64] = {0};
  for (int i = 0; i < kAllocations; ++i) {
    free(ring[i % 64]);
    ring[i % 64] = malloc(16 + (i * 37) % 400);
  }
  for (int i = 0; i < 64; ++i)
    free(ring[i]);
  atomic_fetch_sub(&running, 1);
  return NULL;
}

static void *snapshotter(void *arg) {
  (void)arg;
  for (int i = 0; i < kCalls; ++i)
    memscope_snapshot();
  return NULL;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "kill")) {
    kept = malloc(4096);
    if (memscope_snapshot() != 1)
      return 1;
    kill(getpid(), SIGKILL);
  }
  pthread_t threads[kThreads];
  atomic_store(&running, kThreads);
  for (int i = 0; i < kThreads; ++i)
    pthread_create(&threads[i], NULL, worker, NULL);
  pthread_t calls;
  pthread_create(&calls, NULL, snapshotter, NULL);
  struct timespec pause = {0, 200000};
  for (int i = 0; i < kSignals && atomic_load(&running); ++i) {
    kill(getpid(), SIGUSR2);
    nanosleep(&pause, NULL);
  }
  for (int i = 0; i < kThreads; ++i)
    pthread_join(threads[i], NULL);
  pthread_join(calls, NULL);
  printf("workers done\n");
  return 0;
}

// Each worker's 200,000 allocations, exactly.
// THREADS-COUNT-8: thread allocations=200000 bytes={{[0-9]+}} exact=1 running=0

// CHECK: live_now {{[1-9][0-9]*}}
// CHECK: status exited
// At least the 500 calls' snapshots, and the signals'.
// CHECK: count {{[5-9][0-9][0-9]}} numbered_1_to_n=1

// KILLED: snapshot 1 call live_allocations=1 live_bytes=4096 heap_counted=1
// KILLED: live_now 1
// KILLED: status killed-or-running
