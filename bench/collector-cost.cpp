// The PlatformResourceCollector's own cost: CPU time per sample. The
// program idles while the collector samples every millisecond, so nearly
// all the CPU it uses is the collector's.
//
//   collector-cost [seconds]
#include <memscope/lockfree.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sys/resource.h>
#include <thread>

static double cpuSeconds() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  double before = cpuSeconds();
  memscope::lockfree::PlatformResourceCollector collector(
      std::chrono::milliseconds(1));
  collector.start_monitoring();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  memscope::lockfree::ResourceMetrics metrics = collector.stop_monitoring();
  double used = cpuSeconds() - before;
  std::printf("{\"samples\": %zu, \"cpu_seconds\": %.6f, "
              "\"cpu_us_per_sample\": %.2f}\n",
              metrics.samples, used, used * 1e6 / metrics.samples);
  return 0;
}
