// A multi-threaded C program: every C allocator is counted exactly, at its
// own line, and realloc frees the block it replaces.
// RUN: %memscope_cc -O2 %s -o %t.exe -lpthread
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe
// RUN: %merge %t.out -o %t.report > /dev/null
// RUN: %python %inputs/summarize.py %t.report/analysis.json | FileCheck %s
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

void *volatile sink;

static void *worker(void *arg) {
  (void)arg;
  for (int i = 0; i < 100; ++i) {
    char *a = malloc(100);                       // line 17
    char *b = calloc(10, 20);                    // line 18
    a = realloc(a, 300);                         // line 19
    char *c = strdup("memscope");                // line 20
    void *d = NULL;
    if (posix_memalign(&d, 64, 256) != 0)        // line 22
      abort();
    sink = a; sink = b; sink = c; sink = d;
    free(a);
    free(b);
    free(c);
    free(d);
  }
  return NULL;
}

int main(void) {
  pthread_t threads[4];
  for (int i = 0; i < 4; ++i)
    pthread_create(&threads[i], NULL, worker, NULL);
  for (int i = 0; i < 4; ++i)
    pthread_join(threads[i], NULL);
  sink = malloc(4096);                           // line 39: leaked
  return 0;
}

// CHECK: site kind=malloc at=c-program.c:17 function=worker allocations=400 bytes=40000 live_allocations=0 live_bytes=0 threads=4
// CHECK: site kind=calloc at=c-program.c:18 function=worker allocations=400 bytes=80000 live_allocations=0 live_bytes=0 threads=4
// CHECK: site kind=realloc at=c-program.c:19 function=worker allocations=400 bytes=120000 live_allocations=0 live_bytes=0 threads=4
// CHECK: site kind=strdup at=c-program.c:20 function=worker allocations=400 bytes=3600 live_allocations=0 live_bytes=0 threads=4
// CHECK: site kind=posix_memalign at=c-program.c:22 function=worker allocations=400 bytes=102400 live_allocations=0 live_bytes=0 threads=4
// CHECK: site kind=malloc at=c-program.c:39 function=main allocations=1 bytes=4096 live_allocations=1 live_bytes=4096 threads=1
