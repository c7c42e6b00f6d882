// clang-format off
// The peak of live bytes is counted, not sampled: at the default setting and
// with a sampling interval so large that nothing is sampled, it is within 2%
// of exact mode's peak and its interval holds it, although eight threads hold
// their blocks at once and a thread frees blocks another allocated.
// RUN: %clang_memscope -O1 %s %link_rt -lpthread -o %t.exe
// RUN: rm -rf %t.exact && env MEMSCOPE_OUT=%t.exact MEMSCOPE_OPTIONS=exact=1 %t.exe
// RUN: %merge %t.exact -o %t.exact-report > /dev/null
// RUN: rm -rf %t.default && env MEMSCOPE_OUT=%t.default %t.exe
// RUN: %merge %t.default -o %t.default-report > %t.default.txt
// RUN: rm -rf %t.sparse && env MEMSCOPE_OUT=%t.sparse MEMSCOPE_OPTIONS=sample_interval=1073741824 %t.exe
// RUN: %merge %t.sparse -o %t.sparse-report > /dev/null
// RUN: %python %S/Inputs/peak.py %t.exact-report/analysis.json %t.default-report/analysis.json %t.sparse-report/analysis.json | FileCheck %s
// RUN: FileCheck %s --check-prefix=TEXT < %t.default.txt
//
// Eight workers of 64 blocks of 1000..1063 bytes each (66,016 bytes), held
// at once: a peak of 528,128 bytes and what libc keeps (stdio, the threads'
// TLS vectors). Before that, 300 blocks of 700 bytes that main allocates
// and a worker frees.
// CHECK: exact method=exact peak={{5[2-9][0-9][0-9][0-9][0-9]}}
// CHECK-NEXT: counted method=counted within=1 holds=1 samples={{[01]}}
// CHECK-NEXT: counted method=counted within=1 holds=1 samples=0
// TEXT: peak live counted (
// clang-format on
#include <pthread.h>
#include <stdlib.h>

enum { kWorkers = 8, kBlocks = 64, kHandOver = 300 };

static pthread_barrier_t held;
static void *handed[kHandOver];

static void *freeHandedOver(void *arg) {
  for (int i = 0; i < kHandOver; ++i)
    free(handed[i]);
  return arg;
}

static void *hold(void *arg) {
  void *blocks[kBlocks];
  for (int i = 0; i < kBlocks; ++i)
    blocks[i] = malloc(1000 + i);
  pthread_barrier_wait(&held); // every worker holds its blocks now
  pthread_barrier_wait(&held);
  for (int i = 0; i < kBlocks; ++i)
    free(blocks[i]);
  return arg;
}

int main(void) {
  for (int i = 0; i < kHandOver; ++i)
    handed[i] = malloc(700);
  pthread_t thread;
  pthread_create(&thread, 0, freeHandedOver, 0);
  pthread_join(thread, 0);

  pthread_t workers[kWorkers];
  pthread_barrier_init(&held, 0, kWorkers);
  for (int i = 0; i < kWorkers; ++i)
    pthread_create(&workers[i], 0, hold, 0);
  for (int i = 0; i < kWorkers; ++i)
    pthread_join(workers[i], 0);
  pthread_barrier_destroy(&held);
  return 0;
}
