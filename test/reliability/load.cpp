// Load: 10 million allocations in four threads, 1,000 threads alive and
// recording at once, then 10,000 threads started one after another. Memory
// (RSS) and open files stay flat: they are measured in the program after a
// warm-up phase and again at the end of each phase.
// RUN: %clangxx_memscope -O2 %s %link_rt -o %t.exe
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=sample_interval=64K timeout 300 %t.exe > %t.stdout
// RUN: FileCheck %s < %t.stdout
// RUN: %merge %t.out -o %t.report > /dev/null
// The sampled estimate of the bytes (about 20,000 samples) is within 3%.
// RUN: %python -c "import json, re; d = json.load(open('%t.report/analysis.json')); real = int(re.search(r'bytes allocated (\d+)', open('%t.stdout').read()).group(1)); est = d['summary']['total_bytes']; print('bytes estimate', 'ok' if abs(est / real - 1) < 0.03 else f'{est} for {real}')" | FileCheck %s --check-prefix=MERGED
// CHECK: allocations: 10000000; rss growth after warm-up {{[0-9]+}} KiB (flat); fds {{[0-9]+}} -> {{[0-9]+}} (flat)
// CHECK: 1000 live threads: fds {{[0-9]+}} -> {{[0-9]+}} (flat)
// CHECK: 10000 threads churned: rss growth after 1000 {{[0-9]+}} KiB (flat); fds {{[0-9]+}} -> {{[0-9]+}} (flat)
// MERGED: bytes estimate ok
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <thread>
#include <vector>

void *volatile sink;
static std::atomic<unsigned long long> total_bytes{0};

static long rss_kib() {
  FILE *status = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  while (status && fgets(line, sizeof(line), status))
    if (!strncmp(line, "VmRSS:", 6))
      kib = atol(line + 6);
  if (status)
    fclose(status);
  return kib;
}

static int open_fds() {
  int count = 0;
  if (DIR *dir = opendir("/proc/self/fd")) {
    while (readdir(dir))
      ++count;
    closedir(dir);
  }
  return count;
}

static const char *flat(long growth, long limit) {
  return growth <= limit ? "flat" : "GROWING";
}

static void allocate(long count, long offset) {
  unsigned long long bytes = 0;
  for (long i = 0; i < count; ++i) {
    size_t size = 64 + (i + offset) % 121;
    void *block = malloc(size);
    sink = block;
    free(block);
    bytes += size;
  }
  total_bytes += bytes;
}

int main() {
  // Phase 1: ten million allocations. Warm up with the first million, then
  // the remaining nine must not grow RSS beyond a few log windows.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back(allocate, 250000, t);
  for (auto &thread : threads)
    thread.join();
  threads.clear();
  long rss_before = rss_kib();
  int fds_before = open_fds();
  for (int t = 0; t < 4; ++t)
    threads.emplace_back(allocate, 2250000, t);
  for (auto &thread : threads)
    thread.join();
  threads.clear();
  long growth = rss_kib() - rss_before;
  int fds_after = open_fds();
  printf("allocations: %d; rss growth after warm-up %ld KiB (%s); fds %d -> "
         "%d (%s)\n",
         10000000, growth, flat(growth, 4096), fds_before, fds_after,
         fds_after == fds_before ? "flat" : "GROWING");

  // Phase 2: 1,000 threads alive and recording at once hold no descriptor.
  std::atomic<int> arrived{0};
  std::atomic<bool> release{false};
  for (int t = 0; t < 1000; ++t)
    threads.emplace_back([&] {
      allocate(100, 0);
      ++arrived;
      while (!release.load())
        std::this_thread::yield();
    });
  while (arrived.load() < 1000)
    std::this_thread::yield();
  int fds_live = open_fds();
  release = true;
  for (auto &thread : threads)
    thread.join();
  threads.clear();
  printf("1000 live threads: fds %d -> %d (%s)\n", fds_before, fds_live,
         fds_live == fds_before ? "flat" : "GROWING");

  // Phase 3: 10,000 threads, one after another; measure after the first
  // 1,000 and at the end.
  long churn_rss = 0;
  int churn_fds = 0;
  for (int t = 0; t < 10000; ++t) {
    std::thread(allocate, 20, t).join();
    if (t == 999) {
      churn_rss = rss_kib();
      churn_fds = open_fds();
    }
  }
  long churn_growth = rss_kib() - churn_rss;
  int churn_fds_end = open_fds();
  printf("10000 threads churned: rss growth after 1000 %ld KiB (%s); fds %d "
         "-> %d (%s)\n",
         churn_growth, flat(churn_growth, 2048), churn_fds, churn_fds_end,
         churn_fds_end == churn_fds ? "flat" : "GROWING");
  printf("bytes allocated %llu\n", total_bytes.load());
  return 0;
}
