// The design page's advanced configuration: 100 threads x 1,000 iterations
// of a 10,000-element vector, sampled with SamplingConfig{0.01, 1024, 1 MiB}
// under comprehensive_profile_execution.
//
//   memscope-clang++ -O2 advanced.cpp -o advanced && ./advanced
//
// Options: advanced [folder] [threads] [iterations] [sleep-every-100 (0/1)]
//
// Built with -DMEMSCOPE_EXAMPLE_WORKLOAD_ONLY it runs the threads without the
// API calls: the benchmarks' baseline (built plain) and, built with Memscope,
// a program they record through MEMSCOPE_OUT in each sampling mode.
#ifndef MEMSCOPE_EXAMPLE_WORKLOAD_ONLY
#include <memscope/lockfree.hpp>
#endif

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <thread>
#include <vector>

int main(int argc, char **argv) {
  const char *folder = argc > 1 ? argv[1] : "./HighConcurrencyAnalysis";
  int threads = argc > 2 ? std::atoi(argv[2]) : 100;
  int iterations = argc > 3 ? std::atoi(argv[3]) : 1000;
  bool sleeps = argc > 4 ? std::atoi(argv[4]) != 0 : true;
  auto workload = [threads, iterations, sleeps] {
    std::vector<std::thread> handles;
    std::vector<size_t> sums(threads);
    for (int thread_id = 0; thread_id < threads; ++thread_id)
      handles.emplace_back([&, thread_id] {
        for (int iteration = 0; iteration < iterations; ++iteration) {
          std::vector<size_t> data(10000, size_t(thread_id)); // heavy memory
          sums[thread_id] += std::accumulate(data.begin(), data.end(),
                                             size_t(0)); // CPU work
          if (sleeps && iteration % 100 == 0)            // I/O simulation
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      });
    for (std::thread &handle : handles)
      handle.join();
  };
#ifdef MEMSCOPE_EXAMPLE_WORKLOAD_ONLY
  (void)folder;
  workload();
  return 0;
#else
  try {
    memscope::lockfree::SamplingConfig config{0.01, 1024, 1024 * 1024};
    auto session =
        memscope::lockfree::comprehensive_profile_execution(folder, config);
    workload();
    memscope::lockfree::AnalysisResult result = session.finalize();
    std::printf("Comprehensive Analysis Results:\n");
    std::printf("   - Threads analyzed: %zu\n", result.thread_count);
    std::printf("   - Total allocations: %llu\n",
                static_cast<unsigned long long>(result.total_allocations));
    std::printf("   - Peak memory usage: %.2f MB\n", result.peak_memory_mb);
    std::printf("   - Performance bottlenecks: %zu\n",
                result.bottlenecks.size());
    for (const auto &bottleneck : result.bottlenecks)
      std::printf("       %s at %s:%u: %s\n", bottleneck.kind.c_str(),
                  bottleneck.file.c_str(), bottleneck.line,
                  bottleneck.description.c_str());
  } catch (const memscope::lockfree::Error &error) {
    std::fprintf(stderr, "advanced: %s\n", error.what());
    return 1;
  }
  return 0;
#endif
}
