// A library that is dlopen'd, allocates and is dlclose'd before the process
// ends still resolves in the report: its Module record (path, load address,
// build-id) was written when it loaded, so the merge symbolizes its frames
// (for the allocations libstdc++ made on its behalf) and names its lines.
// RUN: mkdir -p %t.dir
// RUN: %memscope_cxx -O1 -shared -fPIC %S/Inputs/dlopen-lib.cpp -o %t.dir/libdlopen.so
// RUN: %memscope_cc -O1 %s -o %t.exe -ldl
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe %t.dir/libdlopen.so
// RUN: %merge %t.out -o %t.report --format=json,folded > /dev/null
// RUN: %python %inputs/summarize.py %t.report/analysis.json | FileCheck %s
// RUN: FileCheck %s --check-prefix=FOLDED < %t.report/stacks.folded
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

void *volatile sink;

int main(int argc, char **argv) {
  if (argc < 2)
    return 2;
  void *plugin = dlopen(argv[1], RTLD_NOW);
  if (!plugin) {
    fprintf(stderr, "%s\n", dlerror());
    return 1;
  }
  void (*allocate)(int) = (void (*)(int))dlsym(plugin, "plugin_allocate");
  void (*strings)(int) = (void (*)(int))dlsym(plugin, "plugin_strings");
  allocate(10);
  strings(5);
  if (dlclose(plugin) != 0)
    return 1;
  sink = malloc(7);                                        // line 32
  return 0;
}
// The plugin's own site, and the libstdc++ allocations attributed through
// the plugin's frame (symbolized from its Module record after dlclose).
// CHECK-DAG: site kind=malloc at=dlopen-lib.cpp:13 {{.*}}allocations=10 bytes=1280
// CHECK-DAG: site kind=indirect at=dlopen-lib.cpp:19 {{.*}}allocations=5
// CHECK-DAG: site kind=malloc at=dlopen-dlclose.c:32 {{.*}}allocations=1 bytes=7

// The flame graph's frames in the unloaded library have names.
// FOLDED: plugin_strings
