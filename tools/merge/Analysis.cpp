//===- Analysis.cpp - The merged analysis of a memscope run ---------------===//
//
// Three stages:
//  1. scan every file in parallel (framing, CRCs, damage recovery);
//  2. per process, in parallel: decode process.log, then stream all thread
//     logs in monotonic time order (a k-way merge) to compute per-site and
//     per-thread estimates, frees and the live-bytes peak. Memory is bounded
//     by sites, stacks and live samples, never by the number of events;
//  3. serially: attribute indirect samples, samples of sites in library
//     code and thread spawns through their stacks (the symbolizer is not
//     thread-safe) and merge processes into one model: sites, threads, the
//     thread tree, spawn sites and cross-thread frees.
//
// Each job has its file: LogReader.cpp (stage 1), ProcessLog.cpp and
// ProcessStreamer*.cpp on ProcessModel.h (stage 2), SiteMerger.cpp and
// ThreadMerger.cpp (stage 3); Model.cpp and ResourceSeries.cpp fill in
// Analysis.h's model. This file is the pipeline, analyze().
//
//===----------------------------------------------------------------------===//

#include "Analysis.h"
#include "Bottlenecks.h"
#include "Compat.h"
#include "Estimates.h"
#include "HeapByType.h"
#include "Input.h"
#include "ProcessModel.h"
#include "Profile.h"
#include "Progress.h"
#include "SiteMerger.h"
#include "Symbolization.h"
#include "ThreadMerger.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "fmt/format.h"
#include "tbb/parallel_for.h"
#include "tbb/task_arena.h"

#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>
#include <time.h>
#include <unistd.h>

using namespace memscope;
using namespace memscope::merge;

