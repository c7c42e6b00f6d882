//===-- rt_heap.cpp - The heap in use, counted on every block -------------===//
//
// Sampling estimates which sites hold memory, but the peak of a sampled
// live-bytes curve is the maximum of a noisy curve, biased upwards by several
// standard errors (+55% to +580% on bench/'s workloads at the default
// setting). The peak is therefore
// counted instead: the interposers and the instrumented sites' direct entries
// see every block that glibc's allocator hands out or takes back, and glibc
// keeps each block's chunk size in the word before it, so a block's size at
// free costs one load from a line free() is about to touch anyway.
//
// Each thread adds its changes to a private tally (t_heap) and adds the tally
// to the process's count only when it reaches a limit, so that threads do not
// fight over one cache line on every call. The process's count can then miss
// up to each thread's limit; the limit is a small share of the peak so far
// over the threads alive, which keeps the sum of the limits near 1/64 of the
// peak, and the largest that sum has been is written out with the figures
// as their uncertainty (HeapCounts in LogFormat.h).
//
// Chunk sizes include glibc's header and rounding. The merge converts them to
// requested bytes with the blocks' overhead, which it estimates from the
// sampled blocks' sizes (requestedFromChunks): counting the overhead here
// would cost the hot path two more adds.
//
//===----------------------------------------------------------------------===//
#include "rt_internal.h"

using namespace memscope;
using namespace memscope::rt;

__thread HeapTally memscope::rt::t_heap
    __attribute__((tls_model("initial-exec")));

namespace {

// A thread's limit is the peak so far over (kLimitShare x threads alive),
// within [kMinLimit, kMaxLimit]: the process's count is then within about
// 1/kLimitShare of the peak once the peak is above the floor.
constexpr int64_t kLimitShare = 64;
constexpr int64_t kMinLimit = 256;
constexpr int64_t kMaxLimit = int64_t(1) << 20;

struct alignas(64) HeapCount {
  std::atomic<int64_t> bytes{0};
  std::atomic<int64_t> blocks{0};
  // What a thread takes as its limit at its next flush.
  std::atomic<int64_t> limit{kMinLimit};
  std::atomic<int64_t> threads{1}; // alive: the main thread and the spawned
  // The sum of the limits threads hold (each took its own at its last flush)
  // bounds what the count misses; the largest it has been since recording
  // started is the uncertainty written out.
  std::atomic<int64_t> limit_sum{0};
  std::atomic<int64_t> max_limit_sum{0};
  // peak_bytes for a lock-free check before peak_mutex.
  std::atomic<int64_t> peak_hint{0};
  StaticSpinMutex peak_mutex;
  // Under peak_mutex.
  int64_t peak_bytes = 0;
  int64_t peak_blocks = 0;
  uint64_t peak_ns = 0;
  // The count when recording started; every figure is relative to it.
  int64_t base_bytes = 0;
  int64_t base_blocks = 0;
};
HeapCount g_heap;

/// Sets the limit threads take from the peak so far and the threads alive.
void updateLimit(int64_t peak) {
  int64_t threads = g_heap.threads.load(std::memory_order_relaxed);
  int64_t limit =
      (peak - g_heap.base_bytes) / (kLimitShare * (threads > 0 ? threads : 1));
  limit = limit < kMinLimit ? kMinLimit : limit > kMaxLimit ? kMaxLimit : limit;
  g_heap.limit.store(limit, std::memory_order_relaxed);
}

void notePeak(int64_t live, int64_t blocks) {
  SpinMutexLock lock(g_heap.peak_mutex);
  if (live <= g_heap.peak_bytes)
    return;
  g_heap.peak_bytes = live;
  g_heap.peak_blocks = blocks;
  g_heap.peak_ns = monotonicNs();
  g_heap.peak_hint.store(live, std::memory_order_relaxed);
  updateLimit(live);
}

/// The calling thread now holds \p limit.
void holdLimit(HeapTally &tally, int64_t limit) {
  if (limit == tally.limit)
    return;
  tally.negative_limit = -limit;
  int64_t sum = g_heap.limit_sum.fetch_add(limit - tally.limit,
                                           std::memory_order_relaxed) +
                limit - tally.limit;
  tally.limit = limit;
  int64_t most = g_heap.max_limit_sum.load(std::memory_order_relaxed);
  while (sum > most && !g_heap.max_limit_sum.compare_exchange_weak(
                           most, sum, std::memory_order_relaxed))
    ;
}

} // namespace

