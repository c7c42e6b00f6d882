//===-- ProcessStreamer.cpp - Streaming one process's thread logs ---------===//
//
// See ProcessStreamer.h.
//
//===----------------------------------------------------------------------===//

#include "ProcessStreamer.h"
#include "Estimates.h"

#include "memscope/abi.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Compiler.h"
#include "llvm/Support/Path.h"

#include <algorithm>
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

uint32_t ProcessStreamer::unknownThread(FileState &State) {
  // The ThreadStart record was lost; keep the samples anyway.
  P.warn(fmt::format("{}: records before the first ThreadStart are "
                     "attributed to an unknown thread",
                     State.File->Path));
  uint32_t Index = newThread();
  P.Threads[Index].Name = fmt::format(
      "<unknown thread in {}>", llvm::sys::path::filename(State.File->Path));
  P.ThreadStates[Index].Spans.push_back(
      {P.relative(State.Head->Time), std::nullopt});
  State.CurrentThread = Index;
  State.CurrentSpan = 0;
  return Index;
}

bool ProcessStreamer::advanceSlow(FileState &State) {
  for (;;) {
    DecodedBatch &Batch = State.Batches[State.Current];
    while (State.NextRecord < Batch.Records.size() &&
           Batch.Records[State.NextRecord].first <= State.NextEvent)
      applyRecord(State, Batch.Records[State.NextRecord++].second);
    if (State.NextEvent < Batch.Events.size()) {
      State.Head = &Batch.Events[State.NextEvent++];
      return true;
    }
    State.Head = nullptr;
    if (Batch.End)
      return false;
    nextBatch(State);
  }
}

void ProcessStreamer::nextBatch(FileState &State) {
  unsigned Next = 1 - State.Current;
  DecodedBatch &Batch = State.Batches[Next];
  if (Ahead)
    Ahead->wait(Batch);
  else
    State.Decoder.decode(Batch, BatchEvents, P.BytesStreamed);
  P.StreamedBytes += Batch.Bytes;
  State.Malformed += Batch.Malformed;
  State.Misplaced += Batch.Misplaced;
  State.Current = Next;
  State.NextEvent = State.NextRecord = 0;
  // The batch just read is done with: the one after this goes there.
  if (Ahead && !Batch.End)
    Ahead->request(State.Decoder, State.Batches[1 - Next], BatchEvents,
                   P.BytesStreamed);
}

void ProcessStreamer::applyRecord(FileState &State, ThreadRecord &Record) {
  std::visit(Overloaded{
                 [&](ThreadStartInfo &Start) { onThreadStart(State, Start); },
                 [&](ThreadNameInfo &Name) {
                   // Resolved once every thread's spans are known.
                   P.Renames.push_back(std::move(Name));
                 },
                 [&](ThreadEndInfo &End) {
                   onThreadEnd(State.CurrentThread, State.CurrentSpan,
                               End.Fixed, End.Totals);
                 },
                 [&](StackInfo &Stack) {
                   P.Stacks.try_emplace(Stack.Id, std::move(Stack.Frames));
                 },
                 // The decoder keeps events and padding to itself.
                 [](auto &) {},
             },
             Record);
}