namespace {

SamplingInfo samplingOf(const ProcessInfo &Info) {
  SamplingInfo Sampling;
  switch (static_cast<log::SamplingMode>(Info.Fixed.sampling_mode)) {
  case log::SamplingMode::Bytes:
    Sampling.Mode = "bytes";
    break;
  case log::SamplingMode::Rate:
    Sampling.Mode = "rate";
    break;
  case log::SamplingMode::Exact:
    Sampling.Mode = "exact";
    break;
  }
  Sampling.IntervalBytes = Info.Fixed.sample_interval_bytes;
  Sampling.Rate = Info.Fixed.sample_rate;
  Sampling.MinAllocationSize = Info.Fixed.min_allocation_size;
  Sampling.StackDepth = Info.Fixed.stack_depth;
  return Sampling;
}

/// What blocks no sample revealed may hold in \p P's byte figures
/// (Estimates.h): the bound at the largest byte-sampling interval in force,
/// which max_log_size may have doubled (and which an exact run that left
/// exact mode took on); none where every block was recorded or in rate
/// sampling. Once the logs are full no samples are taken and nothing bounds
/// what was allocated after (the merge warns); the bound covers the time
/// before.
double unseenBytesOf(const ProcessData &P) {
  if (!P.Info)
    return 0;
  auto Mode = static_cast<log::SamplingMode>(P.Info->Fixed.sampling_mode);
  bool ByteSampled = Mode == log::SamplingMode::Bytes;
  uint64_t Largest = ByteSampled ? P.Info->Fixed.sample_interval_bytes : 0;
  for (const log::LogLimitRecord &Record : P.LogLimits) {
    if (Mode == log::SamplingMode::Exact &&
        (Record.flags & log::LogLimitLeftExact))
      ByteSampled = true;
    if (ByteSampled && !(Record.flags & log::LogLimitFull))
      Largest = std::max(Largest, Record.sample_interval_bytes);
  }
  return ByteSampled ? unseenBytes(double(Largest)) : 0;
}

/// Gives \p P's figures its unseenBytesOf(), before they are merged.
void setUnseenBytes(ProcessData &P) {
  double Unseen = unseenBytesOf(P);
  P.Stats.UnseenBytes = Unseen;
  for (SiteStack &Entry : P.SiteStacks)
    Entry.Stats.UnseenBytes = Unseen;
  for (ThreadReport &Thread : P.Threads)
    Thread.UnseenBytes = Unseen;
}

bool sameSampling(const SamplingInfo &A, const SamplingInfo &B) {
  return A.Mode == B.Mode && A.IntervalBytes == B.IntervalBytes &&
         A.Rate == B.Rate && A.MinAllocationSize == B.MinAllocationSize;
}

/// The pid encoded in a folder name "<exe>.<pid>", if any.
std::optional<uint32_t> folderPid(llvm::StringRef Path) {
  llvm::StringRef Name = llvm::sys::path::filename(Path);
  size_t Dot = Name.rfind('.');
  uint32_t Pid;
  if (Dot == llvm::StringRef::npos ||
      Name.substr(Dot + 1).getAsInteger(10, Pid))
    return std::nullopt;
  return Pid;
}

/// The source root (--source-root, or the instrumented sites' common
/// compilation directory), with every Site record spelled by it. A file
/// given relative (of a site or of a caller it is inlined into) comes with
/// its compilation directory; an absolute one, a system header say, may
/// carry any directory.
SourcePaths sourcePathsOf(std::vector<ProcessData> &Processes,
                          const std::string &SourceRoot) {
  std::vector<std::string> Dirs;
  auto Note = [&](const std::string &File, const std::string &Dir) {
    if (!File.empty() && !llvm::sys::path::is_absolute(File) &&
        (Dirs.empty() || Dirs.back() != Dir))
      Dirs.push_back(Dir);
  };
  if (SourceRoot.empty())
    for (const ProcessData &P : Processes)
      for (const auto &[Id, Site] : P.Sites) {
        Note(Site.File, Site.Dir);
        for (const InlineFrame &Frame : Site.InlinedAt)
          Note(Frame.File, Frame.Dir);
      }
  SourcePaths Paths(SourceRoot.empty() ? SourcePaths::commonDirectory(Dirs)
                                       : SourceRoot);
  for (ProcessData &P : Processes)
    for (auto &[Id, Site] : P.Sites) {
      Site.File = Paths.spell(Site.File, Site.Dir);
      for (InlineFrame &Frame : Site.InlinedAt)
        Frame.File = Paths.spell(Frame.File, Frame.Dir);
    }
  return Paths;
}

/// The frames of a site-stack entry's allocation stack that the lifetime rules
/// read: the site's own (instrumented) frames, then its stack's.
std::vector<StackFrameInfo>
lifetimeFrames(const ProcessData &P, const SiteStack &S, Symbolizer &Symbols) {
  std::vector<StackFrameInfo> Frames;
  if (!S.Indirect) {
    auto Site = P.Sites.find(S.Key);
    if (Site != P.Sites.end()) {
      Frames.push_back({Site->second.Function, Site->second.File, "", true});
      for (const InlineFrame &Frame : Site->second.InlinedAt)
        Frames.push_back({Frame.Function, Frame.File, "", true});
    }
  }
  uint64_t StackId = S.Indirect ? S.Key : S.StackId;
  auto Stack = StackId ? P.Stacks.find(StackId) : P.Stacks.end();
  if (Stack == P.Stacks.end())
    return Frames;
  for (uint64_t Address : Stack->second) {
    const ModuleMap::Module *Module = P.Modules.find(Address);
    if (!Module) {
      Frames.push_back({});
      continue;
    }
    const std::vector<SourceFrame> &Chain = Symbols.symbolize(*Module, Address);
    if (Chain.empty())
      Frames.push_back({"", "", Module->Path, Module->HasSites});
    for (const SourceFrame &Frame : Chain)
      Frames.push_back(
          {Frame.Function, Frame.File, Module->Path, Module->HasSites});
  }
  return Frames;
}

/// Moves the blocks live at exit that live for the process's lifetime
/// (Lifetime.h) out of the leak figures of their site-stack entry, thread and
/// process.
void classifyLifetime(ProcessData &P, Symbolizer &Symbols,
                      const LifetimeRules &Rules) {
  for (SiteStack &S : P.SiteStacks) {
    if (S.Stats.LiveAllocations <= 0 ||
        !Rules.isProcessLifetime(lifetimeFrames(P, S, Symbols)))
      continue;
    for (auto &[Thread, PerThread] : S.PerThread) {
      ThreadReport &Report = P.Threads[Thread];
      Report.LiveAllocationsAtExit -= PerThread.LiveAllocations;
      Report.LiveBytesAtExit -= PerThread.LiveBytes;
      Report.LiveBytesAtExitVariance -= PerThread.LiveBytesVariance;
      Report.LiveBytesAtExitObserved -= PerThread.LiveSampledBytes;
      Report.LifetimeAllocationsAtExit += PerThread.LiveAllocations;
      Report.LifetimeBytesAtExit += PerThread.LiveBytes;
    }
    double Allocations = S.Stats.LiveAllocations, Bytes = S.Stats.LiveBytes;
    P.Stats.LiveAllocationsVariance -= S.Stats.LiveAllocationsVariance;
    P.Stats.LiveBytesVariance -= S.Stats.LiveBytesVariance;
    P.Stats.LiveSampledBytes -= S.Stats.LiveSampledBytes;
    P.Stats.LiveSamples -= S.Stats.LiveSamples;
    S.Stats.LiveAllocations = S.Stats.LiveBytes = 0;
    S.Stats.LiveAllocationsVariance = S.Stats.LiveBytesVariance = 0;
    S.Stats.LiveSampledBytes = 0;
    S.Stats.LiveSamples = 0;
    S.Stats.LifetimeAllocations += Allocations;
    S.Stats.LifetimeBytes += Bytes;
    P.Stats.LiveAllocations -= Allocations;
    P.Stats.LiveBytes -= Bytes;
    P.Stats.LifetimeAllocations += Allocations;
    P.Stats.LifetimeBytes += Bytes;
  }
}

llvm::Error fatal(std::string Message) {
  return llvm::createStringError(std::errc::invalid_argument, "%s",
                                 Message.c_str());
}

/// The process's peak of live bytes: exact mode's from its events, else the
/// runtime's count of the heap in use when it wrote one, else the maximum of
/// the sampled curve.
void setPeak(const ProcessData &P, ProcessReport &Report) {
  bool Exact = P.exactThroughout();
  std::optional<CountedBytes> Counted;
  if (P.Heap) {
    const log::HeapCounts &Heap = *P.Heap;
    // The overhead of the blocks in use then, from the sampled ones.
    Counted =
        requestedFromChunks(Heap.peak_chunk_bytes, Heap.peak_blocks,
                            Heap.peak_uncertainty, P.PeakOverhead, P.Overhead);
  }
  if (!Exact && Counted) {
    const CountedBytes &Peak = *Counted;
    const log::HeapCounts &Heap = *P.Heap;
    Report.PeakLiveBytes = Peak.Value;
    Report.PeakLiveBytesInterval = Peak.Range;
    Report.PeakLiveBytesMethod = PeakMethod::Counted;
    Report.PeakLiveTimeNs = P.relative(Heap.peak_monotonic_ns);
    return;
  }
  Report.PeakLiveBytes = P.PeakLiveBytes;
  double Allocated = P.Stats.bytesInterval().High;
  Report.PeakLiveBytesInterval = liveInterval95(
      P.PeakLiveBytes, P.PeakLiveBytesVariance, P.PeakLiveBytesObserved,
      P.Stats.UnseenBytes, P.Stats.Counted ? HUGE_VAL : Allocated,
      P.Stats.Counted ? Allocated : HUGE_VAL);
  Report.PeakLiveBytesMethod = Exact ? PeakMethod::Exact : PeakMethod::Sampled;
  Report.PeakLiveTimeNs = P.PeakLiveTimeNs;
  // Exact mode also shows what the count gave, as a check of the count.
  if (Exact && Counted)
    Report.CountedPeakLiveBytes = Counted->Value;
}

/// The heap in use at exit as the runtime counted it (ProcessEnd, 2.6), in
/// requested bytes: its chunk bytes less the overhead of the sampled blocks
/// live at the end (requestedFromChunks). Not with --from/--to, whose end is
/// not the process's.
void setHeapAtExit(const ProcessData &P, ProcessReport &Report) {
  if (!P.HeapAtExit || P.Windowed)
    return;
  const log::HeapAtExit &Heap = *P.HeapAtExit;
  Report.HeapAtExit =
      requestedFromChunks(Heap.chunk_bytes, Heap.blocks, Heap.uncertainty,
                          P.ExitOverhead, P.Overhead);
  Report.HeapBlocksAtExit = Heap.blocks;
  if (!P.CustomLiveAtExit)
    Report.LiveAtExitCap = Report.HeapAtExit->Ceiling;
}

/// Whether \p P's process is running now on this machine: its pid is alive,
/// runs the same executable, and started when its logs say (a reused pid
/// started later).
bool runningNow(const ProcessData &P) {
  if (!P.Info || P.Info->Executable.empty())
    return false;
  std::string Proc = fmt::format("/proc/{}", P.Pid);
  char Exe[4096];
  ssize_t Length = readlink((Proc + "/exe").c_str(), Exe, sizeof(Exe) - 1);
  if (Length <= 0)
    return false;
  Exe[Length] = '\0';
  if (P.Info->Executable != Exe)
    return false;
  // Field 22 of /proc/<pid>/stat: the start, in clock ticks since boot,
  // which CLOCK_BOOTTIME counts (suspended time too); the logs have
  // CLOCK_MONOTONIC, which does not. The start in boot time lies between
  // the monotonic one and it plus the time suspended since boot.
  std::ifstream Stat(Proc + "/stat");
  std::string Line;
  if (!std::getline(Stat, Line))
    return false;
  size_t Close = Line.rfind(')');
  if (Close == std::string::npos)
    return false;
  std::istringstream Fields(Line.substr(Close + 2));
  std::string Field;
  for (int Index = 3; Index <= 22 && Fields >> Field; ++Index)
    if (Index == 22) {
      double Start = std::stod(Field) / double(sysconf(_SC_CLK_TCK));
      struct timespec Boot, Monotonic;
      clock_gettime(CLOCK_BOOTTIME, &Boot);
      clock_gettime(CLOCK_MONOTONIC, &Monotonic);
      double Suspended = double(Boot.tv_sec - Monotonic.tv_sec) +
                         double(Boot.tv_nsec - Monotonic.tv_nsec) / 1e9;
      double Logged = double(P.StartMonotonicNs) / 1e9;
      return Start > Logged - 2.0 && Start < Logged + Suspended + 2.0;
    }
  return false;
}

std::vector<SnapshotReport> reportSnapshots(const ProcessData &P) {
  std::vector<SnapshotReport> Out;
  for (size_t I = 0; I < P.Snapshots.size(); ++I) {
    const log::SnapshotRecord &Record = P.Snapshots[I];
    const ProcessData::LiveSums &Live = P.SnapshotLive[I];
    SnapshotReport Snapshot;
    Snapshot.Number = Record.number;
    Snapshot.TimeNs = P.relative(Record.monotonic_ns);
    Snapshot.Cause =
        Record.cause == uint32_t(log::SnapshotCause::Signal)     ? "signal"
        : Record.cause == uint32_t(log::SnapshotCause::Interval) ? "interval"
                                                                 : "call";
    Snapshot.LiveBytes = Live.Bytes;
    Snapshot.LiveAllocations = Live.Blocks;
    // The heap in use then bounds the live blocks no sample revealed.
    double Heap = Record.heap_counted
                      ? double(Record.heap_bytes + Record.heap_uncertainty)
                      : HUGE_VAL;
    Snapshot.LiveBytesInterval =
        liveInterval95(Live.Bytes, Live.Variance, Live.Observed,
                       P.Stats.UnseenBytes, HUGE_VAL, Heap);
    if (Record.heap_counted) {
      Snapshot.HeapBytes = Record.heap_bytes;
      Snapshot.HeapBlocks = Record.heap_blocks;
      Snapshot.HeapUncertainty = Record.heap_uncertainty;
    }
    Out.push_back(std::move(Snapshot));
  }
  return Out;
}

/// The series of \p P in the profile's terms: one interval per snapshot and
/// one to the end (left out while the process runs: it is not over). With
/// --from/--to, the intervals that overlap the window.
ProcessSeries seriesOf(const ProcessData &P, const ProcessReport &Report,
                       llvm::ArrayRef<int64_t> EntrySample,
                       llvm::ArrayRef<size_t> ThreadIndex) {
  ProcessSeries Series;
  Series.Pid = P.Pid;
  Series.Executable = Report.Executable;
  Series.StartRealtimeNs = P.StartRealtimeNs;
  uint64_t Start = 0;
  for (const ProcessData::SeriesPoint &Point : P.Series) {
    SeriesInterval Interval;
    Interval.StartNs = Start;
    Interval.EndNs = std::max(Start, P.relative(Point.MonotonicNs));
    Interval.Snapshot = Point.Snapshot;
    Start = Interval.EndNs;
    if (!Point.Snapshot && Report.Status == ProcessStatus::Running)
      continue;
    for (const ProcessData::SeriesChange &Change : Point.Changes) {
      if (EntrySample[Change.SiteStack] < 0)
        continue;
      Interval.Changes.push_back({uint32_t(EntrySample[Change.SiteStack]),
                                  Change.Thread < ThreadIndex.size()
                                      ? uint32_t(ThreadIndex[Change.Thread])
                                      : UINT32_MAX,
                                  Change.Allocations, Change.Bytes,
                                  Change.LiveAllocations, Change.LiveBytes});
    }
    Series.Intervals.push_back(std::move(Interval));
  }
  if (Report.WindowNs) {
    // Events outside the window were not streamed: the intervals outside it
    // would be empty.
    uint64_t From = Report.WindowNs->first, To = Report.WindowNs->second;
    llvm::erase_if(Series.Intervals, [&](const SeriesInterval &Interval) {
      return (From > 0 && Interval.EndNs <= From) ||
             (Interval.StartNs >= To && Interval.StartNs > From);
    });
  }
  return Series;
}

ProcessReport reportProcess(const ProcessData &P) {
  ProcessReport Report;
  Report.Pid = P.Pid;
  Report.Folder = P.Folder.Path;
  Report.StartRealtimeNs = P.StartRealtimeNs;
  if (P.Info) {
    Report.Ppid = P.Info->Fixed.ppid;
    Report.Executable = P.Info->Executable;
    Report.Sampling = samplingOf(*P.Info);
  }
  if (P.End) {
    Report.Exited = true;
    Report.ExitKind = P.End->exit_kind;
    Report.Status =
        P.End->exit_kind > 0 ? ProcessStatus::Crashed : ProcessStatus::Exited;
    if (P.End->exit_kind > 0)
      Report.Signal = P.End->exit_kind;
    Report.DurationNs = P.relative(P.End->monotonic_ns);
    Report.DroppedRecords = P.End->dropped_records;
    Report.UntrackedSamples = P.End->untracked_samples;
  } else {
    Report.DurationNs = P.LastEventNs;
    if (runningNow(P))
      Report.Status = ProcessStatus::Running;
  }
  Report.Snapshots = reportSnapshots(P);
  if (!P.LogLimits.empty()) {
    LogLimitReport Limit;
    for (const log::LogLimitRecord &Record : P.LogLimits) {
      Limit.MaxLogSize = Record.max_log_size;
      Limit.Steps.push_back({P.relative(Record.monotonic_ns), Record.level,
                             Record.log_bytes, Record.sample_interval_bytes,
                             Record.sample_rate,
                             (Record.flags & log::LogLimitLeftExact) != 0,
                             (Record.flags & log::LogLimitFull) != 0});
      // An exact run that had to sample is a sampled run: its figures are
      // estimates from here on (and their intervals say so).
      if ((Record.flags & log::LogLimitLeftExact) &&
          Report.Sampling.Mode == "exact") {
        Report.Sampling.Mode = "bytes";
        Report.Sampling.IntervalBytes = Record.sample_interval_bytes;
      }
    }
    Report.LogLimit = std::move(Limit);
  }
  if (P.Windowed)
    Report.WindowNs = {P.relative(P.WindowFromNs),
                       P.WindowToNs == UINT64_MAX ? Report.DurationNs
                                                  : P.relative(P.WindowToNs)};
  Report.ThreadCount = P.Threads.size();
  Report.Stats = P.Stats;
  Report.TotalsExact = P.TotalsExact;
  setPeak(P, Report);
  setHeapAtExit(P, Report);
  Report.UnmatchedFrees = P.UnmatchedFrees;
  Report.Resources = resourceReport(P.ResourceSamples, P.StartMonotonicNs);
  Report.LiveTimeline = P.LiveTimeline;
  Report.LiveBucketNs = P.LiveBucketNs;
  return Report;
}

} // namespace

