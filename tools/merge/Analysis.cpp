//===- Analysis.cpp - The merged analysis of a memscope run ---------------===//
//
// Three stages:
//  1. scan every file in parallel (framing, CRCs, damage recovery);
//  2. per process, in parallel: decode process.log, then stream all thread
//     logs in monotonic time order (a k-way merge) to compute per-site and
//     per-thread estimates, frees and the live-bytes peak. Memory is bounded
//     by sites, stacks and live samples, never by the number of events;
//  3. serially: attribute indirect samples through their stacks (the
//     symbolizer is not thread-safe) and merge processes into one model.
//
//===----------------------------------------------------------------------===//

#include "Analysis.h"
#include "Input.h"
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
  Samples += Other.Samples;
}

namespace {

/// Allocations of one process from one site (instrumented) or one stack
/// (indirect, attributed later).
struct Slot {
  bool Indirect = false;
  uint64_t Key = 0; // site id or stack id
  uint32_t Kind = 0;
  AllocationStats Stats;
  llvm::DenseSet<uint32_t> Threads; // indices into ProcessData::Threads
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
  uint32_t Pid = 0;
  uint64_t StartMonotonicNs = 0;
  uint64_t StartRealtimeNs = 0;

  // From the thread logs.
  std::vector<Slot> Slots;
  std::vector<ThreadReport> Threads;
  std::unordered_map<uint64_t, std::vector<uint64_t>> Stacks;
  AllocationStats Stats;
  double PeakLiveBytes = 0;
  uint64_t PeakLiveTimeNs = 0;
  uint64_t LastEventNs = 0; // relative to the start
  uint64_t UnmatchedFrees = 0;

  std::vector<Diagnostic> Diags;

