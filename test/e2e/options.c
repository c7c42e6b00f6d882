// MEMSCOPE_OPTIONS: help=1 lists every option; an unknown key or a bad value
// costs one line on stderr, keeps the default, and the program runs on.
// RUN: %memscope_cc -O1 %s -o %t.exe
// RUN: env MEMSCOPE_OPTIONS=help=1 %t.exe 2>&1 | FileCheck %s --check-prefix=HELP
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=bogus=1:sample_rate=2:exact=1 %t.exe 2> %t.err | FileCheck %s --check-prefix=RUNS
// RUN: FileCheck %s --check-prefix=BAD < %t.err
// RUN: %merge %t.out -o %t.report | FileCheck %s --check-prefix=STILL-EXACT
// RUN: env MEMSCOPE_OPTIONS=sample_interval=abc %t.exe 2>&1 | FileCheck %s --check-prefix=BADNUM
#include <stdio.h>
#include <stdlib.h>
int main(void) {
  void *volatile p = malloc(10);
  free(p);
  printf("program ran\n");
  return 0;
}
// HELP: memscope: options (MEMSCOPE_OPTIONS=key=value:key=value):
// HELP: sample_interval
// HELP: sample_rate
// HELP: min_allocation_size
// HELP: exact
// HELP: stack_depth
// HELP: buffer_size
// HELP: program ran
// RUNS: program ran
// BAD: memscope: unknown option 'bogus' in MEMSCOPE_OPTIONS (help=1 lists them); ignored
// BAD-NEXT: memscope: bad value '2' for option 'sample_rate' in MEMSCOPE_OPTIONS: sample_rate must be in (0, 1]; keeping the default
// BAD-NOT: memscope
// STILL-EXACT: sampling exact
// BADNUM: memscope: bad value 'abc' for option 'sample_interval' in MEMSCOPE_OPTIONS; keeping the default
// BADNUM-NEXT: program ran
