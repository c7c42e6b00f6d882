// Symbolized addresses are kept between merges (tools/merge/SymbolCache.h).
// A merge from the cache gives the same report as one without it; a debug
// file that appears after a merge is read, not hidden by the answers kept
// without it; a damaged cache file is ignored with a warning and rewritten;
// a folder that cannot be written is named once and the merge goes on;
// --no-symbol-cache keeps nothing; and a program rebuilt since its run is
// named in a warning.
//
// The program's debug info is moved to a separate file, found by its
// .gnu_debuglink beside the program, and left out at first.
// RUN: rm -rf %t && mkdir -p %t/bin %t/keep
// RUN: %memscope_cc -O1 -g %s -o %t/bin/prog
// RUN: objcopy --only-keep-debug %t/bin/prog %t/keep/prog.debug
// RUN: objcopy --strip-debug --add-gnu-debuglink=%t/keep/prog.debug %t/bin/prog
// RUN: env MEMSCOPE_OUT=%t/logs MEMSCOPE_OPTIONS=exact=1 %t/bin/prog
//
// Without the debug file, fopen's block is at prog+offset; the second merge
// reads the same from the cache.
// RUN: %merge %t/logs -o %t/r1 --symbol-cache %t/cache 2> %t/r1.err > /dev/null
// RUN: FileCheck --check-prefix=NOLINES-WARN %s < %t/r1.err
// RUN: %python %inputs/summarize.py %t/r1/analysis.json > %t/r1.sum
// RUN: FileCheck --check-prefix=NOLINES %s < %t/r1.sum
// RUN: ls %t/cache/symbols | FileCheck --check-prefix=FILES %s
// RUN: %merge %t/logs -o %t/r2 --symbol-cache %t/cache 2> %t/r2.err > /dev/null
// RUN: FileCheck --check-prefix=NOLINES-WARN %s < %t/r2.err
// RUN: cmp %t/r1/analysis.json %t/r2/analysis.json
// NOLINES-WARN: warning: {{.*}}prog has no debug line information
// NOLINES: site kind=indirect at=:0 function=prog+0x{{[0-9a-f]+}} allocations=100 {{.*}} via=__fopen_internal
// FILES: {{^[0-9a-f]{40}-[0-9a-f]{16}\.msgpack$}}
//
// The debug file appears: the line is read, then kept.
// RUN: cp %t/keep/prog.debug %t/bin/prog.debug
// RUN: %merge %t/logs -o %t/r3 --symbol-cache %t/cache 2> %t/r3.err > /dev/null
// RUN: %python %inputs/summarize.py %t/r3/analysis.json > %t/r3.sum
// RUN: FileCheck --check-prefix=LINES %s < %t/r3.sum
// RUN: %merge %t/logs -o %t/r4 --symbol-cache %t/cache 2> %t/r4.err > /dev/null
// RUN: cmp %t/r3/analysis.json %t/r4/analysis.json
// RUN: cmp %t/r3/stacks.folded %t/r4/stacks.folded
// RUN: cmp %t/r3/trace.json %t/r4/trace.json
// RUN: not grep warning %t/r4.err
//
// The kept lines are what the next merge reads: with the debug file's bytes
// zeroed but its size and time kept, the cache still gives the line, where
// LLVM alone (--no-symbol-cache) no longer finds one.
// RUN: %python -c "import os, sys; p = sys.argv[1]; st = os.stat(p); open(p, 'r+b').write(bytes(st.st_size)); os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))" %t/bin/prog.debug
// RUN: %merge %t/logs -o %t/r4b --symbol-cache %t/cache > /dev/null
// RUN: cmp %t/r3/analysis.json %t/r4b/analysis.json
// RUN: %merge %t/logs -o %t/r4c --no-symbol-cache 2> /dev/null > /dev/null
// RUN: %python %inputs/summarize.py %t/r4c/analysis.json | FileCheck --check-prefix=NOLINES %s
// RUN: cp %t/keep/prog.debug %t/bin/prog.debug
// LINES: site kind=indirect at=symbol-cache.c:[[@LINE+11]] function=main allocations=100 {{.*}} via=__fopen_internal
#include <stdio.h>
#include <stdlib.h>

void *volatile sink;

int main(void) {
  // One instrumented site, so that the program is a module with sites.
  sink = malloc(8);
  free(sink);
  for (int i = 0; i < 100; ++i) {
    FILE *file = fopen("/dev/null", "r");
    fclose(file);
  }
#ifdef REBUILT
  sink = malloc(16);
  free(sink);
#endif
  return 0;
}

// A damaged file is ignored once, and the report is the same.
// RUN: %python -c "import glob; [open(f, 'w').write('damaged') for f in glob.glob('%t/cache/symbols/*.msgpack')]"
// RUN: %merge %t/logs -o %t/r5 --symbol-cache %t/cache 2> %t/r5.err > /dev/null
// RUN: FileCheck --check-prefix=DAMAGED %s < %t/r5.err
// RUN: %python %inputs/summarize.py %t/r5/analysis.json | diff %t/r3.sum -
// RUN: %merge %t/logs -o %t/r6 --symbol-cache %t/cache 2> %t/r6.err > /dev/null
// RUN: not grep warning %t/r6.err
// DAMAGED: warning: ignoring the symbol cache file {{.*}}.msgpack: {{.*}}
//
// A cache folder that cannot be made: one warning, the same report.
// RUN: touch %t/not-a-folder
// RUN: %merge %t/logs -o %t/r7 --symbol-cache %t/not-a-folder 2> %t/r7.err > /dev/null
// RUN: FileCheck --check-prefix=UNWRITABLE %s < %t/r7.err
// RUN: %python %inputs/summarize.py %t/r7/analysis.json | diff %t/r3.sum -
// UNWRITABLE: warning: cannot keep symbols in {{.*}}not-a-folder/symbols: {{.*}}--no-symbol-cache
// UNWRITABLE-NOT: cannot keep symbols
//
// $MEMSCOPE_CACHE_DIR is the default folder; --no-symbol-cache keeps nothing.
// RUN: env MEMSCOPE_CACHE_DIR=%t/env %merge %t/logs -o %t/r8 > /dev/null
// RUN: ls %t/env/symbols | FileCheck --check-prefix=FILES %s
// RUN: env MEMSCOPE_CACHE_DIR=%t/none %merge %t/logs -o %t/r9 --no-symbol-cache > /dev/null
// RUN: test ! -e %t/none
// RUN: cmp %t/r3/analysis.json %t/r9/analysis.json
//
// Options that contradict each other, or name no folder, are refused.
// RUN: not %merge %t/logs -o %t/r11 --symbol-cache %t/cache --no-symbol-cache 2>&1 | FileCheck --check-prefix=BOTH %s
// RUN: not %merge %t/logs -o %t/r11 --symbol-cache= 2>&1 | FileCheck --check-prefix=EMPTY %s
// RUN: test ! -e %t/r11
// BOTH: error: --symbol-cache and --no-symbol-cache contradict each other
// EMPTY: error: --symbol-cache names no folder (--no-symbol-cache turns the cache off)
//
// The program is rebuilt: the old run's frames may now name wrong lines.
// RUN: %memscope_cc -O1 -g -DREBUILT %s -o %t/bin/prog
// RUN: %merge %t/logs -o %t/r10 --symbol-cache %t/cache 2> %t/r10.err > /dev/null
// RUN: FileCheck --check-prefix=REBUILT %s < %t/r10.err
// REBUILT: warning: {{.*}}bin/prog is not the file the run loaded (build ID {{[0-9a-f]+}} then, {{[0-9a-f]+}} now); its frames may name the wrong lines
