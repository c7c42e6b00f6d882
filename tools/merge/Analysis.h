//===- Analysis.h - The merged analysis of a memscope run -------*- C++ -*-===//
//
// analyze() reads all logs of a run and produces an Analysis: a plain data
// model that the writers (JSON, text, and later html/pprof/folded/trace)
// render. Nothing here knows about output formats.
//
// Counts are estimates: every Alloc sample carries the number of allocations
// it stands for (its weight), and estimates are sums of weights. They are
// kept as doubles and rounded only when written.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_ANALYSIS_H
#define MEMSCOPE_MERGE_ANALYSIS_H

#include "Diagnostics.h"
#include "LogReader.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace memscope {
namespace merge {

struct AnalysisOptions {
  std::string InputDir;
  bool Symbolize = true;
  /// Source paths matching one of these prefixes are library code, not the
  /// user's; see IndirectAttributor::isSystemPath().
  std::vector<std::string> SystemPrefixes;
  /// Analyse only this process.
  std::optional<uint32_t> Pid;
  /// Print progress lines on stderr.
  bool Progress = false;
};

/// The default --system-prefix list. A '*' in a prefix matches any run of
/// characters, so "/usr/*/c++/" is "under /usr and containing /c++/".
std::vector<std::string> defaultSystemPrefixes();

/// Estimated totals of a set of samples.
struct AllocationStats {
  double Allocations = 0;
  double Bytes = 0;
  double Frees = 0;
  double FreedBytes = 0;
  double LiveAllocations = 0;
  double LiveBytes = 0;
  uint64_t Samples = 0;

  void add(const AllocationStats &Other);
};

struct SamplingInfo {
  std::string Mode = "unknown"; // "bytes", "rate", "exact" or "unknown"
  uint64_t IntervalBytes = 0;
  double Rate = 0;
  uint64_t MinAllocationSize = 0;
  uint32_t StackDepth = 0;
};

struct SiteReport {
  uint64_t Id = 0;
  std::string Kind; // "malloc", "new", ..., "indirect"
  std::string File;
  std::string Dir;
  uint32_t Line = 0;
  uint32_t Column = 0;
  std::string Function; // demangled
  std::string Module;   // path of the module holding the site, if known
  std::vector<InlineFrame> InlinedAt;
  std::string Via; // indirect sites: the uninstrumented allocating function
  /// The first frame in user code: the site itself, or for a site inlined
  /// from a system header (std::vector's allocator, say) the first caller in
  /// its inlined-at chain outside the system prefixes.
  InlineFrame User;
  AllocationStats Stats;
  uint64_t ThreadCount = 0; // distinct allocating threads
  std::vector<uint32_t> Pids;

  bool isIndirect() const { return Kind == "indirect"; }
};

struct ThreadReport {
  uint32_t Pid = 0;
  uint64_t ThreadId = 0; // process-unique; 0 = unknown (ThreadStart lost)
  uint64_t Tid = 0;      // OS thread id
  std::string Name;
  uint64_t ParentThreadId = 0;
  uint64_t SpawnSite = 0;
  uint64_t StartNs = 0; // relative to the process start
  std::optional<uint64_t> EndNs;
  bool RunningAtExit = true;
  uint64_t CpuUserNs = 0;
  uint64_t CpuSystemNs = 0;
  double Allocations = 0;
  double Bytes = 0;
  double LiveBytesAtExit = 0;
};

struct ProcessReport {
  uint32_t Pid = 0;
  uint32_t Ppid = 0;
  std::string Executable;
  std::string Folder;
  uint64_t StartRealtimeNs = 0;
  uint64_t DurationNs = 0;
  bool Exited = false;
  int32_t ExitKind = 0;
  uint64_t ThreadCount = 0;
  AllocationStats Stats;
  double PeakLiveBytes = 0;
  uint64_t PeakLiveTimeNs = 0;
  uint64_t DroppedRecords = 0;
  uint64_t UntrackedSamples = 0;
  uint64_t UnmatchedFrees = 0;
  SamplingInfo Sampling;
};

struct Summary {
  uint64_t ProcessCount = 0;
  uint64_t ThreadCount = 0;
  AllocationStats Stats;
  double PeakLiveBytes = 0;
  uint64_t PeakLiveTimeNs = 0;
  uint64_t DurationNs = 0;
  double IndirectAllocations = 0;
  double IndirectBytes = 0;
  bool Exact = false;
  SamplingInfo Sampling;
  uint64_t DroppedRecords = 0;
  uint64_t UntrackedSamples = 0;
  std::vector<std::string> Warnings;
};

struct Analysis {
  std::string Input;
  Summary Totals;
  std::vector<ProcessReport> Processes; // by start time, then pid
  std::vector<SiteReport> Sites;        // by bytes, descending
  std::vector<ThreadReport> Threads;    // by process, then thread id
};

/// Reads and analyses a run. Problems in the data become diagnostics in
/// Diags; an Error is returned only when no analysis can be produced.
llvm::Expected<Analysis> analyze(const AnalysisOptions &Options,
                                 Diagnostics &Diags);

/// Name of an msc_site_kind ("malloc", "new[]", "indirect", ...).
const char *siteKindName(uint32_t Kind);

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_ANALYSIS_H
