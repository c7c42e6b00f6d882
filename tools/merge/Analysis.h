//===- Analysis.h - The merged analysis of a memscope run -------*- C++ -*-===//
//
// analyze() reads all logs of a run and produces an Analysis: a plain data
// model that the writers (JSON, HTML, pprof, folded stacks, trace, text)
// render. Nothing here knows about output formats or the log format: the
// writers see this model only (the pipeline's own types are in
// ProcessModel.h).
//
// Threads' and processes' allocation counts and bytes are the runtime's
// counts (TotalsExact). Every other figure is an estimate: each sample
// carries the number of allocations it stands for (its weight), estimates
// are sums of weights, kept as doubles next to their variances
// (Estimates.h) and rounded only when written.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_ANALYSIS_H
#define MEMSCOPE_MERGE_ANALYSIS_H

#include "Diagnostics.h"
#include "Estimates.h"
#include "InlineFrame.h"
#include "Lifetime.h"

#include "llvm/Support/Error.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace memscope {
namespace merge {

/// One end of --from/--to: seconds since the process started, or a snapshot
/// of it by number.
struct WindowBound {
  bool IsSnapshot = false;
  uint64_t Ns = 0;       // !IsSnapshot
  uint64_t Snapshot = 0; // IsSnapshot
  std::string Text;      // as given, for messages and the report
};
/// Parses "30", "1.5s", "500ms", "2m", "1h" or "snapshot:3" (also "#3").
llvm::Expected<WindowBound> parseWindowBound(llvm::StringRef Text);

struct AnalysisOptions {
  std::string InputDir;
  bool Symbolize = true;
  /// Keeps symbolized addresses between merges (SymbolCache.h); empty: not.
  std::string SymbolCacheDir;
  /// Source paths matching one of these prefixes are library code, not the
  /// user's; see IndirectAttributor::isSystemPath().
  std::vector<std::string> SystemPrefixes;
  /// Source paths under this folder are written relative to it; empty: the
  /// instrumented sites' common compilation directory (SourcePaths.h).
  std::string SourceRoot;
  /// Which blocks live at exit are process-lifetime rather than leaks.
  LifetimeRules Lifetime;
  /// Analyse only this process.
  std::optional<uint32_t> Pid;
  /// Show progress on stderr (a terminal) once the merge has taken this long.
  bool Progress = false;
  std::chrono::milliseconds ProgressDelay{1000};
  /// --from/--to: only the allocations made in this window count; what of
  /// them is live at its end is "live at exit".
  std::optional<WindowBound> From, To;
  /// --pprof-series: keep what each interval between snapshots changed
  /// (Analysis::Series).
  bool Series = false;
  /// Decode each process's thread logs ahead on a thread of their own
  /// (ThreadLogDecoder.h). Unset: when the processes leave a core idle.
  std::optional<bool> DecodeAhead;
  /// Events per decoded batch of a thread log; 0: up to 4,096, fewer for
  /// many files. Tests make it small to cross many batches.
  size_t BatchEvents = 0;
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
  /// Live at exit: leaks. Process-lifetime blocks (Lifetime.h) are apart.
  double LiveAllocations = 0;
  double LiveBytes = 0;
  double LifetimeAllocations = 0;
  double LifetimeBytes = 0;
  uint64_t Samples = 0;
  /// Freed samples: Σ weight × (free time − alloc time), and their count.
  double LifetimeNs = 0;
  uint64_t FreedSamples = 0;
  /// Estimated variances of the figures above (Estimates.h); 0 in exact
  /// mode.
  double AllocationsVariance = 0;
  double BytesVariance = 0;
  double LiveAllocationsVariance = 0;
  double LiveBytesVariance = 0;
  /// The sampled blocks' own bytes (the certain part of Bytes and of
  /// LiveBytes; Samples is that of Allocations).
  double SampledBytes = 0;
  double LiveSampledBytes = 0;
  uint64_t LiveSamples = 0;
  /// What blocks no sample revealed may add to the byte figures
  /// (Estimates.h, unseenBytes()): the largest of the processes the figures
  /// come from; 0 in exact mode and rate sampling.
  double UnseenBytes = 0;
  /// Bytes (and Allocations) are the runtime's counts, not estimates: set
  /// for a process by its streamer, for the totals by analyze(); add()
  /// leaves it alone.
  bool Counted = false;

