//===-- rt_stack.cpp - Stacks of sampled allocations ---------------------===//
//
// Runs only on the sampled path. The walk itself is rt_unwind.cpp's; this
// file gives each stack an id (a hash of its return addresses) and writes a
// Stack record the first time a log writer sees that id, so a repeated
// stack costs the walk and one probe of the writer's small table.
//
// In exact mode a loop allocates from one frame again and again: a memo per
// caller frame keeps the last walk's stack id and the stack words that walk
// read (rt_unwind.h, WalkReads). When they all still hold the same values
// the walk would give the same stack, so the memo's id is the answer at a
// load and a compare per word.
//
// Before a new stack is written, the module map is brought up to date: a
// library loaded since the last check (an uninstrumented dlopen) gets its
// Module record, so frames in it still resolve after a later dlclose; and an
// unload since the last check drops the cached unwind rules and walks the
// stack again, since the unloaded library's addresses may now hold other
// code. A stack walked with stale rules reads other words of the stack and
// so hashes to a stack not seen before, which is what brings it here.
// Depth is bounded by the stack_depth flag.
//
//===----------------------------------------------------------------------===//
#include "rt_internal.h"
#include "rt_modules.h"
#include "rt_unwind.h"

#include <sys/mman.h>

namespace memscope {
namespace rt {

/// A stack walked from one caller frame: its id, and what the walk read
/// (exact mode, where a loop allocates from one frame again and again).
struct StackMemo {
  uintptr_t pc;
  const uintptr_t *record;
  uint64_t id;
  // The stack cache's clearing count when id was last known written; the
  // memo's stack needs no probe of the cache while it has not changed.
  uint32_t written_in;
  WalkReads reads;
};

struct StackCache {
  static constexpr uint32_t kEntries = 1024;
  static constexpr uint32_t kMemos = 8; // a power of two
  uint64_t ids[kEntries];
  uint32_t used;
  uint32_t clearings; // times ids was emptied; a memo's written_in
  uint32_t memos;     // 0, or kMemos in exact mode
  StackMemo memo[1];  // memos entries
};

namespace {

//===-- Deduplication ---------------------------------------------------===//

uint64_t hashFrames(const uint64_t *frames, uint32_t depth) {
  uint64_t hash = 0xCBF29CE484222325ull ^ depth;
  for (uint32_t i = 0; i < depth; ++i) {
    hash ^= frames[i];
    hash *= 0x100000001B3ull;
    hash ^= hash >> 29;
  }
  return hash ? hash : 1;
}

} // namespace

size_t stackCacheBytes(uint32_t memos) {
  return sizeof(StackCache) + sizeof(StackMemo) * (memos ? memos - 1 : 0);
}

void forgetWrittenStacks(LogWriter &log) {
  if (log.stacks)
    munmap(log.stacks, stackCacheBytes(log.stacks->memos));
  log.stacks = nullptr;
}

namespace {

/// \p log's record of the stacks it wrote (and, in exact mode, its memos),
/// mapped on first use; null when it cannot be mapped.
StackCache *stackCache(LogWriter &log) {
  if (!log.stacks) {
    uint32_t memos = g_flags.exact ? StackCache::kMemos : 0;
    size_t bytes = stackCacheBytes(memos);
    log.stacks = static_cast<StackCache *>(mapZeroed(bytes));
    if (!log.stacks)
      return nullptr;
    prefaultWritable(log.stacks, bytes);
    log.stacks->memos = memos;
  }
  return log.stacks;
}

/// The memo that \p caller's stack may be in; null when there are none.
StackMemo *memoFor(LogWriter &log, const CallerFrame &caller) {
  StackCache *cache = stackCache(log);
  if (!cache || !cache->memos || !caller.record)
    return nullptr;
  uint64_t hash = (caller.pc ^ reinterpret_cast<uintptr_t>(caller.record)) *
                  0x9E3779B97F4A7C15ull;
  return &cache->memo[(hash >> 40) & (cache->memos - 1)];
}

/// Returns true if \p log already wrote stack \p id; remembers it otherwise.
bool seenBefore(LogWriter &log, uint64_t id) {
  if (!stackCache(log))
    return false;
  StackCache &cache = *log.stacks;
  uint32_t mask = StackCache::kEntries - 1;
  for (uint32_t probe = 0; probe < StackCache::kEntries; ++probe) {
    uint64_t &entry = cache.ids[(id + probe) & mask];
    if (entry == id)
      return true;
    if (entry == 0) {
      if (cache.used >= StackCache::kEntries / 2) {
        // Full enough: forget everything; stacks are simply written again.
        for (uint64_t &cleared : cache.ids)
          cleared = 0;
        cache.used = 0;
        ++cache.clearings;
        cache.ids[id & mask] = id;
      } else {
        entry = id;
      }
      ++cache.used;
      return false;
    }
  }
  return false;
}

} // namespace

namespace {

/// captureStack without a usable memo: the walk, and the Stack record when
/// the log has not written that stack. Apart, so that the memo's check, all
/// that a repeated allocation runs, sets up no frame of several KiB.
__attribute__((noinline)) uint64_t walkStack(LogWriter &log,
                                             const CallerFrame &caller,
                                             StackMemo *memo, bool must_write) {
  uint64_t frames[log::kMaxStackDepth];
  uint32_t max_depth = g_flags.stack_depth;
  if (max_depth < 1 || max_depth > log::kMaxStackDepth)
    max_depth = log::kMaxStackDepth;
  WalkReads *reads = nullptr;
  if (memo) {
    memo->pc = 0; // until the walk below is complete
    memo->written_in = ~0u;
    reads = &memo->reads;
  }
  uint32_t depth = collectStack(caller, frames, max_depth, reads);
  uint64_t id = hashFrames(frames, depth);
  if (memo) {
    memo->pc = caller.pc;
    memo->record = caller.record;
    memo->id = id;
  }
  if (!must_write && seenBefore(log, id)) {
    if (memo)
      memo->written_in = log.stacks->clearings;
    return id;
  }
  if (writeNewModules() == ModuleChange::Unloaded) {
    forgetUnwindRules();
    if (memo)
      memo->pc = 0; // its reads were under the rules just dropped
    depth = collectStack(caller, frames, max_depth);
    id = hashFrames(frames, depth);
    if (seenBefore(log, id))
      return id;
  }
  uint8_t buffer[sizeof(log::StackRecordHeader) +
                 sizeof(uint64_t) * log::kMaxStackDepth];
  log::PayloadBuilder payload(buffer, sizeof(buffer));
  log::StackRecordHeader header;
  header.stack_id = id;
  header.depth = depth;
  header.reserved = 0;
  payload.pod(header);
  payload.bytes(frames, sizeof(uint64_t) * depth);
  appendRecord(log, log::RecordType::Stack, buffer, payload.size());
  if (memo)
    memo->written_in = log.stacks->clearings;
  return id;
}

} // namespace

uint64_t captureStack(LogWriter &log, const CallerFrame &caller) {
  if (!caller.pc)
    return 0;
  // A frame that walked to a stack this log wrote, whose walk would read
  // the same words again: the same stack, without the walk.
  StackMemo *memo = memoFor(log, caller);
  bool must_write = false;
  if (memo && memo->pc == caller.pc && memo->record == caller.record &&
      readsUnchanged(memo->reads)) {
    if (memo->written_in == log.stacks->clearings)
      return memo->id;
    if (seenBefore(log, memo->id)) {
      memo->written_in = log.stacks->clearings;
      return memo->id;
    }
    must_write = true; // seenBefore remembers it now: write its record below
  }
  return walkStack(log, caller, memo, must_write);
}

} // namespace rt
} // namespace memscope