/// When a process's logs reached max_log_size: no sample after that, so the
/// sites' estimates (and their intervals) cover the run up to it only, and
/// they add up to a share of the counted total that the note states.
static std::string capNote(const Analysis &Result) {
  std::string Stopped;
  for (const ProcessReport &P : Result.Processes) {
    if (!P.LogLimit)
      continue;
    auto Full = llvm::find_if(
        P.LogLimit->Steps, [](const LogLimitStep &Step) { return Step.Full; });
    if (Full == P.LogLimit->Steps.end())
      continue;
    Stopped += fmt::format(
        "{}{:.3f} s{}", Stopped.empty() ? "" : ", ", double(Full->TimeNs) / 1e9,
        Result.Processes.size() > 1 ? fmt::format(" (pid {})", P.Pid)
                                    : std::string());
  }
  if (Stopped.empty())
    return "";
  std::string Share;
  const Summary &Totals = Result.Totals;
  if (Totals.TotalsExact && Totals.Stats.Bytes > 0) {
    double SiteBytes = 0;
    for (const SiteReport &Site : Result.Sites)
      SiteBytes += Site.Stats.Bytes;
    Share =
        fmt::format(" The sites' bytes add up to {:.1f}% of the {:.0f} "
                    "bytes counted.",
                    100 * SiteBytes / Totals.Stats.Bytes, Totals.Stats.Bytes);
  }
  return fmt::format("Sampling stopped at {}, when the logs reached "
                     "max_log_size: per-site figures and their intervals "
                     "cover the run up to then, not after.{} A larger "
                     "max_log_size or sample_interval covers the whole run.",
                     Stopped, Share);
}