  /// The 95% intervals of the estimates (Estimates.h).
  Interval bytesInterval() const;
  Interval allocationsInterval() const;
  /// Capped by the bytes allocated (liveInterval95) and by \p CountedHigh,
  /// a count of the heap in use then.
  Interval liveBytesInterval(double CountedHigh = HUGE_VAL) const;

  void add(const AllocationStats &Other);
  /// Weight-averaged lifetime of the freed blocks; unset without frees.
  std::optional<double> averageLifetimeNs() const;
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
  /// Indirect sites: the uninstrumented allocating function. Sites
  /// attributed by stack: the recorded (library) function, as Function.
  std::string Via;
  /// The first frame in user code: the site itself, or for a site inlined
  /// from a system header (std::vector's allocator, say) the first caller in
  /// its inlined-at chain outside the system prefixes, or for a site whose
  /// whole chain is library code the first user frame of its samples'
  /// stack (one entry per such frame, see stackSiteId()).
  InlineFrame User;
  /// How User was found: "site" (the site itself, also the fallback when
  /// nothing better is known), "inline" (its inlined-at chain) or "stack"
  /// (the samples' stack; every indirect site).
  std::string AttributedBy;
  /// What it allocates as the user spells it ("Order", "std::string"); ""
  /// when unknown (every indirect site).
  std::string Type;
  AllocationStats Stats;
  /// Its sampled blocks live when their process reached its peak (summed
  /// over processes): its share of the peak, an estimate.
  double LiveBytesAtPeak = 0;
  uint64_t ThreadCount = 0; // distinct allocating threads
  std::vector<uint32_t> Pids;

