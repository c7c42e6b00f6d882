//===-- ProcessModel.h - What the merge knows of one process ----*- C++ -*-===//
//
// The per-process model of stage 2 (see Analysis.cpp): what process.log
// says (decodeProcessLog, ProcessLog.cpp), and what streaming the thread logs
// adds (streamThreadLogs, ProcessStreamer.cpp): site-stack entries, threads,
// the live peak and the timeline. Internal to memscope-merge; writers see only
// Analysis.h's model.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_PROCESSMODEL_H
#define MEMSCOPE_MERGE_PROCESSMODEL_H

#include "Analysis.h"
#include "Input.h"
#include "LogReader.h"
#include "Symbolization.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Demangle/Demangle.h"

#include "fmt/format.h"

#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace memscope {
namespace merge {

/// Builds the report of a process's ResourceSample records (any order;
/// ResourceSeries.cpp).
std::optional<ResourceReport>
resourceReport(std::vector<log::ResourceSampleRecord> Records,
               uint64_t StartMonotonicNs);

/// One thread's share of a site-stack entry.
struct SiteStackThreadStats {
  double Allocations = 0;
  double Bytes = 0;
  double AllocationsVariance = 0;
  double BytesVariance = 0;
  double SampledBytes = 0;
  uint64_t Samples = 0;
  double LiveAllocations = 0; // at exit
  double LiveBytes = 0;
  double LiveBytesVariance = 0;
  double LiveSampledBytes = 0;
};

/// Allocations of one process from one site (instrumented) or one stack
/// (indirect, attributed later). Samples of an instrumented site that carry
/// a stack (__memscope_alloc_sampled_stack) have a site-stack entry per (site,
/// stack): the merge may attribute each stack to another line of user code.
/// Which heap a site-stack entry's blocks belong to. The program's
/// allocations and a custom allocator's objects are what the program asked
/// for (the totals); the real heap in use is the program's allocations and
/// the pools' chunks (the live curve, its peak), since custom objects live
/// inside the chunks.
enum class BlockClass : uint8_t { Program, Custom, PoolChunk };

struct SiteStack {
  bool Indirect = false;
  BlockClass Class = BlockClass::Program;
  uint64_t Key = 0; // site id or stack id
  /// In the totals (AllocationStats of the process and its threads)?
  bool counted() const { return Class != BlockClass::PoolChunk; }
  /// In the live heap (the curve, its peak)?
  bool inHeap() const { return Class != BlockClass::Custom; }
  uint64_t StackId = 0; // instrumented sites: the samples' stack, 0 = none
  uint32_t Kind = 0;
  AllocationStats Stats;
  /// By index into ProcessData::Threads.
  llvm::DenseMap<uint32_t, SiteStackThreadStats> PerThread;
};

/// A ThreadStart ... ThreadEnd interval, relative to the process start.
struct Span {
  uint64_t Start = 0;
  std::optional<uint64_t> End;
};

/// What the streamer knows about a thread beyond its ThreadReport.
struct ThreadState {
  std::vector<Span> Spans;
  uint64_t InitialNameNs = UINT64_MAX; // start of the span that named it
  bool Renamed = false;
  uint64_t RenamedNs = 0;
  /// The runtime's exact totals, from the latest ThreadEnd or ThreadRunning
  /// that has them (at TotalsNs, monotonic).
  std::optional<log::ThreadTotals> Totals;
  uint64_t TotalsNs = 0;
};

struct CrossStat {
  double Frees = 0;
  double Bytes = 0;
};

struct ProcessData {
  ProcessFolder Folder;
  std::optional<LogFile> ProcessLog;
  std::vector<LogFile> ThreadLogs;

  // From process.log.
  std::optional<ProcessInfo> Info;
  ModuleMap Modules;
  std::unordered_map<uint64_t, SiteInfo> Sites;
  std::optional<log::ProcessEndRecord> End;
  /// ProcessEnd's totals of threads that ended without a log (2.1 on).
  std::optional<log::ThreadTotals> UnloggedTotals;
  /// ProcessEnd's count of the heap in use (2.2 on, when the runtime could).
  std::optional<log::HeapCounts> Heap;
  /// ProcessEnd's count of the heap in use at exit (2.6 on, as Heap).
  std::optional<log::HeapAtExit> HeapAtExit;
  /// ThreadRunning records by thread id, with their totals (2.1 on).
  std::unordered_map<uint64_t, log::ThreadRunningRecord> Running;
  std::unordered_map<uint64_t, log::ThreadTotals> RunningTotals;
  std::vector<log::ResourceSampleRecord> ResourceSamples;
  /// Snapshot records (2.4 on), as read, then by time; the streamer adds
  /// the live set at each (SnapshotLive).
  std::vector<log::SnapshotRecord> Snapshots;
  struct LiveSums {
    double Bytes = 0, Blocks = 0, Variance = 0, Observed = 0;
  };
  std::vector<LiveSums> SnapshotLive; // parallel to Snapshots
  /// --pprof-series: the changes of each (site-stack entry, thread) between
  /// consecutive snapshots, and from the last to the end.
  struct SeriesChange {
    uint32_t SiteStack = 0, Thread = 0;
    double Allocations = 0, Bytes = 0, LiveAllocations = 0, LiveBytes = 0;
  };
  struct SeriesPoint {
    uint64_t MonotonicNs = 0;
    std::optional<uint64_t> Snapshot; // unset: the end of the streamed logs
    std::vector<SeriesChange> Changes;
  };
  bool WantSeries = false;
  std::vector<SeriesPoint> Series;
  /// Decode the thread logs' next batches on a thread of their own while
  /// streaming (ThreadLogDecoder.h): where a core would otherwise idle.
  bool DecodeAhead = false;
  /// Events per decoded batch; 0: ProcessStreamer's choice.
  size_t BatchEvents = 0;
  /// LogLimit records (2.5 on): max_log_size reduced recording. By time.
  std::vector<log::LogLimitRecord> LogLimits;
  /// ThreadEnd records that had to go to process.log (2.5 on).
  std::vector<ThreadEndInfo> ThreadsEnded;
  /// Recorded in exact mode from start to end (no LogLimit left it).
  bool exactThroughout() const {
    return Info &&
           static_cast<log::SamplingMode>(Info->Fixed.sampling_mode) ==
               log::SamplingMode::Exact &&
           llvm::none_of(LogLimits, [](const log::LogLimitRecord &R) {
             return R.flags & log::LogLimitLeftExact;
           });
  }
  /// --from/--to in monotonic ns (WindowFromNs 0, WindowToNs UINT64_MAX:
  /// open), and why they could not be resolved.
  bool Windowed = false;
  uint64_t WindowFromNs = 0, WindowToNs = UINT64_MAX;
  std::string WindowError;
  uint32_t Pid = 0;
  uint64_t StartMonotonicNs = 0;
  uint64_t StartRealtimeNs = 0;

