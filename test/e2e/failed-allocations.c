// A request too large to succeed must not disturb the sampling of the
// allocations after it: each failed malloc, calloc or realloc, instrumented
// or not, still re-arms the thread's countdown, so exact mode keeps counting.
// RUN: %clang -O2 -c %S/Inputs/failing-allocations.c -o %t.plain.o
// RUN: %memscope_cc -O2 %s %t.plain.o -o %t.exe
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe | FileCheck %s --check-prefix=RUN-OUTPUT
// RUN: %merge %t.out -o %t.report > /dev/null
// RUN: %python %inputs/summarize.py %t.report/analysis.json | FileCheck %s
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int fail_uninstrumented(void);
void *volatile sink;
extern volatile size_t huge_request;

int main(void) {
  int failures = fail_uninstrumented();
  failures += (sink = malloc(huge_request)) == NULL; // line 19
  for (int i = 0; i < 100; ++i)
    free(sink = malloc(100 + i)); // line 21
  failures += fail_uninstrumented();
  for (int i = 0; i < 50; ++i)
    free(sink = malloc(200 + i)); // line 24
  printf("failures %d\n", failures);
  return 0;
}
// RUN-OUTPUT: failures 7
// CHECK-DAG: site kind=malloc at=failed-allocations.c:21 {{.*}} allocations=100 {{.*}} live_allocations=0
// CHECK-DAG: site kind=malloc at=failed-allocations.c:24 {{.*}} allocations=50 {{.*}} live_allocations=0
