// A module instrumented by another Memscope version (here: this build's pass
// output with the version stamp rewritten) in a shared library: at start-up
// the runtime prints one line naming both versions and does not register
// that library's sites, so its allocations are counted under an unknown site
// rather than at lines it cannot vouch for; the program runs on, and the
// modules of the right version are recorded as always.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %clang -O1 -g -fPIC -DPART_LIB -S -emit-llvm %s -o %t/lib.ll
// RUN: %opt_memscope -passes=memscope -S %t/lib.ll -o %t/lib.instrumented.ll
// RUN: %python %S/Inputs/set-version.py %t/lib.instrumented.ll %t/lib.other.ll %memscope_version %other_version
// RUN: %clang -shared -fPIC %t/lib.other.ll -o %t/libother.so
// RUN: %clang_memscope -O1 %s -o %t/app -L%t -lother -Wl,-rpath,%t %link_rt
// RUN: env MEMSCOPE_OUT=%t/logs MEMSCOPE_OPTIONS=exact=1 %t/app > %t/out.txt 2> %t/err.txt
// RUN: FileCheck %s --check-prefix=ERR -DOTHER=%other_version -DVERSION=%memscope_version < %t/err.txt
// RUN: FileCheck %s --check-prefix=OUT < %t/out.txt
// RUN: %merge %t/logs -o %t/report > /dev/null
// RUN: %python %inputs/summarize.py %t/report/analysis.json | FileCheck %s
//
// Without recording, the check still runs: a mismatch is a build error.
// RUN: %t/app 2>&1 | FileCheck %s --check-prefix=ERR -DOTHER=%other_version -DVERSION=%memscope_version
//
// A module of another ABI does not even link: it needs that ABI's marker.
// RUN: %python %S/Inputs/set-version.py --abi %t/lib.instrumented.ll %t/lib.abi.ll %abi_version %other_abi
// RUN: %clang -shared -fPIC %t/lib.abi.ll -o %t/libabi.so
// RUN: not %clang_memscope -O1 %s -o %t/app-abi -L%t -labi -Wl,-rpath,%t %link_rt 2>&1 | FileCheck %s --check-prefix=ABI -DABI=%other_abi
#include <stdio.h>
#include <stdlib.h>

#ifdef PART_LIB
void *volatile lib_sink;
void lib_work(int n) {
  for (int i = 0; i < n; ++i) {
    lib_sink = malloc(24);                                  // line 33
    free(lib_sink);
  }
}
#else
void lib_work(int n);
void *volatile sink;
int main(void) {
  lib_work(10);
  for (int i = 0; i < 30; ++i) {
    sink = malloc(40);                                      // line 43
    free(sink);
  }
  printf("done\n");
  return 0;
}
#endif
// ERR: memscope: error: {{.*}}libother.so ({{.*}}version-mismatch.c) was instrumented by MemscopePass [[OTHER]], but this program runs libmemscope_rt [[VERSION]]; its allocation sites are not recorded. Rebuild it with the plugin of the same Memscope build.
// ERR-NOT: memscope: error
// OUT: done
// ABI: undefined reference to `__memscope_abi_v[[ABI]]'

// CHECK-DAG: site kind=unknown at=<unknown site>:0 function= allocations=10 bytes=240
// CHECK-DAG: site kind=malloc at=version-mismatch.c:43 function=main allocations=30 bytes=1200
// CHECK-NOT: version-mismatch.c:33