  /// Attributed through its stack alone: the runtime caught it in
  /// uninstrumented code (a pool's chunks too).
  bool isIndirect() const { return Kind == "indirect" || Kind == "pool_chunk"; }
  /// What a custom allocator took from malloc: outside the totals.
  bool isPoolChunk() const { return Kind == "pool_chunk"; }
};

/// One site's share of one thread's allocations.
struct ThreadSiteReport {
  uint64_t SiteId = 0;  // as in Analysis::Sites (indirect, split: its id)
  InlineFrame Location; // the site's first frame in user code
  double Allocations = 0;
  double Bytes = 0;
  // For their intervals (Estimates.h).
  double AllocationsVariance = 0;
  double BytesVariance = 0;
  double SampledBytes = 0;
  uint64_t Samples = 0;
};

/// One thread: all spans (ThreadStart ... ThreadEnd) of one (pid, thread_id).
struct ThreadReport {
  uint32_t Pid = 0;
  uint64_t ThreadId = 0; // process-unique; 0 = unknown (ThreadStart lost)
  uint64_t Tid = 0;      // OS thread id
  std::string Name;      // the latest name
  uint64_t ParentThreadId = 0;
  uint64_t SpawnSite = 0;    // instrumented spawn site, 0 = unknown
  uint64_t SpawnStackId = 0; // Stack record of the creating call, 0 = none
  uint64_t CreatorPc = 0;    // return address of pthread_create, 0 = unknown
  uint64_t PthreadHandle = 0;
  /// The first frame in user code of the creating call (see
  /// docs/analysis-schema.md, "Thread spawns"); unset when unknown.
  std::optional<InlineFrame> SpawnLocation;
  /// Path of the module holding CreatorPc, when SpawnSite is 0.
  std::string CreatorModule;
  uint64_t StartNs = 0;          // of the first span, relative to the process
  std::optional<uint64_t> EndNs; // ThreadEnd of the last span
  uint64_t LifetimeNs = 0;
  uint32_t SpanCount = 0;
  bool RunningAtExit = true;
  uint64_t CpuUserNs = 0;
  uint64_t CpuSystemNs = 0;
  /// Memscope's own thread (the resource sampler, see isToolThreadName()).
  bool ToolThread = false;
  /// Allocations and Bytes were counted by the runtime, not estimated from
  /// samples (log format 2.1 on; every mode).
  bool TotalsExact = false;
  double Allocations = 0;
  uint64_t Samples = 0; // Alloc records behind Allocations and Bytes
  double Bytes = 0;
  double LiveAllocationsAtExit = 0; // leaks
  double LiveBytesAtExit = 0;
  double LiveBytesAtExitVariance = 0;   // Estimates.h
  double LiveBytesAtExitObserved = 0;   // the live samples' own bytes
  double UnseenBytes = 0;               // its process's (AllocationStats)
  double LifetimeAllocationsAtExit = 0; // process-lifetime blocks
  double LifetimeBytesAtExit = 0;
  /// Up to 5 sites by bytes, descending.
  std::vector<ThreadSiteReport> TopSites;
};

/// The threads one spawn site created. Instrumented sites are aggregated
/// over processes by their first frame in user code (by id when there is
/// none); threads created by uninstrumented code are grouped by the module
/// that called pthread_create.
struct SpawnSiteReport {
  std::optional<uint64_t> Id;    // the smallest of SiteIds; unset: unknown
  std::vector<uint64_t> SiteIds; // ascending
  std::string File;              // of the Site record; "<unknown spawn site>"
  std::string Dir;
  uint32_t Line = 0;
  uint32_t Column = 0;
  std::string Function; // demangled
  std::string Module;   // module holding the site
  /// The first frame in user code; unset for unknown spawn sites.
  std::optional<InlineFrame> User;
  std::string CreatorModule; // unknown spawn sites; empty when unknown too
  std::vector<uint32_t> Pids;
  uint64_t ThreadsCreated = 0;
  uint64_t ThreadsRunningAtExit = 0;
  double Allocations = 0; // of the threads it created
  double Bytes = 0;
  bool TotalsExact = true; // every thread's Allocations and Bytes are
  double LiveBytesAtExit = 0;
  double LiveBytesAtExitVariance = 0; // Estimates.h
  double LiveBytesAtExitObserved = 0;
  double UnseenBytes = 0; // the largest of its threads'
  uint64_t CpuUserNs = 0;
  uint64_t CpuSystemNs = 0;
  /// The threads it created, as indices into Analysis::Threads.
  std::vector<size_t> Threads;
};

/// Blocks allocated at one site and freed at another, in another thread.
struct CrossFreeSitePair {
  uint64_t AllocSite = 0;
  InlineFrame AllocLocation;
  uint64_t FreeSite = 0; // 0: freed by uninstrumented code
  std::optional<InlineFrame> FreeLocation;
  double Frees = 0; // estimated: the sum of the allocations' weights
  double Bytes = 0;
};

struct CrossFreeThreadPair {
  uint32_t Pid = 0;
  size_t AllocThread = 0; // indices into Analysis::Threads
  size_t FreeThread = 0;
  double Frees = 0;
  double Bytes = 0;
};

struct CrossThreadFrees {
  static constexpr size_t MaxPairs = 50;
  double Frees = 0;
  double Bytes = 0;
  std::vector<CrossFreeSitePair> BySitePair; // top MaxPairs by bytes
  uint64_t SitePairCount = 0;                // before the cut
  /// The pair with the most frees (ties: bytes, then ids), before the cut.
  std::optional<CrossFreeSitePair> BusiestPair;
  std::vector<CrossFreeThreadPair> ByThreadPair;
  uint64_t ThreadPairCount = 0;
};

/// Who created whom, as indices into Analysis::Threads.
struct ThreadTree {
  std::vector<size_t> Roots; // parent 0 or not found; in thread order
  std::vector<std::vector<size_t>> Children; // parallel to Threads
};

/// One ResourceSample record, relative to the previous one.
struct ResourceSample {
  uint64_t TimeNs = 0; // relative to the process start
  /// Δ(user + system CPU) / Δwall × 100 since the previous sample; unset for
  /// the first sample (or when no wall time passed).
  std::optional<double> CpuPercent;
  uint64_t RssBytes = 0;
  uint64_t ReadBytes = 0; // cumulative since the process started
  uint64_t WriteBytes = 0;
  uint64_t ReadCalls = 0;
  uint64_t WriteCalls = 0;
  uint32_t Threads = 0;
};

/// A process's resource use, from the samples PlatformResourceCollector
/// wrote (docs/analysis-schema.md, "resources").
struct ResourceReport {
  std::vector<ResourceSample> Samples; // by time
  std::optional<double> PeakCpuPercent;
  std::optional<double> AverageCpuPercent; // first to last sample
  uint64_t PeakRssBytes = 0;
  uint64_t IoOperations = 0; // Δ(read_calls + write_calls), first to last
  uint64_t BytesRead = 0;    // Δread_bytes, first to last
  uint64_t BytesWritten = 0; // Δwrite_bytes, first to last
};

/// One bucket of the live-heap timeline: the largest and the last estimated
/// live bytes of the events in [TimeNs, TimeNs + bucket width).
struct LivePoint {
  uint64_t TimeNs = 0; // bucket start, relative to the process start
  double MaxBytes = 0;
  double LastBytes = 0;
};

/// How a process ended (docs/analysis-schema.md, "processes[]").
/// Running: no ProcessEnd, and the pid is a live process of the same
/// executable, started when the logs say (this machine's /proc).
enum class ProcessStatus { Exited, Crashed, KilledOrRunning, Running };
const char *processStatusName(ProcessStatus Status);
/// "SIGSEGV" etc., or "signal N" for an unknown number.
std::string signalName(int Signal);

/// How a peak of live bytes was obtained: from every block's events (exact
/// mode), from the runtime's count of the heap in use (log::HeapCounts), or
/// as the maximum of the sampled live-bytes curve (the fallback: biased
/// upwards, its interval only the sampling error at that moment).
enum class PeakMethod { Exact, Counted, Sampled };
/// "exact", "counted" or "sampled".
const char *peakMethodName(PeakMethod Method);

/// A Snapshot record (log format 2.4) and the live heap the merge found
/// there: what the events up to it left live.
struct SnapshotReport {
  uint64_t Number = 0;
  uint64_t TimeNs = 0; // relative to the process start
  std::string Cause;   // "signal", "call" or "interval"
  /// The sampled blocks live then, estimated (exact in exact mode).
  double LiveBytes = 0;
  double LiveAllocations = 0;
  Interval LiveBytesInterval;
  /// The runtime's count of the heap in use then, glibc chunk sizes.
  std::optional<int64_t> HeapBytes;
  std::optional<int64_t> HeapBlocks;
  uint64_t HeapUncertainty = 0;
};

/// A point where max_log_size reduced a process's recording (a LogLimit
/// record, log format 2.5): from then on, samples are rarer (or, once Full,
/// none are taken) and the figures coarser, though still unbiased.
struct LogLimitStep {
  uint64_t TimeNs = 0; // relative to the process start
  uint32_t Level = 0;
  uint64_t LogBytes = 0; // the logs on disk then
  uint64_t SampleIntervalBytes = 0;
  double SampleRate = 0;
  bool LeftExact = false; // exact mode became byte sampling here
  bool Full = false;      // the cap was reached: no new samples
};

struct LogLimitReport {
  uint64_t MaxLogSize = 0;
  std::vector<LogLimitStep> Steps; // by time
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
  ProcessStatus Status = ProcessStatus::KilledOrRunning;
  /// The fatal signal when Status is Crashed.
  int32_t Signal = 0;
  uint64_t ThreadCount = 0;
  AllocationStats Stats;
  /// Stats.Allocations and Stats.Bytes are the runtime's counts (every
  /// thread's and those of threads that ended without a log), not
  /// estimates.
  bool TotalsExact = false;
  double PeakLiveBytes = 0;
  Interval PeakLiveBytesInterval;
  PeakMethod PeakLiveBytesMethod = PeakMethod::Sampled;
  /// In exact mode, the runtime's count of the peak too (a check of the
  /// count); unset otherwise.
  std::optional<double> CountedPeakLiveBytes;
  uint64_t PeakLiveTimeNs = 0;
  /// The heap in use at exit as the runtime counted it (log format 2.6,
  /// glibc's allocator behind the interposers): the whole heap, leaks and
  /// process-lifetime blocks together, in requested bytes (its chunk bytes
  /// less the blocks' overhead, requestedFromChunks) with their range, and
  /// its blocks. Unset otherwise, and with --from/--to (the report's end is
  /// not the process's).
  std::optional<CountedBytes> HeapAtExit;
  /// What the blocks live at exit cannot exceed: HeapAtExit's Ceiling, unless
  /// a custom allocator's objects (not glibc blocks) were live then.
  double LiveAtExitCap = HUGE_VAL;
  int64_t HeapBlocksAtExit = 0;
  uint64_t DroppedRecords = 0;
  uint64_t UntrackedSamples = 0;
  uint64_t UnmatchedFrees = 0;
  SamplingInfo Sampling;
  /// Unset when the process wrote no ResourceSample record.
  std::optional<ResourceReport> Resources;
  /// Estimated live bytes over time; at most kMaxLivePoints buckets of
  /// LiveBucketNs each, by time, empty buckets left out.
  static constexpr size_t kMaxLivePoints = 1024;
  std::vector<LivePoint> LiveTimeline;
  uint64_t LiveBucketNs = 0;
  /// By number; the last is "live now" for a running process.
  std::vector<SnapshotReport> Snapshots;
  /// Unset when the logs stayed under max_log_size's first mark.
  std::optional<LogLimitReport> LogLimit;
  /// --from/--to, resolved for this process: [from, to] relative to its
  /// start.
  std::optional<std::pair<uint64_t, uint64_t>> WindowNs;
};

/// A call-stack profile of the allocations, the model behind profile.pb.gz,
/// stacks.folded and the HTML flame graphs. Locations are deduplicated by
/// (module, module-relative address) over all processes, so runs of the
/// same binary add up even under ASLR.
struct ProfileMapping {
  std::string Path;
  std::string BuildId; // lowercase hex; empty when unknown
  /// Addresses of this mapping's locations are Start + (pc - load bias).
  uint64_t Start = 0;
  uint64_t Limit = 0;
};

struct ProfileLine {
  std::string Function; // demangled; never empty (module+offset fallback)
  std::string File;     // empty when unknown
  uint32_t Line = 0;
};

struct ProfileLocation {
  uint64_t Address = 0;           // 0 for a site known only by its Site record
  int64_t Mapping = -1;           // index into Profile::Mappings, -1 = none
  std::vector<ProfileLine> Lines; // innermost (inlined) first
};

/// One thread's part of a ProfileSample: pprof writes a sample per part,
/// labelled with its thread.
struct ProfileThreadPart {
  size_t Thread = 0; // index into Analysis::Threads
  double Allocations = 0;
  double Bytes = 0;
  double LiveAllocationsAtExit = 0;
  double LiveBytesAtExit = 0;
};

struct ProfileSample {
  std::vector<uint32_t>
      Locations;       // indices into Profile::Locations, leaf first
  uint64_t SiteId = 0; // the sites[] entry of these allocations
  uint32_t Pid = 0;
  std::string Type; // its site's allocated type; "" when unknown
  double Allocations = 0;
  double Bytes = 0;
  /// In use at exit: leaks and process-lifetime blocks.
  double LiveAllocationsAtExit = 0;
  double LiveBytesAtExit = 0;
  bool ProcessLifetime = false; // its blocks in use at exit are
  double LiveBytesAtPeak = 0;   // live when its process reached its peak
  /// The same figures by allocating thread, in the order the threads first
  /// added to the sample.
  std::vector<ProfileThreadPart> Threads;
};

struct Profile {
  std::vector<ProfileMapping> Mappings;
  std::vector<ProfileLocation> Locations;
  std::vector<ProfileSample> Samples;
};

struct Summary {
  uint64_t ProcessCount = 0;
  uint64_t ThreadCount = 0;
  AllocationStats Stats;
  bool TotalsExact = false; // every process's are (ProcessReport)
  double PeakLiveBytes = 0; // the peak process's
  Interval PeakLiveBytesInterval;
  PeakMethod PeakLiveBytesMethod = PeakMethod::Sampled;
  uint64_t PeakLiveTimeNs = 0;
  /// The sum of the processes' HeapAtExit, when every one has it.
  std::optional<CountedBytes> HeapAtExit;
  double LiveAtExitCap = HUGE_VAL; // the sum of the processes'

