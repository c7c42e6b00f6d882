//===-- rt_stack.cpp - Stacks of sampled allocations ---------------------===//
//
// Runs only on the sampled path. Two unwinders:
//
// * A frame-pointer walk, the fast path, when the caller is instrumented
//   code (the wrappers compile it with -fno-omit-frame-pointer). A frame
//   record is followed only while the return address it holds lies in an
//   instrumented module, since only such a caller saved a real frame
//   pointer; every frame pointer must also be 8-byte aligned, above the
//   previous one and inside the thread's stack (read once per thread from
//   /proc/self/maps), so a bad frame stops the walk instead of faulting.
// * _Unwind_Backtrace (.eh_frame; glibc >= 2.35 serves it from
//   _dl_find_object without locks or malloc) when the caller has no frame
//   pointers (Debian's libstdc++ and libc: allocations caught by the malloc
//   interposer), or when the frame-pointer walk cannot vouch for the rest.
//
// Where the frame-pointer walk reaches a return address into code without
// frame pointers, it asks a small lock-free table about that address: the
// first time, the stack is unwound from .eh_frame and the frames beyond it
// are remembered when none of them but the outermost (_start) is
// instrumented (a thread or process entry such as start_thread or
// __libc_start_main: always the same), or the address is marked as needing
// the unwinder. Both paths give the same
// frames, so equal stacks keep one id.
//
// Before a stack is written, modules loaded since the last one get their
// Module records, so frames in a library dlclose'd later still resolve.
// Depth is bounded by the stack_depth flag. Stacks are deduplicated per log
// file (one per thread slot) by their hash.
//
//===----------------------------------------------------------------------===//
#include "rt_internal.h"
#include "rt_modules.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>
#include <unwind.h>

// The main thread's stack end, exported by glibc's dynamic loader.
extern "C" void *__libc_stack_end;

