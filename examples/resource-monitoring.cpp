// The design page's platform resource monitoring: 50 threads do CPU work
// and memory work while PlatformResourceCollector samples /proc.
//
//   memscope-clang++ -O2 resource-monitoring.cpp -o resource-monitoring
//   ./resource-monitoring
//
// Options: resource-monitoring [threads] [elements] [sleep-ms]
//
// Built with -DMEMSCOPE_EXAMPLE_WORKLOAD_ONLY it runs the threads without the
// collector: the benchmarks' baseline (built plain) and, built with Memscope,
// a program they record through MEMSCOPE_OUT in each sampling mode.
#ifndef MEMSCOPE_EXAMPLE_WORKLOAD_ONLY
#include <memscope/lockfree.hpp>
#endif

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

int main(int argc, char **argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 50;
  size_t elements = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 100000;
  int sleep_ms = argc > 3 ? std::atoi(argv[3]) : 50;
  auto workload = [threads, elements, sleep_ms] {
    std::vector<std::thread> handles;
    std::vector<size_t> results(threads);
    for (int i = 0; i < threads; ++i)
      handles.emplace_back([&, i] {
        std::vector<uint64_t> data(elements); // CPU-intensive task
        for (size_t j = 0; j < data.size(); ++j)
          data[j] = (uint64_t(i) * j) % 1000;
        std::vector<std::vector<uint64_t>> large_data(10, data); // memory
        std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
        results[i] = large_data.size();
      });
    for (std::thread &handle : handles)
      handle.join();
  };
#ifdef MEMSCOPE_EXAMPLE_WORKLOAD_ONLY
  workload();
  return 0;
#else
  try {
    memscope::lockfree::PlatformResourceCollector collector;
    collector.start_monitoring();
    workload();
    memscope::lockfree::ResourceMetrics metrics = collector.stop_monitoring();
    std::printf("System Resource Usage:\n");
    std::printf("   - Peak CPU usage: %.1f%%\n",
                metrics.cpu_metrics.peak_usage_percent);
    std::printf("   - Peak memory usage: %.2f GB\n",
                metrics.memory_metrics.peak_usage_gb);
    std::printf(
        "   - Total I/O operations: %llu\n",
        static_cast<unsigned long long>(metrics.io_metrics.total_operations));
    std::printf("   - Thread efficiency: %.2f%%\n",
                metrics.thread_metrics.efficiency_percent);
  } catch (const memscope::lockfree::Error &error) {
    std::fprintf(stderr, "resource-monitoring: %s\n", error.what());
    return 1;
  }
  return 0;
#endif
}
