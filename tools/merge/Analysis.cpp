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
//===----------------------------------------------------------------------===//

#include "Analysis.h"
#include "Bottlenecks.h"
#include "Compat.h"
#include "Estimates.h"
#include "Input.h"
#include "Profile.h"
#include "Symbolization.h"

#include "memscope/abi.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Demangle/Demangle.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "fmt/format.h"
#include "tbb/parallel_for.h"

#include <cmath>
#include <cstring>
#include <map>
#include <numeric>
#include <queue>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

using namespace memscope;
using namespace memscope::merge;

std::vector<std::string> memscope::merge::defaultSystemPrefixes() {
  return {"/usr/include/", "/usr/lib/", "/usr/local/include/", "/lib/",
          "/usr/*/c++/"};
}

const char *memscope::merge::siteKindName(uint32_t Kind) {
  switch (static_cast<msc_site_kind>(Kind)) {
  case MSC_KIND_UNKNOWN:
    return "unknown";
  case MSC_KIND_MALLOC:
    return "malloc";
  case MSC_KIND_CALLOC:
    return "calloc";
  case MSC_KIND_REALLOC:
    return "realloc";
  case MSC_KIND_REALLOCARRAY:
    return "reallocarray";
  case MSC_KIND_ALIGNED_ALLOC:
    return "aligned_alloc";
  case MSC_KIND_MEMALIGN:
    return "memalign";
  case MSC_KIND_POSIX_MEMALIGN:
    return "posix_memalign";
  case MSC_KIND_VALLOC:
    return "valloc";
  case MSC_KIND_STRDUP:
    return "strdup";
  case MSC_KIND_STRNDUP:
    return "strndup";
  case MSC_KIND_NEW:
    return "new";
  case MSC_KIND_NEW_ARRAY:
    return "new[]";
  case MSC_KIND_FREE:
    return "free";
  case MSC_KIND_DELETE:
    return "delete";
  case MSC_KIND_DELETE_ARRAY:
    return "delete[]";
  case MSC_KIND_THREAD_SPAWN:
    return "thread_spawn";
  case MSC_KIND_INDIRECT:
    return "indirect";
  }
  return "unknown";
}

void AllocationStats::add(const AllocationStats &Other) {
  Allocations += Other.Allocations;
  Bytes += Other.Bytes;
  Frees += Other.Frees;
  FreedBytes += Other.FreedBytes;
  LiveAllocations += Other.LiveAllocations;
  LiveBytes += Other.LiveBytes;
  LifetimeAllocations += Other.LifetimeAllocations;
  LifetimeBytes += Other.LifetimeBytes;
  Samples += Other.Samples;
  LifetimeNs += Other.LifetimeNs;
  FreedSamples += Other.FreedSamples;
  AllocationsVariance += Other.AllocationsVariance;
  BytesVariance += Other.BytesVariance;
  LiveAllocationsVariance += Other.LiveAllocationsVariance;
  LiveBytesVariance += Other.LiveBytesVariance;
  SampledBytes += Other.SampledBytes;
  LiveSampledBytes += Other.LiveSampledBytes;
  LiveSamples += Other.LiveSamples;
}

Interval AllocationStats::bytesInterval() const {
  return interval95(Bytes, BytesVariance, SampledBytes);
}

Interval AllocationStats::allocationsInterval() const {
  return interval95(Allocations, AllocationsVariance, double(Samples));
}

Interval AllocationStats::liveBytesInterval() const {
  return interval95(LiveBytes, LiveBytesVariance, LiveSampledBytes);
}

std::optional<double> AllocationStats::averageLifetimeNs() const {
  if (!FreedSamples || !(Frees > 0))
    return std::nullopt;
  return LifetimeNs / Frees;
}

const char *memscope::merge::processStatusName(ProcessStatus Status) {
  switch (Status) {
  case ProcessStatus::Exited:
    return "exited";
  case ProcessStatus::Crashed:
    return "crashed";
  case ProcessStatus::KilledOrRunning:
    return "killed-or-running";
  }
  return "killed-or-running";
}

std::string memscope::merge::signalName(int Signal) {
  if (const char *Abbrev = Signal > 0 ? sigabbrev_np(Signal) : nullptr)
    return std::string("SIG") + Abbrev;
  return fmt::format("signal {}", Signal);
}

bool memscope::merge::isToolThreadName(llvm::StringRef Name) {
  return Name == "memscope-rsrc";
}

std::optional<ResourceReport>
memscope::merge::resourceReport(std::vector<log::ResourceSampleRecord> Records,
                                uint64_t StartMonotonicNs) {
  if (Records.empty())
    return std::nullopt;
  llvm::sort(Records, [](const log::ResourceSampleRecord &A,
                         const log::ResourceSampleRecord &B) {
    return std::tie(A.monotonic_ns, A.cpu_user_ns, A.cpu_system_ns) <
           std::tie(B.monotonic_ns, B.cpu_user_ns, B.cpu_system_ns);
  });
  auto Cpu = [](const log::ResourceSampleRecord &R) {
    return R.cpu_user_ns + R.cpu_system_ns;
  };
  // Counters are cumulative, so differences are never negative; clamp in
  // case a damaged record says otherwise.
  auto Delta = [](uint64_t Later, uint64_t Earlier) {
    return Later > Earlier ? Later - Earlier : 0;
  };
  ResourceReport Report;
  for (size_t I = 0; I < Records.size(); ++I) {
    const log::ResourceSampleRecord &R = Records[I];
    ResourceSample Sample;
    Sample.TimeNs = Delta(R.monotonic_ns, StartMonotonicNs);
    if (I > 0) {
      const log::ResourceSampleRecord &Previous = Records[I - 1];
      uint64_t Wall = Delta(R.monotonic_ns, Previous.monotonic_ns);
      if (Wall > 0)
        Sample.CpuPercent =
            double(Delta(Cpu(R), Cpu(Previous))) * 100.0 / double(Wall);
    }
    Sample.RssBytes = R.rss_bytes;
    Sample.ReadBytes = R.read_bytes;
    Sample.WriteBytes = R.write_bytes;
    Sample.ReadCalls = R.read_calls;
    Sample.WriteCalls = R.write_calls;
    Sample.Threads = R.threads;
    if (Sample.CpuPercent &&
        (!Report.PeakCpuPercent || *Sample.CpuPercent > *Report.PeakCpuPercent))
      Report.PeakCpuPercent = Sample.CpuPercent;
    Report.PeakRssBytes = std::max(Report.PeakRssBytes, R.rss_bytes);
    Report.Samples.push_back(Sample);
  }
  const log::ResourceSampleRecord &First = Records.front();
  const log::ResourceSampleRecord &Last = Records.back();
  if (uint64_t Wall = Delta(Last.monotonic_ns, First.monotonic_ns))
    Report.AverageCpuPercent =
        double(Delta(Cpu(Last), Cpu(First))) * 100.0 / double(Wall);
  Report.IoOperations = Delta(Last.read_calls + Last.write_calls,
                              First.read_calls + First.write_calls);
  Report.BytesRead = Delta(Last.read_bytes, First.read_bytes);
  Report.BytesWritten = Delta(Last.write_bytes, First.write_bytes);
  return Report;
}

namespace {

/// One thread's share of a slot.
struct SlotThreadStats {
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
/// a stack (__memscope_alloc_sampled_stack) have a slot per (site, stack):
/// the merge may attribute each stack to another line of user code.
struct Slot {
  bool Indirect = false;
  uint64_t Key = 0;     // site id or stack id
  uint64_t StackId = 0; // instrumented sites: the samples' stack, 0 = none
  uint32_t Kind = 0;
  AllocationStats Stats;
  /// By index into ProcessData::Threads.
  llvm::DenseMap<uint32_t, SlotThreadStats> PerThread;
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
  /// ThreadRunning records by thread id, with their totals (2.1 on).
  std::unordered_map<uint64_t, log::ThreadRunningRecord> Running;
  std::unordered_map<uint64_t, log::ThreadTotals> RunningTotals;
  std::vector<log::ResourceSampleRecord> ResourceSamples;
  uint32_t Pid = 0;
  uint64_t StartMonotonicNs = 0;
  uint64_t StartRealtimeNs = 0;

