// Without MEMSCOPE_OUT nothing is recorded; an output folder that cannot be
// created costs one warning and the program runs on unchanged.
// RUN: %memscope_cc -O1 %s -o %t.exe
// RUN: %t.exe 2>&1 | FileCheck %s --check-prefix=QUIET --allow-empty
// RUN: touch %t.file
// RUN: env MEMSCOPE_OUT=%t.file/sub %t.exe 2> %t.err | FileCheck %s --check-prefix=RUNS
// RUN: FileCheck %s --check-prefix=WARN < %t.err
// RUN: env MEMSCOPE_OUT=%t.file/sub %t.exe
#include <stdio.h>
#include <stdlib.h>
int main(void) {
  for (int i = 0; i < 1000; ++i) {
    void *volatile p = malloc(1000);
    free(p);
  }
  printf("program ran\n");
  return 0;
}
// QUIET-NOT: memscope
// QUIET: program ran
// RUNS: program ran
// WARN: memscope: cannot create output folder '{{.*}}.file/sub': Not a directory; not recording, the program continues
// WARN-NOT: memscope
