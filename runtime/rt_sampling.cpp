//===-- rt_sampling.cpp - Sampling decisions and the live-block table ----===//
//
// Byte sampling is a Poisson process over allocated bytes, as in TCMalloc
// and heapprofd: each thread counts down an exponentially distributed number
// of bytes (mean sample_interval) and samples the allocation that crosses
// zero. An allocation of n bytes is then sampled with probability
// p = 1 - exp(-n/interval), independently of every other, so weighting each
// sample by 1/p gives unbiased estimates of counts (sum 1/p) and bytes
// (sum n/p).
//
// Sampled blocks live in a lock-free open-addressing table keyed by address,
// so any thread can match a free in O(1). In front of it, a 64 Ki-entry
// counting filter lets a free of a block that was not sampled cost one load
// and one compare, inline in instrumented code. It counts per 4 KiB page
// (liveFilterIndex): the frees of a heap read a few of its cache lines, where
// a counter per hashed block cost about one L1 miss per free.
//
// A session that starts in exact mode uses no table (freesByAddress):
// its allocations carry their address, every free is logged by address, and
// the merge pairs each free with the oldest block live at that address. The
// table's entry of a block is written by the allocating thread and again by
// the freeing one, two cache misses across cores per block that a program
// freeing on another thread paid in full (a third of exact mode's cost on
// cross-thread-free). The filter is saturated once and never written, so
// that every free reaches freeSampled. The session's frees stay keyed by
// address after max_log_size ends exact mode: its blocks are in no table.
//
// The table keeps the heap's locality (liveProbe): blocks near each other in
// memory get entries near each other, so a dense sampling (live_table_bits
// raised) touches the table about as the program touches its heap. A random
// entry per block touched all of a large table in a small program, and cost
// a TLB miss per event in a large one. A block whose neighbourhood is full
// goes on at random entries.
//
// Memory ordering: filter counters and table keys are updated with atomic
// RMW operations (acq_rel), or set saturated by relaxed stores (exact mode);
// a key is claimed before its sample id is stored
// (relaxed), which is safe because the program itself orders the free of a
// block after its allocation returned.
//
//===----------------------------------------------------------------------===//
#include "rt_internal.h"

#include <math.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

extern "C" {
__attribute__((visibility("default")))
uint16_t __memscope_live_filter[1u << MEMSCOPE_LIVE_FILTER_BITS];
}

