//===-- ResourceCollector.cpp - PlatformResourceCollector, from /proc -----===//
//
// A background thread samples the process every interval:
//   getrusage          user and system CPU time (the kernel's nanosecond
//                      runtime, where /proc/self/stat has 10 ms ticks)
//   /proc/self/stat    num_threads
//   /proc/self/statm   resident pages
//   /proc/self/io      rchar, wchar, syscr, syscw
// and, when tracing is on, logs each sample for the report's timeline. The
// peak resident set comes from VmHWM in /proc/self/status, reset at start
// through /proc/self/clear_refs, so that a peak between two samples counts.
// The sampling loop allocates nothing.
//
//===----------------------------------------------------------------------===//
#include "memscope/LogFormat.h"
#include "memscope/lockfree.hpp"
#include "memscope/memscope.h"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <pthread.h>
#include <sys/resource.h>
#include <thread>
#include <time.h>
#include <unistd.h>

namespace memscope {
namespace lockfree {

namespace {

/// One sample is the C API's memscope_resource_sample (memscope.h), the
/// boundary it crosses into the runtime's ResourceSample record.
using ProcSample = memscope_resource_sample;

uint64_t monotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

/// Reads a small /proc file into \p buffer; false if it cannot.
bool readProcFile(const char *path, char *buffer, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t length = read(fd, buffer, size - 1);
  close(fd);
  if (length <= 0)
    return false;
  buffer[length] = '\0';
  return true;
}

/// A "key: value" line of /proc/self/io or /proc/self/status.
uint64_t field(const char *text, const char *key) {
  const char *at = strstr(text, key);
  return at ? strtoull(at + strlen(key), nullptr, 10) : 0;
}

bool takeSample(ProcSample &sample) {
  char text[2048];
  sample.monotonic_ns = monotonicNs();
  if (!readProcFile("/proc/self/stat", text, sizeof(text)))
    return false;
  const char *cursor = strrchr(text, ')'); // the name may hold spaces
  if (!cursor)
    return false;
  // After ") ": state(3) ... utime(14) stime(15) ... num_threads(20).
  unsigned long long values[18] = {0};
  char *next = const_cast<char *>(cursor + 2);
  for (int i = 0; i < 18 && *next; ++i) {
    if (i == 0) { // the state letter
      while (*next && *next != ' ')
        ++next;
      continue;
    }
    values[i] = strtoull(next, &next, 10);
  }
  sample.threads = uint32_t(values[17]);
  rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) != 0)
    return false;
  sample.cpu_user_ns = uint64_t(usage.ru_utime.tv_sec) * 1000000000ull +
                       uint64_t(usage.ru_utime.tv_usec) * 1000ull;
  sample.cpu_system_ns = uint64_t(usage.ru_stime.tv_sec) * 1000000000ull +
                         uint64_t(usage.ru_stime.tv_usec) * 1000ull;
  if (readProcFile("/proc/self/statm", text, sizeof(text))) {
    unsigned long long size = 0, resident = 0;
    if (sscanf(text, "%llu %llu", &size, &resident) == 2)
      sample.rss_bytes = resident * uint64_t(sysconf(_SC_PAGESIZE));
  }
  if (readProcFile("/proc/self/io", text, sizeof(text))) {
    sample.read_bytes = field(text, "rchar:");
    sample.write_bytes = field(text, "wchar:");
    sample.read_calls = field(text, "syscr:");
    sample.write_calls = field(text, "syscw:");
  }
  return true;
}

uint64_t peakRssBytes() {
  char text[4096];
  if (!readProcFile("/proc/self/status", text, sizeof(text)))
    return 0;
  return field(text, "VmHWM:") * 1024; // kB
}

void logSample(const ProcSample &sample) {
  if (memscope_is_recording())
    memscope_record_resource_sample(&sample);
}

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
// The analysis leaves this thread out of the program's thread count.
constexpr const char *kSamplerThreadName =
    memscope::log::kResourceSamplerThreadName;

} // namespace

struct PlatformResourceCollector::State {
  std::chrono::milliseconds Interval;
  std::mutex Lock;
  std::condition_variable Wake;
  bool Running = false;
  bool Stop = false;
  std::thread Sampler;
  // Running aggregates, updated by the sampler under Lock.
  ProcSample First{}, Last{};
  size_t Samples = 0;
  double PeakCpuPercent = 0;
  double RssSum = 0;
  uint64_t RssPeakSampled = 0;
  double ThreadSum = 0;
  uint32_t PeakThreads = 0;

  void record(const ProcSample &sample) {
    if (Samples > 0) {
      uint64_t wall = sample.monotonic_ns - Last.monotonic_ns;
      uint64_t cpu = (sample.cpu_user_ns + sample.cpu_system_ns) -
                     (Last.cpu_user_ns + Last.cpu_system_ns);
      if (wall > 0)
        PeakCpuPercent = std::max(PeakCpuPercent, 100.0 * cpu / wall);
    }
    ++Samples;
    RssSum += double(sample.rss_bytes);
    RssPeakSampled = std::max(RssPeakSampled, sample.rss_bytes);
    // The sampler thread itself is not the program's.
    uint32_t program_threads = sample.threads > 0 ? sample.threads - 1 : 0;
    ThreadSum += program_threads;
    PeakThreads = std::max(PeakThreads, program_threads);
    Last = sample;
    logSample(sample);
  }
};