  // From the thread logs.
  std::vector<Slot> Slots;
  std::vector<ThreadReport> Threads;
  std::vector<ThreadState> ThreadStates; // parallel to Threads
  std::vector<ThreadNameInfo> Renames;
  std::unordered_map<uint64_t, std::vector<uint64_t>> Stacks;
  /// Frees in another thread than the allocation's, by (allocating slot,
  /// freeing site) and by (allocating thread, freeing thread).
  std::map<std::pair<uint32_t, uint64_t>, CrossStat> CrossBySlot;
  std::map<std::pair<uint32_t, uint32_t>, CrossStat> CrossByThread;
  AllocationStats Stats;
  bool TotalsExact = false; // see applyExactTotals
  double PeakLiveBytes = 0;
  double PeakLiveBytesVariance = 0;
  double PeakLiveBytesObserved = 0;
  uint64_t PeakLiveTimeNs = 0;
  /// Parallel to Slots: estimated live bytes when the peak was reached.
  std::vector<double> SlotPeakBytes;
  std::vector<LivePoint> LiveTimeline;
  uint64_t LiveBucketNs = 1000;
  uint64_t LastEventNs = 0; // relative to the start
  uint64_t UnmatchedFrees = 0;

  std::vector<Diagnostic> Diags;

  void warn(std::string Message) {
    Diags.push_back({Severity::Warning, std::move(Message)});
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

void decodeProcessLog(ProcessData &P) {
  if (!P.ProcessLog || !P.ProcessLog->Usable) {
    P.warn(fmt::format("{}: no usable process.log; process information, "
                       "sites and modules are missing",
                       P.Folder.Path));
    return;
  }
  const LogFile &File = *P.ProcessLog;
  uint64_t Malformed = 0, Misplaced = 0;
  RecordCursor Cursor(File);
  RecordView Record;
  while (Cursor.next(Record)) {
    bool Ok = true;
    switch (Record.Type) {
    case log::RecordType::ProcessInfo: {
      ProcessInfo Info;
      if ((Ok = decodeProcessInfo(Record.Payload, Info)))
        P.Info = std::move(Info);
      break;
    }
    case log::RecordType::Module: {
      ModuleInfo Module;
      if ((Ok = decodeModule(Record.Payload, Module)))
        P.Modules.add(Module);
      break;
    }
    case log::RecordType::Site: {
      SiteInfo Site;
      if ((Ok = decodeSite(Record.Payload, Site)))
        P.Sites.try_emplace(Site.Id, std::move(Site)); // spelled in stage 3
      break;
    }
    case log::RecordType::ProcessEnd: {
      log::ProcessEndRecord End;
      std::optional<log::ThreadTotals> Unlogged;
      if ((Ok = decodeProcessEnd(Record.Payload, End, &Unlogged))) {
        P.End = End;
        P.UnloggedTotals = Unlogged;
      }
      break;
    }
    case log::RecordType::Warning: {
      std::string Message;
      decodeWarning(Record.Payload, Message);
      P.warn(fmt::format("{}: runtime warning: {}", File.Path, Message));
      break;
    }
    case log::RecordType::ThreadRunning: {
      log::ThreadRunningRecord Running;
      std::optional<log::ThreadTotals> Totals;
      if ((Ok = decodeThreadRunning(Record.Payload, Running, &Totals))) {
        auto [It, Inserted] = P.Running.try_emplace(Running.thread_id, Running);
        if (Inserted || Running.monotonic_ns >= It->second.monotonic_ns) {
          It->second = Running;
          if (Totals)
            P.RunningTotals[Running.thread_id] = *Totals;
          else
            P.RunningTotals.erase(Running.thread_id);
        }
      }
      break;
    }
    case log::RecordType::ResourceSample: {
      log::ResourceSampleRecord Sample;
      if ((Ok = decodeResourceSample(Record.Payload, Sample)))
        P.ResourceSamples.push_back(Sample);
      break;
    }
    case log::RecordType::Padding:
      break;
    default:
      ++Misplaced;
      break;
    }
    Malformed += !Ok;
  }
  if (Malformed)
    P.warn(
        fmt::format("{}: ignored {} malformed records", File.Path, Malformed));
  if (Misplaced)
    P.warn(fmt::format("{}: ignored {} thread records in a process log",
                       File.Path, Misplaced));
  if (!P.Info)
    P.warn(fmt::format("{}: no ProcessInfo record", File.Path));
  // A module that defines sites is instrumented, whatever its flags say.
  for (const auto &[Id, Site] : P.Sites)
    P.Modules.markHasSites(Site.ModuleTextAddr);
}

/// Streams the thread logs of one process in time order.
class ProcessStreamer {
public:
  explicit ProcessStreamer(ProcessData &P) : P(P) {}
  void run();

private:
  struct Event {
    uint64_t Time = 0;
    bool IsFree = false;
    log::AllocRecord Alloc{};
    log::FreeRecord Free{};
  };
  /// What an Events record's key index stands for (log::encodeKeyEvent).
  struct EventKey {
    uint64_t SiteId = 0;
    uint64_t StackId = 0;
    uint32_t Kind = 0;
    bool Defined = false;
  };
  struct FileState {
    const LogFile *File;
    RecordCursor Cursor;
    int64_t CurrentThread = -1;
    int64_t CurrentSpan = -1; // in ThreadStates[CurrentThread].Spans
    Event Head;
    uint64_t Malformed = 0;
    uint64_t Misplaced = 0;
    // The Events record being read, and the keys the file defined so far.
    std::optional<log::EventsDecoder> Events;
    std::vector<EventKey> Keys;
  };
  struct LiveSample {
    uint32_t Slot;
    uint32_t Thread;
    double Weight;
    uint64_t Size;
    uint64_t Time; // of the Alloc, monotonic
  };
  /// A Free seen before its Alloc (equal timestamps on two threads).
  struct PendingFree {
    uint32_t Thread;
    uint64_t Site;
    uint64_t Time;
  };

  /// Handles bookkeeping records up to the next Alloc/Free; false at EOF.
  bool advance(FileState &State);
  /// The next allocation or free of the open Events record, if any.
  bool nextEvent(FileState &State);
  uint32_t newThread();
  void onThreadStart(FileState &State, const ThreadStartInfo &Start);
  void applyExactTotals();
  void onThreadEnd(FileState &State, const log::ThreadEndRecord &End,
                   const std::optional<log::ThreadTotals> &Totals);
  uint32_t currentThread(FileState &State);
  uint32_t slotFor(const log::AllocRecord &Alloc);
  void onAlloc(FileState &State, const log::AllocRecord &Alloc);
  void onFree(FileState &State, const log::FreeRecord &Free);
  void release(const LiveSample &Sample, uint32_t FreeThread, uint64_t FreeSite,
               uint64_t FreeTime);
  void finish();
  void finishThreads();
  void applyRenames();
  /// Live bytes of slot Index change by Delta (after LiveBytes changed).
  void changeSlotLive(uint32_t Index, double Delta);
  /// Copies the live bytes of every slot changed since the last snapshot.
  void snapshotPeak();
  void notePoint(uint64_t MonotonicNs);

  struct SiteStackHash {
    size_t operator()(const std::pair<uint64_t, uint64_t> &Key) const {
      return std::hash<uint64_t>()(Key.first * 0x9E3779B97F4A7C15ull ^
                                   Key.second);
    }
  };

  ProcessData &P;
  std::vector<FileState> Files;
  /// By (site id, stack id).
  std::unordered_map<std::pair<uint64_t, uint64_t>, uint32_t, SiteStackHash>
      InstrumentedSlots;
  std::unordered_map<uint64_t, uint32_t> IndirectSlots;
  std::unordered_map<uint64_t, uint32_t> ThreadById;
  std::unordered_map<uint64_t, LiveSample> Live;
  std::unordered_map<uint64_t, PendingFree> PendingFrees;
  double LiveBytes = 0;
  double LiveVariance = 0; // of LiveBytes (Estimates.h)
  double LiveObserved = 0; // the live samples' own bytes
  /// Live bytes per slot now; the slots changed since the last peak
  /// snapshot, so that taking one costs what changed, not every slot.
  std::vector<double> SlotLive;
  std::vector<uint32_t> Dirty;
  std::vector<uint8_t> IsDirty;
  /// A new peak was reached and not yet copied to P.SlotPeakBytes.
  bool PeakPending = false;
  uint64_t DuplicateSamples = 0;
  uint64_t BadWeights = 0;
  uint64_t StrayThreadEnds = 0;
};

uint32_t ProcessStreamer::newThread() {
  ThreadReport Thread;
  Thread.Pid = P.Pid;
  P.Threads.push_back(std::move(Thread));
  P.ThreadStates.emplace_back();
  return P.Threads.size() - 1;
}

void ProcessStreamer::onThreadStart(FileState &State,
                                    const ThreadStartInfo &Start) {
  const log::ThreadStartRecord &Fixed = Start.Fixed;
  uint64_t StartNs = P.relative(Fixed.monotonic_ns);
  P.LastEventNs = std::max(P.LastEventNs, StartNs);
  // A thread that records again after its ThreadEnd (static destructors at
  // exit) starts another span of the same thread.
  auto Known =
      Fixed.thread_id ? ThreadById.find(Fixed.thread_id) : ThreadById.end();
  uint32_t Index;
  if (Known != ThreadById.end()) {
    Index = Known->second;
  } else {
    Index = newThread();
    P.Threads[Index].ThreadId = Fixed.thread_id;
    if (Fixed.thread_id)
      ThreadById[Fixed.thread_id] = Index;
  }
  ThreadReport &Thread = P.Threads[Index];
  ThreadState &TS = P.ThreadStates[Index];
  if (Fixed.os_tid)
    Thread.Tid = Fixed.os_tid;
  auto Fill = [](uint64_t &Field, uint64_t Value) {
    if (!Field)
      Field = Value;
  };
  Fill(Thread.ParentThreadId, Fixed.parent_thread_id);
  Fill(Thread.SpawnSite, Fixed.spawn_site);
  Fill(Thread.SpawnStackId, Fixed.spawn_stack_id);
  Fill(Thread.CreatorPc, Fixed.creator_pc);
  Fill(Thread.PthreadHandle, Fixed.pthread_handle);
  // Spans of one thread may be read out of time order (different files).
  if (StartNs < TS.InitialNameNs) {
    TS.InitialNameNs = StartNs;
    Thread.Name = Start.Name;
  }
  TS.Spans.push_back({StartNs, std::nullopt});
  State.CurrentThread = Index;
  State.CurrentSpan = TS.Spans.size() - 1;
}

void ProcessStreamer::onThreadEnd(
    FileState &State, const log::ThreadEndRecord &End,
    const std::optional<log::ThreadTotals> &Totals) {
  int64_t Index = -1, SpanIndex = -1;
  if (State.CurrentThread >= 0) {
    uint64_t Current = P.Threads[State.CurrentThread].ThreadId;
    if (End.thread_id == 0 || End.thread_id == Current ||
        (Current == 0 && !ThreadById.count(End.thread_id))) {
      Index = State.CurrentThread;
      SpanIndex = State.CurrentSpan;
    }
  }
  if (Index < 0) {
    auto It = ThreadById.find(End.thread_id);
    if (It == ThreadById.end()) {
      ++StrayThreadEnds;
      return;
    }
    Index = It->second;
    // The latest open span of that thread.
    const std::vector<Span> &Spans = P.ThreadStates[Index].Spans;
    for (size_t I = Spans.size(); I-- > 0 && SpanIndex < 0;)
      if (!Spans[I].End)
        SpanIndex = I;
  }
  uint64_t EndNs = P.relative(End.monotonic_ns);
  std::vector<Span> &Spans = P.ThreadStates[Index].Spans;
  if (SpanIndex >= 0 && size_t(SpanIndex) < Spans.size())
    Spans[SpanIndex].End = std::max(EndNs, Spans[SpanIndex].Start);
  // CPU times are cumulative per OS thread: the latest is the largest.
  ThreadReport &Thread = P.Threads[Index];
  Thread.CpuUserNs = std::max(Thread.CpuUserNs, End.cpu_user_ns);
  Thread.CpuSystemNs = std::max(Thread.CpuSystemNs, End.cpu_system_ns);
  P.LastEventNs = std::max(P.LastEventNs, EndNs);
  // Totals are cumulative over the thread's spans: the latest holds them.
  ThreadState &Streamed = P.ThreadStates[Index];
  if (End.monotonic_ns >= Streamed.TotalsNs) {
    Streamed.Totals = Totals;
    Streamed.TotalsNs = End.monotonic_ns;
  }
}

uint32_t ProcessStreamer::currentThread(FileState &State) {
  if (State.CurrentThread < 0) {
    // The ThreadStart record was lost; keep the samples anyway.
    P.warn(fmt::format("{}: records before the first ThreadStart are "
                       "attributed to an unknown thread",
                       State.File->Path));
    uint32_t Index = newThread();
    P.Threads[Index].Name = fmt::format(
        "<unknown thread in {}>", llvm::sys::path::filename(State.File->Path));
    P.ThreadStates[Index].Spans.push_back(
        {P.relative(State.Head.Time), std::nullopt});
    State.CurrentThread = Index;
    State.CurrentSpan = 0;
  }
  return State.CurrentThread;
}

bool ProcessStreamer::nextEvent(FileState &State) {
  log::DecodedEvent Event;
  while (State.Events) {
    switch (State.Events->next(Event)) {
    case log::EventsDecoder::Status::End:
      State.Events.reset();
      continue;
    case log::EventsDecoder::Status::Malformed:
      ++State.Malformed;
      State.Events.reset();
      continue;
    case log::EventsDecoder::Status::Event:
      break;
    }
    if (Event.type == log::kEventKey) {
      // The decoder keeps indices below log::kMaxEventKeys.
      if (State.Keys.size() <= Event.key)
        State.Keys.resize(Event.key + 1);
      State.Keys[Event.key] = {Event.site_id, Event.stack_id, Event.kind, true};
      continue;
    }
    if (Event.key >= State.Keys.size() || !State.Keys[Event.key].Defined) {
      ++State.Malformed; // its Key was in a damaged record
      continue;
    }
    const EventKey &Key = State.Keys[Event.key];
    State.Head.Time = Event.monotonic_ns;
    State.Head.IsFree = Event.type == log::kEventFree;
    if (State.Head.IsFree) {
      State.Head.Free = {Event.sample_id, Key.SiteId, Event.monotonic_ns};
    } else {
      log::AllocRecord &Alloc = State.Head.Alloc;
      Alloc.sample_id = Event.sample_id;
      Alloc.site_id = Key.SiteId;
      Alloc.address = 0; // not recorded since version 2
      Alloc.size = Event.size;
      Alloc.monotonic_ns = Event.monotonic_ns;
      Alloc.stack_id = Key.StackId;
      Alloc.weight = Event.weight;
      Alloc.kind = Key.Kind;
      Alloc.flags = Event.flags;
    }
    return true;
  }
  return false;
}

bool ProcessStreamer::advance(FileState &State) {
  if (nextEvent(State))
    return true;
  RecordView Record;
  while (State.Cursor.next(Record)) {
    bool Ok = true;
    switch (Record.Type) {
    case log::RecordType::ThreadStart: {
      ThreadStartInfo Start;
      if ((Ok = decodeThreadStart(Record.Payload, Start)))
        onThreadStart(State, Start);
      break;
    }
    case log::RecordType::ThreadName: {
      // Resolved once every thread's spans are known.
      ThreadNameInfo Name;
      if ((Ok = decodeThreadName(Record.Payload, Name)))
        P.Renames.push_back(std::move(Name));
      break;
    }
    case log::RecordType::ThreadEnd: {
      log::ThreadEndRecord End;
      std::optional<log::ThreadTotals> Totals;
      if ((Ok = decodeThreadEnd(Record.Payload, End, &Totals)))
        onThreadEnd(State, End, Totals);
      break;
    }
    case log::RecordType::Stack: {
      StackInfo Stack;
      if ((Ok = decodeStack(Record.Payload, Stack)))
        P.Stacks.try_emplace(Stack.Id, std::move(Stack.Frames));
      break;
    }
    case log::RecordType::Padding:
      break;
    case log::RecordType::Events:
      State.Events.emplace(Record.Payload.data(), Record.Payload.size());
      if (nextEvent(State))
        return true;
      break;
    case log::RecordType::Alloc:
      if ((Ok = decodeAlloc(Record.Payload, State.Head.Alloc))) {
        State.Head.IsFree = false;
        State.Head.Time = State.Head.Alloc.monotonic_ns;
        return true;
      }
      break;
    case log::RecordType::Free:
      if ((Ok = decodeFree(Record.Payload, State.Head.Free))) {
        State.Head.IsFree = true;
        State.Head.Time = State.Head.Free.monotonic_ns;
        return true;
      }
      break;
    default:
      ++State.Misplaced;
      break;
    }
    State.Malformed += !Ok;
  }
  return false;
}

uint32_t ProcessStreamer::slotFor(const log::AllocRecord &Alloc) {
  bool Indirect = Alloc.site_id == 0;
  bool Inserted;
  uint32_t Index;
  if (Indirect) {
    auto It = IndirectSlots.try_emplace(Alloc.stack_id, P.Slots.size());
    Inserted = It.second;
    Index = It.first->second;
  } else {
    auto It = InstrumentedSlots.try_emplace({Alloc.site_id, Alloc.stack_id},
                                            P.Slots.size());
    Inserted = It.second;
    Index = It.first->second;
  }
  if (Inserted) {
    Slot New;
    New.Indirect = Indirect;
    New.Key = Indirect ? Alloc.stack_id : Alloc.site_id;
    New.StackId = Indirect ? 0 : Alloc.stack_id;
    New.Kind = Indirect ? uint32_t(MSC_KIND_INDIRECT) : Alloc.kind;
    P.Slots.push_back(std::move(New));
    SlotLive.push_back(0);
    IsDirty.push_back(0);
    P.SlotPeakBytes.push_back(0);
  }
  return Index;
}

void ProcessStreamer::onAlloc(FileState &State, const log::AllocRecord &Alloc) {
  uint32_t ThreadIndex = currentThread(State);
  uint32_t SlotIndex = slotFor(Alloc);
  double Weight = Alloc.weight;
  if (!std::isfinite(Weight) || Weight <= 0) {
    ++BadWeights;
    Weight = 1;
  }
  double Bytes = Weight * double(Alloc.size);
  double BytesVariance = sampleVariance(Weight, double(Alloc.size));
  double CountVariance = sampleVariance(Weight, 1);
  Slot &S = P.Slots[SlotIndex];
  S.Stats.Allocations += Weight;
  S.Stats.Bytes += Bytes;
  S.Stats.AllocationsVariance += CountVariance;
  S.Stats.BytesVariance += BytesVariance;
  S.Stats.SampledBytes += double(Alloc.size);
  ++S.Stats.Samples;
  SlotThreadStats &PerThread = S.PerThread[ThreadIndex];
  PerThread.Allocations += Weight;
  PerThread.Bytes += Bytes;
  PerThread.AllocationsVariance += CountVariance;
  PerThread.BytesVariance += BytesVariance;
  PerThread.SampledBytes += double(Alloc.size);
  ++PerThread.Samples;
  ThreadReport &Thread = P.Threads[ThreadIndex];
  Thread.Allocations += Weight;
  Thread.Bytes += Bytes;
  ++Thread.Samples;
  P.Stats.Allocations += Weight;
  P.Stats.Bytes += Bytes;
  P.Stats.AllocationsVariance += CountVariance;
  P.Stats.BytesVariance += BytesVariance;
  P.Stats.SampledBytes += double(Alloc.size);
  ++P.Stats.Samples;

  // The runtime could not track this block, so its free is never logged:
  // it must count neither as live at exit nor towards the peak.
  if (Alloc.flags & log::AllocUntracked)
    return;
  LiveSample Sample{SlotIndex, ThreadIndex, Weight, Alloc.size,
                    Alloc.monotonic_ns};
  auto Pending = PendingFrees.find(Alloc.sample_id);
  if (Pending != PendingFrees.end()) {
    LiveBytes += Bytes;
    LiveVariance += BytesVariance;
    LiveObserved += double(Alloc.size);
    changeSlotLive(SlotIndex, Bytes);
    release(Sample, Pending->second.Thread, Pending->second.Site,
            Pending->second.Time);
    PendingFrees.erase(Pending);
    return;
  }
  auto [It, Inserted] = Live.try_emplace(Alloc.sample_id, Sample);
  if (!Inserted) {
    // A reused sample id: the older sample's free was lost. Forget it.
    ++DuplicateSamples;
    if (PeakPending)
      snapshotPeak();
    double Old = It->second.Weight * double(It->second.Size);
    LiveBytes -= Old;
    LiveVariance -= sampleVariance(It->second.Weight, double(It->second.Size));
    LiveObserved -= double(It->second.Size);
    changeSlotLive(It->second.Slot, -Old);
    It->second = Sample;
  }
  LiveBytes += Bytes;
  LiveVariance += BytesVariance;
  LiveObserved += double(Alloc.size);
  changeSlotLive(SlotIndex, Bytes);
  if (LiveBytes > P.PeakLiveBytes) {
    P.PeakLiveBytes = LiveBytes;
    P.PeakLiveBytesVariance = LiveVariance;
    P.PeakLiveBytesObserved = LiveObserved;
    P.PeakLiveTimeNs = P.relative(Alloc.monotonic_ns);
    PeakPending = true;
  }
  notePoint(Alloc.monotonic_ns);
}

void ProcessStreamer::changeSlotLive(uint32_t Index, double Delta) {
  SlotLive[Index] += Delta;
  if (!IsDirty[Index]) {
    IsDirty[Index] = 1;
    Dirty.push_back(Index);
  }
}

void ProcessStreamer::snapshotPeak() {
  for (uint32_t Index : Dirty) {
    P.SlotPeakBytes[Index] = SlotLive[Index];
    IsDirty[Index] = 0;
  }
  Dirty.clear();
  PeakPending = false;
}

void ProcessStreamer::notePoint(uint64_t MonotonicNs) {
  uint64_t Time = P.relative(MonotonicNs);
  std::vector<LivePoint> &Points = P.LiveTimeline;
  // Widen the buckets until this time fits, merging neighbours.
  while (Time / P.LiveBucketNs >= ProcessReport::kMaxLivePoints) {
    P.LiveBucketNs *= 2;
    size_t Out = 0;
    for (size_t I = 0; I < Points.size(); ++I) {
      uint64_t Start = Points[I].TimeNs / P.LiveBucketNs * P.LiveBucketNs;
      if (Out && Points[Out - 1].TimeNs == Start) {
        Points[Out - 1].MaxBytes =
            std::max(Points[Out - 1].MaxBytes, Points[I].MaxBytes);
        Points[Out - 1].LastBytes = Points[I].LastBytes;
      } else {
        Points[Out] = Points[I];
        Points[Out].TimeNs = Start;
        ++Out;
      }
    }
    Points.resize(Out);
  }
  uint64_t Start = Time / P.LiveBucketNs * P.LiveBucketNs;
  if (Points.empty() || Points.back().TimeNs != Start)
    Points.push_back({Start, LiveBytes, LiveBytes});
  else {
    Points.back().MaxBytes = std::max(Points.back().MaxBytes, LiveBytes);
    Points.back().LastBytes = LiveBytes;
  }
}

void ProcessStreamer::release(const LiveSample &Sample, uint32_t FreeThread,
                              uint64_t FreeSite, uint64_t FreeTime) {
  double Bytes = Sample.Weight * double(Sample.Size);
  AllocationStats &Stats = P.Slots[Sample.Slot].Stats;
  Stats.Frees += Sample.Weight;
  Stats.FreedBytes += Bytes;
  // A Free read before its Alloc has the same timestamp: a lifetime of 0.
  uint64_t Lifetime = FreeTime > Sample.Time ? FreeTime - Sample.Time : 0;
  Stats.LifetimeNs += Sample.Weight * double(Lifetime);
  ++Stats.FreedSamples;
  P.Stats.Frees += Sample.Weight;
  P.Stats.FreedBytes += Bytes;
  if (PeakPending)
    snapshotPeak();
  LiveBytes -= Bytes;
  LiveVariance -= sampleVariance(Sample.Weight, double(Sample.Size));
  LiveObserved -= double(Sample.Size);
  changeSlotLive(Sample.Slot, -Bytes);
  if (FreeThread != Sample.Thread) {
    CrossStat &BySlot = P.CrossBySlot[{Sample.Slot, FreeSite}];
    BySlot.Frees += Sample.Weight;
    BySlot.Bytes += Bytes;
    CrossStat &ByThread = P.CrossByThread[{Sample.Thread, FreeThread}];
    ByThread.Frees += Sample.Weight;
    ByThread.Bytes += Bytes;
  }
}

void ProcessStreamer::onFree(FileState &State, const log::FreeRecord &Free) {
  uint32_t FreeThread = currentThread(State);
  auto It = Live.find(Free.sample_id);
  if (It == Live.end()) {
    PendingFrees[Free.sample_id] = {FreeThread, Free.site_id,
                                    Free.monotonic_ns};
    return;
  }
  release(It->second, FreeThread, Free.site_id, Free.monotonic_ns);
  Live.erase(It);
  notePoint(Free.monotonic_ns);
}

void ProcessStreamer::run() {
  Files.reserve(P.ThreadLogs.size());
  for (const LogFile &File : P.ThreadLogs)
    if (File.Usable)
      Files.push_back(
          FileState{&File, RecordCursor(File), -1, -1, Event(), 0, 0, {}, {}});

  // Min-heap on (time, free after alloc, file order): deterministic, and an
  // alloc and its free stamped in the same nanosecond stay in order.
  auto Later = [this](size_t A, size_t B) {
    const Event &EA = Files[A].Head, &EB = Files[B].Head;
    if (EA.Time != EB.Time)
      return EA.Time > EB.Time;
    if (EA.IsFree != EB.IsFree)
      return EA.IsFree;
    return A > B;
  };
  std::priority_queue<size_t, std::vector<size_t>, decltype(Later)> Queue(
      Later);
  for (size_t I = 0; I < Files.size(); ++I)
    if (advance(Files[I]))
      Queue.push(I);
  while (!Queue.empty()) {
    size_t Index = Queue.top();
    Queue.pop();
    FileState &State = Files[Index];
    P.LastEventNs = std::max(P.LastEventNs, P.relative(State.Head.Time));
    if (State.Head.IsFree)
      onFree(State, State.Head.Free);
    else
      onAlloc(State, State.Head.Alloc);
    if (advance(State))
      Queue.push(Index);
  }
  finish();
}

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
  if (Unresolved)
    P.warn(fmt::format("pid {}: {} ThreadName records name no known thread; "
                       "ignored",
                       P.Pid, Unresolved));
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
  if (UnknownRunning)
    P.warn(fmt::format("pid {}: {} ThreadRunning records name threads that "
                       "have no ThreadStart record; ignored",
                       P.Pid, UnknownRunning));
  if (StrayThreadEnds)
    P.warn(fmt::format("pid {}: {} ThreadEnd records name threads that have "
                       "no ThreadStart record; ignored",
                       P.Pid, StrayThreadEnds));
}

/// The runtime's counts (log format 2.1 on) replace the sampled estimates:
/// each thread's that has them, and the process's when every thread has
/// them and ProcessEnd adds the threads that ended without a log.
void ProcessStreamer::applyExactTotals() {
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
  P.TotalsExact = true;
}

void ProcessStreamer::finish() {
  if (PeakPending)
    snapshotPeak();
  for (const auto &[Id, Sample] : Live) {
    double Bytes = Sample.Weight * double(Sample.Size);
    double BytesVariance = sampleVariance(Sample.Weight, double(Sample.Size));
    double CountVariance = sampleVariance(Sample.Weight, 1);
    AllocationStats &Stats = P.Slots[Sample.Slot].Stats;
    Stats.LiveAllocations += Sample.Weight;
    Stats.LiveBytes += Bytes;
    double Size = double(Sample.Size);
    Stats.LiveAllocationsVariance += CountVariance;
    Stats.LiveBytesVariance += BytesVariance;
    Stats.LiveSampledBytes += Size;
    ++Stats.LiveSamples;
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
    SlotThreadStats &PerThread = P.Slots[Sample.Slot].PerThread[Sample.Thread];
    PerThread.LiveAllocations += Sample.Weight;
    PerThread.LiveBytes += Bytes;
    PerThread.LiveBytesVariance += BytesVariance;
    PerThread.LiveSampledBytes += Size;
  }
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
  if (BadWeights)
    P.warn(fmt::format("pid {}: {} Alloc records have an invalid weight; "
                       "counted as 1",
                       P.Pid, BadWeights));
  finishThreads();
}

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

class Progress {
public:
  explicit Progress(bool Enabled) : Enabled(Enabled) {}
  template <typename... Args>
  void note(fmt::format_string<Args...> Format, Args &&...Arguments) {
    if (!Enabled)
      return;
    llvm::errs() << "memscope-merge: "
                 << fmt::format(Format, std::forward<Args>(Arguments)...)
                 << '\n';
  }

private:
  bool Enabled;
};

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

/// The frames of a slot's allocation stack that the lifetime rules read:
/// the site's own (instrumented) frames, then its stack's.
std::vector<StackFrameInfo> lifetimeFrames(const ProcessData &P, const Slot &S,
                                           Symbolizer &Symbols) {
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
/// (Lifetime.h) out of the leak figures of their slot, thread and process.
void classifyLifetime(ProcessData &P, Symbolizer &Symbols,
                      const LifetimeRules &Rules) {
  for (Slot &S : P.Slots) {
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

/// Where a slot's allocations are reported: its site entry.
struct SlotTarget {
  uint64_t SiteId = 0;
  InlineFrame Location; // the entry's first frame in user code
};

/// The first frame in user code of an instrumented site: the site itself,
/// or for a site inlined from a system header (std::vector's allocator, say)
/// the first caller in its inlined-at chain outside the system prefixes.
/// Inlined, when given, tells whether the frame came from that chain.
InlineFrame userFrameOf(const SiteInfo &Info,
                        const IndirectAttributor &Attributor,
                        bool *Inlined = nullptr) {
  InlineFrame User{llvm::demangle(Info.Function), Info.File, Info.Dir,
                   Info.Line, Info.Column};
  if (Inlined)
    *Inlined = false;
  if (Attributor.isSystemPath(Info.File))
    for (const InlineFrame &Frame : Info.InlinedAt)
      if (!Frame.File.empty() && !Attributor.isSystemPath(Frame.File)) {
        User = Frame;
        User.Function = llvm::demangle(Frame.Function);
        if (Inlined)
          *Inlined = true;
        break;
      }
  return User;
}

/// Merges per-process slots into site entries, attributing indirect slots.
class SiteMerger {
public:
  SiteMerger(IndirectAttributor &Attributor, Analysis &Result)
      : Attributor(Attributor), Result(Result) {}

  /// Returns where each of P.Slots went.
  std::vector<SlotTarget> addProcess(ProcessData &P, size_t ProcessIndex);
  void finish();

private:
  size_t entryFor(uint64_t Id, bool &Created);
  void describeInstrumented(SiteReport &Site, const ProcessData &P,
                            const Slot &S, uint64_t &MissingSites);
  std::optional<InlineFrame> stackUserFrame(const ProcessData &P, const Slot &S,
                                            uint64_t &MissingStacks);

  IndirectAttributor &Attributor;
  Analysis &Result;
  std::unordered_map<uint64_t, size_t> Index;
  std::vector<std::set<std::pair<size_t, uint32_t>>> Threads;
};

size_t SiteMerger::entryFor(uint64_t Id, bool &Created) {
  auto [It, Inserted] = Index.try_emplace(Id, Result.Sites.size());
  Created = Inserted;
  if (Inserted) {
    Result.Sites.emplace_back();
    Result.Sites.back().Id = Id;
    Threads.emplace_back();
  }
  return It->second;
}

void SiteMerger::describeInstrumented(SiteReport &Site, const ProcessData &P,
                                      const Slot &S, uint64_t &MissingSites) {
  auto It = P.Sites.find(S.Key);
  Site.AttributedBy = "site";
  if (It == P.Sites.end()) {
    ++MissingSites;
    Site.Kind = siteKindName(S.Kind);
    Site.File = "<unknown site>";
    Site.User.File = Site.File;
    return;
  }
  const SiteInfo &Info = It->second;
  Site.Kind = siteKindName(Info.Kind);
  Site.File = Info.File;
  Site.Dir = Info.Dir;
  Site.Line = Info.Line;
  Site.Column = Info.Column;
  Site.Function = llvm::demangle(Info.Function);
  if (const ModuleMap::Module *Module = P.Modules.find(Info.ModuleTextAddr))
    Site.Module = Module->Path;
  for (const InlineFrame &Frame : Info.InlinedAt) {
    InlineFrame Demangled = Frame;
    Demangled.Function = llvm::demangle(Frame.Function);
    Site.InlinedAt.push_back(std::move(Demangled));
  }
  bool Inlined = false;
  Site.User = userFrameOf(Info, Attributor, &Inlined);
  if (Inlined)
    Site.AttributedBy = "inline";
}

/// Samples of a site with no frame in user code (all of it inlined from
/// library headers, e.g. std::__new_allocator::allocate in an out-of-line
/// std::vector::_M_realloc_insert) carry a stack from the instrumented
/// function that holds the site outwards. It is attributed like an indirect
/// sample's; the first frame in user code it reaches, if any.
std::optional<InlineFrame> SiteMerger::stackUserFrame(const ProcessData &P,
                                                      const Slot &S,
                                                      uint64_t &MissingStacks) {
  if (!S.StackId)
    return std::nullopt;
  auto Info = P.Sites.find(S.Key);
  if (Info == P.Sites.end())
    return std::nullopt;
  InlineFrame Own = userFrameOf(Info->second, Attributor);
  if (!Attributor.isSystemPath(Own.File))
    return std::nullopt;
  auto Stack = P.Stacks.find(S.StackId);
  if (Stack == P.Stacks.end()) {
    ++MissingStacks;
    return std::nullopt;
  }
  IndirectSite Found = Attributor.attribute(P.Modules, Stack->second);
  if (Found.File.empty() || Found.File == "<uninstrumented>" ||
      Attributor.isSystemPath(Found.File))
    return std::nullopt;
  return InlineFrame{std::move(Found.Function), std::move(Found.File), "",
                     Found.Line, Found.Column};
}

std::vector<SlotTarget> SiteMerger::addProcess(ProcessData &P,
                                               size_t ProcessIndex) {
  uint64_t MissingSites = 0, MissingStacks = 0, MissingSiteStacks = 0;
  std::vector<SlotTarget> Targets;
  Targets.reserve(P.Slots.size());
  for (const Slot &S : P.Slots) {
    bool Created = false;
    size_t Entry;
    if (!S.Indirect) {
      std::optional<InlineFrame> User = stackUserFrame(P, S, MissingSiteStacks);
      if (!User) {
        Entry = entryFor(S.Key, Created);
        if (Created)
          describeInstrumented(Result.Sites[Entry], P, S, MissingSites);
      } else {
        // One entry per (site, line of user code).
        Entry =
            entryFor(stackSiteId(S.Key, User->File, User->Line, User->Function),
                     Created);
        if (Created) {
          SiteReport &Site = Result.Sites[Entry];
          describeInstrumented(Site, P, S, MissingSites);
          Site.User = std::move(*User);
          Site.AttributedBy = "stack";
          Site.Via = Site.Function;
        }
      }
    } else {
      llvm::ArrayRef<uint64_t> Frames;
      auto Stack = P.Stacks.find(S.Key);
      if (Stack != P.Stacks.end())
        Frames = Stack->second;
      else if (S.Key != 0)
        ++MissingStacks;
      IndirectSite Indirect = Attributor.attribute(P.Modules, Frames);
      Entry = entryFor(Indirect.Id, Created);
      if (Created) {
        SiteReport &Site = Result.Sites[Entry];
        Site.Kind = "indirect";
        Site.File = std::move(Indirect.File);
        Site.Line = Indirect.Line;
        Site.Column = Indirect.Column;
        Site.Function = std::move(Indirect.Function);
        Site.Module = std::move(Indirect.Module);
        Site.Via = std::move(Indirect.Via);
        Site.InlinedAt = std::move(Indirect.InlinedAt);
        Site.User = {Site.Function, Site.File, "", Site.Line, Site.Column};
        Site.AttributedBy = "stack";
      }
      Result.Totals.IndirectAllocations += S.Stats.Allocations;
      Result.Totals.IndirectBytes += S.Stats.Bytes;
    }
    SiteReport &Site = Result.Sites[Entry];
    Site.Stats.add(S.Stats);
    if (!llvm::is_contained(Site.Pids, P.Pid))
      Site.Pids.push_back(P.Pid);
    for (const auto &[Thread, Stats] : S.PerThread)
      Threads[Entry].insert({ProcessIndex, Thread});
    Targets.push_back({Site.Id, Site.User});
  }
  if (MissingSites)
    P.warn(fmt::format("pid {}: {} allocation sites have no Site record in "
                       "process.log",
                       P.Pid, MissingSites));
  if (MissingStacks)
    P.warn(fmt::format("pid {}: {} indirect stacks have no Stack record; "
                       "attributed to <uninstrumented>",
                       P.Pid, MissingStacks));
  if (MissingSiteStacks)
    P.warn(fmt::format("pid {}: {} stacks of allocation sites in library "
                       "code have no Stack record; reported at the site",
                       P.Pid, MissingSiteStacks));
  return Targets;
}

void SiteMerger::finish() {
  for (size_t I = 0; I < Result.Sites.size(); ++I)
    Result.Sites[I].ThreadCount = Threads[I].size();
  // Ids are unique, so this order is total: no stable sort needed.
  llvm::sort(Result.Sites, [](const SiteReport &A, const SiteReport &B) {
    if (A.Stats.Bytes != B.Stats.Bytes)
      return A.Stats.Bytes > B.Stats.Bytes;
    return A.Id < B.Id;
  });
}

/// Merges per-process threads: their order, top sites and spawn locations,
/// the thread tree, spawn sites and cross-thread frees.
class ThreadMerger {
public:
  ThreadMerger(IndirectAttributor &Attributor, Analysis &Result)
      : Attributor(Attributor), Result(Result) {}

  /// Moves P.Threads into Result.Threads.
  void addProcess(ProcessData &P, size_t ProcessIndex,
                  const std::vector<SlotTarget> &Targets);
  void finish();

private:
  std::optional<InlineFrame> spawnLocation(const ProcessData &P,
                                           size_t ProcessIndex,
                                           uint64_t SpawnSite,
                                           uint64_t SpawnStack);
  void addTopSites(ProcessData &P, const std::vector<SlotTarget> &Targets);
  void addCrossFrees(const ProcessData &P,
                     const std::vector<SlotTarget> &Targets,
                     const std::vector<size_t> &Global);
  void addToSpawnSite(const ProcessData &P, size_t ThreadIndex);
  void buildTree(size_t Begin, size_t End);

  IndirectAttributor &Attributor;
  Analysis &Result;
  std::map<std::tuple<size_t, uint64_t, uint64_t>, std::optional<InlineFrame>>
      SpawnCache;
  /// Instrumented spawn sites by user frame (or by id without one), and
  /// unknown ones by creator module.
  std::map<std::tuple<std::string, uint32_t, std::string, uint64_t>, size_t>
      SpawnByLocation;
  std::map<std::string, size_t> SpawnByModule;
  /// Parallel to Result.SpawnSites.
  struct SpawnEntryState {
    bool Described = false;   // from a Site record
    bool UserIsFinal = false; // User is a frame in user code
  };
  std::vector<SpawnEntryState> SpawnStates;
  std::map<std::pair<uint64_t, uint64_t>, CrossFreeSitePair> SitePairs;
};

std::optional<InlineFrame> ThreadMerger::spawnLocation(const ProcessData &P,
                                                       size_t ProcessIndex,
                                                       uint64_t SpawnSite,
                                                       uint64_t SpawnStack) {
  if (!SpawnSite && !SpawnStack)
    return std::nullopt;
  auto [Cached, Inserted] =
      SpawnCache.try_emplace({ProcessIndex, SpawnSite, SpawnStack});
  if (!Inserted)
    return Cached->second;
  std::optional<InlineFrame> &Location = Cached->second;
  if (SpawnSite) {
    auto It = P.Sites.find(SpawnSite);
    if (It != P.Sites.end()) {
      InlineFrame User = userFrameOf(It->second, Attributor);
      if (!User.File.empty() && !Attributor.isSystemPath(User.File))
        Location = std::move(User);
    }
  }
  // Spawned from a system header's out-of-line code (std::async in
  // <future>), or by uninstrumented code: the stack of the creating call
  // leads to the user's line, like an indirect allocation's.
  if (!Location && SpawnStack) {
    auto Stack = P.Stacks.find(SpawnStack);
    if (Stack != P.Stacks.end()) {
      IndirectSite Site = Attributor.attribute(P.Modules, Stack->second);
      if (!Site.File.empty() && Site.File != "<uninstrumented>" &&
          !Attributor.isSystemPath(Site.File))
        Location =
            InlineFrame{Site.Function, Site.File, "", Site.Line, Site.Column};
    }
  }
  return Location;
}

void ThreadMerger::addTopSites(ProcessData &P,
                               const std::vector<SlotTarget> &Targets) {
  constexpr size_t MaxTopSites = 5;
  std::vector<std::unordered_map<uint64_t, ThreadSiteReport>> PerThread(
      P.Threads.size());
  for (size_t SlotIndex = 0; SlotIndex < P.Slots.size(); ++SlotIndex) {
    const SlotTarget &Target = Targets[SlotIndex];
    for (const auto &[Thread, Stats] : P.Slots[SlotIndex].PerThread) {
      auto [It, Inserted] = PerThread[Thread].try_emplace(Target.SiteId);
      ThreadSiteReport &Site = It->second;
      if (Inserted) {
        Site.SiteId = Target.SiteId;
        Site.Location = Target.Location;
      }
      Site.Allocations += Stats.Allocations;
      Site.Bytes += Stats.Bytes;
      Site.AllocationsVariance += Stats.AllocationsVariance;
      Site.BytesVariance += Stats.BytesVariance;
      Site.SampledBytes += Stats.SampledBytes;
      Site.Samples += Stats.Samples;
    }
  }
  for (size_t I = 0; I < P.Threads.size(); ++I) {
    std::vector<ThreadSiteReport> &Top = P.Threads[I].TopSites;
    Top.clear();
    for (auto &[Id, Site] : PerThread[I])
      Top.push_back(std::move(Site));
    auto ByBytes = [](const ThreadSiteReport &A, const ThreadSiteReport &B) {
      if (A.Bytes != B.Bytes)
        return A.Bytes > B.Bytes;
      return A.SiteId < B.SiteId;
    };
    size_t Keep = std::min(MaxTopSites, Top.size());
    std::partial_sort(Top.begin(), Top.begin() + Keep, Top.end(), ByBytes);
    Top.resize(Keep);
  }
}

void ThreadMerger::addCrossFrees(const ProcessData &P,
                                 const std::vector<SlotTarget> &Targets,
                                 const std::vector<size_t> &Global) {
  CrossThreadFrees &Cross = Result.CrossFrees;
  for (const auto &[Key, Stat] : P.CrossBySlot) {
    const SlotTarget &Alloc = Targets[Key.first];
    uint64_t FreeSite = Key.second;
    auto [It, Inserted] = SitePairs.try_emplace({Alloc.SiteId, FreeSite});
    CrossFreeSitePair &Pair = It->second;
    if (Inserted) {
      Pair.AllocSite = Alloc.SiteId;
      Pair.AllocLocation = Alloc.Location;
      Pair.FreeSite = FreeSite;
    }
    if (FreeSite && !Pair.FreeLocation) {
      auto Site = P.Sites.find(FreeSite);
      if (Site != P.Sites.end())
        Pair.FreeLocation = userFrameOf(Site->second, Attributor);
    }
    Pair.Frees += Stat.Frees;
    Pair.Bytes += Stat.Bytes;
    Cross.Frees += Stat.Frees;
    Cross.Bytes += Stat.Bytes;
  }
  for (const auto &[Key, Stat] : P.CrossByThread)
    Cross.ByThreadPair.push_back(
        {P.Pid, Global[Key.first], Global[Key.second], Stat.Frees, Stat.Bytes});
}

void ThreadMerger::addToSpawnSite(const ProcessData &P, size_t ThreadIndex) {
  const ThreadReport &Thread = Result.Threads[ThreadIndex];
  // The main thread was not spawned; an unknown thread lost its ThreadStart.
  if (Thread.ThreadId <= 1)
    return;
  size_t Entry;
  if (Thread.SpawnSite) {
    // One entry per line of user code: a site inside system code (a
    // std::thread constructed in std::vector's emplace_back fast path and in
    // its out-of-line _M_realloc_insert) reaches the user's line from
    // several site ids.
    std::tuple<std::string, uint32_t, std::string, uint64_t> Key;
    if (Thread.SpawnLocation)
      Key = {Thread.SpawnLocation->File, Thread.SpawnLocation->Line,
             Thread.SpawnLocation->Function, 0};
    else
      Key = {"", 0, "", Thread.SpawnSite};
    auto [It, Inserted] =
        SpawnByLocation.try_emplace(std::move(Key), Result.SpawnSites.size());
    if (Inserted) {
      Result.SpawnSites.emplace_back();
      Result.SpawnSites.back().Id = Thread.SpawnSite;
      Result.SpawnSites.back().File = "<unknown site>";
      SpawnStates.emplace_back();
    }
    Entry = It->second;
    SpawnSiteReport &Site = Result.SpawnSites[Entry];
    if (!llvm::is_contained(Site.SiteIds, Thread.SpawnSite)) {
      Site.SiteIds.insert(llvm::upper_bound(Site.SiteIds, Thread.SpawnSite),
                          Thread.SpawnSite);
      Site.Id = Site.SiteIds.front();
    }
  } else {
    auto [It, Inserted] = SpawnByModule.try_emplace(Thread.CreatorModule,
                                                    Result.SpawnSites.size());
    if (Inserted) {
      Result.SpawnSites.emplace_back();
      Result.SpawnSites.back().File = "<unknown spawn site>";
      Result.SpawnSites.back().CreatorModule = Thread.CreatorModule;
      SpawnStates.emplace_back();
      SpawnStates.back().Described = SpawnStates.back().UserIsFinal = true;
    }
    Entry = It->second;
  }
  SpawnSiteReport &Site = Result.SpawnSites[Entry];
  SpawnEntryState &State = SpawnStates[Entry];
  if (!State.Described) {
    auto It = P.Sites.find(Thread.SpawnSite);
    if (It != P.Sites.end()) {
      const SiteInfo &Info = It->second;
      State.Described = true;
      Site.File = Info.File;
      Site.Dir = Info.Dir;
      Site.Line = Info.Line;
      Site.Column = Info.Column;
      Site.Function = llvm::demangle(Info.Function);
      if (const ModuleMap::Module *Module = P.Modules.find(Info.ModuleTextAddr))
        Site.Module = Module->Path;
      if (!State.UserIsFinal) {
        InlineFrame User = userFrameOf(Info, Attributor);
        State.UserIsFinal =
            !User.File.empty() && !Attributor.isSystemPath(User.File);
        Site.User = std::move(User);
      }
    }
  }
  // A site in a system header: show where the user's code reached it.
  if (!State.UserIsFinal && Thread.SpawnLocation) {
    Site.User = Thread.SpawnLocation;
    State.UserIsFinal = true;
  }
  ++Site.ThreadsCreated;
  Site.Threads.push_back(ThreadIndex);
  Site.ThreadsRunningAtExit += Thread.RunningAtExit;
  Site.Allocations += Thread.Allocations;
  Site.Bytes += Thread.Bytes;
  Site.TotalsExact = Site.TotalsExact && Thread.TotalsExact;
  Site.LiveBytesAtExit += Thread.LiveBytesAtExit;
  Site.LiveBytesAtExitVariance += Thread.LiveBytesAtExitVariance;
  Site.LiveBytesAtExitObserved += Thread.LiveBytesAtExitObserved;
  Site.CpuUserNs += Thread.CpuUserNs;
  Site.CpuSystemNs += Thread.CpuSystemNs;
  if (!llvm::is_contained(Site.Pids, P.Pid))
    Site.Pids.push_back(P.Pid);
}

/// Links the threads [Begin, End) of one process to their parents without
/// recursion (a chain of 10,000 threads is a tree 10,000 deep).
void ThreadMerger::buildTree(size_t Begin, size_t End) {
  ThreadTree &Tree = Result.Tree;
  Tree.Children.resize(End);
  std::unordered_map<uint64_t, size_t> ById;
  for (size_t I = Begin; I < End; ++I)
    if (Result.Threads[I].ThreadId)
      ById.try_emplace(Result.Threads[I].ThreadId, I);
  std::vector<size_t> Parent(End - Begin, SIZE_MAX);
  std::vector<size_t> Roots;
  for (size_t I = Begin; I < End; ++I) {
    uint64_t ParentId = Result.Threads[I].ParentThreadId;
    auto It = ParentId ? ById.find(ParentId) : ById.end();
    if (It == ById.end() || It->second == I) {
      Roots.push_back(I);
      continue;
    }
    Tree.Children[It->second].push_back(I);
    Parent[I - Begin] = It->second;
  }
  // Damaged logs could make parents form a cycle, which no root reaches:
  // such a thread is cut from its parent and becomes a root.
  std::vector<char> Seen(End - Begin, 0);
  std::vector<size_t> Work;
  auto Visit = [&](size_t Root) {
    Work.push_back(Root);
    Seen[Root - Begin] = 1;
    while (!Work.empty()) {
      size_t Node = Work.back();
      Work.pop_back();
      for (size_t Child : Tree.Children[Node])
        if (!Seen[Child - Begin]) {
          Seen[Child - Begin] = 1;
          Work.push_back(Child);
        }
    }
  };
  for (size_t Root : Roots)
    Visit(Root);
  for (size_t I = Begin; I < End; ++I) {
    if (Seen[I - Begin])
      continue;
    eraseValue(Tree.Children[Parent[I - Begin]], I);
    Roots.push_back(I);
    Visit(I);
  }
  llvm::sort(Roots);
  Tree.Roots.insert(Tree.Roots.end(), Roots.begin(), Roots.end());
}

void ThreadMerger::addProcess(ProcessData &P, size_t ProcessIndex,
                              const std::vector<SlotTarget> &Targets) {
  addTopSites(P, Targets);
  for (ThreadReport &Thread : P.Threads) {
    Thread.SpawnLocation =
        spawnLocation(P, ProcessIndex, Thread.SpawnSite, Thread.SpawnStackId);
    if (!Thread.SpawnSite && Thread.CreatorPc)
      if (const ModuleMap::Module *Module = P.Modules.find(Thread.CreatorPc))
        Thread.CreatorModule = Module->Path;
  }

  // By thread id; spans of one id are one thread, so only threads that lost
  // their ThreadStart (id 0) tie, and they keep their order of appearance.
  std::vector<uint32_t> Order(P.Threads.size());
  std::iota(Order.begin(), Order.end(), 0);
  llvm::sort(Order, [&](uint32_t A, uint32_t B) {
    const ThreadReport &TA = P.Threads[A], &TB = P.Threads[B];
    return std::tie(TA.ThreadId, TA.StartNs, A) <
           std::tie(TB.ThreadId, TB.StartNs, B);
  });
  size_t Begin = Result.Threads.size();
  std::vector<size_t> Global(P.Threads.size());
  for (size_t K = 0; K < Order.size(); ++K)
    Global[Order[K]] = Begin + K;
  addCrossFrees(P, Targets, Global);
  for (uint32_t Index : Order)
    Result.Threads.push_back(std::move(P.Threads[Index]));
  size_t End = Result.Threads.size();
  for (size_t I = Begin; I < End; ++I)
    addToSpawnSite(P, I);
  buildTree(Begin, End);
}

void ThreadMerger::finish() {
  Result.Tree.Children.resize(Result.Threads.size());

  std::vector<SpawnSiteReport> &Spawns = Result.SpawnSites;
  llvm::sort(Spawns, [](const SpawnSiteReport &A, const SpawnSiteReport &B) {
    if (A.ThreadsCreated != B.ThreadsCreated)
      return A.ThreadsCreated > B.ThreadsCreated;
    if (A.Bytes != B.Bytes)
      return A.Bytes > B.Bytes;
    // Instrumented sites first, by id and user frame; then unknown ones by
    // module.
    if (A.Id != B.Id)
      return !B.Id || (A.Id && *A.Id < *B.Id);
    if (!A.Id)
      return A.CreatorModule < B.CreatorModule;
    auto Frame = [](const SpawnSiteReport &Site) {
      static const InlineFrame None;
      const InlineFrame &User = Site.User ? *Site.User : None;
      return std::tie(User.File, User.Line, User.Function);
    };
    return Frame(A) < Frame(B);
  });
  Result.Totals.SpawnSiteCount = Spawns.size();

  CrossThreadFrees &Cross = Result.CrossFrees;
  for (auto &[Key, Pair] : SitePairs)
    Cross.BySitePair.push_back(std::move(Pair));
  SitePairs.clear();
  for (const CrossFreeSitePair &Pair : Cross.BySitePair)
    if (!Cross.BusiestPair ||
        std::tie(Pair.Frees, Pair.Bytes) >
            std::tie(Cross.BusiestPair->Frees, Cross.BusiestPair->Bytes) ||
        (std::tie(Pair.Frees, Pair.Bytes) ==
             std::tie(Cross.BusiestPair->Frees, Cross.BusiestPair->Bytes) &&
         std::tie(Pair.AllocSite, Pair.FreeSite) <
             std::tie(Cross.BusiestPair->AllocSite,
                      Cross.BusiestPair->FreeSite)))
      Cross.BusiestPair = Pair;
  llvm::sort(Cross.BySitePair,
             [](const CrossFreeSitePair &A, const CrossFreeSitePair &B) {
               if (A.Bytes != B.Bytes)
                 return A.Bytes > B.Bytes;
               return std::tie(A.AllocSite, A.FreeSite) <
                      std::tie(B.AllocSite, B.FreeSite);
             });
  Cross.SitePairCount = Cross.BySitePair.size();
  if (Cross.BySitePair.size() > CrossThreadFrees::MaxPairs)
    Cross.BySitePair.resize(CrossThreadFrees::MaxPairs);
  llvm::sort(Cross.ByThreadPair,
             [](const CrossFreeThreadPair &A, const CrossFreeThreadPair &B) {
               if (A.Bytes != B.Bytes)
                 return A.Bytes > B.Bytes;
               return std::tie(A.AllocThread, A.FreeThread) <
                      std::tie(B.AllocThread, B.FreeThread);
             });
  Cross.ThreadPairCount = Cross.ByThreadPair.size();
  if (Cross.ByThreadPair.size() > CrossThreadFrees::MaxPairs)
    Cross.ByThreadPair.resize(CrossThreadFrees::MaxPairs);

  for (size_t I = 0; I < Result.Threads.size(); ++I)
    if (Result.Threads[I].RunningAtExit)
      Result.AliveAtExit.push_back(I);
  llvm::sort(Result.AliveAtExit, [&](size_t A, size_t B) {
    double BytesA = Result.Threads[A].LiveBytesAtExit;
    double BytesB = Result.Threads[B].LiveBytesAtExit;
    if (BytesA != BytesB)
      return BytesA > BytesB;
    return A < B;
  });
  Result.Totals.ThreadsRunningAtExit = Result.AliveAtExit.size();
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
  }
  Report.ThreadCount = P.Threads.size();
  Report.Stats = P.Stats;
  Report.TotalsExact = P.TotalsExact;
  Report.PeakLiveBytes = P.PeakLiveBytes;
  Report.PeakLiveBytesVariance = P.PeakLiveBytesVariance;
  Report.PeakLiveBytesObserved = P.PeakLiveBytesObserved;
  Report.PeakLiveTimeNs = P.PeakLiveTimeNs;
  Report.UnmatchedFrees = P.UnmatchedFrees;
  Report.Resources = resourceReport(P.ResourceSamples, P.StartMonotonicNs);
  Report.LiveTimeline = P.LiveTimeline;
  Report.LiveBucketNs = P.LiveBucketNs;
  return Report;
}

} // namespace

/// One line when the run is too small for its largest site's bytes to be
/// known within ±10% (95%), naming the setting that would be.
static std::string precisionNote(const Analysis &Result) {
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
  struct FileSlot {
    size_t Process;
    int64_t Thread; // -1 = process.log
  };
  std::vector<FileSlot> FileSlots;
  for (size_t I = 0; I < Processes.size(); ++I) {
    ProcessData &P = Processes[I];
    TotalBytes += P.Folder.TotalBytes;
    if (!P.Folder.ProcessLog.empty())
      FileSlots.push_back({I, -1});
    P.ThreadLogs.resize(P.Folder.ThreadLogs.size());
    for (size_t T = 0; T < P.Folder.ThreadLogs.size(); ++T)
      FileSlots.push_back({I, int64_t(T)});
  }
  Progress Progress(Options.Progress && TotalBytes > (32u << 20));
  Progress.note("reading {} files ({} MB)", FileSlots.size(), TotalBytes >> 20);

  // Stage 1: validate every file in parallel.
  std::vector<LogFile> ProcessLogs(Processes.size());
  tbb::parallel_for(size_t(0), FileSlots.size(), [&](size_t I) {
    const FileSlot &Slot = FileSlots[I];
    ProcessData &P = Processes[Slot.Process];
    if (Slot.Thread < 0)
      ProcessLogs[Slot.Process] = scanLogFile(P.Folder.ProcessLog);
    else
      P.ThreadLogs[Slot.Thread] = scanLogFile(P.Folder.ThreadLogs[Slot.Thread]);
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
  Progress.note("analysing {} processes", Processes.size());
  tbb::parallel_for(size_t(0), Processes.size(), [&](size_t I) {
    ProcessData &P = Processes[I];
    decodeProcessLog(P);
    if (P.Info) {
      P.Pid = P.Info->Fixed.pid;
      P.StartMonotonicNs = P.Info->Fixed.start_monotonic_ns;
      P.StartRealtimeNs = P.Info->Fixed.start_realtime_ns;
    }
    ProcessStreamer(P).run();
  });
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
  Symbolizer Symbols(Options.Symbolize, Diags);
  Symbols.setSourcePaths(Paths);
  IndirectAttributor Attributor(Symbols, Options.SystemPrefixes);
  SiteMerger Merger(Attributor, Result);
  ThreadMerger Threads(Attributor, Result);
  ProfileBuilder Stacks(Symbols, Result.Stacks);
  Summary &Totals = Result.Totals;
  Totals.Exact = true;
  Totals.TotalsExact = !Processes.empty();
  bool HaveSampling = false, MixedSampling = false;
  uint64_t EarliestStart = UINT64_MAX, LatestEnd = 0;
  for (size_t I = 0; I < Processes.size(); ++I) {
    ProcessData &P = Processes[I];
    Progress.note("attributing pid {} ({} stacks)", P.Pid, P.Stacks.size());
    classifyLifetime(P, Symbols, Options.Lifetime);
    ProcessReport Report = reportProcess(P);
    std::vector<SlotTarget> Targets = Merger.addProcess(P, I);
    for (size_t S = 0; S < P.Slots.size(); ++S) {
      const Slot &Entry = P.Slots[S];
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
      Stacks.addSlot(P.Pid, P.Modules, Site, Stack, Targets[S].SiteId,
                     Targets[S].Location, Entry.Stats, P.SlotPeakBytes[S]);
    }
    Threads.addProcess(P, I, Targets);
    Diags.append(P.Diags);

    Totals.Stats.add(Report.Stats);
    Totals.TotalsExact = Totals.TotalsExact && Report.TotalsExact;
    Totals.ThreadCount += Report.ThreadCount;
    Totals.DroppedRecords += Report.DroppedRecords;
    Totals.UntrackedSamples += Report.UntrackedSamples;
    if (Report.PeakLiveBytes > Totals.PeakLiveBytes) {
      Totals.PeakLiveBytes = Report.PeakLiveBytes;
      Totals.PeakLiveBytesVariance = Report.PeakLiveBytesVariance;
      Totals.PeakLiveBytesObserved = Report.PeakLiveBytesObserved;
      Totals.PeakLiveTimeNs = Report.PeakLiveTimeNs;
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
  Merger.finish();
  Threads.finish();
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
