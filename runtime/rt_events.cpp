//===-- rt_events.cpp - Allocations and frees as compact events ----------===//
//
// Exact mode records every allocation and free: at ~60 bytes a record, the
// log pages' faults and writeback were a quarter of its cost. Each is now an
// event of a few bytes in an Events record (memscope/LogFormat.h): varint
// deltas of time, sample id and (exact mode) address against the previous
// event, and an index for the (site, stack, kind) triple, which the file
// defines once with a Key event. The index comes from a small per-writer table
// (1,024 entries in exact mode, 128 when sampling, where a thread meets few
// triples); when the table fills up it is cleared and indices are given out
// (and defined) again.
//
//===----------------------------------------------------------------------===//
#include "rt_internal.h"

#include <sys/mman.h>

namespace memscope {
namespace rt {

struct EventKeys {
  struct Entry {
    uint64_t site_id;
    uint64_t stack_id;
    uint32_t kind_plus_one; // 0: empty
    uint32_t index;
  };
  uint32_t capacity; // a power of two
  uint32_t used;
  // The last allocation's and the last free's entry: a loop that allocates
  // and frees at one place repeats them, and skips the hash.
  Entry recent[2];
  Entry entries[1]; // capacity entries, mapped on first use
};

namespace {

size_t keysBytes(uint32_t capacity) {
  return sizeof(EventKeys) + sizeof(EventKeys::Entry) * (capacity - 1);
}

/// The index of (site, stack, kind) in \p writer's file; \p is_new when it
/// must be defined before use. False when no table can be mapped.
bool internKey(LogWriter &writer, uint64_t site_id, uint64_t stack_id,
               uint32_t kind, uint64_t &index, bool &is_new);

/// internKey, first trying the writer's most recent key of the same event
/// type (\p recent: 0 for allocations, 1 for frees).
inline __attribute__((always_inline)) bool
internRecentKey(LogWriter &writer, int recent, uint64_t site_id,
                uint64_t stack_id, uint32_t kind, uint64_t &index,
                bool &is_new) {
  if (MSC_LIKELY(writer.keys)) {
    const EventKeys::Entry &last = writer.keys->recent[recent];
    if (last.site_id == site_id && last.stack_id == stack_id &&
        last.kind_plus_one == kind + 1) {
      index = last.index;
      is_new = false;
      return true;
    }
  }
  if (!internKey(writer, site_id, stack_id, kind, index, is_new))
    return false;
  writer.keys->recent[recent] = {site_id, stack_id, kind + 1,
                                 static_cast<uint32_t>(index)};
  return true;
}

bool internKey(LogWriter &writer, uint64_t site_id, uint64_t stack_id,
               uint32_t kind, uint64_t &index, bool &is_new) {
  if (MSC_UNLIKELY(!writer.keys)) {
    uint32_t capacity = g_flags.exact ? 1024 : 128;
    writer.keys = static_cast<EventKeys *>(mapZeroed(keysBytes(capacity)));
    if (!writer.keys)
      return false;
    writer.keys->capacity = capacity;
  }
  EventKeys &keys = *writer.keys;
  uint64_t hash = (site_id ^ (stack_id * 0x9E3779B97F4A7C15ull) ^ kind) *
                  0xFF51AFD7ED558CCDull;
  uint32_t mask = keys.capacity - 1;
  for (uint32_t probe = 0;; ++probe) {
    EventKeys::Entry &entry = keys.entries[((hash >> 40) + probe) & mask];
    if (entry.kind_plus_one == 0) {
      if (keys.used >= keys.capacity * 3 / 4) {
        // Full enough: start over; the Key events define indices anew.
        memset(keys.entries, 0, sizeof(EventKeys::Entry) * keys.capacity);
        memset(keys.recent, 0, sizeof(keys.recent));
        keys.used = 0;
        return internKey(writer, site_id, stack_id, kind, index, is_new);
      }
      entry = {site_id, stack_id, kind + 1, keys.used++};
      index = entry.index;
      is_new = true;
      return true;
    }
    if (entry.site_id == site_id && entry.stack_id == stack_id &&
        entry.kind_plus_one == kind + 1) {
      index = entry.index;
      is_new = false;
      return true;
    }
  }
}

} // namespace

namespace {

/// Appends one event of (site, stack, kind), defining its key first when the
/// file does not know it yet; \p encode writes the event itself, \p grow
/// extends the record's CRC (commitEvents).
template <typename Encode, typename GrowCrc>
inline __attribute__((always_inline)) bool
appendEvent(LogWriter &writer, int recent, uint64_t site_id, uint64_t stack_id,
            uint32_t kind, const log::EventsHeader &fresh, Encode encode,
            GrowCrc grow) {
  uint64_t key;
  bool is_new;
  if (!internRecentKey(writer, recent, site_id, stack_id, kind, key, is_new))
    return false;
  uint8_t *out = reserveEvents(
      writer, (is_new ? log::kMaxKeyEventSize : 0) + log::kMaxEventSize, fresh);
  if (!out)
    return false;
  if (is_new)
    out = log::encodeKeyEvent(out, key, site_id, stack_id, kind);
  commitEvents(writer, encode(out, key), grow);
  return true;
}

template <typename GrowCrc>
inline __attribute__((always_inline)) bool
appendAlloc(LogWriter &writer, const log::AllocRecord &alloc, GrowCrc grow) {
  return appendEvent(
      writer, 0, alloc.site_id, alloc.stack_id, alloc.kind,
      {alloc.monotonic_ns, alloc.sample_id - 1},
      [&](uint8_t * out, uint64_t key) __attribute__((always_inline)) {
        return log::encodeAllocEvent(
            out, writer.events_state, key, alloc.sample_id, alloc.size,
            alloc.monotonic_ns, alloc.weight, alloc.flags, alloc.address);
      },
      grow);
}

template <typename GrowCrc>
inline __attribute__((always_inline)) bool
appendFree(LogWriter &writer, const log::FreeRecord &free, GrowCrc grow) {
  // A free's key names the freeing site only.
  return appendEvent(
      writer, 1, free.site_id, 0, 0, {free.monotonic_ns, free.sample_id},
      [&](uint8_t * out, uint64_t key) __attribute__((always_inline)) {
        return free.sample_id
                   ? log::encodeFreeEvent(out, writer.events_state, key,
                                          free.sample_id, free.monotonic_ns)
                   : log::encodeFreeAddressEvent(out, writer.events_state, key,
                                                 free.address,
                                                 free.monotonic_ns);
      },
      grow);
}

// Each event is appended by one function with everything inlined, the CRC
// instructions included: exact mode runs it per allocation and per free.
// SSE 4.2's copy is compiled for it, and chosen when the CPU has it.
#if defined(__x86_64__)
#define MSC_HARDWARE_CRC 1
__attribute__((target("sse4.2"), noinline)) bool
appendAllocHardwareCrc(LogWriter &writer, const log::AllocRecord &alloc) {
  return appendAlloc(writer, alloc, log::growRecordCrcHardware);
}
__attribute__((target("sse4.2"), noinline)) bool
appendFreeHardwareCrc(LogWriter &writer, const log::FreeRecord &free) {
  return appendFree(writer, free, log::growRecordCrcHardware);
}
#endif
// Apart, so that the choice below saves no registers for them.
__attribute__((noinline)) bool
appendAllocSoftwareCrc(LogWriter &writer, const log::AllocRecord &alloc) {
  return appendAlloc(writer, alloc, log::growRecordCrc);
}
__attribute__((noinline)) bool
appendFreeSoftwareCrc(LogWriter &writer, const log::FreeRecord &free) {
  return appendFree(writer, free, log::growRecordCrc);
}

} // namespace

bool appendAllocEvent(LogWriter &writer, const log::AllocRecord &alloc) {
#ifdef MSC_HARDWARE_CRC
  if (MSC_LIKELY(log::hasHardwareCrc32c()))
    return appendAllocHardwareCrc(writer, alloc);
#endif
  return appendAllocSoftwareCrc(writer, alloc);
}

bool appendFreeEvent(LogWriter &writer, const log::FreeRecord &free) {
#ifdef MSC_HARDWARE_CRC
  if (MSC_LIKELY(log::hasHardwareCrc32c()))
    return appendFreeHardwareCrc(writer, free);
#endif
  return appendFreeSoftwareCrc(writer, free);
}

void forgetEventKeys(LogWriter &writer) {
  if (writer.keys)
    munmap(writer.keys, keysBytes(writer.keys->capacity));
  writer.keys = nullptr;
}

} // namespace rt
} // namespace memscope