PlatformResourceCollector::PlatformResourceCollector(
    std::chrono::milliseconds interval)
    : S(std::make_unique<State>()) {
  if (interval.count() <= 0)
    throw Error("PlatformResourceCollector: the sampling interval must be "
                "positive, got " +
                std::to_string(interval.count()) + " ms");
  S->Interval = interval;
}

PlatformResourceCollector::~PlatformResourceCollector() {
  if (S && S->Running) {
    {
      std::lock_guard<std::mutex> guard(S->Lock);
      S->Stop = true;
    }
    S->Wake.notify_all();
    S->Sampler.join();
  }
}

void PlatformResourceCollector::start_monitoring() {
  if (S->Running)
    throw Error("start_monitoring: already monitoring");
  // Reset the kernel's peak-RSS mark so that VmHWM covers this window only.
  int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t ignored = write(fd, "5", 1);
    (void)ignored;
    close(fd);
  }
  ProcSample first{};
  if (!takeSample(first))
    throw Error(std::string("start_monitoring: cannot read /proc/self/stat: ") +
                    strerror(errno),
                errno);

  S->PeakCpuPercent = S->RssSum = S->ThreadSum = 0;
  S->RssPeakSampled = 0;
  S->PeakThreads = 0;
  S->Stop = false;
  S->Samples = 0;
  S->First = first;
  S->record(first); // the sampler thread has not started yet: no lock
  S->Running = true;
  S->Sampler = std::thread([State = S.get()] {
    pthread_setname_np(pthread_self(), kSamplerThreadName);
    std::unique_lock<std::mutex> guard(State->Lock);
    // The window starts at start_monitoring()'s sample (First); this one
    // only adds a point that counts the sampler thread.
    ProcSample sample{};
    if (takeSample(sample))
      State->record(sample);
    while (!State->Wake.wait_for(guard, State->Interval,
                                 [&] { return State->Stop; })) {
      if (takeSample(sample))
        State->record(sample);
    }
  });
}

ResourceMetrics PlatformResourceCollector::stop_monitoring() {
  if (!S->Running)
    throw Error("stop_monitoring: not monitoring (call start_monitoring "
                "first)");
  ProcSample last{};
  {
    std::unique_lock<std::mutex> guard(S->Lock);
    if (takeSample(last))
      S->record(last);
    S->Stop = true;
  }
  S->Wake.notify_all();
  S->Sampler.join();
  S->Running = false;

  const ProcSample &first = S->First;
  last = S->Last;
  ResourceMetrics metrics;
  metrics.samples = S->Samples;
  double wall_s = (last.monotonic_ns - first.monotonic_ns) / 1e9;
  metrics.duration_seconds = wall_s;
  double cpu_s = double((last.cpu_user_ns + last.cpu_system_ns) -
                        (first.cpu_user_ns + first.cpu_system_ns)) /
                 1e9;
  metrics.cpu_metrics.total_cpu_seconds = cpu_s;
  metrics.cpu_metrics.average_usage_percent =
      wall_s > 0 ? 100.0 * cpu_s / wall_s : 0;
  metrics.cpu_metrics.peak_usage_percent =
      std::max(S->PeakCpuPercent, metrics.cpu_metrics.average_usage_percent);
  uint64_t peak = std::max(peakRssBytes(), S->RssPeakSampled);
  metrics.memory_metrics.peak_rss_bytes = peak;
  metrics.memory_metrics.peak_usage_gb = double(peak) / kGiB;
  metrics.memory_metrics.average_usage_gb =
      S->Samples ? S->RssSum / S->Samples / kGiB : 0;
  metrics.io_metrics.read_operations = last.read_calls - first.read_calls;
  metrics.io_metrics.write_operations = last.write_calls - first.write_calls;
  metrics.io_metrics.total_operations =
      metrics.io_metrics.read_operations + metrics.io_metrics.write_operations;
  metrics.io_metrics.bytes_read = last.read_bytes - first.read_bytes;
  metrics.io_metrics.bytes_written = last.write_bytes - first.write_bytes;
  double mean_threads = S->Samples ? S->ThreadSum / S->Samples : 0;
  metrics.thread_metrics.average_threads = mean_threads;
  metrics.thread_metrics.peak_threads = S->PeakThreads;
  metrics.thread_metrics.efficiency_percent =
      wall_s > 0 && mean_threads > 0
          ? std::min(100.0, 100.0 * cpu_s / (wall_s * mean_threads))
          : 0;
  return metrics;
}

} // namespace lockfree
} // namespace memscope
