// clang-format off
// The heap in use at exit is counted (log format 2.6), not sampled: at the
// default setting and with a sampling interval so large that nothing is
// sampled (1 TiB: the 2.2 MB allocated are sampled with probability 2e-6),
// it is within 1% of what exact mode's events leave live, and its
// range holds that, although four threads keep blocks that a fifth
// allocated and frees only some of. It also caps the estimated leaks.
// RUN: %clang_memscope -O1 %s %link_rt -lpthread -o %t.exe
// RUN: rm -rf %t.exact && env MEMSCOPE_OUT=%t.exact MEMSCOPE_OPTIONS=exact=1 %t.exe
// RUN: %merge %t.exact -o %t.exact-report > /dev/null
// RUN: rm -rf %t.default && env MEMSCOPE_OUT=%t.default %t.exe
// RUN: %merge %t.default -o %t.default-report > %t.default.txt
// RUN: rm -rf %t.sparse && env MEMSCOPE_OUT=%t.sparse MEMSCOPE_OPTIONS=sample_interval=1099511627776 %t.exe
// RUN: %merge %t.sparse -o %t.sparse-report > /dev/null
// RUN: %python %S/Inputs/heap_at_exit.py %t.exact-report/analysis.json %t.default-report/analysis.json %t.sparse-report/analysis.json | FileCheck %s
// RUN: FileCheck %s --check-prefix=TEXT < %t.default.txt
//
// Four workers each keep 100 blocks of 2000..2099 bytes (204,950 bytes) and
// free 100 others; main keeps 50 of the 300 blocks of 700 bytes it hands to
// a thread that frees the rest: 854,800 bytes and what libc keeps.
// CHECK: exact truth={{8[5-9][0-9][0-9][0-9][0-9]}} counted=1 within=1
// CHECK-NEXT: counted=1 within=1 holds=1 capped=1 samples=1
// CHECK-NEXT: counted=1 within=1 holds=1 capped=1 samples=0
// TEXT: heap in use at exit: {{[0-9]+}} bytes in {{[0-9]+}} blocks (counted;
// clang-format on
#include <pthread.h>
#include <stdlib.h>

enum { kWorkers = 4, kBlocks = 100, kHandOver = 300, kKept = 50 };

static void *handed[kHandOver];
static void *kept[kWorkers][kBlocks];

static void *freeHandedOver(void *arg) {
  for (int i = kKept; i < kHandOver; ++i)
    free(handed[i]);
  return arg;
}

static void *work(void *arg) {
  void **mine = arg;
  for (int i = 0; i < kBlocks; ++i) {
    void *scratch = malloc(3000 + i);
    mine[i] = malloc(2000 + i);
    free(scratch);
  }
  return 0;
}

int main(void) {
  for (int i = 0; i < kHandOver; ++i)
    handed[i] = malloc(700);
  // The workers allocate while another thread frees main's blocks.
  pthread_t threads[kWorkers + 1];
  pthread_create(&threads[kWorkers], 0, freeHandedOver, 0);
  for (int i = 0; i < kWorkers; ++i)
    pthread_create(&threads[i], 0, work, kept[i]);
  for (int i = 0; i <= kWorkers; ++i)
    pthread_join(threads[i], 0);
  return 0; // the kept blocks stay in use at exit
}
