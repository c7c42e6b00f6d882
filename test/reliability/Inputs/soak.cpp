// The soak workload (test/reliability/soak.sh): runs for argv[1] seconds.
// Eight threads allocate and free with cross-thread hand-offs, threads come
// and go (a new one every millisecond), and a child is forked every second.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

void *volatile sink;
std::atomic<bool> stop{false};
std::atomic<void *> mailbox[8];

static void worker(int index) {
  unsigned long i = index;
  while (!stop.load(std::memory_order_relaxed)) {
    void *block = malloc(16 + (i++ * 7919) % 4096);
    if (void *old = mailbox[(index + 1) % 8].exchange(block))
      free(old);
  }
}

int main(int argc, char **argv) {
  int seconds = argc > 1 ? atoi(argv[1]) : 60;
  std::vector<std::thread> workers;
  for (int t = 0; t < 8; ++t)
    workers.emplace_back(worker, t);
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  auto next_fork = std::chrono::steady_clock::now();
  unsigned long churned = 0, forks = 0;
  while (std::chrono::steady_clock::now() < end) {
    std::thread([] {
      void *blocks[50];
      for (auto &block : blocks)
        block = malloc(100);
      for (auto *block : blocks)
        free(block);
    }).join();
    ++churned;
    if (std::chrono::steady_clock::now() >= next_fork) {
      next_fork += std::chrono::seconds(1);
      pid_t child = fork();
      if (child == 0) {
        for (int i = 0; i < 1000; ++i)
          free(malloc(64));
        _exit(0);
      }
      waitpid(child, nullptr, 0);
      ++forks;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  stop = true;
  for (auto &thread : workers)
    thread.join();
  printf("soak: %d s, %lu threads churned, %lu forks\n", seconds, churned, forks);
  return 0;
}