  void warn(std::string Message) {
    Diags.push_back({Severity::Warning, std::move(Message)});
  }
  uint64_t relative(uint64_t MonotonicNs) const {
    return MonotonicNs > StartMonotonicNs ? MonotonicNs - StartMonotonicNs : 0;
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
        P.Sites.try_emplace(Site.Id, std::move(Site));
      break;
    }
    case log::RecordType::ProcessEnd: {
      log::ProcessEndRecord End;
      if ((Ok = decodeProcessEnd(Record.Payload, End)))
        P.End = End;
      break;
    }
    case log::RecordType::Warning: {
      std::string Message;
      decodeWarning(Record.Payload, Message);
      P.warn(fmt::format("{}: runtime warning: {}", File.Path, Message));
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
  struct FileState {
    const LogFile *File;
    RecordCursor Cursor;
    int64_t CurrentThread = -1;
    Event Head;
    uint64_t Malformed = 0;
    uint64_t Misplaced = 0;
  };
  struct LiveSample {
    uint32_t Slot;
    uint32_t Thread;
    double Weight;
    uint64_t Size;
  };

  /// Handles bookkeeping records up to the next Alloc/Free; false at EOF.
  bool advance(FileState &State);
  void onThreadStart(FileState &State, const ThreadStartInfo &Start);
  ThreadReport *threadFor(FileState &State, uint64_t ThreadId);
  uint32_t currentThread(FileState &State);
  uint32_t slotFor(const log::AllocRecord &Alloc);
  void onAlloc(FileState &State, const log::AllocRecord &Alloc);
  void onFree(const log::FreeRecord &Free);
  void release(const LiveSample &Sample);
  void finish();

  ProcessData &P;
  std::vector<FileState> Files;
  std::unordered_map<uint64_t, uint32_t> InstrumentedSlots;
  std::unordered_map<uint64_t, uint32_t> IndirectSlots;
  std::unordered_map<uint64_t, uint32_t> ThreadById;
  std::unordered_map<uint64_t, LiveSample> Live;
  /// Frees seen before their Alloc (equal timestamps on two threads).
  std::unordered_set<uint64_t> PendingFrees;
  double LiveBytes = 0;
  uint64_t DuplicateSamples = 0;
  uint64_t BadWeights = 0;
};

void ProcessStreamer::onThreadStart(FileState &State,
                                    const ThreadStartInfo &Start) {
  ThreadReport Thread;
  Thread.Pid = P.Pid;
  Thread.ThreadId = Start.Fixed.thread_id;
  Thread.Tid = Start.Fixed.os_tid;
  Thread.Name = Start.Name;
  Thread.ParentThreadId = Start.Fixed.parent_thread_id;
  Thread.SpawnSite = Start.Fixed.spawn_site;
  Thread.StartNs = P.relative(Start.Fixed.monotonic_ns);
  P.LastEventNs = std::max(P.LastEventNs, Thread.StartNs);
  State.CurrentThread = P.Threads.size();
  ThreadById[Thread.ThreadId] = P.Threads.size();
  P.Threads.push_back(std::move(Thread));
}

ThreadReport *ProcessStreamer::threadFor(FileState &State, uint64_t ThreadId) {
  if (State.CurrentThread >= 0 &&
      (ThreadId == 0 || P.Threads[State.CurrentThread].ThreadId == ThreadId))
    return &P.Threads[State.CurrentThread];
  auto It = ThreadById.find(ThreadId);
  return It == ThreadById.end() ? nullptr : &P.Threads[It->second];
}

uint32_t ProcessStreamer::currentThread(FileState &State) {
  if (State.CurrentThread < 0) {
    // The ThreadStart record was lost; keep the samples anyway.
    P.warn(fmt::format("{}: records before the first ThreadStart are "
                       "attributed to an unknown thread",
                       State.File->Path));
    ThreadReport Thread;
    Thread.Pid = P.Pid;
    Thread.Name = fmt::format("<unknown thread in {}>",
                              llvm::sys::path::filename(State.File->Path));
    State.CurrentThread = P.Threads.size();
    P.Threads.push_back(std::move(Thread));
  }
  return State.CurrentThread;
}

bool ProcessStreamer::advance(FileState &State) {
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
      ThreadNameInfo Name;
      if ((Ok = decodeThreadName(Record.Payload, Name)))
        if (ThreadReport *Thread = threadFor(State, Name.ThreadId))
          Thread->Name = Name.Name;
      break;
    }
    case log::RecordType::ThreadEnd: {
      log::ThreadEndRecord End;
      if ((Ok = decodeThreadEnd(Record.Payload, End))) {
        if (ThreadReport *Thread = threadFor(State, End.thread_id)) {
          Thread->EndNs = P.relative(End.monotonic_ns);
          Thread->RunningAtExit = false;
          Thread->CpuUserNs = End.cpu_user_ns;
          Thread->CpuSystemNs = End.cpu_system_ns;
          P.LastEventNs = std::max(P.LastEventNs, *Thread->EndNs);
        }
      }
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
  uint64_t Key = Indirect ? Alloc.stack_id : Alloc.site_id;
  auto &Index = Indirect ? IndirectSlots : InstrumentedSlots;
  auto [It, Inserted] = Index.try_emplace(Key, P.Slots.size());
  if (Inserted) {
    Slot New;
    New.Indirect = Indirect;
    New.Key = Key;
    New.Kind = Indirect ? uint32_t(MSC_KIND_INDIRECT) : Alloc.kind;
    P.Slots.push_back(std::move(New));
  }
  return It->second;
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
  Slot &S = P.Slots[SlotIndex];
  S.Stats.Allocations += Weight;
  S.Stats.Bytes += Bytes;
  ++S.Stats.Samples;
  S.Threads.insert(ThreadIndex);
  ThreadReport &Thread = P.Threads[ThreadIndex];
  Thread.Allocations += Weight;
  Thread.Bytes += Bytes;
  P.Stats.Allocations += Weight;
  P.Stats.Bytes += Bytes;
  ++P.Stats.Samples;

  // The runtime could not track this block, so its free is never logged:
  // it must count neither as live at exit nor towards the peak.
  if (Alloc.flags & log::AllocUntracked)
    return;
  LiveSample Sample{SlotIndex, ThreadIndex, Weight, Alloc.size};
  if (PendingFrees.erase(Alloc.sample_id)) {
    LiveBytes += Bytes;
    release(Sample);
    return;
  }
  auto [It, Inserted] = Live.try_emplace(Alloc.sample_id, Sample);
  if (!Inserted) {
    // A reused sample id: the older sample's free was lost. Forget it.
    ++DuplicateSamples;
    LiveBytes -= It->second.Weight * double(It->second.Size);
    It->second = Sample;
  }
  LiveBytes += Bytes;
  if (LiveBytes > P.PeakLiveBytes) {
    P.PeakLiveBytes = LiveBytes;
    P.PeakLiveTimeNs = P.relative(Alloc.monotonic_ns);
  }
}

void ProcessStreamer::release(const LiveSample &Sample) {
  double Bytes = Sample.Weight * double(Sample.Size);
  AllocationStats &Stats = P.Slots[Sample.Slot].Stats;
  Stats.Frees += Sample.Weight;
  Stats.FreedBytes += Bytes;
  P.Stats.Frees += Sample.Weight;
  P.Stats.FreedBytes += Bytes;
  LiveBytes -= Bytes;
}

void ProcessStreamer::onFree(const log::FreeRecord &Free) {
  auto It = Live.find(Free.sample_id);
  if (It == Live.end()) {
    PendingFrees.insert(Free.sample_id);
    return;
  }
  release(It->second);
  Live.erase(It);
}

void ProcessStreamer::run() {
  Files.reserve(P.ThreadLogs.size());
  for (const LogFile &File : P.ThreadLogs)
    if (File.Usable)
      Files.push_back(FileState{&File, RecordCursor(File), -1, Event(), 0, 0});

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
      onFree(State.Head.Free);
    else
      onAlloc(State, State.Head.Alloc);
    if (advance(State))
      Queue.push(Index);
  }
  finish();
}

void ProcessStreamer::finish() {
  for (const auto &[Id, Sample] : Live) {
    double Bytes = Sample.Weight * double(Sample.Size);
    AllocationStats &Stats = P.Slots[Sample.Slot].Stats;
    Stats.LiveAllocations += Sample.Weight;
    Stats.LiveBytes += Bytes;
    P.Stats.LiveAllocations += Sample.Weight;
    P.Stats.LiveBytes += Bytes;
    P.Threads[Sample.Thread].LiveBytesAtExit += Bytes;
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

llvm::Error fatal(std::string Message) {
  return llvm::createStringError(std::errc::invalid_argument, "%s",
                                 Message.c_str());
}

/// Merges per-process slots into site entries, attributing indirect slots.
class SiteMerger {
public:
  SiteMerger(IndirectAttributor &Attributor, Analysis &Result)
      : Attributor(Attributor), Result(Result) {}

  void addProcess(ProcessData &P, size_t ProcessIndex);
  void finish();

private:
  size_t entryFor(uint64_t Id, bool &Created);
  void describeInstrumented(SiteReport &Site, const ProcessData &P,
                            const Slot &S, uint64_t &MissingSites);

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
  if (It == P.Sites.end()) {
    ++MissingSites;
    Site.Kind = siteKindName(S.Kind);
    Site.File = "<unknown site>";
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
  Site.User = {Site.Function, Site.File, Site.Dir, Site.Line, Site.Column};
  if (Attributor.isSystemPath(Site.File))
    for (const InlineFrame &Frame : Site.InlinedAt)
      if (!Frame.File.empty() && !Attributor.isSystemPath(Frame.File)) {
        Site.User = Frame;
        break;
      }
}

void SiteMerger::addProcess(ProcessData &P, size_t ProcessIndex) {
  uint64_t MissingSites = 0, MissingStacks = 0;
  std::vector<Diagnostic> Ignored;
  for (const Slot &S : P.Slots) {
    bool Created = false;
    size_t Entry;
    if (!S.Indirect) {
      Entry = entryFor(S.Key, Created);
      if (Created)
        describeInstrumented(Result.Sites[Entry], P, S, MissingSites);
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
      }
      Result.Totals.IndirectAllocations += S.Stats.Allocations;
      Result.Totals.IndirectBytes += S.Stats.Bytes;
    }
    SiteReport &Site = Result.Sites[Entry];
    Site.Stats.add(S.Stats);
    if (!llvm::is_contained(Site.Pids, P.Pid))
      Site.Pids.push_back(P.Pid);
    for (uint32_t Thread : S.Threads)
      Threads[Entry].insert({ProcessIndex, Thread});
  }
  if (MissingSites)
    P.warn(fmt::format("pid {}: {} allocation sites have no Site record in "
                       "process.log",
                       P.Pid, MissingSites));
  if (MissingStacks)
    P.warn(fmt::format("pid {}: {} indirect stacks have no Stack record; "
                       "attributed to <uninstrumented>",
                       P.Pid, MissingStacks));
}

void SiteMerger::finish() {
  for (size_t I = 0; I < Result.Sites.size(); ++I)
    Result.Sites[I].ThreadCount = Threads[I].size();
  llvm::stable_sort(Result.Sites, [](const SiteReport &A, const SiteReport &B) {
    if (A.Stats.Bytes != B.Stats.Bytes)
      return A.Stats.Bytes > B.Stats.Bytes;
    return A.Id < B.Id;
  });
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
    Report.DurationNs = P.relative(P.End->monotonic_ns);
    Report.DroppedRecords = P.End->dropped_records;
    Report.UntrackedSamples = P.End->untracked_samples;
  } else {
    Report.DurationNs = P.LastEventNs;
  }
  Report.ThreadCount = P.Threads.size();
  Report.Stats = P.Stats;
  Report.PeakLiveBytes = P.PeakLiveBytes;
  Report.PeakLiveTimeNs = P.PeakLiveTimeNs;
  Report.UnmatchedFrees = P.UnmatchedFrees;
  return Report;
}

} // namespace

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
  llvm::stable_sort(Processes, [](const ProcessData &A, const ProcessData &B) {
    if (A.StartRealtimeNs != B.StartRealtimeNs)
      return A.StartRealtimeNs < B.StartRealtimeNs;
    return A.Pid < B.Pid;
  });

