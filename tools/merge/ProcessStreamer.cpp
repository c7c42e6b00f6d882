//===-- ProcessStreamer.cpp - Streaming one process's thread logs ---------===//
//
// See ProcessStreamer.h.
//
//===----------------------------------------------------------------------===//

#include "ProcessStreamer.h"
#include "Estimates.h"

#include "memscope/abi.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Path.h"

#include <cmath>

using namespace memscope;
using namespace memscope::merge;

void memscope::merge::streamThreadLogs(ProcessData &P) {
  ProcessStreamer(P).run();
}

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
    int64_t CurrentThread, int64_t CurrentSpan, const log::ThreadEndRecord &End,
    const std::optional<log::ThreadTotals> &Totals) {
  int64_t Index = -1, SpanIndex = -1;
  if (CurrentThread >= 0) {
    uint64_t Current = P.Threads[CurrentThread].ThreadId;
    if (End.thread_id == 0 || End.thread_id == Current ||
        (Current == 0 && !ThreadById.count(End.thread_id))) {
      Index = CurrentThread;
      SpanIndex = CurrentSpan;
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
      State.Keys[Event.key] = Event;
      continue;
    }
    if (Event.key >= State.Keys.size() ||
        State.Keys[Event.key].type != log::kEventKey) {
      ++State.Malformed; // its Key was in a damaged record
      continue;
    }
    const log::DecodedEvent &Key = State.Keys[Event.key];
    State.Head.Time = Event.monotonic_ns;
    State.Head.IsFree =
        Event.type == log::kEventFree || Event.type == log::kEventFreeAddress;
    if (State.Head.IsFree)
      State.Head.Free = log::freeRecordOf(Event, Key);
    else
      State.Head.Alloc = log::allocRecordOf(Event, Key);
    return true;
  }
  return false;
}

bool ProcessStreamer::advance(FileState &State) {
  if (nextEvent(State))
    return true;
  RecordView Record;
  ThreadRecord Decoded;
  while (State.Cursor.next(Record)) {
    uint64_t Bytes = sizeof(log::RecordHeader) + Record.Payload.size();
    P.StreamedBytes += Bytes;
    if (P.BytesStreamed)
      P.BytesStreamed->fetch_add(Bytes, std::memory_order_relaxed);
    switch (decodeThreadRecord(Record, Decoded)) {
    case RecordFit::Malformed:
      ++State.Malformed;
      continue;
    case RecordFit::Misplaced:
      ++State.Misplaced;
      continue;
    case RecordFit::Decoded:
      break;
    }
    // True when the record gave the file its next event.
    bool HasEvent = std::visit(
        Overloaded{
            [&](ThreadStartInfo &Start) {
              onThreadStart(State, Start);
              return false;
            },
            [&](ThreadNameInfo &Name) {
              // Resolved once every thread's spans are known.
              P.Renames.push_back(std::move(Name));
              return false;
            },
            [&](ThreadEndInfo &End) {
              onThreadEnd(State.CurrentThread, State.CurrentSpan, End.Fixed,
                          End.Totals);
              return false;
            },
            [&](StackInfo &Stack) {
              P.Stacks.try_emplace(Stack.Id, std::move(Stack.Frames));
              return false;
            },
            [&](EventsInfo &Events) {
              State.Events.emplace(Events.Payload.data(),
                                   Events.Payload.size());
              return nextEvent(State);
            },
            [&](log::AllocRecord &Alloc) {
              State.Head.Alloc = Alloc;
              State.Head.IsFree = false;
              State.Head.Time = Alloc.monotonic_ns;
              return true;
            },
            [&](log::FreeRecord &Free) {
              State.Head.Free = Free;
              State.Head.IsFree = true;
              State.Head.Time = Free.monotonic_ns;
              return true;
            },
            [](PaddingInfo &) { return false; },
        },
        Decoded);
    if (HasEvent)
      return true;
  }
  return false;
}

