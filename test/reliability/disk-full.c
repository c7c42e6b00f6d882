// The disk fills up while four threads record (a 256 KiB tmpfs), or the
// output folder is on a read-only file system: one warning on stderr (and
// in process.log, which the merge repeats), the program's output and exit
// status are those of a run without Memscope, and what was written merges
// cleanly.
// REQUIRES: tmpfs-mount
// RUN: %clang_memscope -O1 %s %link_rt -lpthread -o %t.exe
// RUN: bash -c '%t.exe > %t.plain; echo "exit $?" >> %t.plain'
// RUN: rm -rf %t.mnt && mkdir -p %t.mnt
// RUN: unshare -m bash -c 'mount -t tmpfs -o size=256k tmpfs %t.mnt && env MEMSCOPE_OUT=%t.mnt/logs MEMSCOPE_OPTIONS=exact=1 %t.exe > %t.full 2> %t.full-err; echo "exit $?" >> %t.full; df -k %t.mnt | tail -1 > %t.df; rm -rf %t.copy; cp -r %t.mnt/logs %t.copy'
// RUN: diff %t.plain %t.full
// RUN: FileCheck %s --check-prefix=FULL --implicit-check-not=memscope < %t.full-err
// RUN: %python %S/Inputs/logcheck.py check %t.copy | FileCheck %s --check-prefix=OK
// RUN: %merge %t.copy -o %t.report > /dev/null 2> %t.merge-err
// RUN: %python %S/Inputs/logcheck.py process %t.report/analysis.json | FileCheck %s --check-prefix=STATE
// RUN: FileCheck %s --check-prefix=LOGGED < %t.merge-err
// FULL: memscope: warning: cannot extend log in {{.*}}: No space left on device; recording stops for this thread, the program continues
// The warning is in process.log too, and the merge repeats it.
// LOGGED: process.log: runtime warning: cannot extend log in {{.*}}: No space left on device; recording stops for this thread, the program continues
// OK: logs ok
// STATE: process state=exited exit_kind=0
//
// A disk with no room even for process.log: nothing half-made is left.
// RUN: rm -rf %t.none && mkdir -p %t.none
// RUN: unshare -m bash -c 'mount -t tmpfs -o size=16k tmpfs %t.none && (head -c 16384 /dev/zero > %t.none/filler || true) && env MEMSCOPE_OUT=%t.none/logs %t.exe > %t.nospace 2> %t.nospace-err; echo "exit $?" >> %t.nospace; find %t.none/logs -mindepth 1 | wc -l > %t.nospace-left'
// RUN: diff %t.plain %t.nospace
// RUN: FileCheck %s --check-prefix=FULL --implicit-check-not=memscope < %t.nospace-err
// RUN: FileCheck %s --check-prefix=NOTHING < %t.nospace-left
// NOTHING: {{^}}0{{$}}
//
// RUN: rm -rf %t.ro && mkdir -p %t.ro
// RUN: unshare -m bash -c 'mount -t tmpfs -o ro,size=64k tmpfs %t.ro && env MEMSCOPE_OUT=%t.ro/logs MEMSCOPE_OPTIONS=exact=1 %t.exe > %t.rofs 2> %t.rofs-err; echo "exit $?" >> %t.rofs'
// RUN: diff %t.plain %t.rofs
// RUN: FileCheck %s --check-prefix=RO --implicit-check-not=memscope < %t.rofs-err
// RO: memscope: cannot create output folder '{{.*}}/logs': Read-only file system; not recording, the program continues
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *worker(void *arg) {
  uint64_t sum = (uintptr_t)arg;
  for (int i = 0; i < 50000; ++i) {
    char *block = malloc(32 + i % 64);
    memset(block, i, 32);
    sum = sum * 31 + (unsigned char)block[7];
    free(block);
  }
  return (void *)(uintptr_t)sum;
}

int main(void) {
  pthread_t threads[4];
  for (uintptr_t i = 0; i < 4; ++i)
    pthread_create(&threads[i], 0, worker, (void *)i);
  uint64_t total = 0;
  for (int i = 0; i < 4; ++i) {
    void *result;
    pthread_join(threads[i], &result);
    total ^= (uintptr_t)result;
  }
  printf("checksum %llu\n", (unsigned long long)total);
  return 3;
}
