// REQUIRES: pprof
// pprof labels: every sample names the thread that allocated (thread,
// thread_id), the line that spawned it (spawn_site) and the process (pid),
// so that the real pprof slices a run by them. A producer and a consumer
// thread, spawned from two lines, allocate at one site: only the labels
// tell their bytes apart.
// RUN: %memscope_cc -O1 %s -o %t.exe -pthread
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe
// RUN: %merge %t.out -o %t.report --format=json,pprof -q
// RUN: %pprof -tags -unit=B %t.report/profile.pb.gz 2>&1 | FileCheck %s --check-prefix=TAGS
// RUN: %pprof -top -lines -unit=B -tagfocus=thread=producer %t.report/profile.pb.gz 2>&1 | FileCheck %s --check-prefix=PRODUCER
// RUN: %pprof -top -lines -unit=B -tagfocus=spawn_site=pprof-labels.c:41 %t.report/profile.pb.gz 2>&1 | FileCheck %s --check-prefix=CONSUMER
// RUN: %pprof -top -lines -unit=B -tagignore=spawn_site=. %t.report/profile.pb.gz 2>&1 | FileCheck %s --check-prefix=MAIN
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>

void *volatile sink, *volatile kept;

struct work {
  const char *name;
  int blocks;
  size_t size;
};

static void *allocate(void *arg) {
  const struct work *w = arg;
  pthread_setname_np(pthread_self(), w->name);
  for (int i = 0; i < w->blocks; ++i)
    free(sink = malloc(w->size));                                // line 30
  return 0;
}

int main(void) {
  kept = malloc(77);                                             // line 35
  pthread_t a, b;
  struct work producer = {"producer", 10, 1000};
  struct work consumer = {"consumer", 20, 300};
  pthread_create(&a, 0, allocate, &producer);                    // line 39
  pthread_join(a, 0);
  pthread_create(&b, 0, allocate, &consumer);                    // line 41
  pthread_join(b, 0);
  free(kept);
  return 0;
}

// TAGS: spawn_site: Total
// TAGS-DAG: 10000{{(\.0)?}}B ({{.*}}): {{.*}}pprof-labels.c:39
// TAGS-DAG: 6000{{(\.0)?}}B ({{.*}}): {{.*}}pprof-labels.c:41
// TAGS: thread: Total
// TAGS-DAG: 10000{{(\.0)?}}B ({{.*}}): producer
// TAGS-DAG: 6000{{(\.0)?}}B ({{.*}}): consumer
// TAGS-DAG: ({{.*}}): pprof-labels.c.
// TAGS: thread_id: Total
// TAGS-DAG: 10000{{(\.0)?}}B ({{.*}}): 2
// TAGS-DAG: 6000{{(\.0)?}}B ({{.*}}): 3
// TAGS-DAG: ({{.*}}): 1

// PRODUCER: Type: alloc_space
// PRODUCER: Showing nodes accounting for 10000B,
// PRODUCER: 10000B {{.*}} allocate {{.*}}pprof-labels.c:30

// CONSUMER: Showing nodes accounting for 6000B
// CONSUMER: 6000B {{.*}} allocate {{.*}}pprof-labels.c:30

// The main thread has no spawn site.
// MAIN: 77B {{.*}} main {{.*}}pprof-labels.c:35
// MAIN-NOT: pprof-labels.c:30
