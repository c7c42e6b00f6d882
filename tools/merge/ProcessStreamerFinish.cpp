//===-- ProcessStreamerFinish.cpp - The end of a process's stream ---------===//
//
// What ProcessStreamer (ProcessStreamer.h) does once every event is read:
// threads' spans and names, their counted totals, the blocks live at exit,
// and the warnings the stream collected.
//
//===----------------------------------------------------------------------===//

#include "Estimates.h"
#include "ProcessStreamer.h"

#include "llvm/ADT/STLExtras.h"

using namespace memscope;
using namespace memscope::merge;

/// Renames name a thread by id (itself) or by pthread_t (another thread).
/// A pthread_t is reused once its thread has ended, so it names the thread
/// whose span holds the rename's time; if several do (a lost ThreadEnd), the
/// latest started. A rename just after pthread_create may precede the new
/// thread's ThreadStart: with no span holding the time, the first thread
/// that starts later with that handle is meant.
void ProcessStreamer::applyRenames() {
  if (P.Renames.empty())
    return;
  struct HandleSpan {
    uint64_t Start;
    std::optional<uint64_t> End;
    uint32_t Thread;
  };
  std::unordered_map<uint64_t, std::vector<HandleSpan>> ByHandle;
  for (uint32_t I = 0; I < P.Threads.size(); ++I)
    if (P.Threads[I].PthreadHandle)
      for (const Span &S : P.ThreadStates[I].Spans)
        ByHandle[P.Threads[I].PthreadHandle].push_back({S.Start, S.End, I});
  for (auto &[Handle, Spans] : ByHandle)
    llvm::sort(Spans, [](const HandleSpan &A, const HandleSpan &B) {
      return std::tie(A.Start, A.Thread) < std::tie(B.Start, B.Thread);
    });

  uint64_t Unresolved = 0;
  for (const ThreadNameInfo &Rename : P.Renames) {
    uint64_t Time = P.relative(Rename.MonotonicNs);
    std::optional<uint32_t> Target;
    if (Rename.ThreadId) {
      auto It = ThreadById.find(Rename.ThreadId);
      if (It != ThreadById.end())
        Target = It->second;
    } else {
      auto It = ByHandle.find(Rename.PthreadHandle);
      if (It != ByHandle.end()) {
        const std::vector<HandleSpan> &Spans = It->second;
        auto After =
            llvm::upper_bound(Spans, Time, [](uint64_t T, const HandleSpan &S) {
              return T < S.Start;
            });
        for (auto I = After; I != Spans.begin() && !Target;) {
          --I;
          if (!I->End || *I->End >= Time)
            Target = I->Thread;
        }
        if (!Target && After != Spans.end())
          Target = After->Thread;
      }
    }
    if (!Target) {
      ++Unresolved;
      continue;
    }
    ThreadState &TS = P.ThreadStates[*Target];
    if (!TS.Renamed || Time >= TS.RenamedNs) {
      TS.Renamed = true;
      TS.RenamedNs = Time;
      P.Threads[*Target].Name = Rename.Name;
    }
  }
  P.warnCount(Unresolved, "ThreadName records name no known thread; ignored");
}

void ProcessStreamer::finishThreads() {
  uint64_t ProcessEndNs = P.endNs();
  for (size_t I = 0; I < P.Threads.size(); ++I) {
    ThreadReport &Thread = P.Threads[I];
    std::vector<Span> &Spans = P.ThreadStates[I].Spans;
    llvm::sort(Spans, [](const Span &A, const Span &B) {
      return std::tie(A.Start, A.End) < std::tie(B.Start, B.End);
    });
    Thread.SpanCount = Spans.size();
    if (!Spans.empty()) {
      Thread.StartNs = Spans.front().Start;
      Thread.EndNs = Spans.back().End;
    }
    Thread.RunningAtExit = !Thread.EndNs.has_value();
  }
  uint64_t UnknownRunning = 0;
  for (const auto &[ThreadId, Running] : P.Running) {
    auto It = ThreadById.find(ThreadId);
    if (It == ThreadById.end()) {
      ++UnknownRunning;
      continue;
    }
    ThreadReport &Thread = P.Threads[It->second];
    Thread.RunningAtExit = true;
    Thread.CpuUserNs = std::max(Thread.CpuUserNs, Running.cpu_user_ns);
    Thread.CpuSystemNs = std::max(Thread.CpuSystemNs, Running.cpu_system_ns);
    ThreadState &Streamed = P.ThreadStates[It->second];
    if (Running.monotonic_ns >= Streamed.TotalsNs) {
      auto Totals = P.RunningTotals.find(ThreadId);
      if (Totals != P.RunningTotals.end())
        Streamed.Totals = Totals->second;
      else
        Streamed.Totals.reset();
      Streamed.TotalsNs = Running.monotonic_ns;
    }
    if (!Thread.Tid)
      Thread.Tid = Running.os_tid;
  }
  for (ThreadReport &Thread : P.Threads) {
    uint64_t EndNs = Thread.RunningAtExit || !Thread.EndNs
                         ? std::max(ProcessEndNs, Thread.EndNs.value_or(0))
                         : *Thread.EndNs;
    Thread.LifetimeNs = EndNs > Thread.StartNs ? EndNs - Thread.StartNs : 0;
  }
  applyRenames();
  for (ThreadReport &Thread : P.Threads)
    Thread.ToolThread = isToolThreadName(Thread.Name);
  applyExactTotals();
  P.warnCount(UnknownRunning, "ThreadRunning records name threads that have no "
                              "ThreadStart record; ignored");
  P.warnCount(StrayThreadEnds, "ThreadEnd records name threads that have no "
                               "ThreadStart record; ignored");
}