  // Stage 3: attribute and merge.
  Analysis Result;
  Result.Input = Options.InputDir;
  Symbolizer Symbols(Options.Symbolize, Diags);
  IndirectAttributor Attributor(Symbols, Options.SystemPrefixes);
  SiteMerger Merger(Attributor, Result);
  Summary &Totals = Result.Totals;
  Totals.Exact = true;
  bool HaveSampling = false, MixedSampling = false;
  uint64_t EarliestStart = UINT64_MAX, LatestEnd = 0;
  for (size_t I = 0; I < Processes.size(); ++I) {
    ProcessData &P = Processes[I];
    Progress.note("attributing pid {} ({} stacks)", P.Pid, P.Stacks.size());
    Merger.addProcess(P, I);
    Diags.append(P.Diags);

    ProcessReport Report = reportProcess(P);
    Totals.Stats.add(Report.Stats);
    Totals.ThreadCount += Report.ThreadCount;
    Totals.DroppedRecords += Report.DroppedRecords;
    Totals.UntrackedSamples += Report.UntrackedSamples;
    if (Report.PeakLiveBytes > Totals.PeakLiveBytes) {
      Totals.PeakLiveBytes = Report.PeakLiveBytes;
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
    llvm::stable_sort(P.Threads, [](const ThreadReport &A,
                                    const ThreadReport &B) {
      return std::tie(A.ThreadId, A.StartNs) < std::tie(B.ThreadId, B.StartNs);
    });
    for (ThreadReport &Thread : P.Threads)
      Result.Threads.push_back(std::move(Thread));
    Result.Processes.push_back(std::move(Report));
  }
  Merger.finish();
  if (MixedSampling)
    Diags.warning("the processes were sampled with different settings; the "
                  "summary shows the first process's");
  Totals.ProcessCount = Result.Processes.size();
  Totals.DurationNs = LatestEnd > EarliestStart ? LatestEnd - EarliestStart : 0;
  for (const Diagnostic &D : Diags.all())
    Totals.Warnings.push_back((D.Level == Severity::Error ? "error: " : "") +
                              D.Message);
  return Result;
}
