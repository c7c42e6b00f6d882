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

/// The return addresses of the stack from \p caller outwards, at most
/// \p max_depth, by the cheapest unwinder that is right for every frame. At
/// least the caller is returned.
MSC_HIDDEN uint32_t collectStack(const CallerFrame &caller, uint64_t *frames,
                                 uint32_t max_depth);

enum class FastWalk {
  Complete,        // frames[0..depth) is the stack
  NeedsFullUnwind, // a frame whose rule the cache cannot express, or a
                   // frame that failed a check: frames are not usable
};
/// The cached-rule walk alone (collectStack's fast path).
MSC_HIDDEN FastWalk walkCachedRules(const CallerFrame &caller, uint64_t *frames,
                                    uint32_t max_depth, uint32_t &depth);
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
