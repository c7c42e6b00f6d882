// Libraries that are dlopen'd, allocate and are dlclose'd before the process
// ends still resolve in the report: their Module records (path, load
// address, build-id) were written while they were loaded, so the merge
// symbolizes their frames (the allocations libstdc++ made on the
// instrumented plugin's behalf; the mallocs of an uninstrumented plugin,
// which registers nothing) and names their lines.
// RUN: mkdir -p %t.dir
// RUN: %memscope_cxx -O1 -shared -fPIC %S/Inputs/dlopen-lib.cpp -o %t.dir/libdlopen.so
// RUN: %clang -g -O1 -shared -fPIC %S/Inputs/dlopen-raw.c -o %t.dir/libraw.so
// RUN: %memscope_cc -O1 %s -o %t.exe -ldl
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe %t.dir/libdlopen.so %t.dir/libraw.so
// RUN: %merge %t.out -o %t.report --format=json,folded > /dev/null
// RUN: %python %inputs/summarize.py %t.report/analysis.json | FileCheck %s
// RUN: FileCheck %s --check-prefix=FOLDED < %t.report/stacks.folded
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

void *volatile sink;

int main(int argc, char **argv) {
  if (argc < 3)
    return 2;
  void *plugin = dlopen(argv[1], RTLD_NOW);
  void *raw = dlopen(argv[2], RTLD_NOW);
  if (!plugin || !raw) {
    fprintf(stderr, "%s\n", dlerror());
    return 1;
  }
  void (*allocate)(int) = (void (*)(int))dlsym(plugin, "plugin_allocate");
  void (*strings)(int) = (void (*)(int))dlsym(plugin, "plugin_strings");
  void (*raw_allocate)(int) = (void (*)(int))dlsym(raw, "raw_allocate");
  allocate(10);
  strings(5);
  raw_allocate(3);                                         // line 35
  // Both unloaded before exit. (They are loaded together: Module records
  // carry no time, so a frame at an address that two libraries used one
  // after the other could not be told apart.)
  if (dlclose(plugin) != 0 || dlclose(raw) != 0)
    return 1;
  sink = malloc(7);                                        // line 41
  return 0;
}
// The plugin's own site, and the libstdc++ allocations attributed through
// the plugin's frame (symbolized from its Module record after dlclose).
// CHECK-DAG: site kind=malloc at=dlopen-lib.cpp:13 {{.*}}allocations=10 bytes=1280
// CHECK-DAG: site kind=indirect at=dlopen-lib.cpp:19 {{.*}}allocations=5
// CHECK-DAG: site kind=malloc at=dlopen-dlclose.c:41 {{.*}}allocations=1 bytes=7
// The uninstrumented plugin's mallocs, attributed to the call in main.
// CHECK-DAG: site kind=indirect at=dlopen-dlclose.c:35 {{.*}}allocations=3 bytes=900

// The flame graph's frames in the unloaded library have names.
// FOLDED-DAG: plugin_strings
// FOLDED-DAG: ;main;raw_allocate ({{.*}}dlopen-raw.c:9) 900