uint32_t ProcessStreamer::siteStackFor(const log::AllocRecord &Alloc) {
  bool Indirect = Alloc.site_id == 0;
  bool Inserted;
  uint32_t Index;
  bool Chunk = Alloc.kind == MSC_KIND_POOL_CHUNK;
  if (Indirect) {
    // A stack that made both chunks and ordinary allocations is two entries.
    auto It = (Chunk ? PoolChunkSiteStacks : IndirectSiteStacks)
                  .try_emplace(Alloc.stack_id, P.SiteStacks.size());
    Inserted = It.second;
    Index = It.first->second;
  } else {
    auto It = InstrumentedSiteStacks.try_emplace(
        {Alloc.site_id, Alloc.stack_id}, P.SiteStacks.size());
    Inserted = It.second;
    Index = It.first->second;
  }
  if (Inserted) {
    SiteStack New;
    New.Indirect = Indirect;
    New.Key = Indirect ? Alloc.stack_id : Alloc.site_id;
    New.StackId = Indirect ? 0 : Alloc.stack_id;
    New.Kind = Indirect
                   ? uint32_t(Chunk ? MSC_KIND_POOL_CHUNK : MSC_KIND_INDIRECT)
                   : Alloc.kind;
    if (Chunk) {
      New.Class = BlockClass::PoolChunk;
    } else if (!Indirect) {
      auto Site = P.Sites.find(Alloc.site_id);
      if (Site != P.Sites.end() && Site->second.Kind == MSC_KIND_CUSTOM)
        New.Class = BlockClass::Custom;
    }
    P.SiteStackUnit.push_back(unitFor(New));
    P.SiteStacks.push_back(std::move(New));
    SiteStackLive.push_back(0);
    IsDirty.push_back(0);
    P.SiteStackPeakBytes.push_back(0);
  }
  return Index;
}

uint32_t ProcessStreamer::unitFor(const SiteStack &Entry) {
  auto NewUnit = [&] {
    UnitLive.push_back(0);
    P.UnitPeakBytes.push_back(0);
    return uint32_t(UnitLive.size() - 1);
  };
  auto Site = Entry.Indirect ? P.Sites.end() : P.Sites.find(Entry.Key);
  if (Site == P.Sites.end() || Site->second.Type.empty())
    return NewUnit();
  auto [It, Inserted] = TypeUnits.try_emplace(Site->second.Type, 0);
  if (Inserted)
    It->second = NewUnit();
  return It->second;
}

void ProcessStreamer::trackByAddress(FileState &State,
                                     const log::AllocRecord &Alloc) {
  if (!PendingAddressFrees.empty()) {
    expirePendingAddressFrees(Alloc.monotonic_ns);
    auto Pending = PendingAddressFrees.find(Alloc.address);
    if (Pending != PendingAddressFrees.end()) {
      PendingFree Free = Pending->second;
      PendingAddressFrees.erase(Pending);
      // Within the slack, and from another thread: this block's own free,
      // timed first. onAlloc pairs it as it pairs a free by sample id.
      if (Free.Thread != currentThread(State) &&
          Alloc.monotonic_ns <= Free.Time + kClockSlackNs) {
        PendingFrees[Alloc.sample_id] = Free;
        return;
      }
    }
  }
  auto [It, Inserted] = ByAddress.try_emplace(Alloc.address, Alloc.sample_id);
  if (Inserted)
    return;
  // Events come in time order: a block whose successor here was allocated
  // more than the clocks' error ago would have had its free read by now.
  // Its free was lost; so the list stays as short as the error allows, even
  // where a thread's frees all go unlogged.
  std::deque<std::pair<uint64_t, uint64_t>> &Later =
      ByAddressLater[Alloc.address];
  while (!Later.empty() &&
         Later.front().second + kClockSlackNs < Alloc.monotonic_ns) {
    retireLost(It->second, Later.front().second);
    It->second = Later.front().first;
    Later.pop_front();
  }
  Later.emplace_back(Alloc.sample_id, Alloc.monotonic_ns);
}

void ProcessStreamer::retireLost(uint64_t Id, uint64_t Time) {
  ++LostFrees;
  if (!BeforeWindow.empty() && BeforeWindow.erase(Id))
    return;
  auto It = Live.find(Id);
  if (It == Live.end())
    return;
  LiveSample Sample = It->second;
  Live.erase(It);
  release(Sample, Sample.Thread, 0, Time);
}

void ProcessStreamer::retireLostAtEnd() {
  for (auto &[Address, Later] : ByAddressLater) {
    auto It = ByAddress.find(Address);
    if (It == ByAddress.end())
      continue;
    for (auto [Id, Time] : Later) {
      retireLost(It->second, Time);
      It->second = Id;
    }
  }
  ByAddressLater.clear();
}

