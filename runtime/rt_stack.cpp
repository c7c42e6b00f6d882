//===-- rt_stack.cpp - Stacks of allocations in uninstrumented code ------===//
//
// Debian's libstdc++ and libc have no frame pointers, so the stack of an
// allocation made inside them is unwound with the .eh_frame unwinder
// (_Unwind_Backtrace, which glibc >= 2.35 serves from _dl_find_object
// without locks or malloc). This runs only for sampled allocations. The walk
// stops a few frames after the first frame in an instrumented module: the
// merge attributes the allocation to the nearest of them in user code.
// Stacks are deduplicated per log file by their hash.
//
//===----------------------------------------------------------------------===//
#include "rt_internal.h"

#include <unwind.h>

namespace memscope {
namespace rt {

struct StackCache {
  static constexpr uint32_t kEntries = 1024;
  uint64_t ids[kEntries];
  uint32_t used;
};

namespace {

/// Frames kept beyond the first instrumented one: enough to get from an
/// out-of-line std:: template instantiated in the program to its caller.
constexpr uint32_t kFramesAfterInstrumented = 6;

struct UnwindState {
  uintptr_t caller_pc;
  bool started;
  uint32_t depth;
  uint32_t max_depth;
  uint32_t instrumented_at; // depth of the first instrumented frame, or 0
  uint64_t frames[log::kMaxStackDepth];
};

_Unwind_Reason_Code collectFrame(struct _Unwind_Context *context, void *arg) {
  auto &state = *static_cast<UnwindState *>(arg);
  uintptr_t pc = _Unwind_GetIP(context);
  if (!pc)
    return _URC_END_OF_STACK;
  if (!state.started) {
    // Skip the runtime's own frames, up to the interposer's caller.
    if (pc != state.caller_pc)
      return _URC_NO_REASON;
    state.started = true;
  }
  state.frames[state.depth++] = pc;
  if (!state.instrumented_at && inInstrumentedModule(pc))
    state.instrumented_at = state.depth;
  if (state.depth >= state.max_depth ||
      (state.instrumented_at &&
       state.depth >= state.instrumented_at + kFramesAfterInstrumented))
    return _URC_END_OF_STACK;
  return _URC_NO_REASON;
}

uint64_t hashFrames(const uint64_t *frames, uint32_t depth) {
  uint64_t hash = 0xCBF29CE484222325ull ^ depth;
  for (uint32_t i = 0; i < depth; ++i) {
    hash ^= frames[i];
    hash *= 0x100000001B3ull;
    hash ^= hash >> 29;
  }
  return hash ? hash : 1;
}

/// Returns true if \p log already wrote stack \p id; remembers it otherwise.
bool seenBefore(LogWriter &log, uint64_t id) {
  if (!log.stacks) {
    log.stacks = static_cast<StackCache *>(mapZeroed(sizeof(StackCache)));
    if (!log.stacks)
      return false;
    prefaultWritable(log.stacks, sizeof(StackCache));
  }
  StackCache &cache = *log.stacks;
  uint32_t mask = StackCache::kEntries - 1;
  for (uint32_t probe = 0; probe < StackCache::kEntries; ++probe) {
    uint64_t &slot = cache.ids[(id + probe) & mask];
    if (slot == id)
      return true;
    if (slot == 0) {
      if (cache.used >= StackCache::kEntries / 2) {
        // Full enough: forget everything; stacks are simply written again.
        for (uint64_t &entry : cache.ids)
          entry = 0;
        cache.used = 0;
        cache.ids[id & mask] = id;
      } else {
        slot = id;
      }
      ++cache.used;
      return false;
    }
  }
  return false;
}

} // namespace

uint64_t captureStack(LogWriter &log, uintptr_t caller_pc) {
  if (!caller_pc)
    return 0;
  UnwindState state;
  state.caller_pc = caller_pc;
  state.started = false;
  state.depth = 0;
  state.max_depth = g_flags.stack_depth;
  state.instrumented_at = 0;
  _Unwind_Backtrace(collectFrame, &state);
  if (!state.started) {
    // The unwinder could not reach the caller (no unwind info): keep at
    // least the caller itself.
    state.frames[0] = caller_pc;
    state.depth = 1;
  }
  uint64_t id = hashFrames(state.frames, state.depth);
  if (seenBefore(log, id))
    return id;
  uint8_t buffer[sizeof(log::StackRecordHeader) +
                 sizeof(uint64_t) * log::kMaxStackDepth];
  log::PayloadBuilder payload(buffer, sizeof(buffer));
  log::StackRecordHeader header;
  header.stack_id = id;
  header.depth = state.depth;
  header.reserved = 0;
  payload.pod(header);
  payload.bytes(state.frames, sizeof(uint64_t) * state.depth);
  appendRecord(log, log::RecordType::Stack, buffer, payload.size());
  return id;
}

} // namespace rt
} // namespace memscope
