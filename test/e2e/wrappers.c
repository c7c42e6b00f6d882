// memscope-clang is a drop-in CC: -c, several sources, -o and -shared behave
// as clang does; only a link adds the runtime.
// RUN: mkdir -p %t.dir && cd %t.dir
// RUN: %memscope_cc -O1 -c %s -o main.o -DPART_MAIN
// RUN: %memscope_cc -O1 -c %s -o part.o -DPART_HELPER
// RUN: %memscope_cc main.o part.o -o from-objects
// RUN: %memscope_cc -O1 %s %S/Inputs/helper-part.c -o from-sources -DPART_MAIN
// RUN: llvm-nm part.o | FileCheck %s --check-prefix=OBJ
// RUN: %memscope_cc -O1 -shared -fPIC %S/Inputs/helper-part.c -o libpart.so
// RUN: llvm-readelf -d libpart.so | FileCheck %s --check-prefix=SHARED
// RUN: llvm-readelf -d from-objects | FileCheck %s --check-prefix=LINKED
// RUN: ./from-objects | FileCheck %s --check-prefix=RAN
// RUN: ./from-sources | FileCheck %s --check-prefix=RAN
// RUN: %memscope_cc --version | FileCheck %s --check-prefix=VERSION
#include <stdio.h>
#include <stdlib.h>
#ifdef PART_MAIN
int helper(int);
int main(void) {
  printf("helper says %d\n", helper(20));
  return 0;
}
#endif
#ifdef PART_HELPER
int helper(int n) {
  char *volatile p = malloc(n);
  free(p);
  return n + 1;
}
#endif
// OBJ: U __memscope_abi_v{{[0-9]+}}
// OBJ: W memscope.module_ctor
// SHARED-NOT: libmemscope_rt
// LINKED: (NEEDED) Shared library: [libmemscope_rt.so]
// RAN: helper says 21
// VERSION: clang version