uint32_t ProcessStreamer::siteStackFor(const log::AllocRecord &Alloc) {
  bool Indirect = Alloc.site_id == 0;
  bool Inserted;
  uint32_t Index;
  bool Chunk = Alloc.kind == MSC_KIND_POOL_CHUNK;
  // The maps below key an instrumented site's entries by (site, stack) alone.
  bool ChunkKey = Indirect && Chunk;
  SiteStackCacheEntry &Cached =
      SiteStackCache[((Alloc.site_id ^ Alloc.stack_id * 0x9E3779B97F4A7C15ull ^
                       ChunkKey) *
                      0xBF58476D1CE4E5B9ull) >>
                     56];
  if (Cached.Index != UINT32_MAX && Cached.Site == Alloc.site_id &&
      Cached.Stack == Alloc.stack_id && Cached.Chunk == ChunkKey)
    return Cached.Index;
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
  Cached = {Alloc.site_id, Alloc.stack_id, ChunkKey, Index};
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

std::optional<ProcessStreamer::PendingFree>
ProcessStreamer::claimAddressFree(FileState &State,
                                  const log::AllocRecord &Alloc) {
  if (PendingAddressFrees.empty())
    return std::nullopt;
  expirePendingAddressFrees(Alloc.monotonic_ns);
  auto Pending = PendingAddressFrees.find(Alloc.address);
  if (Pending == PendingAddressFrees.end())
    return std::nullopt;
  PendingFree Free = Pending->second;
  PendingAddressFrees.erase(Pending);
  // Within the slack, and from another thread: this block's own free, timed
  // first.
  if (Free.Thread != currentThread(State) &&
      Alloc.monotonic_ns <= Free.Time + kClockSlackNs)
    return Free;
  return std::nullopt;
}

void ProcessStreamer::trackByAddress(uint64_t Address,
                                     const AddressBlock &Block) {
  auto [It, Inserted] = ByAddress.try_emplace(Address, Block);
  if (Inserted)
    return;
  if (It->second.Vacant) {
    It->second = Block;
    --VacantByAddress;
  } else {
    ByAddressLater[Address].push_back(Block);
  }
}

void ProcessStreamer::compactByAddress() {
  llvm::DenseMap<uint64_t, AddressBlock, SampleIdInfo> Kept;
  Kept.reserve(ByAddress.size() - VacantByAddress);
  for (const auto &[Address, Block] : ByAddress)
    if (!Block.Vacant)
      Kept.try_emplace(Address, Block);
  ByAddress = std::move(Kept);
  VacantByAddress = 0;
}

void ProcessStreamer::retireLostAt(uint64_t Address, uint64_t MonotonicNs) {
  auto Later = ByAddressLater.find(Address);
  if (Later == ByAddressLater.end())
    return;
  auto It = ByAddress.find(Address); // there whenever later blocks are
  if (It == ByAddress.end() || It->second.Vacant)
    return;
  // Events come in time order: a block whose successor here was allocated
  // more than the clocks' error ago would have had its free read by now.
  // Its free was lost; so the list stays as short as the error allows, even
  // where a thread's frees all go unlogged.
  std::deque<AddressBlock> &Blocks = Later->second;
  while (!Blocks.empty() &&
         Blocks.front().Sample.Time + kClockSlackNs < MonotonicNs) {
    retireLost(It->second, Blocks.front().Sample.Time);
    It->second = Blocks.front();
    Blocks.pop_front();
  }
  if (Blocks.empty())
    ByAddressLater.erase(Later);
}

void ProcessStreamer::retireLost(const AddressBlock &Block, uint64_t Time) {
  ++LostFrees;
  if (!Block.BeforeWindow)
    release(Block.Sample, Block.Sample.Thread, 0, Time);
}

void ProcessStreamer::retireLostAtEnd() {
  for (auto &[Address, Later] : ByAddressLater) {
    auto It = ByAddress.find(Address);
    if (It == ByAddress.end() || It->second.Vacant)
      continue;
    for (const AddressBlock &Block : Later) {
      retireLost(It->second, Block.Sample.Time);
      It->second = Block;
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
  if (!liveSetCanHold(Free.address)) {
    ++UnholdableIds; // its block was never live
    return;
  }
  auto It = ByAddress.find(Free.address);
  if (It == ByAddress.end() || It->second.Vacant) {
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
         Free.monotonic_ns >
             Later->second.front().Sample.Time + kClockSlackNs) {
    retireLost(It->second, Later->second.front().Sample.Time);
    It->second = Later->second.front();
    Later->second.pop_front();
    if (Later->second.empty()) {
      ByAddressLater.erase(Later);
      Later = ByAddressLater.end();
    }
  }
  AddressBlock Block = It->second;
  if (Later == ByAddressLater.end()) {
    It->second.Vacant = true;
    if (++VacantByAddress > std::max<size_t>(ByAddress.size() / 2, 4096))
      compactByAddress();
  } else {
    It->second = Later->second.front();
    Later->second.pop_front();
    if (Later->second.empty())
      ByAddressLater.erase(Later);
  }
  if (Block.BeforeWindow)
    return;
  release(Block.Sample, currentThread(State), Free.site_id, Free.monotonic_ns);
  notePoint(Free.monotonic_ns);
}

void ProcessStreamer::onAlloc(FileState &State, const log::AllocRecord &Alloc) {
  // DenseMap keeps two keys for itself: a block named by one (a damaged or
  // crafted log) is counted and never live.
  bool ByAddr = Alloc.flags & log::AllocFreedByAddress;
  bool Holdable = liveSetCanHold(ByAddr ? Alloc.address : Alloc.sample_id);
  // Its free by address, timed first on another thread.
  std::optional<PendingFree> FreedFirst;
  if (ByAddr && Holdable) {
    FreedFirst = claimAddressFree(State, Alloc);
    // The blocks this one shows freed leave first, at their successors'
    // times: before the live set changes for this block (the peak's
    // snapshot must not see it with them).
    if (!FreedFirst && !ByAddressLater.empty())
      retireLostAt(Alloc.address, Alloc.monotonic_ns);
  }
  if (Alloc.monotonic_ns < P.WindowFromNs) {
    // Its free may have come first (two threads' events timed within the
    // runtime's clock error): then both are before the window.
    if (ByAddr) {
      if (Holdable && !FreedFirst)
        trackByAddress(Alloc.address, {{0, 0, 0, 0, Alloc.monotonic_ns}, true});
    } else if (PendingFrees.empty() || !PendingFrees.erase(Alloc.sample_id)) {
      BeforeWindow.insert(Alloc.sample_id);
    }
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
  if (!ByAddr && !PendingFrees.empty()) {
    auto Pending = PendingFrees.find(Alloc.sample_id);
    if (Pending != PendingFrees.end()) {
      FreedFirst = Pending->second;
      PendingFrees.erase(Pending);
    }
  }
  if (FreedFirst) {
    changeLive(Sample, 1);
    release(Sample, FreedFirst->Thread, FreedFirst->Site, FreedFirst->Time);
    return;
  }
  if (ByAddr) {
    trackByAddress(Alloc.address, {Sample, false});
  } else {
    auto [It, Inserted] = Live.try_emplace(Alloc.sample_id, Sample);
    if (!Inserted) {
      // A reused sample id: the older sample's free was lost. Forget it.
      ++DuplicateSamples;
      changeLive(It->second, -1);
      It->second = Sample;
    }
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
  // Mostly the bucket of the event before.
  if (!Points.empty() && Time >= Points.back().TimeNs &&
      Time - Points.back().TimeNs < P.LiveBucketNs) {
    Points.back().MaxBytes = std::max(Points.back().MaxBytes, LiveBytes);
    Points.back().LastBytes = LiveBytes;
    return;
  }
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
      Files.emplace_back(File);
  BatchEvents =
      P.BatchEvents
          ? P.BatchEvents
          : std::clamp<size_t>((size_t(32) << 20) /
                                   (2 * sizeof(StreamEvent) *
                                    std::max<size_t>(Files.size(), 1)),
                               64, 4096);
  if (P.DecodeAhead && !Files.empty()) {
    Ahead.emplace();
    for (FileState &State : Files)
      Ahead->request(State.Decoder, State.Batches[0], BatchEvents,
                     P.BytesStreamed);
  }

  // Min-heap on (time, free after alloc, file order): deterministic, and an
  // alloc and its free stamped in the same nanosecond stay in order.
  auto Later = [this](size_t A, size_t B) {
    const StreamEvent &EA = *Files[A].Head, &EB = *Files[B].Head;
    if (EA.Time != EB.Time)
      return EA.Time > EB.Time;
    if (EA.IsFree != EB.IsFree)
      return EA.IsFree;
    return A > B;
  };
  // A heap of the files with events left, the earliest head at the root.
  std::vector<size_t> Heap;
  for (size_t I = 0; I < Files.size(); ++I)
    if (advance(Files[I]))
      Heap.push_back(I);
  std::make_heap(Heap.begin(), Heap.end(), Later);
  // The root's file has a new head: it sinks to its place, one pass where
  // a pop and a push take two.
  auto SinkRoot = [&] {
    size_t At = 0, Root = Heap[0];
    for (size_t Child; (Child = 2 * At + 1) < Heap.size(); At = Child) {
      if (Child + 1 < Heap.size() && Later(Heap[Child], Heap[Child + 1]))
        ++Child;
      if (!Later(Root, Heap[Child]))
        break;
      Heap[At] = Heap[Child];
    }
    Heap[At] = Root;
  };
  // The file whose head comes after the root's: the earlier of its children.
  auto Next = [&] {
    return Heap.size() > 2 && Later(Heap[1], Heap[2]) ? Heap[2] : Heap[1];
  };
  // By time (numbers are given as records are made, and two made at once
  // may be written in either order).
  llvm::sort(P.Snapshots,
             [](const log::SnapshotRecord &A, const log::SnapshotRecord &B) {
               return std::tie(A.monotonic_ns, A.number) <
                      std::tie(B.monotonic_ns, B.number);
             });
  P.SnapshotLive.assign(P.Snapshots.size(), {});
  // Per event, only compares: the latest event time and the next
  // snapshot's are kept here, and folded in after the loop or when passed.
  uint64_t LastTime = 0;
  auto NextSnapshotNs = [&] {
    return NextSnapshot < P.Snapshots.size()
               ? P.Snapshots[NextSnapshot].monotonic_ns
               : UINT64_MAX;
  };
  uint64_t SnapshotNs = NextSnapshotNs();
  while (!Heap.empty()) {
    size_t Index = Heap[0];
    FileState &State = Files[Index];
    // A thread's events come in runs (it ran while the others waited): its
    // file stays at the root for as long as its next event still comes
    // first. The file that comes next meanwhile (its head does not move)
    // is found once per run.
    size_t Rival = Heap.size() > 1 ? Next() : Index;
    bool More;
    do {
      const StreamEvent &Event = *State.Head;
      LastTime = std::max(LastTime, Event.Time);
      if (LLVM_UNLIKELY(SnapshotNs < Event.Time)) {
        takeSnapshotsBefore(Event.Time);
        SnapshotNs = NextSnapshotNs();
      }
      // --to: what happens after the window is not part of the report.
      if (Event.Time <= P.WindowToNs) {
        if (Event.IsFree)
          onFree(State, Event.Free);
        else
          onAlloc(State, Event.Alloc);
      } else if (!Event.IsFree && !PendingFrees.empty()) {
        // An allocation after the window whose free was timed just before
        // its end: neither is part of the report.
        PendingFrees.erase(Event.Alloc.sample_id);
      }
      More = advance(State);
    } while (More && (Rival == Index || !Later(Index, Rival)));
    if (!More) {
      Heap[0] = Heap.back();
      Heap.pop_back();
    }
    if (!Heap.empty())
      SinkRoot();
  }
  P.LastEventNs = std::max(P.LastEventNs, P.relative(LastTime));
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
