//===-- ProcessStreamer.h - Streaming one process's thread logs -*- C++ -*-===//
//
// A k-way merge of the thread logs of one process in monotonic time order
// (each log is already in order; at equal times allocations go first): the
// live set of sampled blocks, the peak, the timeline and each site-stack
// entry's and thread's figures. Memory is bounded by sites, stacks and live
// samples, never by the number of events. ThreadLogDecoder.h reads each log
// in batches, ahead of the stream where a core is free; ProcessStreamer.cpp
// has the stream, ProcessStreamerFinish.cpp the end of it (threads' spans,
// names and totals, blocks live at exit).
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_PROCESSSTREAMER_H
#define MEMSCOPE_MERGE_PROCESSSTREAMER_H

#include "ProcessModel.h"
#include "ThreadLogDecoder.h"

#include "llvm/ADT/DenseMap.h"

#include <array>
#include <deque>
#include <unordered_set>

namespace memscope {
namespace merge {

/// Streams the thread logs of one process in time order.
class ProcessStreamer {
public:
  explicit ProcessStreamer(ProcessData &P) : P(P) {}
  void run();

private:
  struct FileState {
    explicit FileState(const LogFile &File) : File(&File), Decoder(File) {}
    const LogFile *File;
    ThreadLogDecoder Decoder;
    int64_t CurrentThread = -1;
    int64_t CurrentSpan = -1; // in ThreadStates[CurrentThread].Spans
    /// The batch being read, and the next (decoding ahead, or to decode).
    /// Before the first, the one being read is an empty one.
    DecodedBatch Batches[2];
    unsigned Current = 1;
    size_t NextEvent = 0;  // in Batches[Current].Events
    size_t NextRecord = 0; // in Batches[Current].Records
    /// The file's next event, in Batches[Current].
    const StreamEvent *Head = nullptr;
    uint64_t Malformed = 0;
    uint64_t Misplaced = 0;
  };
  struct LiveSample {
    uint32_t SiteStack;
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
  /// A block exact mode frees by address (log::AllocFreedByAddress). Its
  /// sample id plays no part: the address finds it.
  struct AddressBlock {
    LiveSample Sample; // Time only, when BeforeWindow
    /// Allocated before --from: its free is not part of the report.
    bool BeforeWindow;
    /// Freed: the address holds no block (ByAddress's comment says why the
    /// entry stays).
    bool Vacant = false;
  };
  /// How far apart two threads' events may be timed in the wrong order: the
  /// runtime's unfenced TSC reads run up to about a cache miss early
  /// (readTsc), 10x that.
  static constexpr uint64_t kClockSlackNs = 1000;

  /// Handles bookkeeping records up to the next Alloc/Free; false at EOF.
  /// Inline for the common case, the batch's next event with no record
  /// before it; advanceSlow handles records and the next batch.
  bool advance(FileState &State) {
    DecodedBatch &Batch = State.Batches[State.Current];
    if (State.NextEvent < Batch.Events.size() &&
        (State.NextRecord == Batch.Records.size() ||
         Batch.Records[State.NextRecord].first > State.NextEvent)) {
      State.Head = &Batch.Events[State.NextEvent++];
      return true;
    }
    return advanceSlow(State);
  }
  bool advanceSlow(FileState &State);
  /// A record of a thread log other than an event.
  void applyRecord(FileState &State, ThreadRecord &Record);
  /// Moves on to the file's next batch, and has the one after decoded.
  void nextBatch(FileState &State);
  uint32_t newThread();
  void onThreadStart(FileState &State, const ThreadStartInfo &Start);
  void applyExactTotals();
  /// A ThreadEnd read while \p CurrentThread's span \p CurrentSpan was
  /// open in its file (-1: none, as for the ThreadEnd records of
  /// process.log).
  void onThreadEnd(int64_t CurrentThread, int64_t CurrentSpan,
                   const log::ThreadEndRecord &End,
                   const std::optional<log::ThreadTotals> &Totals);
  uint32_t currentThread(FileState &State) {
    return State.CurrentThread >= 0 ? State.CurrentThread
                                    : unknownThread(State);
  }
  /// A file's events before its first ThreadStart: a thread of their own.
  uint32_t unknownThread(FileState &State);
  uint32_t siteStackFor(const log::AllocRecord &Alloc);
  uint32_t unitFor(const SiteStack &Entry);
  void onAlloc(FileState &State, const log::AllocRecord &Alloc);
  void onFree(FileState &State, const log::FreeRecord &Free);
  /// A free by address (sample id 0): the oldest block live at the address.
  void onFreeByAddress(FileState &State, const log::FreeRecord &Free);
  /// A free by address timed just before \p Alloc on another thread, which
  /// is then its block's own (the unfenced clocks' error), if there is one.
  std::optional<PendingFree> claimAddressFree(FileState &State,
                                              const log::AllocRecord &Alloc);
  /// A block whose free will name \p Address: the next free of the address
  /// after the blocks live there takes it.
  void trackByAddress(uint64_t Address, const AddressBlock &Block);
  /// A block is allocated at \p Address at \p MonotonicNs: the blocks there
  /// whose successors came more than the clocks' error before were freed,
  /// their frees lost (retireLost).
  void retireLostAt(uint64_t Address, uint64_t MonotonicNs);
  /// Forgets the frees by address that no allocation can still claim.
  void expirePendingAddressFrees(uint64_t MonotonicNs);
  /// \p Block was freed by \p Time, unlogged: it counts freed then.
  void retireLost(const AddressBlock &Block, uint64_t Time);
  /// At the end: every block at an address but the last there was freed.
  void retireLostAtEnd();
  /// Adds a block live at exit to its site-stack entry's, its thread's and
  /// the process's figures.
  void countLiveAtExit(const LiveSample &Sample);
  void release(const LiveSample &Sample, uint32_t FreeThread, uint64_t FreeSite,
               uint64_t FreeTime);
  /// Adds a sample to the live set's sums (\p Sign 1) or takes it out (-1).
  void changeLive(const LiveSample &Sample, double Sign);
  void finish();
  void finishThreads();
  void applyRenames();
  /// Live bytes of site-stack entry Index change by Delta (after LiveBytes
  /// changed).
  void changeSiteStackLive(uint32_t Index, double Delta);
  /// Copies the live bytes of every site-stack entry changed since the last
  /// snapshot.
  void snapshotPeak();
  void notePoint(uint64_t MonotonicNs);

