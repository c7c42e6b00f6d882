//===-- rt_unwind.h - The stack walk of the sampled path ---------*- C++
//-*-===//
//
// See rt_unwind.cpp. rt_stack.cpp deduplicates and writes what this walks;
// the runtime unit tests and bench/stack-walk.cpp compare the two unwinders.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_RT_UNWIND_H
#define MEMSCOPE_RT_UNWIND_H

#include "rt_internal.h"

namespace memscope {
namespace rt {

/// The words of the thread's stack that a cached-rule walk read, with the
/// rules' generation. The walk is a function of its start (the caller's
/// frame), the rules and the words it reads: a later walk from the same
/// frame that would read the same values gives the same stack, so
/// readsUnchanged() proves a stack unchanged at the cost of a load and a
/// compare per word, with no rule lookup (rt_stack.cpp's memo).
struct WalkReads {
  static constexpr uint32_t kMaxWords = 2 * 32 + 2; // stack_depth 32's
  static constexpr uint32_t kUnusable = ~0u;
  uint32_t generation;
  uint32_t count;    // kUnusable: too many words, or not a cached-rule walk
  uintptr_t highest; // the highest address read
  uintptr_t address[kMaxWords];
  uintptr_t value[kMaxWords];

  void start(uint32_t rules_generation) {
    generation = rules_generation;
    count = 0;
    highest = 0;
  }
  void note(uintptr_t at, uintptr_t word) {
    if (count >= kMaxWords) {
      count = kUnusable;
      return;
    }
    address[count] = at;
    value[count] = word;
    ++count;
    if (at > highest)
      highest = at;
  }
};
/// True when \p reads is a whole walk's and every word it lists still holds
/// its value, under the same rules: the walk would give the same stack.
/// Reads only words of the calling thread's stack above its own frame.
MSC_HIDDEN bool readsUnchanged(const WalkReads &reads);

/// The return addresses of the stack from \p caller outwards, at most
/// \p max_depth, by the cheapest unwinder that is right for every frame. At
/// least the caller is returned. \p reads, when given, receives what the
/// walk read (count kUnusable unless the cached-rule walk did it all).
MSC_HIDDEN uint32_t collectStack(const CallerFrame &caller, uint64_t *frames,
                                 uint32_t max_depth,
                                 WalkReads *reads = nullptr);

enum class FastWalk {
  Complete,        // frames[0..depth) is the stack
  NeedsFullUnwind, // a frame whose rule the cache cannot express, or a
                   // frame that failed a check: frames are not usable
};
/// The cached-rule walk alone (collectStack's fast path).
MSC_HIDDEN FastWalk walkCachedRules(const CallerFrame &caller, uint64_t *frames,
                                    uint32_t max_depth, uint32_t &depth,
                                    WalkReads *reads = nullptr);
/// The full unwinder alone: _Unwind_Backtrace from caller_pc outwards; 0 if
/// it never reached caller_pc.
MSC_HIDDEN uint32_t walkFullUnwinder(uintptr_t caller_pc, uint64_t *frames,
                                     uint32_t max_depth);

/// Drops every cached rule (a module was unloaded: its addresses may now
/// hold other code). Lock-free; walks in flight finish with either set.
MSC_HIDDEN void forgetUnwindRules();
/// Counts forgetUnwindRules calls (for tests).
MSC_HIDDEN uint32_t unwindRulesGeneration();

} // namespace rt
} // namespace memscope

#endif // MEMSCOPE_RT_UNWIND_H
