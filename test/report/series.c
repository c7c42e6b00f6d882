// --pprof-series: one profile per interval between snapshots, with the
// allocations of the interval (alloc_*) and what is live at its end
// (inuse_*), read by the real pprof. Two runs of the program (two
// processes) in exact mode, so every figure is the program's own:
//   interval 1 (to snapshot 1): "alpha" allocates 100 x 1000 bytes and
//     frees half: alloc 100,000, in use 50,000 (alpha);
//   interval 2 (to snapshot 2): "beta" allocates 200 x 500 bytes and keeps
//     them; the main thread frees alpha's: alloc 100,000 (beta), in use
//     100,000 (beta), none of alpha's;
//   interval 3 (to the end): the main thread leaks 10 x 64 bytes.
// REQUIRES: pprof
// RUN: %memscope_cc -O1 %s -lpthread -o %t.exe
// RUN: rm -rf %t.out %t.series && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe
// RUN: env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe
// RUN: %merge %t.out -o %t.report -q --format=json --pprof-series %t.series
// RUN: rm -rf %t.named && %python %S/Inputs/series.py %t.series --alias %t.named | FileCheck %s --check-prefix=INDEX
// INDEX: processes 2 intervals_each 3 snapshots 1,2,null ordered=1 files=1
//
// Every profile reads, with Go's heap sample types.
// RUN: %python %S/Inputs/series.py --each %t.series %pprof | FileCheck %s --check-prefix=EACH
// EACH: read 6 of 6 profiles; sample types alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes; period type space bytes
//
// RUN: %pprof -top -unit=B -sample_index=alloc_space -tagfocus=thread=alpha %t.named/first-0001.pb.gz 2>&1 | FileCheck %s --check-prefix=ALLOC1
// ALLOC1: Showing nodes accounting for 100000B, {{.*}} total
// RUN: %pprof -top -unit=B -sample_index=inuse_space -tagfocus=thread=alpha %t.named/first-0001.pb.gz 2>&1 | FileCheck %s --check-prefix=INUSE1
// INUSE1: Showing nodes accounting for 50000B, {{.*}} total
// RUN: %pprof -top -unit=B -sample_index=inuse_space -tagfocus=thread=beta %t.named/first-0002.pb.gz 2>&1 | FileCheck %s --check-prefix=INUSE2
// INUSE2: Showing nodes accounting for 100000B, {{.*}} total
// INUSE2: 100000B {{.*}} beta
// RUN: %pprof -top -unit=B -sample_index=inuse_space -tagfocus=thread=alpha %t.named/first-0002.pb.gz 2>&1 | FileCheck %s --check-prefix=NONE
// NONE: Showing nodes accounting for 0, 0% of
// RUN: %pprof -top -unit=B -sample_index=alloc_space -tagfocus=thread=beta %t.named/first-0002.pb.gz 2>&1 | FileCheck %s --check-prefix=ALLOC2
// ALLOC2: Showing nodes accounting for 100000B, {{.*}} total
// RUN: %pprof -top -unit=B -sample_index=alloc_space %t.named/first-0003.pb.gz 2>&1 | FileCheck %s --check-prefix=ALLOC3
// ALLOC3: Showing nodes accounting for 640B, 100% of 640B total
// ALLOC3: 640B 100% 100% 640B 100% main
//
// The profiles of the two processes merge (pprof -proto a b), and each
// label filters: thread, spawn_site, and the numbers pid and thread_id
// (unique in its process: beta is thread 3 of both).
// RUN: %pprof -proto %t.named/first-0002.pb.gz %t.named/second-0002.pb.gz > %t.merged.pb.gz
// RUN: %pprof -top -unit=B -sample_index=alloc_space -tagfocus=thread=beta %t.merged.pb.gz 2>&1 | FileCheck %s --check-prefix=MERGED
// MERGED: Showing nodes accounting for 200000B, {{.*}} total
// RUN: %pprof -tags %t.merged.pb.gz 2>&1 | FileCheck %s --check-prefix=TAGS
// TAGS: pid: Total 195.3kB
// TAGS-NEXT: 97.7kB (50.00%): {{[0-9]+}}
// TAGS-NEXT: 97.7kB (50.00%): {{[0-9]+}}
// TAGS: spawn_site: Total 195.3kB
// TAGS-NEXT: 195.3kB (  100%): test/report/series.c:{{[0-9]+}}
// TAGS: thread: Total 195.3kB
// TAGS-NEXT: 195.3kB (  100%): beta
// TAGS: thread_id: Total 195.3kB
// TAGS-NEXT: 195.3kB (  100%): 3
// RUN: %pprof -top -unit=B -sample_index=alloc_space -tagfocus=spawn_site=series.c %t.merged.pb.gz 2>&1 | FileCheck %s --check-prefix=MERGED
// RUN: %python %S/Inputs/series.py --pid-filter %t.series %pprof | FileCheck %s --check-prefix=NUMBERS
// NUMBERS: pid filter keeps 100000 of 200000 bytes
// NUMBERS: thread_id 3 keeps 200000 of 200000 bytes; thread_id 2 keeps 0
//
// RUN: not %merge %t.out -q --format=json --pprof-series %t.exe 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: memscope-merge: error: --pprof-series '{{.*}}.exe' is not a folder
#define _GNU_SOURCE
#include <memscope/memscope.h>
#include <pthread.h>
#include <stdlib.h>

static void *g_alpha[50];

static void *alpha(void *arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "alpha");
  for (int i = 0; i < 100; ++i) {
    void *block = malloc(1000);
    if (i % 2)
      free(block);
    else
      g_alpha[i / 2] = block;
  }
  return NULL;
}

static void *g_beta[200];

static void *beta(void *arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "beta");
  for (int i = 0; i < 200; ++i)
    g_beta[i] = malloc(500);
  return NULL;
}

void *volatile g_leak;

int main(void) {
  pthread_t thread;
  pthread_create(&thread, NULL, alpha, NULL);
  pthread_join(thread, NULL);
  memscope_snapshot();
  pthread_create(&thread, NULL, beta, NULL);
  pthread_join(thread, NULL);
  for (int i = 0; i < 50; ++i)
    free(g_alpha[i]);
  memscope_snapshot();
  for (int i = 0; i < 10; ++i)
    g_leak = malloc(64);
  return 0;
}
