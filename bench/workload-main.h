//===- bench/workload-main.h - main() of the threaded bench workloads -----===//
//
// churn and containers run the same shape: N threads, each doing M units of
// work from its own random stream, checksums summed and printed so the work
// cannot be optimised away.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_BENCH_WORKLOAD_MAIN_H
#define MEMSCOPE_BENCH_WORKLOAD_MAIN_H

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

/// xorshift64: cheap, deterministic per seed, and allocation-free.
struct Rng {
  uint64_t state;
  uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
};

/// Parses `[threads] [units-per-thread]`, runs \p work(thread, units) on
/// each thread and prints the checksum; returns main's exit status.
template <typename Work>
int runWorkload(const char *name, const char *unit, int argc, char **argv,
                long default_units, Work work) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 4;
  long units = argc > 2 ? std::atol(argv[2]) : default_units;
  if (threads < 1 || units < 1) {
    std::fprintf(stderr, "%s: usage: %s [threads >= 1] [%s-per-thread >= 1]\n",
                 name, name, unit);
    return 2;
  }
  std::vector<std::thread> workers;
  std::vector<uint64_t> sums(threads);
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] { sums[t] = work(t, units); });
  for (std::thread &worker : workers)
    worker.join();
  uint64_t total = 0;
  for (uint64_t sum : sums)
    total += sum;
  std::printf("%s: %d threads x %ld %s, checksum %llu\n", name, threads, units,
              unit, static_cast<unsigned long long>(total));
  return 0;
}

#endif // MEMSCOPE_BENCH_WORKLOAD_MAIN_H