/// One line when the run is too small for its largest site's bytes to be
/// known within ±10% (95%), naming the setting that would be.
static std::string sampledPrecisionNote(const Analysis &Result) {
  const Summary &Totals = Result.Totals;
  if (Totals.Exact || Result.Sites.empty())
    return "";
  const SiteReport *Largest = &Result.Sites.front();
  for (const SiteReport &Site : Result.Sites)
    if (Site.Stats.Bytes > Largest->Stats.Bytes)
      Largest = &Site;
  double Bytes = Largest->Stats.Bytes;
  Interval Range = Largest->Stats.bytesInterval();
  if (!(Bytes > 0))
    return "";
  double Relative = std::max(Bytes - Range.Low, Range.High - Bytes) / Bytes;
  if (Relative <= 0.10)
    return "";
  std::string Fix = "exact=1";
  if (Totals.Sampling.Mode == "bytes" && Totals.Sampling.IntervalBytes) {
    // The relative error of a sum of small blocks grows as sqrt(interval).
    double Wanted = double(Totals.Sampling.IntervalBytes) * (0.10 / Relative) *
                    (0.10 / Relative);
    uint64_t Interval = 1;
    while (double(Interval * 2) <= Wanted)
      Interval *= 2;
    if (Interval >= 4096)
      Fix = fmt::format("sample_interval={} (or exact=1)", Interval);
  }
  return fmt::format("Per-site figures are estimates from {} samples: the "
                     "largest site's bytes are known to \u00b1{:.0f}% (95% "
                     "interval). For \u00b110%, run with "
                     "MEMSCOPE_OPTIONS={}.",
                     Totals.Stats.Samples, Relative * 100, Fix);
}

