// Allocates forever in four threads. After each allocation returns (so its
// Alloc record is complete), the thread bumps its counter in a shared file:
// when the process is SIGKILLed, the counters say how many allocations the
// logs must hold, give or take the one being recorded in each thread.
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

enum { kThreads = 4 };
static volatile uint64_t *progress;
void *volatile sink;

static void *worker(void *arg) {
  uintptr_t index = (uintptr_t)arg;
  void *keep[64] = {0};
  for (uint64_t i = 0;; ++i) {
    void *block = malloc(24 + (i % 200));                        // KILL-SITE
    free(keep[i % 64]);
    keep[i % 64] = block;
    __atomic_store_n(&progress[index * 8], i + 1, __ATOMIC_RELEASE);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2)
    return 2;
  int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || ftruncate(fd, 4096) != 0)
    return 2;
  progress = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (progress == MAP_FAILED)
    return 2;
  pthread_t threads[kThreads];
  for (uintptr_t i = 0; i < kThreads; ++i)
    pthread_create(&threads[i], 0, worker, (void *)i);
  pthread_join(threads[0], 0);
  return 0;
}
