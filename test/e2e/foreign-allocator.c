// When another allocator wins the symbol lookup over the runtime's
// interposers (LD_PRELOAD of jemalloc or tcmalloc, say), the instrumented
// malloc, calloc and free sites must reach that allocator too: a block from
// one allocator freed into another would corrupt the heap. Their sites are
// still counted.
// RUN: mkdir -p %t.dir
// RUN: %clang -O2 -shared -fPIC %S/Inputs/foreign-allocator.c -o %t.dir/libforeign.so
// RUN: %memscope_cc -O2 %s -o %t.exe -ldl
// RUN: rm -rf %t.out && env LD_PRELOAD=%t.dir/libforeign.so MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe | FileCheck %s --check-prefix=PRELOADED
// RUN: %merge %t.out -o %t.report > /dev/null
// RUN: %python %inputs/summarize.py %t.report/analysis.json | FileCheck %s
// Without the preload the runtime's own interposers serve the program.
// RUN: %t.exe | FileCheck %s --check-prefix=PLAIN
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

enum { kBlocks = 1000 };
void *blocks[kBlocks];

int main(void) {
  unsigned long *mallocs = dlsym(RTLD_DEFAULT, "foreign_mallocs");
  unsigned long *frees = dlsym(RTLD_DEFAULT, "foreign_frees");
  unsigned long mallocs_before = mallocs ? *mallocs : 0;
  unsigned long frees_before = frees ? *frees : 0;
  for (int i = 0; i < kBlocks; ++i)
    blocks[i] = i % 2 ? malloc(32 + i) : calloc(1, 32 + i); // line 27
  for (int i = 0; i < kBlocks; ++i)
    free(blocks[i]);                                        // line 29
  if (!mallocs) {
    puts("no foreign allocator");
    return 0;
  }
  printf("foreign mallocs %lu frees %lu\n", *mallocs - mallocs_before,
         *frees - frees_before);
  return 0;
}
// PRELOADED: foreign mallocs {{1[0-9][0-9][0-9]}} frees {{1[0-9][0-9][0-9]}}
// PLAIN: no foreign allocator
// The frees at line 29 were matched: nothing is live at exit.
// CHECK-DAG: site kind=malloc at=foreign-allocator.c:27 {{.*}} allocations=500 {{.*}} live_allocations=0
// CHECK-DAG: site kind=calloc at=foreign-allocator.c:27 {{.*}} allocations=500 {{.*}} live_allocations=0
