// Thread and process allocation counts and bytes are counted, not sampled:
// at the default setting they equal exact mode's, for threads that ended,
// threads still running at exit (read through process_vm_readv), the main
// thread, and with a sampling interval so large that nothing is sampled.
// RUN: %clang_memscope -O1 %s %link_rt -lpthread -o %t.exe
// RUN: rm -rf %t.exact && env MEMSCOPE_OUT=%t.exact MEMSCOPE_OPTIONS=exact=1 %t.exe
// RUN: %merge %t.exact -o %t.exact-report > /dev/null
// RUN: %python %S/Inputs/totals.py %t.exact-report/analysis.json > %t.exact.txt
// RUN: FileCheck %s < %t.exact.txt
// RUN: rm -rf %t.default && env MEMSCOPE_OUT=%t.default %t.exe
// RUN: %merge %t.default -o %t.default-report > /dev/null
// RUN: %python %S/Inputs/totals.py %t.default-report/analysis.json > %t.default.txt
// RUN: diff %t.exact.txt %t.default.txt
// RUN: rm -rf %t.sparse && env MEMSCOPE_OUT=%t.sparse MEMSCOPE_OPTIONS=sample_interval=1073741824 %t.exe
// RUN: %merge %t.sparse -o %t.sparse-report > /dev/null
// RUN: %python %S/Inputs/totals.py %t.sparse-report/analysis.json > %t.sparse.txt
// RUN: diff %t.exact.txt %t.sparse.txt
//
// Four workers of 1000 blocks (100..149 bytes, 124,500 bytes) that end, two
// of 500 blocks (100..149 bytes, 62,250 bytes) still running at exit, and
// main's 10 blocks of 1000 bytes plus what libc allocates for it (a thread's
// TLS vector at each pthread_create).
// CHECK: totals allocations={{50[1-9][0-9]}} bytes={{[0-9]+}} exact=1
// CHECK-NEXT: thread allocations=1000 bytes=124500 exact=1 running=0
// CHECK-NEXT: thread allocations=1000 bytes=124500 exact=1 running=0
// CHECK-NEXT: thread allocations=1000 bytes=124500 exact=1 running=0
// CHECK-NEXT: thread allocations=1000 bytes=124500 exact=1 running=0
// CHECK-NEXT: thread allocations={{1[0-9]}} bytes={{1[0-9][0-9][0-9][0-9]}} exact=1 running=0
// CHECK-NEXT: thread allocations=500 bytes=62250 exact=1 running=1
// CHECK-NEXT: thread allocations=500 bytes=62250 exact=1 running=1
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <unistd.h>

void *volatile sink;
static sem_t done;

static void allocate(int count) {
  for (int i = 0; i < count; ++i) {
    void *block = malloc(100 + i % 50);
    sink = block;
    free(block);
  }
}

static void *worker(void *arg) {
  allocate(1000);
  return arg;
}

static void *lingering(void *arg) {
  allocate(500);
  sem_post(&done);
  for (;;)
    pause();
  return arg;
}

int main(void) {
  sem_init(&done, 0, 0);
  pthread_t threads[6];
  for (int i = 0; i < 4; ++i)
    pthread_create(&threads[i], 0, worker, 0);
  for (int i = 4; i < 6; ++i)
    pthread_create(&threads[i], 0, lingering, 0);
  for (int i = 0; i < 4; ++i)
    pthread_join(threads[i], 0);
  for (int i = 4; i < 6; ++i)
    sem_wait(&done);
  for (int i = 0; i < 10; ++i)
    sink = malloc(1000);
  exit(0);
}
