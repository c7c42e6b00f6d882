// A run with known figures for budgets.test: fill_cache keeps 100 blocks of
// 1000 bytes until exit, churn allocates and frees 200 blocks of 100 bytes,
// and a thread named "worker" allocates 50 blocks of 64 bytes.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>

void *volatile sink;
static void *cache[100];

__attribute__((noinline)) void fill_cache(void) {
  for (int i = 0; i < 100; ++i)
    cache[i] = malloc(1000);
}

__attribute__((noinline)) void churn(void) {
  for (int i = 0; i < 200; ++i) {
    void *block = malloc(100);
    sink = block;
    free(block);
  }
}

static void *worker(void *arg) {
  pthread_setname_np(pthread_self(), "worker");
  for (int i = 0; i < 50; ++i) {
    void *block = malloc(64);
    sink = block;
    free(block);
  }
  return arg;
}

int main(void) {
  pthread_t thread;
  pthread_create(&thread, 0, worker, 0);
  pthread_join(thread, 0);
  fill_cache();
  churn();
  return 0;
}
