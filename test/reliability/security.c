// The output folder is 0700 and every log 0600; a symlink planted where the
// process folder will be is never followed; a setuid program ignores
// MEMSCOPE_OUT with one warning, as the sanitizers do.
// RUN: %clang_memscope -O1 %s %link_rt -o %t.exe
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out/new/folder MEMSCOPE_OPTIONS=exact=1 %t.exe | FileCheck %s --check-prefix=RUNS
// RUN: find %t.out/new -printf '%%m %%f\n' | sed 's/ security.*[0-9]$/ process-folder/' | sort -k2 | FileCheck %s --check-prefix=MODES
// RUNS: program ran
// MODES: 700 folder
// MODES-NEXT: 700 new
// MODES-NEXT: 700 process-folder
// MODES-NEXT: 600 process.log
// MODES-NEXT: 600 t0.log
//
// Someone plants <exe>.<pid> as a symlink to a folder of theirs before the
// program starts (exec keeps the shell's pid): the runtime does not write
// through it and records into <exe>.<pid>.1 instead.
// RUN: rm -rf %t.plant %t.victim && mkdir -p %t.plant %t.victim
// RUN: bash -c 'ln -s %t.victim %t.plant/$(basename %t.exe).$$ && MEMSCOPE_OUT=%t.plant MEMSCOPE_OPTIONS=exact=1 exec %t.exe' | FileCheck %s --check-prefix=RUNS
// RUN: ls -A %t.victim | count 0
// RUN: ls %t.plant | sed 's/[0-9][0-9]*/N/g' | FileCheck %s --check-prefix=PLANT
// PLANT: security.c.tmp.exe.N{{$}}
// PLANT-NEXT: security.c.tmp.exe.N.N{{$}}
// RUN: %merge %t.plant -o %t.plant-report > /dev/null
// RUN: %python %S/Inputs/logcheck.py site-count %t.plant-report/analysis.json security.c:42 | FileCheck %s --check-prefix=MERGED
// MERGED: {{^}}100{{$}}
//
// A setuid-root copy run by nobody: AT_SECURE is set, MEMSCOPE_OUT ignored.
// REQUIRES: setpriv-root
// RUN: rm -rf %t.suid && mkdir %t.suid && chmod 755 %t.suid && %clang_memscope -O1 %s %shlibdir/libmemscope_rt.a -lpthread -lm -o %t.suid/prog
// RUN: chmod 4755 %t.suid/prog && mkdir %t.suid/out && chmod 777 %t.suid/out
// RUN: env MEMSCOPE_OUT=%t.suid/out setpriv --reuid=65534 --regid=65534 --clear-groups %t.suid/prog 2> %t.suid-err | FileCheck %s --check-prefix=RUNS
// RUN: FileCheck %s --check-prefix=SECURE --implicit-check-not=memscope < %t.suid-err
// RUN: ls -A %t.suid/out | count 0
// SECURE: memscope: MEMSCOPE_OUT is ignored in a setuid/setgid program
#include <stdio.h>
#include <stdlib.h>

void *volatile sink;

int main(void) {
  for (int i = 0; i < 100; ++i)
    sink = malloc(10);
  printf("program ran\n");
  return 0;
}
