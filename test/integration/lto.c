// LTO: the pass runs in the pre-link compile (-flto and -flto=thin) and
// never instruments a module twice, even when a later phase loads the plugin
// again (a distributed ThinLTO backend compile with -fpass-plugin). The
// link-time optimisation of already instrumented code keeps the in-call flag,
// so the runtime's interposers do not count an allocation a second time:
// exact counts, once, at their lines.
// RUN: rm -rf %t && mkdir -p %t
//
// Full LTO.
// RUN: %clang_memscope -O2 -flto -c %s -o %t/full.o
// RUN: llvm-dis %t/full.o -o - | FileCheck %s --check-prefix=IR
// RUN: %clang -O2 -flto %t/full.o -o %t/full %link_rt
// RUN: env MEMSCOPE_OUT=%t/logs-full MEMSCOPE_OPTIONS=exact=1 %t/full 100
// RUN: %merge %t/logs-full -o %t/report-full > /dev/null
// RUN: %python %inputs/summarize.py %t/report-full/analysis.json | FileCheck %s
//
// ThinLTO linked in one step: the linker runs the backends.
// RUN: %clang_memscope -O2 -flto=thin -c %s -o %t/thin.o
// RUN: llvm-dis %t/thin.o -o - | FileCheck %s --check-prefix=IR
// RUN: %clang -O2 -flto=thin %t/thin.o -o %t/thin-linked %link_rt
// RUN: env MEMSCOPE_OUT=%t/logs-thin-linked MEMSCOPE_OPTIONS=exact=1 %t/thin-linked 100
// RUN: %merge %t/logs-thin-linked -o %t/report-thin-linked > /dev/null
// RUN: %python %inputs/summarize.py %t/report-thin-linked/analysis.json | FileCheck %s
//
// ThinLTO, distributed: thin link to an index, then the backend compile,
// which runs the optimisation pipeline again with the plugin loaded.
// RUN: %clang -flto=thin %t/thin.o -o %t/thin-index -Wl,-plugin-opt,thinlto-index-only
// RUN: %clang_memscope -O2 -x ir %t/thin.o -fthinlto-index=%t/thin.o.thinlto.bc -S -emit-llvm -o - | FileCheck %s --check-prefix=IR
// RUN: %clang_memscope -O2 -x ir %t/thin.o -fthinlto-index=%t/thin.o.thinlto.bc -c -o %t/thin.native.o
// RUN: %clang %t/thin.native.o -o %t/thin %link_rt
// RUN: env MEMSCOPE_OUT=%t/logs-thin MEMSCOPE_OPTIONS=exact=1 %t/thin 100
// RUN: %merge %t/logs-thin -o %t/report-thin > /dev/null
// RUN: %python %inputs/summarize.py %t/report-thin/analysis.json | FileCheck %s
#include <stdlib.h>

void *volatile sink;

__attribute__((noinline)) void churn(int n) {
  for (int i = 0; i < n; ++i) {
    sink = malloc(16);                                      // line 40
    free(sink);
  }
}

int main(int argc, char **argv) {
  churn(argc > 1 ? atoi(argv[1]) : 1);
  sink = calloc(3, 8);                                      // line 47
  free(sink);
  return 0;
}
// One table of four sites (malloc, free, calloc, free), one module flag:
// instrumented once.
// IR: @memscope.sites = private constant [4 x
// IR-NOT: @memscope.sites.{{[0-9]+}} =
// IR: !"memscope.instrumented", i32 1}
// IR-NOT: !"memscope.instrumented"
//
// CHECK: summary processes=1 threads=1 allocations=101
// CHECK-DAG: site kind=malloc at=lto.c:40 function=churn allocations=100 bytes=1600 live_allocations=0
// CHECK-DAG: site kind=calloc at=lto.c:47 function=main allocations=1 bytes=24 live_allocations=0
