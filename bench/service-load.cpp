// A service-shaped load for the log-size measurements (bench/run_bench.py,
// "disk"; test/e2e/max-log-size.test): worker threads answer "requests" of
// eight allocations from eight sites, 16 bytes to 4 KiB, each replacing a
// random block of a steady live set of 4096 blocks per worker, as fast as
// they can. Prints the program's own allocations (the workers', and their
// live arrays), which the counted totals must cover.
//
// Usage: service-load [threads] [rounds]   (4 and 30000 by default; a round
// is eight allocations, about 9 KB)
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

enum { kLive = 4096 };
static long g_rounds;

// Eight sites, sizes from 16 bytes to 4 KiB: a request's allocations.
static void *allocate(unsigned i) {
  switch (i % 8) {
  case 0:
    return malloc(16 + i % 48);
  case 1:
    return malloc(64 + i % 64);
  case 2:
    return malloc(256);
  case 3:
    return calloc(1, 512 + i % 256);
  case 4:
    return malloc(1024);
  case 5:
    return malloc(2048 + i % 1024);
  case 6:
    return malloc(4096);
  default:
    return malloc(128 + i % 128);
  }
}

static void *worker(void *arg) {
  unsigned seed = (unsigned)(size_t)arg;
  void **live = static_cast<void **>(calloc(kLive, sizeof(void *)));
  for (long round = 0; round < g_rounds; ++round)
    for (unsigned k = 0; k < 8; ++k) {
      unsigned at = (seed = seed * 1103515245u + 12345u) >> 8;
      at %= kLive;
      free(live[at]);
      live[at] = allocate(seed >> 4);
    }
  for (unsigned i = 0; i < kLive; ++i)
    free(live[i]);
  free(live);
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 4;
  g_rounds = argc > 2 ? atol(argv[2]) : 30000;
  pthread_t ids[64];
  for (int t = 0; t < threads && t < 64; ++t)
    pthread_create(&ids[t], NULL, worker, (void *)(size_t)(t + 1));
  for (int t = 0; t < threads && t < 64; ++t)
    pthread_join(ids[t], NULL);
  // The workers' allocations, and their live arrays.
  printf("%ld\n", (long)threads * (g_rounds * 8 + 1));
  return 0;
}
