//===- memscope/lockfree.hpp - Driving Memscope from C++ code ---*- C++ -*-===//
//
// The memscope::lockfree API: start and stop recording from code, export the
// analysis, configure sampling, profile a whole run in one session, and
// monitor the process's CPU, memory, I/O and threads from /proc.
//
// Errors are reported by throwing memscope::lockfree::Error, everywhere.
// Every number is defined in docs/api.md. Link with -lmemscope_lockfree (the
// memscope-clang++ wrapper does).
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_LOCKFREE_HPP
#define MEMSCOPE_LOCKFREE_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace memscope {
namespace lockfree {

/// Every failure of this API: a message that says what and why.
class Error : public std::runtime_error {
public:
  explicit Error(const std::string &message, int code = 0)
      : std::runtime_error(message), Code(code) {}
  /// The errno value behind the failure, or 0.
  int code() const { return Code; }

private:
  int Code;
};

/// Starts recording every thread, current and future, into \p dir (created
/// like mkdir -p), as MEMSCOPE_OUT=dir would. Throws if tracing is already
/// on or \p dir cannot be used.
void trace_all(const std::filesystem::path &dir);

/// Stops recording. Every thread's log is complete when it returns, threads
/// still running included. Throws if tracing is not on.
void stop_tracing();

/// Writes a snapshot of the recording: memscope-merge reports what is live
/// at this moment (memscope_snapshot()). Returns its number; throws if
/// tracing is not on.
uint64_t snapshot();

/// Writes the analysis of the logs in \p dir as \p dir/<name>.json (and the
/// other formats memscope-merge writes), by running memscope-merge. Throws
/// with memscope-merge's message if it fails.
void export_comprehensive_analysis(const std::filesystem::path &dir,
                                   const std::string &name);

/// How to sample. The three fields of the design page come first, so
/// SamplingConfig{0.01, 1024, 1024 * 1024} reads as there.
struct SamplingConfig {
  /// Per-allocation sampling probability in (0, 1]; 1 records every
  /// allocation (exact mode).
  double sample_rate = 1.0;
  /// Allocations smaller than this are never sampled.
  std::size_t min_allocation_size = 0;
  /// Largest window of each thread's file-backed log, in bytes: a multiple
  /// of 4096 between 4 KiB and 64 MiB.
  std::size_t buffer_size = 64 * 1024;
  /// When set, Poisson sampling with this mean interval in bytes replaces
  /// the per-allocation rate (the runtime's default mode).
  std::optional<std::size_t> sample_interval_bytes;

  /// Throws Error naming the bad value and why it is bad.
  void validate() const;
  /// The MEMSCOPE_OPTIONS string for this configuration.
  std::string to_options() const;

  /// Byte sampling with a 256 KiB mean interval: the runtime's default.
  static SamplingConfig balanced();
  /// Byte sampling every 64 KiB on average: 4x the samples of balanced().
  static SamplingConfig high_precision();
  /// Byte sampling every 4 MiB on average: the least overhead.
  static SamplingConfig low_overhead();
  /// Every allocation, with weight 1.
  static SamplingConfig exact();
};

struct CpuResourceMetrics {
  double peak_usage_percent = 0;    // highest per-interval CPU, % of one core
  double average_usage_percent = 0; // CPU time / wall time over the window
  double total_cpu_seconds = 0;     // user + system over the window
};

struct MemoryResourceMetrics {
  double peak_usage_gb = 0;    // peak resident set during the window, GiB
  double average_usage_gb = 0; // mean sampled resident set, GiB
  std::uint64_t peak_rss_bytes = 0;
};

struct IoResourceMetrics {
  std::uint64_t total_operations = 0; // read + write system calls
  std::uint64_t read_operations = 0;
  std::uint64_t write_operations = 0;
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_written = 0;
};

struct ThreadResourceMetrics {
  /// CPU time of the program's threads / (wall time x their mean number),
  /// in percent: how much of its threads' time the program spent running.
  double efficiency_percent = 0;
  double average_threads = 0;
  std::uint32_t peak_threads = 0;
};

struct ResourceMetrics {
  CpuResourceMetrics cpu_metrics;
  MemoryResourceMetrics memory_metrics;
  IoResourceMetrics io_metrics;
  ThreadResourceMetrics thread_metrics;
  double duration_seconds = 0;
  std::size_t samples = 0;
};

/// Samples the process's resource use from /proc on a background thread.
/// When tracing is on, every sample also goes into the logs, so that the
/// report can plot the timeline.
class PlatformResourceCollector {
public:
  explicit PlatformResourceCollector(
      std::chrono::milliseconds interval = std::chrono::milliseconds(50));
  ~PlatformResourceCollector();
  PlatformResourceCollector(const PlatformResourceCollector &) = delete;
  PlatformResourceCollector &
  operator=(const PlatformResourceCollector &) = delete;

  /// Throws if already monitoring or /proc cannot be read.
  void start_monitoring();
  /// Throws if not monitoring.
  ResourceMetrics stop_monitoring();

private:
  struct State;
  std::unique_ptr<State> S;
};

/// A rule that fired on the data (docs/api.md lists the rules).
struct Bottleneck {
  std::string kind; // hot_site_bytes, hot_site_count, temporaries, ...
  std::string file; // where, as file:line in user code
  unsigned line = 0;
  std::string function;
  double value = 0;     // the measured figure
  std::string unit;     // what value counts
  double threshold = 0; // the rule's threshold, in the same unit
  std::string description;
  std::string suggestion;
};

struct AnalysisResult {
  std::size_t thread_count = 0; // threads that ran, the main thread included
  std::uint64_t total_allocations = 0;
  std::uint64_t total_bytes = 0;
  bool totals_exact = false; // the two above are counted, not estimated
  /// Peak live heap, MiB: counted by the runtime at the default setting,
  /// from every event in exact mode (docs/analysis-schema.md, "The peak").
  double peak_memory_mb = 0;
  /// Its range, MiB: a bound on the count's errors when counted, the 95%
  /// interval of the live set when estimated from samples, both ends equal
  /// to peak_memory_mb in exact mode.
  double peak_memory_mb_low = 0;
  double peak_memory_mb_high = 0;
  std::vector<Bottleneck> bottlenecks;
  double resource_efficiency = 0; // thread_metrics.efficiency_percent
  ResourceMetrics resources;
  std::filesystem::path analysis_json;
};

/// A recording run with resource monitoring; finalize() ends it.
class ProfilingSession {
public:
  ProfilingSession(ProfilingSession &&) noexcept;
  ProfilingSession &operator=(ProfilingSession &&) noexcept;
  ~ProfilingSession(); // stops recording if finalize() was not called

  /// Stops recording and monitoring, writes the analysis into the session's
  /// folder (analysis.json) and returns its headline numbers.
  AnalysisResult finalize();

private:
  friend ProfilingSession
  comprehensive_profile_execution(const std::filesystem::path &,
                                  std::optional<SamplingConfig>);
  ProfilingSession(std::filesystem::path dir);
  std::filesystem::path Dir;
  std::unique_ptr<PlatformResourceCollector> Collector;
  bool Finalized = false;
};

/// Starts recording into \p dir with \p config (the runtime's defaults
/// without one) and monitoring resources.
ProfilingSession comprehensive_profile_execution(
    const std::filesystem::path &dir,
    std::optional<SamplingConfig> config = std::nullopt);

} // namespace lockfree
} // namespace memscope

#endif // MEMSCOPE_LOCKFREE_HPP