void ProcessStreamer::expirePendingAddressFrees(uint64_t MonotonicNs) {
  while (!PendingAddressOrder.empty() &&
         PendingAddressOrder.front().first + kClockSlackNs < MonotonicNs) {
    auto [Time, Address] = PendingAddressOrder.front();
    PendingAddressOrder.pop_front();
    auto It = PendingAddressFrees.find(Address);
    if (It != PendingAddressFrees.end() && It->second.Time == Time)
      PendingAddressFrees.erase(It);
  }
}

void ProcessStreamer::onFreeByAddress(FileState &State,
                                      const log::FreeRecord &Free) {
  if (!liveSetCanHold(Free.address))
    return;
  auto It = ByAddress.find(Free.address);
  if (It == ByAddress.end()) {
    expirePendingAddressFrees(Free.monotonic_ns);
    PendingAddressFrees[Free.address] = {currentThread(State), Free.site_id,
                                         Free.monotonic_ns};
    PendingAddressOrder.emplace_back(Free.monotonic_ns, Free.address);
    return;
  }
  auto Later = ByAddressLater.empty() ? ByAddressLater.end()
                                      : ByAddressLater.find(It->first);
  // The next block at this address was allocated once the oldest was
  // freed: a free timed later than that (and the clocks' error) is not the
  // oldest's, whose free was lost.
  while (Later != ByAddressLater.end() &&
         Free.monotonic_ns > Later->second.front().second + kClockSlackNs) {
    retireLost(It->second, Later->second.front().second);
    It->second = Later->second.front().first;
    Later->second.pop_front();
    if (Later->second.empty()) {
      ByAddressLater.erase(Later);
      Later = ByAddressLater.end();
    }
  }
  log::FreeRecord ById = Free;
  ById.sample_id = It->second;
  if (Later == ByAddressLater.end()) {
    ByAddress.erase(It);
  } else {
    It->second = Later->second.front().first;
    Later->second.pop_front();
    if (Later->second.empty())
      ByAddressLater.erase(Later);
  }
  onFree(State, ById);
}

void ProcessStreamer::onAlloc(FileState &State, const log::AllocRecord &Alloc) {
  // DenseMap keeps two keys for itself: a block named by one (a damaged or
  // crafted log) is counted and never live.
  bool ByAddr = Alloc.flags & log::AllocFreedByAddress;
  bool Holdable = liveSetCanHold(Alloc.sample_id) &&
                  (!ByAddr || liveSetCanHold(Alloc.address));
  if (ByAddr && Holdable)
    trackByAddress(State, Alloc);
  if (Alloc.monotonic_ns < P.WindowFromNs) {
    // Its free may have come first (two threads' events timed within the
    // runtime's clock error): then both are before the window.
    if (PendingFrees.empty() || !PendingFrees.erase(Alloc.sample_id))
      BeforeWindow.insert(Alloc.sample_id);
    return;
  }
  uint32_t ThreadIndex = currentThread(State);
  uint32_t SiteStackIndex = siteStackFor(Alloc);
  double Weight = Alloc.weight;
  if (!std::isfinite(Weight) || Weight <= 0) {
    ++BadWeights;
    Weight = 1;
  }
  double Bytes = Weight * double(Alloc.size);
  double BytesVariance = sampleVariance(Weight, double(Alloc.size));
  double CountVariance = sampleVariance(Weight, 1);
  // The site-stack entry, its thread's share of it, and the process keep
  // the same allocation figures (AllocationStats, SiteStackThreadStats).
  auto Add = [&](auto &Figures) {
    Figures.Allocations += Weight;
    Figures.Bytes += Bytes;
    Figures.AllocationsVariance += CountVariance;
    Figures.BytesVariance += BytesVariance;
    Figures.SampledBytes += double(Alloc.size);
    ++Figures.Samples;
  };
  SiteStack &S = P.SiteStacks[SiteStackIndex];
  if (P.WantSeries) {
    ProcessData::SeriesChange &Change =
        seriesEntry(SiteStackIndex, ThreadIndex);
    Change.Allocations += Weight;
    Change.Bytes += Bytes;
  }
  Add(S.Stats);
  Add(S.PerThread[ThreadIndex]);
  if (S.counted()) {
    Add(P.Stats);
    ThreadReport &Thread = P.Threads[ThreadIndex];
    Thread.Allocations += Weight;
    Thread.Bytes += Bytes;
    ++Thread.Samples;
  }
  if (S.inHeap())
    P.Overhead.add(Alloc.size, Weight);

  // The runtime could not track this block, so its free is never logged:
  // it must count neither as live at exit nor towards the peak.
  if (Alloc.flags & log::AllocUntracked)
    return;
  if (!Holdable) {
    ++UnholdableIds; // counted above, never live
    return;
  }
  LiveSample Sample{SiteStackIndex, ThreadIndex, Weight, Alloc.size,
                    Alloc.monotonic_ns};
  beforeLiveChange(Alloc.monotonic_ns);
  auto Pending = PendingFrees.find(Alloc.sample_id);
  if (Pending != PendingFrees.end()) {
    changeLive(Sample, 1);
    release(Sample, Pending->second.Thread, Pending->second.Site,
            Pending->second.Time);
    PendingFrees.erase(Pending);
    return;
  }
  auto [It, Inserted] = Live.try_emplace(Alloc.sample_id, Sample);
  if (!Inserted) {
    // A reused sample id: the older sample's free was lost. Forget it.
    ++DuplicateSamples;
    changeLive(It->second, -1);
    It->second = Sample;
  }
  changeLive(Sample, 1);
  if (LiveBytes > P.PeakLiveBytes) {
    P.PeakLiveBytes = LiveBytes;
    P.PeakLiveBytesVariance = LiveVariance;
    P.PeakLiveBytesObserved = LiveObserved;
    P.PeakLiveTimeNs = P.relative(Alloc.monotonic_ns);
    PeakPending = PeakPending || !CountedPeakNs;
  }
  afterLiveChange(Alloc.monotonic_ns);
  notePoint(Alloc.monotonic_ns);
}