  int64_t HeapBlocksAtExit = 0;
  uint64_t DurationNs = 0;
  double IndirectAllocations = 0;
  double IndirectBytes = 0;
  bool Exact = false;
  SamplingInfo Sampling;
  uint64_t DroppedRecords = 0;
  uint64_t UntrackedSamples = 0;
  /// Some process's recording was reduced by max_log_size.
  bool DetailReduced = false;
  uint64_t ThreadsRunningAtExit = 0;
  uint64_t SpawnSiteCount = 0; // entries of Analysis::SpawnSites
  /// --from/--to as given ("" when unbounded at that end); unset without.
  std::optional<std::pair<std::string, std::string>> Window;
  /// Empty, or one line saying the run is too small for ±10% on its largest
  /// site and which option would fix it (analyze()).
  std::string PrecisionNote;
  /// The folder source paths are relative to ("" = all absolute), with its
  /// trailing '/'.
  std::string SourceRoot;
  std::vector<std::string> Warnings;
};

/// A rule of docs/api.md's "Bottleneck rules" that fired (Bottlenecks.h).
struct Bottleneck {
  std::string Kind;
  std::optional<uint64_t> SiteId; // the allocation or spawn site, if known
  std::string File;               // the site's first frame in user code
  uint32_t Line = 0;
  std::string Function;
  double Value = 0;
  std::string Unit;
  double Threshold = 0;
  std::string Description;
  std::string Suggestion;
};

/// How TypeReport::PeakLiveBytes was found.
enum class TypePeakMethod {
  Exact,         // exact mode: the most its live bytes ever were
  UpperBound,    // exact mode, but summed over parts that peaked apart
  AtProcessPeak, // sampled: its live bytes when its process peaked
};

/// "exact", "upper_bound" or "at_process_peak".
const char *typePeakMethodName(TypePeakMethod Method);

/// One type's share of the heap (HeapByType.h): the allocations of every
/// site that allocates it. Allocations of unknown type are grouped by their
/// first frame in user code instead.
struct TypeReport {
  std::string Type;      // "" = unknown: see UnknownAt
  InlineFrame UnknownAt; // unknown types only: their first user frame
  AllocationStats Stats;
  /// The largest over processes of its peak in one process (PeakMethod).
  double PeakLiveBytes = 0;
  TypePeakMethod PeakMethod = TypePeakMethod::Exact;
  std::vector<uint64_t> Sites; // ids in Analysis::Sites, ascending