namespace memscope {
namespace rt {

struct StackCache {
  static constexpr uint32_t kEntries = 1024;
  uint64_t ids[kEntries];
  uint32_t used;
};

namespace {

//===-- .eh_frame unwinding -----------------------------------------------===//

struct UnwindState {
  uintptr_t caller_pc;
  bool started;
  uint32_t depth;
  uint32_t max_depth;
  uint64_t *frames;
};

_Unwind_Reason_Code collectFrame(struct _Unwind_Context *context, void *arg) {
  auto &state = *static_cast<UnwindState *>(arg);
  uintptr_t pc = _Unwind_GetIP(context);
  if (!pc)
    return _URC_END_OF_STACK;
  if (!state.started) {
    // Skip the runtime's own frames, up to the caller of the runtime.
    if (pc != state.caller_pc)
      return _URC_NO_REASON;
    state.started = true;
  }
  state.frames[state.depth++] = pc;
  return state.depth >= state.max_depth ? _URC_END_OF_STACK : _URC_NO_REASON;
}

/// Frames from caller_pc outwards; 0 if the unwinder never reached it.
uint32_t unwindStack(uintptr_t caller_pc, uint64_t *frames,
                     uint32_t max_depth) {
  UnwindState state{caller_pc, false, 0, max_depth, frames};
  _Unwind_Backtrace(collectFrame, &state);
  return state.started ? state.depth : 0;
}

//===-- Thread stack bounds
//-------------------------------------------------===//

struct StackBounds {
  uintptr_t low;
  uintptr_t high;
};
// Trivially destructible, so allowed as a thread_local.
__thread StackBounds t_stack_bounds;

uintptr_t parseHex(const char *&p, const char *end) {
  uintptr_t value = 0;
  for (; p < end; ++p) {
    char c = *p;
    unsigned digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else
      break;
    value = (value << 4) | digit;
  }
  return value;
}

/// The mapping of /proc/self/maps that holds sp: the thread's stack. Reads
/// with read(2) into a buffer on the stack; no malloc, no stdio.
StackBounds findStackMapping(uintptr_t sp) {
  StackBounds none{0, 0};
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return none;
  char buffer[4096];
  size_t kept = 0;
  StackBounds found = none;
  for (;;) {
    ssize_t got = read(fd, buffer + kept, sizeof(buffer) - kept);
    if (got <= 0)
      break;
    size_t size = kept + static_cast<size_t>(got);
    size_t line = 0;
    for (size_t i = 0; i < size; ++i) {
      if (buffer[i] != '\n')
        continue;
      const char *p = buffer + line;
      const char *end = buffer + i;
      uintptr_t low = parseHex(p, end);
      if (p < end && *p == '-') {
        ++p;
        uintptr_t high = parseHex(p, end);
        if (sp >= low && sp < high)
          found = {low, high};
      }
      line = i + 1;
    }
    if (found.high)
      break;
    // Keep the partial last line for the next read.
    kept = size - line;
    if (kept == sizeof(buffer))
      kept = 0; // an absurdly long line: drop it
    for (size_t i = 0; i < kept; ++i)
      buffer[i] = buffer[line + i];
  }
  close(fd);
  return found;
}

StackBounds currentStackBounds(uintptr_t sp) {
  StackBounds &bounds = t_stack_bounds;
  if (sp >= bounds.low && sp < bounds.high)
    return bounds;
  // Without a system call where glibc tells: a thread's descriptor sits at
  // the top of its stack (also of a stack the caller provided), and the
  // main thread's stack ends at __libc_stack_end. Frames lie between sp
  // and there.
  constexpr uintptr_t kMaxStack = uintptr_t(1) << 30;
  auto self = static_cast<uintptr_t>(pthread_self());
  auto main_end = reinterpret_cast<uintptr_t>(__libc_stack_end);
  if (self > sp && self - sp < kMaxStack)
    bounds = {sp, self};
  else if (main_end > sp && main_end - sp < kMaxStack)
    bounds = {sp, main_end};
  else // a signal stack, or a thread glibc did not create
    bounds = findStackMapping(sp);
  return bounds;
}

//===-- Return addresses into code without frame pointers -----------------===//

/// What the frames beyond a return address into code without frame
/// pointers look like, learnt once from .eh_frame.
struct TailEntry {
  static constexpr uint32_t kMaxTail = 8;
  std::atomic<uint64_t> key; // the return address; 0 empty, 1 being written
  uint32_t needs_unwind;     // instrumented frames lie beyond it
  uint32_t depth;
  uint64_t tail[kMaxTail];
};
constexpr uint32_t kTailEntries = 512;
constexpr uint32_t kTailProbes = 8;
TailEntry g_tails[kTailEntries];

uint32_t tailSlot(uint64_t pc) {
  return static_cast<uint32_t>((pc * 0x9E3779B97F4A7C15ull) >> 55) &
         (kTailEntries - 1);
}

const TailEntry *findTail(uint64_t pc) {
  for (uint32_t probe = 0; probe < kTailProbes; ++probe) {
    const TailEntry &entry =
        g_tails[(tailSlot(pc) + probe) & (kTailEntries - 1)];
    uint64_t key = entry.key.load(std::memory_order_acquire);
    if (key == pc)
      return &entry;
    if (key == 0)
      return nullptr;
  }
  return nullptr;
}

void rememberTail(uint64_t pc, bool needs_unwind, const uint64_t *tail,
                  uint32_t depth) {
  for (uint32_t probe = 0; probe < kTailProbes; ++probe) {
    TailEntry &entry = g_tails[(tailSlot(pc) + probe) & (kTailEntries - 1)];
    uint64_t key = entry.key.load(std::memory_order_acquire);
    if (key == pc)
      return;
    if (key != 0 ||
        !entry.key.compare_exchange_strong(key, 1, std::memory_order_acquire))
      continue;
    entry.needs_unwind = needs_unwind;
    entry.depth = depth;
    for (uint32_t i = 0; i < depth; ++i)
      entry.tail[i] = tail[i];
    entry.key.store(pc, std::memory_order_release);
    return;
  }
  // Table full around this slot: such stacks keep using the unwinder.
}

//===-- Frame-pointer walk
//--------------------------------------------------===//

enum class Walk { Complete, NeedsUnwind, Failed };

struct FrameRecord {
  const FrameRecord *next; // the caller's frame pointer
  uintptr_t return_address;
};

/// Walks frame records from the caller of the runtime outwards. On
/// NeedsUnwind, frames[0..depth) end with the return address into code
/// without frame pointers whose tail is unknown.
__attribute__((noinline)) Walk walkFramePointers(uintptr_t caller_pc,
                                                 uint64_t *frames,
                                                 uint32_t max_depth,
                                                 uint32_t &depth) {
  depth = 0;
  const auto *fp = static_cast<const FrameRecord *>(__builtin_frame_address(0));
  auto sp = reinterpret_cast<uintptr_t>(fp);
  StackBounds bounds = currentStackBounds(sp);
  auto valid = [&](const FrameRecord *record, const FrameRecord *previous) {
    auto address = reinterpret_cast<uintptr_t>(record);
    return address > reinterpret_cast<uintptr_t>(previous) &&
           (address & 7) == 0 && address >= bounds.low &&
           address + sizeof(FrameRecord) <= bounds.high;
  };
  if (!valid(fp, nullptr))
    return Walk::Failed;
  // The runtime's own frames (built with frame pointers), up to its caller.
  constexpr uint32_t kMaxRuntimeFrames = 8;
  uint32_t skipped = 0;
  while (fp->return_address != caller_pc) {
    const FrameRecord *next = fp->next;
    if (++skipped > kMaxRuntimeFrames || !valid(next, fp))
      return Walk::Failed;
    fp = next;
  }
  for (;;) {
    uintptr_t pc = fp->return_address;
    if (!pc)
      return Walk::Complete;
    frames[depth++] = pc;
    if (depth >= max_depth)
      return Walk::Complete;
    if (!inInstrumentedModule(pc)) {
      // The caller keeps no frame pointer: the saved one is not its own.
      const TailEntry *tail = findTail(pc);
      if (!tail || tail->needs_unwind)
        return Walk::NeedsUnwind;
      for (uint32_t i = 0; i < tail->depth && depth < max_depth; ++i)
        frames[depth++] = tail->tail[i];
      return Walk::Complete;
    }
    const FrameRecord *next = fp->next;
    if (!next)
      return Walk::Complete; // the outermost frame (_start, clone)
    if (!valid(next, fp))
      return Walk::Failed;
    fp = next;
  }
}

//===-- Deduplication
//-------------------------------------------------------===//

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

void forgetWrittenStacks(LogWriter &log) {
  if (log.stacks)
    munmap(log.stacks, sizeof(StackCache));
  log.stacks = nullptr;
}

namespace {

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

/// Frames of the stack from caller_pc outwards, by the cheapest unwinder
/// that is right for it.
uint32_t collectStack(uintptr_t caller_pc, uint64_t *frames,
                      uint32_t max_depth) {
  if (inInstrumentedModule(caller_pc)) {
    uint32_t depth = 0;
    Walk walk = walkFramePointers(caller_pc, frames, max_depth, depth);
    if (walk == Walk::Complete)
      return depth;
    if (walk == Walk::NeedsUnwind) {
      // frames[depth - 1] returns into code without frame pointers: learn
      // what lies beyond it from .eh_frame.
      uint64_t boundary = frames[depth - 1];
      uint32_t prefix = depth;
      uint64_t unwound[log::kMaxStackDepth];
      uint32_t total = unwindStack(caller_pc, unwound, max_depth);
      if (total >= prefix && unwound[prefix - 1] == boundary) {
        // The tail is the same every time when no instrumented code runs
        // in it (a thread or process entry), except the outermost frame:
        // _start lives in the executable. An instrumented caller further
        // out (qsort called from several places) means it may differ.
        bool needs_unwind = total - prefix > TailEntry::kMaxTail;
        for (uint32_t i = prefix; i + 1 < total && !needs_unwind; ++i)
          needs_unwind = inInstrumentedModule(unwound[i]);
        if (total < max_depth || needs_unwind)
          rememberTail(boundary, needs_unwind, unwound + prefix,
                       needs_unwind ? 0 : total - prefix);
        for (uint32_t i = 0; i < total; ++i)
          frames[i] = unwound[i];
        return total;
      }
      // The unwinder disagrees or failed: keep what the frame pointers
      // proved.
      return prefix;
    }
  }
  uint32_t depth = unwindStack(caller_pc, frames, max_depth);
  if (!depth) {
    // No unwind information reaches the caller: keep at least the caller.
    frames[0] = caller_pc;
    depth = 1;
  }
  return depth;
}

} // namespace

uint64_t captureStack(LogWriter &log, uintptr_t caller_pc) {
  if (!caller_pc)
    return 0;
  uint64_t frames[log::kMaxStackDepth];
  uint32_t max_depth = g_flags.stack_depth;
  if (max_depth < 1 || max_depth > log::kMaxStackDepth)
    max_depth = log::kMaxStackDepth;
  uint32_t depth = collectStack(caller_pc, frames, max_depth);
  // A library loaded without registering sites (uninstrumented dlopen) may
  // be in this stack and be unloaded before exit: describe it now.
  writeNewModules();
  uint64_t id = hashFrames(frames, depth);
  if (seenBefore(log, id))
    return id;
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
  return id;
}

} // namespace rt
} // namespace memscope