namespace memscope {
namespace rt {

namespace {

constexpr uintptr_t kEmpty = 0;
constexpr uintptr_t kTombstone = 1;
constexpr uint32_t kMaxProbes = 64;
constexpr uint16_t kFilterSaturated = 0xFFFF;

struct LiveEntry {
  std::atomic<uintptr_t> address;
  std::atomic<uint64_t> sample_id;
};

LiveEntry *g_live = nullptr;
uint32_t g_live_bits = 0;
size_t g_live_bytes = 0;

// A large table (live_table_bits above 18) in transparent huge pages: one fault
// per 2 MiB and few TLB misses for a program with a large heap, but a 2 MiB
// zeroing for each region a small program touches once (50 short threads whose
// blocks are each in a mapping of their own: about 12 ms of resource-
// monitoring's exact run). So only once a thread has recorded this many
// blocks.
constexpr uint64_t kHugeLiveTableAfter = 64 * 1024;
std::atomic<bool> g_live_huge{false};

__attribute__((noinline)) void adviseHugeLiveTable() {
  if (g_live && g_live_bits > 18 && !g_live_huge.exchange(true))
    madvise(g_live, g_live_bytes, MADV_HUGEPAGE);
}

inline uint64_t pointerHash(const void *ptr) {
  return reinterpret_cast<uintptr_t>(ptr) * MEMSCOPE_PTR_HASH_MUL;
}

// Two of glibc's blocks are at least 32 bytes apart; 2 MiB of address runs
// on in consecutive entries, and each 2 MiB region starts at a place of its
// own.
constexpr unsigned kGranuleShift = 5;
constexpr unsigned kRegionShift = 21;
constexpr uint32_t kLocalProbes = kMaxProbes / 2;

/// The \p probe-th entry of \p ptr's probe sequence: kLocalProbes on from
/// its entry by address, then entries at random. A dense heap fills
/// whole runs of entries, and where two regions' runs overlap a linear probe
/// would not get out of them; independent probes do, as in a table hashed at
/// random. Insert and lookup follow the same sequence, and an entry is never
/// emptied again (a freed block's becomes a tombstone), so a lookup may stop
/// at the first empty entry.
inline uint64_t liveProbe(const void *ptr, uint32_t probe) {
  auto address = reinterpret_cast<uintptr_t>(ptr);
  uint64_t index;
  if (probe < kLocalProbes) {
    index = (address >> kGranuleShift) +
            ((address >> kRegionShift) * MEMSCOPE_PTR_HASH_MUL >> 32) + probe;
  } else {
    // A fresh hash per probe (a splitmix64 step): a stride, as in double
    // hashing, can be short or hop between two places, and stay in a run.
    uint64_t mixed = pointerHash(ptr) ^ (probe * 0xD6E8FEB86659FD93ull);
    mixed = (mixed ^ (mixed >> 31)) * 0xBF58476D1CE4E5B9ull;
    index = mixed >> (64 - g_live_bits);
  }
  return index & ((1ull << g_live_bits) - 1);
}

void filterIncrement(uint32_t index) {
  uint16_t *counter = &__memscope_live_filter[index];
  uint16_t value = __atomic_load_n(counter, __ATOMIC_RELAXED);
  while (value != kFilterSaturated &&
         !__atomic_compare_exchange_n(counter, &value, value + 1, true,
                                      __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
  }
}

void filterDecrement(uint32_t index) {
  uint16_t *counter = &__memscope_live_filter[index];
  uint16_t value = __atomic_load_n(counter, __ATOMIC_RELAXED);
  // A saturated counter stays saturated: frees there always probe the table.
  while (value != kFilterSaturated && value != 0 &&
         !__atomic_compare_exchange_n(counter, &value, value - 1, true,
                                      __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
  }
}

bool liveInsert(void *ptr, uint64_t sample_id) {
  if (!g_live)
    return false;
  uintptr_t key = reinterpret_cast<uintptr_t>(ptr);
  for (uint32_t probe = 0; probe < kMaxProbes; ++probe) {
    LiveEntry &entry = g_live[liveProbe(ptr, probe)];
    uintptr_t current = entry.address.load(std::memory_order_relaxed);
    while (current == kEmpty || current == kTombstone) {
      if (entry.address.compare_exchange_weak(current, key,
                                              std::memory_order_acq_rel)) {
        entry.sample_id.store(sample_id, std::memory_order_relaxed);
        filterIncrement(liveFilterIndex(ptr));
        return true;
      }
    }
  }
  return false;
}

uint64_t nextRandom() {
  // xorshift64*: plenty for sampling decisions, and allocation-free.
  uint64_t x = t_state.rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  t_state.rng = x;
  return x * 0x2545F4914F6CDD1Dull;
}

/// 53 random bits as a uniform in (0, 1], never 0 so that log() is finite.
double toUniformOpen01(uint64_t bits) {
  return (static_cast<double>(bits >> 11) + 1.0) * 0x1.0p-53;
}

double uniformOpen01() { return toUniformOpen01(nextRandom()); }

/// splitmix64: advances \p state and returns its next output, unrelated to
/// that of a nearby state.
uint64_t splitmix64(uint64_t &state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// A seed for one of this thread's streams: from seed= (reproducible) or
/// from the time and thread.
uint64_t threadSeed() {
  return g_flags.seed ? g_flags.seed * 0x9E3779B97F4A7C15ull + t_state.thread_id
                      : monotonicNs() ^ (ensureOsTid() << 32);
}

void seedThread() {
  uint64_t state = threadSeed();
  uint64_t seed = splitmix64(state);
  t_state.rng = seed ? seed : 1;
}

/// A uniform in (0, 1] for pool chunks, from a stream of its own: the
/// thread's sampling stream marks with rng == 0 that its Poisson process
/// must start afresh, which a chunk must not change.
__thread uint64_t t_chunk_rng __attribute__((tls_model("initial-exec")));
double chunkUniform() {
  if (!t_chunk_rng)
    t_chunk_rng = threadSeed() ^ 0x5851F42D4C957F2Dull;
  return toUniformOpen01(splitmix64(t_chunk_rng));
}

int64_t drawByteCountdown(double interval) {
  double bytes = -::log(uniformOpen01()) * interval;
  return bytes >= 9.0e18 ? INT64_MAX : static_cast<int64_t>(bytes) + 1;
}

/// Rate mode: the number of eligible allocations before the next sampled
/// one is geometric, so skipping them one by one and sampling the next is a
/// Bernoulli(rate) trial per allocation, at the cost of a decrement.
uint64_t drawRateSkip(double rate) {
  if (rate >= 1.0)
    return 0;
  double skip = ::log(uniformOpen01()) / ::log1p(-rate);
  return skip >= 9.0e18 ? UINT64_MAX : static_cast<uint64_t>(skip);
}

/// Decides whether the allocation that reached the slow path is sampled and
/// with which weight, and re-arms the thread's countdown. A byte sample's
/// weight is log::byteSampleWeight(size, \p weight_interval), which its
/// event then leaves out (0: the event carries the weight).
bool decide(uint64_t size, double &weight, uint64_t &weight_interval) {
  if (MSC_UNLIKELY(!t_state.counts.counting)) {
    // The first allocation recorded after an idle phase (or ever): what the
    // countdown counted before it was not recorded; this one is.
    t_state.counts.armed =
        __memscope_tls.bytes_until_sample + static_cast<int64_t>(size);
    __atomic_store_n(&__memscope_tls.allocations, 1, __ATOMIC_RELAXED);
    t_state.counts.counting = true;
  }
  bool fresh = !t_state.rng;
  if (MSC_UNLIKELY(fresh))
    seedThread();
  if (exactNow()) {
    armCountdown(-1, true);
    weight = 1.0;
    return size >= g_flags.min_allocation_size;
  }
  // The sampling in force may change (max_log_size): a new countdown uses
  // the current one, and this sample's weight the one its countdown was
  // drawn with. A thread that was exact until now starts afresh.
  uint32_t session = currentSession();
  fresh = fresh || !t_state.drawn_with || t_state.drawn_session != session;
  t_state.drawn_session = session;
  if (g_flags.sample_rate > 0) {
    // allocSampled skipped the allocations before this one cheaply; this
    // one is sampled unless the thread just started its Bernoulli sequence.
    double rate = sampleRateNow();
    double drawn = fresh ? rate : t_state.drawn_with;
    armCountdown(-1, true);
    weight = 1.0 / drawn;
    t_state.drawn_with = rate;
    if (size < g_flags.min_allocation_size)
      return false;
    bool sampled = !fresh || uniformOpen01() <= rate;
    t_state.rate_skip = drawRateSkip(rate);
    return sampled;
  }
  double interval = static_cast<double>(sampleIntervalNow());
  if (MSC_UNLIKELY(fresh)) {
    // First decision of this thread, or the first after an idle phase: start
    // a fresh Poisson process at this allocation.
    t_state.drawn_with = interval;
    int64_t remaining =
        drawByteCountdown(interval) - static_cast<int64_t>(size);
    if (remaining >= 0) {
      armCountdown(remaining, true);
      return false;
    }
  }
  // drawn_with holds a byte interval here, an integer (a double rounds one
  // above 2^53, and one within 1 KiB of 2^64 would round past it).
  double drawn = t_state.drawn_with;
  t_state.drawn_with = interval;
  armCountdown(drawByteCountdown(interval), true);
  if (size == 0 || size < g_flags.min_allocation_size)
    return false;
  if (MSC_UNLIKELY(!(drawn < 0x1p64))) {
    weight = 1.0 / -expm1(-static_cast<double>(size) / drawn); // written
    return true;
  }
  weight_interval = static_cast<uint64_t>(drawn);
  weight = log::byteSampleWeight(size, weight_interval);
  return true;
}

} // namespace

//===-- Exact totals -----------------------------------------------------===//

namespace {

// Threads that ended without a log to write their totals to.
std::atomic<uint64_t> g_unlogged_allocations{0};
std::atomic<uint64_t> g_unlogged_bytes{0};

/// What the countdown counted since it was armed, were it banked now.
log::ThreadTotals unbanked(const ThreadCounts &counts,
                           const msc_thread_fast &fast) {
  if (!counts.counting)
    return {0, 0};
  int64_t consumed = counts.armed - fast.bytes_until_sample;
  return {fast.allocations, consumed > 0 ? static_cast<uint64_t>(consumed) : 0};
}

} // namespace

void armCountdown(int64_t value, bool counting) {
  ThreadCounts &counts = t_state.counts;
  msc_thread_fast &fast = __memscope_tls;
  uint32_t session = currentSession();
  if (counts.session != session) {
    // A new API session counts afresh.
    counts.allocations = counts.bytes = 0;
    counts.session = session;
  }
  log::ThreadTotals pending = unbanked(
      counts, {__atomic_load_n(&fast.bytes_until_sample, __ATOMIC_RELAXED), 0,
               fast.allocations});
  counts.allocations += pending.allocations;
  counts.bytes += pending.bytes;
  __atomic_store_n(&fast.allocations, 0, __ATOMIC_RELAXED);
  counts.armed = value;
  counts.counting = counting;
  __atomic_store_n(&fast.bytes_until_sample, value, __ATOMIC_RELAXED);
}

log::ThreadTotals currentThreadTotals() {
  const ThreadCounts &counts = t_state.counts;
  if (counts.session != currentSession())
    return {0, 0};
  log::ThreadTotals pending = unbanked(counts, __memscope_tls);
  return {counts.allocations + pending.allocations,
          counts.bytes + pending.bytes};
}

bool otherThreadTotals(const ThreadCounts *counts, const msc_thread_fast *fast,
                       log::ThreadTotals &totals) {
  if (!counts || !fast)
    return false;
  ThreadCounts counts_copy;
  msc_thread_fast fast_copy;
  struct iovec local[2] = {{&counts_copy, sizeof(counts_copy)},
                           {&fast_copy, sizeof(fast_copy)}};
  struct iovec remote[2] = {
      {const_cast<ThreadCounts *>(counts), sizeof(counts_copy)},
      {const_cast<msc_thread_fast *>(fast), sizeof(fast_copy)}};
  ssize_t read = process_vm_readv(getpid(), local, 2, remote, 2, 0);
  if (read != static_cast<ssize_t>(sizeof(counts_copy) + sizeof(fast_copy)))
    return false;
  if (counts_copy.session != currentSession()) {
    totals = {0, 0};
    return true;
  }
  log::ThreadTotals pending = unbanked(counts_copy, fast_copy);
  totals = {counts_copy.allocations + pending.allocations,
            counts_copy.bytes + pending.bytes};
  return true;
}

log::ThreadTotals unloggedThreadTotals() {
  return {g_unlogged_allocations.load(std::memory_order_relaxed),
          g_unlogged_bytes.load(std::memory_order_relaxed)};
}

void addToUnloggedTotals() {
  log::ThreadTotals totals = currentThreadTotals();
  g_unlogged_allocations.fetch_add(totals.allocations,
                                   std::memory_order_relaxed);
  g_unlogged_bytes.fetch_add(totals.bytes, std::memory_order_relaxed);
}

int64_t idleCountdown() {
  // Not recording: come back after about one interval of allocation to see
  // whether recording started.
  return static_cast<int64_t>(g_flags.sample_interval ? g_flags.sample_interval
                                                      : 256 * 1024);
}

/// Readies the live filter for a session. Exact mode keys the session's
/// frees by address, and saturates the filter: every counter at
/// kFilterSaturated, which filterIncrement and filterDecrement leave alone,
/// so that every free reaches freeSampled. It stays saturated if a later
/// session samples: frees then look in the table, slower but right.
void beginSamplingSession() {
  // The filter is read by every free and written by every sample: prefault
  // it (128 KiB), so that a write never costs a copy-on-write fault of the
  // zero page and a TLB shootdown across the program's threads. Here, not at
  // start-up: a program that does not record never writes it (at start-up
  // the prefault cost every instrumented program 31 page faults and 36 to
  // 50 us on the benchmarks' machine).
  prefaultWritable(__memscope_live_filter, sizeof(__memscope_live_filter));
  if (!g_flags.exact)
    return;
  // An earlier session's samples would stay in the table, their frees now
  // logged by address, and a later session's sample at one of their
  // addresses could then take a stale entry's free: start it empty.
  if (g_live)
    madvise(g_live, g_live_bytes, MADV_DONTNEED);
  // Counter by counter: other threads may update them meanwhile.
  for (uint16_t &counter : __memscope_live_filter)
    __atomic_store_n(&counter, kFilterSaturated, __ATOMIC_RELAXED);
}

void initSampling() {
  if (g_live)
    return;
  // Exact mode keys its frees by address and leaves the table alone.
  g_live_bits = g_flags.live_table_bits ? g_flags.live_table_bits : 16;
  g_live_bytes = sizeof(LiveEntry) << g_live_bits;
  // The table is touched only behind the filter (beginSamplingSession
  // prefaults that), a page per few samples, so it fills lazily
  // (prefaulting its 1 MiB cost 0.37 ms of every start-up). A large table
  // turns to huge pages once a thread has recorded many blocks
  // (adviseHugeLiveTable).
  g_live = static_cast<LiveEntry *>(mapZeroed(g_live_bytes));
}

void resetSamplingAfterFork() {
  // The child counts from the fork; the parent's other threads are gone.
  t_state.counts.allocations = t_state.counts.bytes = 0;
  t_state.counts.armed = __memscope_tls.bytes_until_sample;
  __memscope_tls.allocations = 0;
  g_unlogged_allocations.store(0, std::memory_order_relaxed);
  g_unlogged_bytes.store(0, std::memory_order_relaxed);
  memset(__memscope_live_filter, 0, sizeof(__memscope_live_filter));
  if (g_live)
    madvise(g_live, g_live_bytes, MADV_DONTNEED); // back to zero pages
}

uint64_t liveRemove(void *ptr) {
  if (!g_live || !maybeLive(ptr))
    return 0;
  uintptr_t key = reinterpret_cast<uintptr_t>(ptr);
  for (uint32_t probe = 0; probe < kMaxProbes; ++probe) {
    LiveEntry &entry = g_live[liveProbe(ptr, probe)];
    uintptr_t current = entry.address.load(std::memory_order_acquire);
    if (current == kEmpty)
      return 0;
    if (current != key)
      continue;
    uint64_t sample_id = entry.sample_id.load(std::memory_order_relaxed);
    if (!entry.address.compare_exchange_strong(current, kTombstone,
                                               std::memory_order_acq_rel))
      return 0; // a racing free of the same block (a double free)
    filterDecrement(liveFilterIndex(ptr));
    return sample_id;
  }
  return 0;
}

uint64_t liveTableEntries() { return g_live ? 1ull << g_live_bits : 0; }

void liveReinsert(void *ptr, uint64_t sample_id) {
  if (!liveInsert(ptr, sample_id))
    g_untracked_samples.fetch_add(1, std::memory_order_relaxed);
}

void recordFree(uint64_t site_id, uint64_t sample_id, const void *ptr,
                uint64_t monotonic_ns) {
  RecursionGuard guard;
  if (!isRecording())
    return;
  LogWriter *log = threadLog();
  if (!log)
    return;
  log::FreeRecord record;
  record.sample_id = sample_id;
  record.site_id = site_id;
  record.monotonic_ns = monotonic_ns ? monotonic_ns : eventNs();
  record.address = sample_id ? 0 : reinterpret_cast<uintptr_t>(ptr);
  appendFreeEvent(*log, record);
}

void freeSampled(uint64_t site_id, void *ptr) {
  // glibc reads the block's header next: fetch it while the table is read
  // (a block another thread allocated misses the cache twice otherwise).
  __builtin_prefetch(static_cast<char *>(ptr) - sizeof(size_t), 1);
  // Logged before glibc has the block back: an allocation that reuses its
  // address is then timed after it, bar the clock's error. Not free(NULL)
  // (an instrumented site calls here without looking), nor from inside the
  // runtime, whose own blocks were never recorded.
  if (freesByAddress()) {
    if (ptr && !inRuntime())
      recordFree(site_id, 0, ptr);
  } else if (uint64_t sample_id = liveRemove(ptr))
    recordFree(site_id, sample_id, ptr);
}

void recordAlloc(uint64_t site_id, void *ptr, uint64_t size, msc_site_kind kind,
                 double weight, uint64_t weight_interval, CallerFrame caller);

void allocSampled(uint64_t site_id, void *ptr, uint64_t size,
                  msc_site_kind kind, CallerFrame caller) {
  if (MSC_UNLIKELY(g_flags.sample_rate > 0 && !exactNow() && t_state.rng)) {
    // Rate mode reaches here on every allocation: skip cheaply.
    if (size < g_flags.min_allocation_size)
      return;
    if (t_state.rate_skip) {
      --t_state.rate_skip;
      return;
    }
  }
  RecursionGuard guard;
  if (!guard.entered())
    return;
  if (MSC_UNLIKELY(!ensureInitialized()) && !startRequestedBySignal()) {
    t_state.rng = 0; // restart the Poisson process when recording starts
    State state = g_state.load(std::memory_order_acquire);
    if (state == State::Uninitialized || state == State::Initializing)
      armCountdown(0, false); // too early, or starting: ask again next time
    else
      parkIdleThread();
    return;
  }
  double weight = 1.0;
  uint64_t weight_interval = 0;
  if (!decide(size, weight, weight_interval) || !ptr)
    return;
  recordAlloc(site_id, ptr, size, kind, weight, weight_interval, caller);
}

void poolChunkAllocated(void *ptr, uint64_t size, CallerFrame caller) {
  if (!ptr || size < g_flags.min_allocation_size)
    return;
  RecursionGuard guard;
  if (!guard.entered() || !ensureInitialized() || !isRecording())
    return;
  double weight = 1.0;
  if (!exactNow()) {
    double probability = g_flags.sample_rate > 0
                             ? sampleRateNow()
                             : -expm1(-static_cast<double>(size) /
                                      static_cast<double>(sampleIntervalNow()));
    if (!(chunkUniform() <= probability))
      return;
    weight = 1.0 / probability;
  }
  recordAlloc(0, ptr, size, MSC_KIND_POOL_CHUNK, weight, 0, caller);
}

/// Writes the Alloc event of a block chosen to be sampled, and puts it in
/// the live table unless its free is logged by address. \p weight_interval
/// as decide()'s.
void recordAlloc(uint64_t site_id, void *ptr, uint64_t size, msc_site_kind kind,
                 double weight, uint64_t weight_interval, CallerFrame caller) {
  LogWriter *log = threadLog();
  if (!log) {
    // No log (no room under max_log_size, a full disk): this thread records
    // no more samples, but its allocations still count, into ProcessEnd's
    // unlogged totals when it ends.
    armCountdown(INT64_MAX >> 1, true);
    return;
  }
  bool by_address = freesByAddress();
  // The block's live-table entry is often in another core's cache (the
  // thread that freed the block last); fetch it while the stack is walked.
  if (g_live && !by_address)
    __builtin_prefetch(&g_live[liveProbe(ptr, 0)], 1);
  log::AllocRecord record;
  record.sample_id = (t_state.thread_id << 40) | ++t_state.next_sample_seq;
  if (MSC_UNLIKELY(t_state.next_sample_seq == kHugeLiveTableAfter))
    adviseHugeLiveTable();
  record.site_id = site_id;
  record.address = reinterpret_cast<uintptr_t>(ptr);
  record.size = size;
  record.monotonic_ns = eventNs();
  record.weight = weight;
  record.kind = kind;
  record.flags = 0;
  t_heap.handed_over = nullptr; // this thread moved on (its address too)
  record.stack_id = captureStack(*log, caller);
  if (by_address) {
    record.flags |= log::AllocFreedByAddress;
  } else if (!liveInsert(ptr, record.sample_id)) {
    g_untracked_samples.fetch_add(1, std::memory_order_relaxed);
    record.flags |= log::AllocUntracked;
  }
  appendAllocEvent(*log, record, weight_interval);
  if (logLimitPending())
    writeLogLimitRecords();
  if (MSC_UNLIKELY(g_flags.snapshot_interval.ns))
    maybeIntervalSnapshot(record.monotonic_ns);
}

} // namespace rt
} // namespace memscope

using namespace memscope::rt;

extern "C" {

__attribute__((visibility("default"))) void
__memscope_alloc_sampled(uint64_t site_id, void *ptr, uint64_t size) {
  // The stack too, so that flame graphs show who called the site: from an
  // instrumented caller it is a frame-pointer walk, no unwind tables.
  allocSampled(site_id, ptr, size, MSC_KIND_UNKNOWN, MSC_CALLER_FRAME());
  MSC_KEEP_FRAME();
}

__attribute__((visibility("default"))) void
__memscope_alloc_sampled_stack(uint64_t site_id, void *ptr, uint64_t size) {
  allocSampled(site_id, ptr, size, MSC_KIND_UNKNOWN, MSC_CALLER_FRAME());
  MSC_KEEP_FRAME();
}

__attribute__((visibility("default"))) void
__memscope_free_sampled(uint64_t site_id, void *ptr) {
  freeSampled(site_id, ptr);
  // Found or not, the interposed free of ptr that a delete site makes next
  // would find nothing more (t_heap.handed_over). Only where that free
  // takes the slow path, which clears the mark: a saturated counter.
  if (__atomic_load_n(&__memscope_live_filter[liveFilterIndex(ptr)],
                      __ATOMIC_RELAXED) == kFilterSaturated)
    t_heap.handed_over = ptr;
}

} // extern "C"
