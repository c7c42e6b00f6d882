// A forked child records into its own process folder; the parent's logs do
// not see the child's allocations, and the merge reports both processes.
// RUN: %memscope_cc -O1 %s -o %t.exe
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe
// RUN: ls %t.out | wc -l | FileCheck %s --check-prefix=FOLDERS
// RUN: %merge %t.out -o %t.report > /dev/null
// RUN: %python %inputs/summarize.py %t.report/analysis.json | FileCheck %s
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

void *volatile sink;

int main(void) {
  for (int i = 0; i < 10; ++i)
    sink = malloc(100);                                          // line 16
  pid_t child = fork();
  if (child == 0) {
    for (int i = 0; i < 7; ++i)
      sink = malloc(200);                                        // line 20
    exit(0);
  }
  waitpid(child, 0, 0);
  for (int i = 0; i < 3; ++i)
    sink = malloc(300);                                          // line 25
  return 0;
}
// FOLDERS: 2
// CHECK: summary processes=2
// CHECK: site kind=malloc at=fork.c:16 {{.*}}allocations=10 bytes=1000
// CHECK: site kind=malloc at=fork.c:20 {{.*}}allocations=7 bytes=1400
// CHECK: site kind=malloc at=fork.c:25 {{.*}}allocations=3 bytes=900