void ProcessStreamer::changeSiteStackLive(uint32_t Index, double Delta) {
  SiteStackLive[Index] += Delta;
  uint32_t Unit = P.SiteStackUnit[Index];
  UnitLive[Unit] += Delta;
  P.UnitPeakBytes[Unit] = std::max(P.UnitPeakBytes[Unit], UnitLive[Unit]);
  if (!IsDirty[Index]) {
    IsDirty[Index] = 1;
    Dirty.push_back(Index);
  }
}

void ProcessStreamer::snapshotPeak() {
  for (uint32_t Index : Dirty) {
    P.SiteStackPeakBytes[Index] = SiteStackLive[Index];
    IsDirty[Index] = 0;
  }
  Dirty.clear();
  P.PeakOverhead = LiveOverhead;
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

void ProcessStreamer::changeLive(const LiveSample &Sample, double Sign) {
  double Bytes = Sample.Weight * double(Sample.Size);
  changeSiteStackLive(Sample.SiteStack, Sign * Bytes);
  if (P.WantSeries) {
    ProcessData::SeriesChange &Change =
        seriesEntry(Sample.SiteStack, Sample.Thread);
    Change.LiveAllocations += Sign * Sample.Weight;
    Change.LiveBytes += Sign * Bytes;
  }
  if (!P.SiteStacks[Sample.SiteStack].inHeap())
    return; // a custom object, inside a pool chunk
  LiveBytes += Sign * Bytes;
  LiveVariance += Sign * sampleVariance(Sample.Weight, double(Sample.Size));
  LiveObserved += Sign * double(Sample.Size);
  LiveOverhead.add(Sample.Size, Sign * Sample.Weight);
  LiveBlocks += Sign * Sample.Weight;
}

void ProcessStreamer::release(const LiveSample &Sample, uint32_t FreeThread,
                              uint64_t FreeSite, uint64_t FreeTime) {
  double Bytes = Sample.Weight * double(Sample.Size);
  AllocationStats &Stats = P.SiteStacks[Sample.SiteStack].Stats;
  Stats.Frees += Sample.Weight;
  Stats.FreedBytes += Bytes;
  // A Free read before its Alloc has the same timestamp: a lifetime of 0.
  uint64_t Lifetime = FreeTime > Sample.Time ? FreeTime - Sample.Time : 0;
  Stats.LifetimeNs += Sample.Weight * double(Lifetime);
  ++Stats.FreedSamples;
  if (P.SiteStacks[Sample.SiteStack].counted()) {
    P.Stats.Frees += Sample.Weight;
    P.Stats.FreedBytes += Bytes;
  }
  beforeLiveChange(FreeTime);
  changeLive(Sample, -1);
  afterLiveChange(FreeTime);
  if (FreeThread != Sample.Thread) {
    CrossStat &BySiteStack = P.CrossBySiteStack[{Sample.SiteStack, FreeSite}];
    BySiteStack.Frees += Sample.Weight;
    BySiteStack.Bytes += Bytes;
    CrossStat &ByThread = P.CrossByThread[{Sample.Thread, FreeThread}];
    ByThread.Frees += Sample.Weight;
    ByThread.Bytes += Bytes;
  }
}

void ProcessStreamer::onFree(FileState &State, const log::FreeRecord &Free) {
  // A free by address has no sample id (a Free naming id 0 and no address
  // is a damaged one: unmatched below).
  if (!Free.sample_id && Free.address)
    return onFreeByAddress(State, Free);
  if (!BeforeWindow.empty() && BeforeWindow.erase(Free.sample_id))
    return;
  if (!liveSetCanHold(Free.sample_id)) {
    ++UnholdableIds;
    return;
  }
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
  if (P.Heap && !P.exactThroughout())
    CountedPeakNs = std::max<uint64_t>(P.Heap->peak_monotonic_ns, 1);
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
  // By time (numbers are given as records are made, and two made at once
  // may be written in either order).
  llvm::sort(P.Snapshots,
             [](const log::SnapshotRecord &A, const log::SnapshotRecord &B) {
               return std::tie(A.monotonic_ns, A.number) <
                      std::tie(B.monotonic_ns, B.number);
             });
  P.SnapshotLive.assign(P.Snapshots.size(), {});
  while (!Queue.empty()) {
    size_t Index = Queue.top();
    Queue.pop();
    FileState &State = Files[Index];
    // A thread's events come in runs (it ran while the others waited): its
    // file stays out of the queue for as long as its next event still comes
    // first, which keeps the order the queue gives.
    bool More;
    do {
      P.LastEventNs = std::max(P.LastEventNs, P.relative(State.Head.Time));
      takeSnapshotsBefore(State.Head.Time);
      // --to: what happens after the window is not part of the report.
      if (State.Head.Time <= P.WindowToNs) {
        if (State.Head.IsFree)
          onFree(State, State.Head.Free);
        else
          onAlloc(State, State.Head.Alloc);
      } else if (!State.Head.IsFree && !PendingFrees.empty()) {
        // An allocation after the window whose free was timed just before
        // its end: neither is part of the report.
        PendingFrees.erase(State.Head.Alloc.sample_id);
      }
      More = advance(State);
    } while (More && (Queue.empty() || !Later(Index, Queue.top())));
    if (More)
      Queue.push(Index);
  }
  takeSnapshotsBefore(UINT64_MAX);
  retireLostAtEnd();
  finish();
  // Blocks live at the end stay in the live set: no change to add.
  if (P.WantSeries)
    addSeriesPoint(P.End ? P.End->monotonic_ns
                         : P.StartMonotonicNs + P.LastEventNs,
                   std::nullopt);
}

void ProcessStreamer::takeSnapshotsBefore(uint64_t MonotonicNs) {
  for (; NextSnapshot < P.Snapshots.size() &&
         P.Snapshots[NextSnapshot].monotonic_ns < MonotonicNs;
       ++NextSnapshot) {
    if (P.WantSeries)
      addSeriesPoint(P.Snapshots[NextSnapshot].monotonic_ns,
                     P.Snapshots[NextSnapshot].number);
    P.SnapshotLive[NextSnapshot] = {LiveBytes, LiveBlocks, LiveVariance,
                                    LiveObserved};
  }
}

void ProcessStreamer::addSeriesPoint(uint64_t MonotonicNs,
                                     std::optional<uint64_t> Snapshot) {
  ProcessData::SeriesPoint Point;
  Point.MonotonicNs = MonotonicNs;
  Point.Snapshot = Snapshot;
  Point.Changes.reserve(SeriesPending.size());
  for (const auto &Item : SeriesPending)
    Point.Changes.push_back(Item.second);
  // In a fixed order (the map's is not).
  llvm::sort(Point.Changes, [](const ProcessData::SeriesChange &A,
                               const ProcessData::SeriesChange &B) {
    return std::tie(A.SiteStack, A.Thread) < std::tie(B.SiteStack, B.Thread);
  });
  SeriesPending.clear();
  P.Series.push_back(std::move(Point));
}