/// The summary's note: what a full log left out (capNote), else how well
/// the largest site is known (sampledPrecisionNote), whose advice (a smaller
/// interval) would only fill a capped log sooner.
static std::string precisionNote(const Analysis &Result) {
  std::string Cap = capNote(Result);
  return Cap.empty() ? sampledPrecisionNote(Result) : Cap;
}

llvm::Expected<Analysis>
memscope::merge::analyze(const AnalysisOptions &Options, Diagnostics &Diags) {
  llvm::Expected<std::vector<ProcessFolder>> Folders =
      discoverInput(Options.InputDir);
  if (!Folders)
    return Folders.takeError();

  std::vector<ProcessData> Processes;
  for (ProcessFolder &Folder : *Folders) {
    // Skip other pids by folder name before reading anything.
    if (Options.Pid) {
      std::optional<uint32_t> Pid = folderPid(Folder.Path);
      if (Pid && *Pid != *Options.Pid)
        continue;
    }
    Processes.emplace_back();
    Processes.back().Folder = std::move(Folder);
  }

  uint64_t TotalBytes = 0;
  struct FileToRead {
    size_t Process;
    int64_t Thread; // -1 = process.log
  };
  std::vector<FileToRead> FilesToRead;
  for (size_t I = 0; I < Processes.size(); ++I) {
    ProcessData &P = Processes[I];
    TotalBytes += P.Folder.TotalBytes;
    if (!P.Folder.ProcessLog.empty())
      FilesToRead.push_back({I, -1});
    P.ThreadLogs.resize(P.Folder.ThreadLogs.size());
    for (size_t T = 0; T < P.Folder.ThreadLogs.size(); ++T)
      FilesToRead.push_back({I, int64_t(T)});
  }
  Progress Ticker(Options.Progress, Options.ProgressDelay);
  Ticker.setWork(TotalBytes, Processes.size());

  // Stage 1: validate every file in parallel.
  std::vector<LogFile> ProcessLogs(Processes.size());
  tbb::parallel_for(size_t(0), FilesToRead.size(), [&](size_t I) {
    const FileToRead &File = FilesToRead[I];
    ProcessData &P = Processes[File.Process];
    LogFile &Out =
        File.Thread < 0 ? ProcessLogs[File.Process] : P.ThreadLogs[File.Thread];
    Out = scanLogFile(File.Thread < 0 ? P.Folder.ProcessLog
                                      : P.Folder.ThreadLogs[File.Thread]);
    if (Out.Buffer)
      Ticker.addBytes(Out.Buffer->getBufferSize());
  });
  for (size_t I = 0; I < Processes.size(); ++I) {
    ProcessData &P = Processes[I];
    if (!P.Folder.ProcessLog.empty()) {
      Diags.append(ProcessLogs[I].Diags);
      P.ProcessLog = std::move(ProcessLogs[I]);
    }
    for (const LogFile &File : P.ThreadLogs)
      Diags.append(File.Diags);
  }

  // Identify each process; drop those that are unusable or filtered out.
  llvm::erase_if(Processes, [&](ProcessData &P) {
    if (!P.usable())
      return true;
    const LogFile *First =
        P.ProcessLog && P.ProcessLog->Usable ? &*P.ProcessLog : nullptr;
    for (const LogFile &File : P.ThreadLogs)
      if (!First && File.Usable)
        First = &File;
    P.Pid = First->Header.pid;
    P.StartMonotonicNs = First->Header.start_monotonic_ns;
    P.StartRealtimeNs = First->Header.start_realtime_ns;
    return Options.Pid && P.Pid != *Options.Pid;
  });
  if (Processes.empty()) {
    if (Options.Pid)
      return fatal(fmt::format("no usable logs of pid {} in {}", *Options.Pid,
                               Options.InputDir));
    return fatal(
        fmt::format("no usable memscope logs in {}", Options.InputDir));
  }

  // Stage 2: decode and stream each process.
  tbb::parallel_for(size_t(0), Processes.size(), [&](size_t I) {
    ProcessData &P = Processes[I];
    decodeProcessLog(P);
    if (P.Info) {
      P.Pid = P.Info->Fixed.pid;
      P.StartMonotonicNs = P.Info->Fixed.start_monotonic_ns;
      P.StartRealtimeNs = P.Info->Fixed.start_realtime_ns;
    }
    resolveWindow(P, Options.From, Options.To);
    P.WantSeries = Options.Series;
    // A core the processes' streams leave idle decodes ahead.
    P.DecodeAhead = Options.DecodeAhead.value_or(
        Processes.size() < size_t(tbb::this_task_arena::max_concurrency()));
    P.BatchEvents = Options.BatchEvents;
    P.BytesStreamed = Ticker.bytesCounter();
    if (P.WindowError.empty())
      streamThreadLogs(P);
    // What streaming did not read (process.log, file headers, the unwritten
    // tails of the files): done too.
    Ticker.addBytes(P.Folder.TotalBytes > P.StreamedBytes
                        ? P.Folder.TotalBytes - P.StreamedBytes
                        : 0);
    Ticker.processDone();
  });
  // A window another process does not have (a forked child without that
  // snapshot): that process is left out, unless every one is.
  if (llvm::all_of(Processes,
                   [](const ProcessData &P) { return !P.WindowError.empty(); }))
    return fatal(Processes.front().WindowError);
  for (const ProcessData &P : Processes)
    if (!P.WindowError.empty())
      Diags.warning(P.WindowError + "; left out of the report");
  llvm::erase_if(Processes,
                 [](const ProcessData &P) { return !P.WindowError.empty(); });
  // Folders are distinct, so this order is total.
  llvm::sort(Processes, [](const ProcessData &A, const ProcessData &B) {
    return std::tie(A.StartRealtimeNs, A.Pid, A.Folder.Path) <
           std::tie(B.StartRealtimeNs, B.Pid, B.Folder.Path);
  });

  // Stage 3: attribute and merge, with one spelling per source file.
  Analysis Result;
  Result.Input = Options.InputDir;
  SourcePaths Paths = sourcePathsOf(Processes, Options.SourceRoot);
  Result.Totals.SourceRoot = Paths.root();
  Symbolizer Symbols(Options.Symbolize, Diags, Options.SymbolCacheDir);
  Symbols.setSourcePaths(Paths);
  IndirectAttributor Attributor(Symbols, Options.SystemPrefixes);
  SiteMerger Merger(Attributor, Result);
  TypeMerger Types(Result);
  ThreadMerger Threads(Attributor, Result);
  ProfileBuilder Stacks(Symbols, Result.Stacks);
  Summary &Totals = Result.Totals;
  if (Options.From || Options.To)
    Totals.Window = {Options.From ? Options.From->Text : "",
                     Options.To ? Options.To->Text : ""};
  Totals.Exact = true;
  Totals.TotalsExact = !Processes.empty();
  bool HaveSampling = false, MixedSampling = false;
  bool HeapAtExitEverywhere = true;
  uint64_t EarliestStart = UINT64_MAX, LatestEnd = 0;
  for (size_t I = 0; I < Processes.size(); ++I) {
    ProcessData &P = Processes[I];
    classifyLifetime(P, Symbols, Options.Lifetime);
    setUnseenBytes(P);
    ProcessReport Report = reportProcess(P);
    std::vector<SiteStackTarget> Targets = Merger.addProcess(P, I);
    std::vector<size_t> ThreadIndex = Threads.addProcess(P, I, Targets);
    Types.addProcess(P, Targets, P.exactThroughout());
    // The profile sample of each site-stack entry (-1: not in the profile).
    std::vector<int64_t> EntrySample(P.SiteStacks.size(), -1);
    for (size_t S = 0; S < P.SiteStacks.size(); ++S) {
      const SiteStack &Entry = P.SiteStacks[S];
      // The profile counts the program's allocations, as the totals do: a
      // pool's chunks would count its custom objects twice.
      if (!Entry.counted())
        continue;
      const SiteInfo *Site = nullptr;
      if (!Entry.Indirect) {
        auto Found = P.Sites.find(Entry.Key);
        if (Found != P.Sites.end())
          Site = &Found->second;
      }
      llvm::ArrayRef<uint64_t> Stack;
      uint64_t StackId = Entry.Indirect ? Entry.Key : Entry.StackId;
      auto Frames = StackId ? P.Stacks.find(StackId) : P.Stacks.end();
      if (Frames != P.Stacks.end())
        Stack = Frames->second;
      EntrySample[S] = Stacks.addSiteStack(
          P.Pid, P.Modules, Site, Stack, Targets[S].SiteId, Targets[S].Location,
          Entry, P.SiteStackPeakBytes[S], ThreadIndex);
    }
    if (Options.Series)
      Result.Series.push_back(seriesOf(P, Report, EntrySample, ThreadIndex));
    Diags.append(P.Diags);

    Totals.Stats.add(Report.Stats);
    Totals.TotalsExact = Totals.TotalsExact && Report.TotalsExact;
    Totals.ThreadCount += Report.ThreadCount;
    Totals.DroppedRecords += Report.DroppedRecords;
    Totals.UntrackedSamples += Report.UntrackedSamples;
    Totals.DetailReduced = Totals.DetailReduced || Report.LogLimit;
    if (I == 0 || Report.PeakLiveBytes > Totals.PeakLiveBytes) {
      Totals.PeakLiveBytes = Report.PeakLiveBytes;
      Totals.PeakLiveBytesInterval = Report.PeakLiveBytesInterval;
      Totals.PeakLiveBytesMethod = Report.PeakLiveBytesMethod;
      Totals.PeakLiveTimeNs = Report.PeakLiveTimeNs;
    }
    // The processes' heaps at exit add up, when every one was counted.
    if (!Report.HeapAtExit) {
      HeapAtExitEverywhere = false;
      Totals.HeapAtExit.reset();
      Totals.HeapBlocksAtExit = 0;
      Totals.LiveAtExitCap = HUGE_VAL;
    } else if (HeapAtExitEverywhere) {
      CountedBytes Sum = Totals.HeapAtExit.value_or(CountedBytes{});
      Sum.Value += Report.HeapAtExit->Value;
      Sum.Range.Low += Report.HeapAtExit->Range.Low;
      Sum.Range.High += Report.HeapAtExit->Range.High;
      Sum.Ceiling =
          (Totals.HeapAtExit ? Sum.Ceiling : 0) + Report.HeapAtExit->Ceiling;
      Totals.LiveAtExitCap =
          (Totals.HeapAtExit ? Totals.LiveAtExitCap : 0) + Report.LiveAtExitCap;
      Totals.HeapAtExit = Sum;
      Totals.HeapBlocksAtExit += Report.HeapBlocksAtExit;
    }
    EarliestStart = std::min(EarliestStart, Report.StartRealtimeNs);
    LatestEnd = std::max(LatestEnd, Report.StartRealtimeNs + Report.DurationNs);
    if (!P.Info) {
      Totals.Exact = false;
    } else if (!HaveSampling) {
      Totals.Sampling = Report.Sampling;
      HaveSampling = true;
    } else if (!sameSampling(Totals.Sampling, Report.Sampling)) {
      MixedSampling = true;
    }
    if (Report.Sampling.Mode != "exact")
      Totals.Exact = false;
    Result.Processes.push_back(std::move(Report));
  }
  Totals.Stats.Counted = Totals.TotalsExact;
  Merger.finish();
  Types.finish();
  Threads.finish();
  // Before the warnings are listed: a cache that cannot be written says so.
  Symbols.saveCache();
  if (MixedSampling)
    Diags.warning("the processes were sampled with different settings; the "
                  "summary shows the first process's");
  Totals.ProcessCount = Result.Processes.size();
  Totals.DurationNs = LatestEnd > EarliestStart ? LatestEnd - EarliestStart : 0;
  if (Result.Processes.size() == 1)
    Result.Resources = Result.Processes.front().Resources;
  Result.Bottlenecks = findBottlenecks(Result);
  Totals.PrecisionNote = precisionNote(Result);
  for (const Diagnostic &D : Diags.all())
    Totals.Warnings.push_back((D.Level == Severity::Error ? "error: " : "") +
                              D.Message);
  return Result;
}
