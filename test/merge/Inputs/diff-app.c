// Builds of one program for diff.test: -DNEW allocates twice as much at
// grow(), moves keep()'s allocation two lines down, adds extra() and drops
// dropped(), and starts a second thread named "extra"; -DGROW only doubles
// grow()'s allocations.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>

void *volatile sink;

__attribute__((noinline)) void grow(int count) {
  for (int i = 0; i < count; ++i) {
    void *block = malloc(1000);
    sink = block;
    free(block);
  }
}

__attribute__((noinline)) void keep(void) {
#ifdef NEW

  sink = malloc(500);
#else
  sink = malloc(500);
#endif
}

#ifdef NEW
__attribute__((noinline)) void extra(void) { sink = malloc(300); }
#else
__attribute__((noinline)) void dropped(void) { sink = malloc(200); }
#endif

static void *worker(void *arg) {
  pthread_setname_np(pthread_self(), (const char *)arg);
  for (int i = 0; i < 10; ++i) {
    void *block = malloc(64);
    sink = block;
    free(block);
  }
  return 0;
}

int main(void) {
  pthread_t thread;
  pthread_create(&thread, 0, worker, "worker");
  pthread_join(thread, 0);
#ifdef NEW
  pthread_create(&thread, 0, worker, "extra");
  pthread_join(thread, 0);
  extra();
#else
  dropped();
#endif
#if defined(NEW) || defined(GROW)
  grow(200);
#else
  grow(100);
#endif
  keep();
  return 0;
}