/// The runtime's counts (log format 2.1 on) replace the sampled estimates:
/// each thread's that has them, and the process's when every thread has
/// them and ProcessEnd adds the threads that ended without a log.
void ProcessStreamer::applyExactTotals() {
  // The runtime's counts cover the whole run, not a window of it.
  if (P.Windowed)
    return;
  bool AllExact = P.UnloggedTotals.has_value() && !P.Threads.empty();
  double Allocations = AllExact ? double(P.UnloggedTotals->allocations) : 0;
  double Bytes = AllExact ? double(P.UnloggedTotals->bytes) : 0;
  for (size_t I = 0; I < P.Threads.size(); ++I) {
    ThreadReport &Thread = P.Threads[I];
    if (const std::optional<log::ThreadTotals> &Totals =
            P.ThreadStates[I].Totals) {
      Thread.Allocations = double(Totals->allocations);
      Thread.Bytes = double(Totals->bytes);
      Thread.TotalsExact = true;
    } else {
      AllExact = false;
    }
    Allocations += Thread.Allocations;
    Bytes += Thread.Bytes;
  }
  if (!AllExact)
    return;
  P.Stats.Allocations = Allocations;
  P.Stats.Bytes = Bytes;
  P.Stats.AllocationsVariance = P.Stats.BytesVariance = 0;
  P.Stats.Counted = true;
  P.TotalsExact = true;
}

void ProcessStreamer::countLiveAtExit(const LiveSample &Sample) {
  double Bytes = Sample.Weight * double(Sample.Size);
  double BytesVariance = sampleVariance(Sample.Weight, double(Sample.Size));
  double CountVariance = sampleVariance(Sample.Weight, 1);
  AllocationStats &Stats = P.SiteStacks[Sample.SiteStack].Stats;
  Stats.LiveAllocations += Sample.Weight;
  Stats.LiveBytes += Bytes;
  double Size = double(Sample.Size);
  Stats.LiveAllocationsVariance += CountVariance;
  Stats.LiveBytesVariance += BytesVariance;
  Stats.LiveSampledBytes += Size;
  ++Stats.LiveSamples;
  SiteStackThreadStats &PerThread =
      P.SiteStacks[Sample.SiteStack].PerThread[Sample.Thread];
  PerThread.LiveAllocations += Sample.Weight;
  PerThread.LiveBytes += Bytes;
  PerThread.LiveBytesVariance += BytesVariance;
  PerThread.LiveSampledBytes += Size;
  if (!P.SiteStacks[Sample.SiteStack].counted())
    return; // a pool's chunk: the program's leaks are its objects
  if (!P.SiteStacks[Sample.SiteStack].inHeap())
    P.CustomLiveAtExit = true;
  P.Stats.LiveAllocations += Sample.Weight;
  P.Stats.LiveBytes += Bytes;
  P.Stats.LiveAllocationsVariance += CountVariance;
  P.Stats.LiveBytesVariance += BytesVariance;
  P.Stats.LiveSampledBytes += Size;
  ++P.Stats.LiveSamples;
  ThreadReport &Thread = P.Threads[Sample.Thread];
  Thread.LiveAllocationsAtExit += Sample.Weight;
  Thread.LiveBytesAtExit += Bytes;
  Thread.LiveBytesAtExitVariance += BytesVariance;
  Thread.LiveBytesAtExitObserved += Size;
}

void ProcessStreamer::finish() {
  if (PeakPending)
    snapshotPeak();
  P.ExitOverhead = LiveOverhead;
  for (const ThreadEndInfo &End : P.ThreadsEnded)
    onThreadEnd(-1, -1, End.Fixed, End.Totals);
  for (const auto &[Id, Sample] : Live)
    countLiveAtExit(Sample);
  // retireLostAtEnd left at most one block at each address (none where the
  // entry is vacant).
  for (const auto &[Address, Block] : ByAddress)
    if (!Block.BeforeWindow && !Block.Vacant)
      countLiveAtExit(Block.Sample);
  for (const FileState &State : Files) {
    if (State.Malformed)
      P.warn(fmt::format("{}: ignored {} malformed records", State.File->Path,
                         State.Malformed));
    if (State.Misplaced)
      P.warn(fmt::format("{}: ignored {} process records in a thread log",
                         State.File->Path, State.Misplaced));
  }
  P.UnmatchedFrees = PendingFrees.size();
  if (P.UnmatchedFrees)
    P.warn(fmt::format("pid {}: {} Free records name samples that have no "
                       "Alloc record; ignored",
                       P.Pid, P.UnmatchedFrees));
  if (DuplicateSamples)
    P.warn(fmt::format("pid {}: {} Alloc records reuse a live sample id", P.Pid,
                       DuplicateSamples));
  P.warnCount(BadWeights, "Alloc records have an invalid weight; counted as 1");
  P.warnCount(LostFrees,
              "blocks' frees are not in the logs; another block was "
              "allocated at their address, so they count as freed then");
  P.warnCount(UnholdableIds,
              "Alloc and Free records name a sample id or address of 2^64-1 "
              "or 2^64-2, which no runtime gives out; their blocks are "
              "counted but never live");
  finishThreads();
}