  // From the thread logs.
  std::vector<SiteStack> SiteStacks;
  std::vector<ThreadReport> Threads;
  std::vector<ThreadState> ThreadStates; // parallel to Threads
  std::vector<ThreadNameInfo> Renames;
  std::unordered_map<uint64_t, std::vector<uint64_t>> Stacks;
  /// Frees in another thread than the allocation's, by (allocating site-stack
  /// entry, freeing site) and by (allocating thread, freeing thread).
  std::map<std::pair<uint32_t, uint64_t>, CrossStat> CrossBySiteStack;
  std::map<std::pair<uint32_t, uint32_t>, CrossStat> CrossByThread;
  AllocationStats Stats;
  bool TotalsExact = false; // see applyExactTotals
  double PeakLiveBytes = 0;
  double PeakLiveBytesVariance = 0;
  double PeakLiveBytesObserved = 0;
  uint64_t PeakLiveTimeNs = 0;
  /// glibc's overhead of the sampled blocks (Estimates.h), which converts
  /// the counted heap to requested bytes: of the blocks live at the peak, at
  /// the end, and of all.
  OverheadTally PeakOverhead, ExitOverhead, Overhead;
  /// A custom allocator's object was live at exit: it is not a glibc block,
  /// so the heap counted at exit does not bound the leaks.
  bool CustomLiveAtExit = false;
  /// Parallel to SiteStacks: estimated live bytes when the peak was reached.
  std::vector<double> SiteStackPeakBytes;
  /// Parallel to SiteStacks: its type unit, whose live bytes the streamer
  /// follows as one (HeapByType.h): every entry of an instrumented site of
  /// a known type shares its type's unit; any other entry is a unit alone.
  std::vector<uint32_t> SiteStackUnit;
  /// By type unit: the most its (estimated) live bytes ever were.
  std::vector<double> UnitPeakBytes;
  std::vector<LivePoint> LiveTimeline;
  uint64_t LiveBucketNs = 1000;
  uint64_t LastEventNs = 0; // relative to the start
  uint64_t UnmatchedFrees = 0;

  std::vector<Diagnostic> Diags;
  /// Where the streamer counts the bytes of records it read (Progress.h),
  /// and their sum for this process.
  std::atomic<uint64_t> *BytesStreamed = nullptr;
  uint64_t StreamedBytes = 0;

  void warn(std::string Message) {
    Diags.push_back({Severity::Warning, std::move(Message)});
  }
  /// "pid <pid>: <Count> <What>", when Count is not 0.
  void warnCount(uint64_t Count, llvm::StringRef What) {
    if (Count)
      warn(fmt::format("pid {}: {} {}", Pid, Count, What.str()));
  }
  uint64_t relative(uint64_t MonotonicNs) const {
    return MonotonicNs > StartMonotonicNs ? MonotonicNs - StartMonotonicNs : 0;
  }
  /// ProcessEnd, or the last event when the process did not exit cleanly.
  uint64_t endNs() const {
    return End ? relative(End->monotonic_ns) : LastEventNs;
  }
  bool usable() const {
    if (ProcessLog && ProcessLog->Usable)
      return true;
    return llvm::any_of(ThreadLogs,
                        [](const LogFile &File) { return File.Usable; });
  }
};

/// Reads process.log into \p P: process information, modules, sites,
/// ProcessEnd and ThreadRunning records, resource samples.
void decodeProcessLog(ProcessData &P);

/// Sets \p P's window from --from/--to (Window.cpp), or P.WindowError.
void resolveWindow(ProcessData &P, const std::optional<WindowBound> &From,
                   const std::optional<WindowBound> &To);

/// Streams \p P's thread logs in time order (ProcessStreamer).
void streamThreadLogs(ProcessData &P);

/// Copies a Site record's location into a report entry (a SiteReport or a
/// SpawnSiteReport): file, folder, line, column, the demangled function and
/// the module that holds the site.
template <typename Entry>
void describeSite(const ProcessData &P, const SiteInfo &Info, Entry &Site) {
  Site.File = Info.File;
  Site.Dir = Info.Dir;
  Site.Line = Info.Line;
  Site.Column = Info.Column;
  Site.Function = llvm::demangle(Info.Function);
  if (const ModuleMap::Module *Module = P.Modules.find(Info.ModuleTextAddr))
    Site.Module = Module->Path;
}

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_PROCESSMODEL_H
