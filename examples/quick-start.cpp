// The design page's quick start: trace every thread, run 30 threads that
// each allocate 1 MiB, stop, and export the analysis.
//
//   memscope-clang++ -O2 quick-start.cpp -o quick-start && ./quick-start
//
// Options: quick-start [folder] [threads] [sleep-ms]
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
#include <thread>
#include <vector>

int main(int argc, char **argv) {
  const char *folder = argc > 1 ? argv[1] : "./MemoryAnalysis";
  int threads = argc > 2 ? std::atoi(argv[2]) : 30;
  int sleep_ms = argc > 3 ? std::atoi(argv[3]) : 100;
  auto workload = [threads, sleep_ms] {
    std::vector<std::thread> handles;
    for (int i = 0; i < threads; ++i)
      handles.emplace_back([i, sleep_ms] {
        std::vector<unsigned char> data(1024 * 1024); // 1 MiB allocation
        std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
        std::printf("Thread %d completed (%zu bytes)\n", i, data.size());
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
    memscope::lockfree::trace_all(folder);
    workload();
    memscope::lockfree::stop_tracing();
    memscope::lockfree::export_comprehensive_analysis(folder,
                                                      "multi_thread_analysis");
  } catch (const memscope::lockfree::Error &error) {
    std::fprintf(stderr, "quick-start: %s\n", error.what());
    return 1;
  }
  std::printf("Multi-threaded analysis complete! Report: %s/"
              "multi_thread_analysis.json\n",
              folder);
  return 0;
#endif
}