void memscope::rt::flushHeapTally() {
  HeapTally &tally = t_heap;
  // A signal handler that allocates in the middle of a flush only adds to
  // the tally; the next flush takes it.
  if (tally.flushing)
    return;
  tally.flushing = true;
  int64_t bytes = tally.bytes, blocks = tally.blocks;
  tally.bytes -= bytes;
  tally.blocks -= blocks;
  int64_t live =
      g_heap.bytes.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  int64_t live_blocks =
      g_heap.blocks.fetch_add(blocks, std::memory_order_relaxed) + blocks;
  if (live > g_heap.peak_hint.load(std::memory_order_relaxed))
    notePeak(live, live_blocks);
  holdLimit(tally,
            tally.ended ? 0 : g_heap.limit.load(std::memory_order_relaxed));
  tally.flushing = false;
}

void *memscope::rt::flushHeapTallyAndReturn(void *ptr) {
  flushHeapTally();
  return ptr;
}

void memscope::rt::flushHeapTallyAndFree(void *ptr) {
  flushHeapTally();
  __libc_free(ptr);
}

void memscope::rt::heapThreadStarted() {
  g_heap.threads.fetch_add(1, std::memory_order_relaxed);
  updateLimit(g_heap.peak_hint.load(std::memory_order_relaxed));
}

void memscope::rt::heapThreadEnded() {
  // What this thread allocates or frees from later TLS destructors is added
  // at once: with no limit held, it adds nothing to the uncertainty.
  t_heap.ended = true;
  flushHeapTally();
  g_heap.threads.fetch_sub(1, std::memory_order_relaxed);
}

void memscope::rt::startHeapCount() {
  flushHeapTally();
  SpinMutexLock lock(g_heap.peak_mutex);
  g_heap.base_bytes = g_heap.bytes.load(std::memory_order_relaxed);
  g_heap.base_blocks = g_heap.blocks.load(std::memory_order_relaxed);
  g_heap.peak_bytes = g_heap.base_bytes;
  g_heap.peak_blocks = g_heap.base_blocks;
  g_heap.peak_ns = monotonicNs();
  g_heap.peak_hint.store(g_heap.base_bytes, std::memory_order_relaxed);
  g_heap.max_limit_sum.store(g_heap.limit_sum.load(std::memory_order_relaxed),
                             std::memory_order_relaxed);
}

void memscope::rt::resetHeapCountAfterFork() {
  // Only the forking thread goes on; what the others had pending is gone
  // with them (the child's recording starts from a new base anyway).
  g_heap.peak_mutex.resetAfterFork();
  g_heap.threads.store(1, std::memory_order_relaxed);
  g_heap.limit_sum.store(t_heap.limit, std::memory_order_relaxed);
  g_heap.max_limit_sum.store(t_heap.limit, std::memory_order_relaxed);
}

bool memscope::rt::heapCounts(log::HeapCounts &out) {
  if (!heapCountedEverywhere())
    return false;
  flushHeapTally();
  // Also called from the crash handler: a holder that never lets go (it is
  // the crashed thread) costs the figures, not a hang.
  for (int attempt = 0; !g_heap.peak_mutex.tryLock(); ++attempt) {
    if (attempt == 1000)
      return false;
    sched_yield();
  }
  out.peak_chunk_bytes = g_heap.peak_bytes - g_heap.base_bytes;
  out.peak_blocks = g_heap.peak_blocks - g_heap.base_blocks;
  out.peak_monotonic_ns = g_heap.peak_ns;
  out.peak_uncertainty = static_cast<uint64_t>(
      g_heap.max_limit_sum.load(std::memory_order_relaxed));
  g_heap.peak_mutex.unlock();
  return true;
}

bool memscope::rt::heapInUse(int64_t &bytes, int64_t &blocks,
                             uint64_t &uncertainty) {
  if (!heapCountedEverywhere())
    return false;
  // The whole heap, not the change since recording started (which frees of
  // older blocks can take below zero, with start=signal).
  bytes = g_heap.bytes.load(std::memory_order_relaxed);
  blocks = g_heap.blocks.load(std::memory_order_relaxed);
  int64_t pending = g_heap.limit_sum.load(std::memory_order_relaxed);
  uncertainty = pending > 0 ? static_cast<uint64_t>(pending) : 0;
  return true;
}