  bool known() const { return !Type.empty(); }
};

/// --pprof-series: what the intervals between a process's snapshots changed,
/// by profile sample (Profile::Samples) and allocating thread.
struct SeriesChange {
  uint32_t Sample = 0;
  uint32_t Thread = UINT32_MAX;      // in Analysis::Threads; UINT32_MAX: none
  double Allocations = 0, Bytes = 0; // allocated in the interval
  double LiveAllocations = 0, LiveBytes = 0; // change of the live set
};
struct SeriesInterval {
  uint64_t StartNs = 0, EndNs = 0;  // relative to the process start
  std::optional<uint64_t> Snapshot; // the one that ends it; unset: the end
  std::vector<SeriesChange> Changes;
};
struct ProcessSeries {
  uint32_t Pid = 0;
  std::string Executable;
  uint64_t StartRealtimeNs = 0;
  std::vector<SeriesInterval> Intervals; // by time
};

struct Analysis {
  std::string Input;
  Summary Totals;
  std::vector<ProcessReport> Processes; // by start time, then pid
  std::vector<SiteReport> Sites;        // by bytes, descending
  std::vector<TypeReport> Types;        // by bytes, descending
  std::vector<ThreadReport> Threads;    // by process, then thread id
  ThreadTree Tree;
  /// By threads created, then bytes, descending.
  std::vector<SpawnSiteReport> SpawnSites;
  CrossThreadFrees CrossFrees;
  /// Threads running at exit (indices into Threads), by live bytes.
  std::vector<size_t> AliveAtExit;
  /// The first process's resources when there is exactly one process.
  std::optional<ResourceReport> Resources;
  /// By kind, then value descending (findBottlenecks()).
  std::vector<Bottleneck> Bottlenecks;
  Profile Stacks;
  /// Filled with AnalysisOptions::Series only: one per process.
  std::vector<ProcessSeries> Series;
};

/// Reads and analyses a run. Problems in the data become diagnostics in
/// Diags; an Error is returned only when no analysis can be produced.
llvm::Expected<Analysis> analyze(const AnalysisOptions &Options,
                                 Diagnostics &Diags);

/// Threads Memscope itself runs in the profiled process (the resource
/// sampler of memscope/lockfree.hpp).
bool isToolThreadName(llvm::StringRef Name);

/// Name of an msc_site_kind ("malloc", "new[]", "indirect", ...).
const char *siteKindName(uint32_t Kind);

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_ANALYSIS_H
