// Sites in the executable, in a linked shared library and in a dlopen'd
// shared library are all known, with their own file:line.
// RUN: mkdir -p %t.dir
// RUN: %memscope_cc -O2 -shared -fPIC %S/Inputs/linked-lib.c -o %t.dir/liblinked.so
// RUN: %memscope_cc -O2 -shared -fPIC %S/Inputs/plugin-lib.c -o %t.dir/libplugin.so
// RUN: %memscope_cc -O2 %s -o %t.exe -L%t.dir -llinked -Wl,-rpath,%t.dir -ldl
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe %t.dir/libplugin.so
// RUN: %merge %t.out -o %t.report > /dev/null
// RUN: %python %inputs/summarize.py %t.report/analysis.json | FileCheck %s
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

void linked_work(int count);
void *volatile sink;

int main(int argc, char **argv) {
  if (argc < 2)
    return 2;
  linked_work(30);
  void *plugin = dlopen(argv[1], RTLD_NOW);
  if (!plugin) {
    fprintf(stderr, "%s\n", dlerror());
    return 1;
  }
  void (*plugin_work)(int) = (void (*)(int))dlsym(plugin, "plugin_work");
  plugin_work(20);
  sink = malloc(7);                                        // line 28
  return 0;
}
// CHECK-DAG: site kind=malloc at=shared-libraries.c:28 function=main allocations=1 bytes=7
// CHECK-DAG: site kind=calloc at=linked-lib.c:5 function=linked_work allocations=30 bytes=720 live_allocations=0
// CHECK-DAG: site kind=malloc at=plugin-lib.c:5 function=plugin_work allocations=20 bytes=960 live_allocations=20