  struct SiteStackHash {
    size_t operator()(const std::pair<uint64_t, uint64_t> &Key) const {
      return std::hash<uint64_t>()(Key.first * 0x9E3779B97F4A7C15ull ^
                                   Key.second);
    }
  };

  ProcessData &P;
  std::vector<FileState> Files; // reserved: DecodeAhead holds pointers
  /// Events per batch: fewer when there are many files, so that two
  /// batches a file stay within a few tens of MiB.
  size_t BatchEvents = 0;
  /// After Files, so that it stops before they go.
  std::optional<DecodeAhead> Ahead;
  /// The site-stack entries looked up last, direct-mapped by key: a
  /// program's allocations come from few (site, stack) pairs, and a probe
  /// here costs a fraction of one of the maps below. Chunk: a pool chunk's
  /// indirect entry (site 0), which is not the same stack's other one.
  struct SiteStackCacheEntry {
    uint64_t Site = 0;
    uint64_t Stack = 0;
    bool Chunk = false;
    uint32_t Index = UINT32_MAX; // none
  };
  std::array<SiteStackCacheEntry, 256> SiteStackCache;
  /// By (site id, stack id).
  std::unordered_map<std::pair<uint64_t, uint64_t>, uint32_t, SiteStackHash>
      InstrumentedSiteStacks;
  std::unordered_map<uint64_t, uint32_t> IndirectSiteStacks;
  std::unordered_map<uint64_t, uint32_t> PoolChunkSiteStacks; // by stack
  std::unordered_map<uint64_t, uint32_t> ThreadById;
  /// Sample ids are (thread << 40 | sequence): DenseMap's own hash of a
  /// uint64_t (x * 37, truncated to 32 bits) drops the thread, so that the
  /// threads' n-th samples all collide.
  struct SampleIdInfo : llvm::DenseMapInfo<uint64_t> {
    static unsigned getHashValue(uint64_t Id) {
      return unsigned((Id * 0x9E3779B97F4A7C15ull) >> 32);
    }
  };
  /// Live samples by sample id (exact mode's blocks freed by address are in
  /// ByAddress). A DenseMap: an unordered_map's node per block was a fifth
  /// of the streaming's time on exact-mode logs.
  llvm::DenseMap<uint64_t, LiveSample, SampleIdInfo> Live;
  /// DenseMap keeps two keys for itself (its empty and deleted marks); a
  /// damaged or crafted log may still name them.
  static bool liveSetCanHold(uint64_t Id) {
    return Id != SampleIdInfo::getEmptyKey() &&
           Id != SampleIdInfo::getTombstoneKey();
  }
  std::unordered_map<uint64_t, PendingFree> PendingFrees;
  /// Exact mode's live blocks by address, not in Live: the oldest live
  /// there, and the others in order. Others only while a free and the
  /// allocation that reused its address are timed in the wrong order, or
  /// where a free was lost. One lookup per event, where a map from address
  /// to sample id and Live took two.
  ///
  /// A free leaves its entry behind, vacant, rather than erase it: glibc
  /// hands a freed address out again soon, and a DenseMap's erase leaves a
  /// tombstone that lookups then step over (on exact-mode logs, most of the
  /// inserts' probes). The next block at that address takes the entry back;
  /// when vacant entries outnumber the live ones (and number over 4,096),
  /// compactByAddress drops them.
  llvm::DenseMap<uint64_t, AddressBlock, SampleIdInfo> ByAddress;
  size_t VacantByAddress = 0;
  void compactByAddress();
  llvm::DenseMap<uint64_t, std::deque<AddressBlock>, SampleIdInfo>
      ByAddressLater;
  /// Blocks whose free by address was not logged: another block was
  /// allocated at their address, so they were freed by then.
  uint64_t LostFrees = 0;
  /// Frees by address that found no block, for kClockSlackNs: a block
  /// allocated on another thread and freed at once may be timed after its
  /// free. Any other is the free of a block allocated before recording.
  llvm::DenseMap<uint64_t, PendingFree, SampleIdInfo> PendingAddressFrees;
  std::deque<std::pair<uint64_t, uint64_t>> PendingAddressOrder; // time, addr
  double LiveBytes = 0;
  double LiveVariance = 0;    // of LiveBytes (Estimates.h)
  double LiveObserved = 0;    // the live samples' own bytes
  OverheadTally LiveOverhead; // their glibc overhead, weighted like counts
  double LiveBlocks = 0;      // the blocks they stand for
  /// Live bytes per site-stack entry now; the site-stack entries changed since
  /// the last peak snapshot, so that taking one costs what changed, not every
  /// site-stack entry.
  std::vector<double> SiteStackLive;
  /// Live bytes per type unit now (ProcessData::SiteStackUnit), and the unit
  /// of each known type.
  std::vector<double> UnitLive;
  std::unordered_map<std::string, uint32_t> TypeUnits;
  std::vector<uint32_t> Dirty;
  std::vector<uint8_t> IsDirty;
  /// A new peak was reached and not yet copied to P.SiteStackPeakBytes.
  bool PeakPending = false;
  /// When the runtime counted the peak (ProcessData::Heap), the time it
  /// reached it: P.SiteStackPeakBytes are then the sampled blocks live at that
  /// moment, not at the sampled curve's maximum. 0 when not counted.
  uint64_t CountedPeakNs = 0;
  /// An event at \p MonotonicNs is about to change the live set.
  void beforeLiveChange(uint64_t MonotonicNs) {
    if (PeakPending && (!CountedPeakNs || MonotonicNs > CountedPeakNs))
      snapshotPeak();
  }
  /// It changed it: the state now is the counted peak's, so far.
  void afterLiveChange(uint64_t MonotonicNs) {
    if (CountedPeakNs && MonotonicNs <= CountedPeakNs)
      PeakPending = true;
  }
  /// The live sums at the snapshots before \p MonotonicNs not yet taken.
  void takeSnapshotsBefore(uint64_t MonotonicNs);
  size_t NextSnapshot = 0; // in P.Snapshots, by time
  /// --pprof-series: the changes since the last series point, by
  /// (site-stack entry << 32 | thread).
  std::unordered_map<uint64_t, ProcessData::SeriesChange> SeriesPending;
  ProcessData::SeriesChange &seriesEntry(uint32_t SiteStack, uint32_t Thread) {
    ProcessData::SeriesChange &Entry =
        SeriesPending[uint64_t(SiteStack) << 32 | Thread];
    Entry.SiteStack = SiteStack;
    Entry.Thread = Thread;
    return Entry;
  }
  /// Ends the series interval at \p MonotonicNs.
  void addSeriesPoint(uint64_t MonotonicNs, std::optional<uint64_t> Snapshot);
  /// --from: samples allocated before the window, whose frees are ignored.
  std::unordered_set<uint64_t> BeforeWindow;
  uint64_t DuplicateSamples = 0;
  uint64_t BadWeights = 0;
  /// Records naming a sample id (or, freed by address, an address) that
  /// liveSetCanHold refuses.
  uint64_t UnholdableIds = 0;
  uint64_t StrayThreadEnds = 0;
};

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_PROCESSSTREAMER_H
