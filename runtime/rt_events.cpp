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
// (and defined) again. What a loop repeats, an event leaves out (version 5):
// the previous allocation's (or free's) key, the size of its key's previous
// allocation (the table keeps one per index), the id of the allocation just
// made when it is freed; a default-mode sample then takes 6 bytes, not 12.
//
//===----------------------------------------------------------------------===//
#include "rt_internal.h"

#include <sys/mman.h>

#include <type_traits>

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
  // Each index's last allocation size (kEventSameSize), after the entries.
  log::KeySize *sizes;
  Entry entries[1]; // capacity entries, mapped on first use
};

namespace {

size_t keysBytes(uint32_t capacity) {
  return sizeof(EventKeys) + sizeof(EventKeys::Entry) * (capacity - 1) +
         sizeof(log::KeySize) * capacity;
}

/// internKey's rare part: maps \p writer's table on first use, or empties
/// it when full, then defines the key. Apart, so that the probe inlined
/// into every append saves no registers for it.
__attribute__((noinline)) bool internKeySlow(LogWriter &writer,
                                             uint64_t site_id,
                                             uint64_t stack_id, uint32_t kind,
                                             uint64_t &index, bool &is_new);

/// The entry of (site, stack, kind) in \p keys, or the empty one where it
/// would go.
inline __attribute__((always_inline)) EventKeys::Entry &
probeKey(EventKeys &keys, uint64_t site_id, uint64_t stack_id, uint32_t kind) {
  uint64_t hash = (site_id ^ (stack_id * 0x9E3779B97F4A7C15ull) ^ kind) *
                  0xFF51AFD7ED558CCDull;
  uint32_t mask = keys.capacity - 1;
  for (uint32_t probe = 0;; ++probe) {
    EventKeys::Entry &entry = keys.entries[((hash >> 40) + probe) & mask];
    if (entry.kind_plus_one == 0 ||
        (entry.site_id == site_id && entry.stack_id == stack_id &&
         entry.kind_plus_one == kind + 1))
      return entry;
  }
}

/// The index of (site, stack, kind) in \p writer's file; \p is_new when it
/// must be defined before use. False when no table can be mapped.
inline __attribute__((always_inline)) bool
internKey(LogWriter &writer, uint64_t site_id, uint64_t stack_id, uint32_t kind,
          uint64_t &index, bool &is_new) {
  EventKeys *keys = writer.keys;
  if (MSC_UNLIKELY(!keys))
    return internKeySlow(writer, site_id, stack_id, kind, index, is_new);
  EventKeys::Entry &entry = probeKey(*keys, site_id, stack_id, kind);
  is_new = entry.kind_plus_one == 0;
  if (is_new) {
    // Full enough: start over; the Key events define indices anew.
    if (MSC_UNLIKELY(keys->used >= keys->capacity * 3 / 4))
      return internKeySlow(writer, site_id, stack_id, kind, index, is_new);
    entry = {site_id, stack_id, kind + 1, keys->used++};
  }
  index = entry.index;
  return true;
}

/// For the short path: the index of (site, stack, kind) when \p writer's
/// file has defined it, which becomes its type's most recent key (\p
/// recent); false when it has not. Apart, so that the short path keeps its
/// registers for the event.
__attribute__((noinline)) bool knownKey(LogWriter &writer, int recent,
                                        uint64_t site_id, uint64_t stack_id,
                                        uint32_t kind, uint64_t &index) {
  EventKeys::Entry &entry = probeKey(*writer.keys, site_id, stack_id, kind);
  if (entry.kind_plus_one == 0)
    return false;
  writer.keys->recent[recent] = entry;
  index = entry.index;
  return true;
}

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

bool internKeySlow(LogWriter &writer, uint64_t site_id, uint64_t stack_id,
                   uint32_t kind, uint64_t &index, bool &is_new) {
  if (!writer.keys) {
    uint32_t capacity = g_flags.exact ? 1024 : 128;
    writer.keys = static_cast<EventKeys *>(mapZeroed(keysBytes(capacity)));
    if (!writer.keys)
      return false;
    writer.keys->capacity = capacity;
    // The sizes of indices given out again stay: kEventSameSize is by
    // index, whichever triple it stands for, and readers keep them so too.
    writer.keys->sizes =
        reinterpret_cast<log::KeySize *>(writer.keys->entries + capacity);
  } else {
    EventKeys &keys = *writer.keys;
    memset(keys.entries, 0, sizeof(EventKeys::Entry) * keys.capacity);
    memset(keys.recent, 0, sizeof(keys.recent));
    keys.used = 0;
  }
  return internKey(writer, site_id, stack_id, kind, index, is_new);
}

} // namespace

namespace {

/// An allocation or a free as the shared encoder writes it.
inline __attribute__((always_inline)) uint8_t *
encodeAlloc(uint8_t *out, log::EventsState &state, uint64_t key,
            const log::AllocRecord &alloc, uint64_t weight_interval,
            bool same_size) {
  return log::encodeAllocEvent(out, state, key, alloc.sample_id, alloc.size,
                               alloc.monotonic_ns, alloc.weight, alloc.flags,
                               alloc.address, weight_interval, same_size);
}
/// Whether \p alloc's size is its key's previous allocation's in the open
/// Events record (after startEvent, which may have opened a new one).
inline __attribute__((always_inline)) bool
repeatsSize(LogWriter &writer, uint64_t key, const log::AllocRecord &alloc) {
  return log::repeatsSize(writer.keys->sizes[key], alloc.size,
                          writer.events_block);
}
inline __attribute__((always_inline)) uint8_t *
encodeFree(uint8_t *out, log::EventsState &state, uint64_t key,
           const log::FreeRecord &free) {
  return free.sample_id ? log::encodeFreeEvent(out, state, key, free.sample_id,
                                               free.monotonic_ns)
                        : log::encodeFreeAddressEvent(
                              out, state, key, free.address, free.monotonic_ns);
}

/// Room for one event of (site, stack, kind) in the writer's Events record,
/// after its Key event when the file does not know the key yet: where the
/// event goes (nullptr when the log cannot be written), and its \p key.
inline __attribute__((always_inline)) uint8_t *
startEvent(LogWriter &writer, int recent, uint64_t site_id, uint64_t stack_id,
           uint32_t kind, const log::EventsHeader &fresh, uint64_t &key) {
  bool is_new;
  if (!internRecentKey(writer, recent, site_id, stack_id, kind, key, is_new))
    return nullptr;
  uint8_t *out = reserveEvents(
      writer, (is_new ? log::kMaxKeyEventSize : 0) + log::kMaxEventSize, fresh);
  if (out && is_new)
    out = log::encodeKeyEvent(out, key, site_id, stack_id, kind);
  return out;
}

/// Appends one event of (site, stack, kind); \p encode writes the event
/// itself, \p grow extends the record's CRC (commitEvents).
template <typename Encode, typename GrowCrc>
inline __attribute__((always_inline)) bool
appendEvent(LogWriter &writer, int recent, uint64_t site_id, uint64_t stack_id,
            uint32_t kind, const log::EventsHeader &fresh, Encode encode,
            GrowCrc grow) {
  uint64_t key;
  uint8_t *out =
      startEvent(writer, recent, site_id, stack_id, kind, fresh, key);
  if (!out)
    return false;
  commitEvents(writer, encode(out, key), grow);
  return true;
}

template <typename GrowCrc>
inline __attribute__((always_inline)) bool
appendAlloc(LogWriter &writer, const log::AllocRecord &alloc,
            uint64_t weight_interval, GrowCrc grow) {
  return appendEvent(
      writer, 0, alloc.site_id, alloc.stack_id, alloc.kind,
      {alloc.monotonic_ns, alloc.sample_id - 1},
      [&](uint8_t * out, uint64_t key) __attribute__((always_inline)) {
        return encodeAlloc(out, writer.events_state, key, alloc,
                           weight_interval, repeatsSize(writer, key, alloc));
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
        return encodeFree(out, writer.events_state, key, free);
      },
      grow);
}

// Exact mode appends an event per allocation and per free. Its common events
// take a short path compiled for SSE 4.2 (chosen when the CPU has it), with
// the CRC instructions inline; the rest take the general one.
#if defined(__x86_64__)
#define MSC_HARDWARE_CRC 1

/// An event of up to 16 bytes built in two registers: exact mode's common
/// events (an allocation of weight 1 whose id follows the last, a free by
/// address, each number under 2^21) take 2 to 13 bytes. Their CRC then
/// takes one crc32 instruction per 8, 4, 2 or 1 of them; a byte at a time
/// made a chain of 3-cycle instructions that was a third of an append's
/// time. The bytes are log::encodeAllocEvent's and encodeFreeAddressEvent's
/// (test: EventWordsAreTheSharedEncodersBytes).
struct EventWord {
  uint64_t low = 0, high = 0;
  unsigned length = 0;
  /// Appends the \p count bytes of \p bytes (low byte first); an event
  /// never passes 16 (13 at most: a tag and four numbers of 3 bytes).
  __attribute__((always_inline)) void put(uint64_t bytes, unsigned count) {
    if (length < 8) {
      low |= bytes << (8 * length);
      if (length + count > 8) // length > 5 here: the shift is under 64
        high |= bytes >> (8 * (8 - length));
    } else {
      high |= bytes << (8 * (length - 8));
    }
    length += count;
  }
  __attribute__((always_inline)) void byte(uint64_t value) { put(value, 1); }
  /// putVarint's bytes, for values of at most three, built in a register
  /// and appended at once.
  __attribute__((always_inline)) bool varint(uint64_t value) {
    if (value < 0x80) {
      put(value, 1);
    } else if (value < 0x4000) {
      put((value & 0x7f) | 0x80 | (value >> 7) << 8, 2);
    } else if (value < 0x200000) {
      put((value & 0x7f) | 0x80 | (((value >> 7) & 0x7f) | 0x80) << 8 |
              (value >> 14) << 16,
          3);
    } else {
      return false;
    }
    return true;
  }
};

/// The address field of an event (EventsState::addressDelta), without
/// changing \p state; sets kEventAddressBy16 in \p tag.
inline uint64_t addressField(const log::EventsState &state, uint64_t address,
                             uint8_t &tag) {
  log::EventsState copy = state;
  return copy.addressDelta(address, tag);
}

/// \p alloc as an EventWord; false (and \p state unchanged) when it needs
/// the general encoder. \p same_size as for encodeAllocEvent.
inline __attribute__((always_inline)) bool
allocWord(log::EventsState &state, uint64_t key, const log::AllocRecord &alloc,
          bool same_size, EventWord &word) {
  if (alloc.weight != 1.0 || (alloc.flags & ~log::AllocFreedByAddress) ||
      alloc.sample_id != state.last_alloc_id + 1)
    return false;
  // The short form when something repeats, as the encoder chooses.
  bool same_key = key == state.last_alloc_key;
  uint8_t tag = same_key || same_size
                    ? log::kEventKey | (same_key ? log::kEventSameKey : 0) |
                          (same_size ? log::kEventSameSize : 0)
                    : log::kEventAlloc;
  uint64_t address = 0;
  bool by_address = alloc.flags & log::AllocFreedByAddress;
  if (by_address) {
    tag |= log::kEventAddress;
    address = addressField(state, alloc.address, tag);
  }
  uint64_t time = alloc.monotonic_ns > state.last_ns
                      ? alloc.monotonic_ns - state.last_ns
                      : 0;
  word.byte(tag);
  if (!word.varint(time) || (!same_key && !word.varint(key)) ||
      (!same_size && !word.varint(alloc.size)) ||
      (by_address && !word.varint(address)))
    return false;
  state.last_ns += time;
  state.last_alloc_id = alloc.sample_id;
  state.last_alloc_key = key;
  if (by_address)
    state.last_address = alloc.address;
  return true;
}

/// A free by address as an EventWord, as allocWord.
inline __attribute__((always_inline)) bool freeWord(log::EventsState &state,
                                                    uint64_t key,
                                                    const log::FreeRecord &free,
                                                    EventWord &word) {
  if (free.sample_id)
    return false;
  bool same_key = key == state.last_free_key;
  uint8_t tag = log::kEventFreeAddress | (same_key ? log::kEventSameKey : 0);
  uint64_t address = addressField(state, free.address, tag);
  uint64_t time =
      free.monotonic_ns > state.last_ns ? free.monotonic_ns - state.last_ns : 0;
  word.byte(tag);
  if (!word.varint(time) || (!same_key && !word.varint(key)) ||
      !word.varint(address))
    return false;
  state.last_ns += time;
  state.last_address = free.address;
  state.last_free_key = key;
  return true;
}

/// The common event in the SSE 4.2 copy: its key is the writer's most
/// recent one of its type (\p recent, as internRecentKey's), the open record
/// has room, and it fits an EventWord (\p to_word). False, with nothing
/// changed, when the event needs the general path (appendAlloc,
/// appendFree), which is kept out of line: it holds the key table's probe,
/// the Key event, a new record and the general encoder, and inlined here
/// they cost every event saved registers.
template <typename Record, typename ToWord>
__attribute__((target("sse4.2"), always_inline)) inline bool
appendWordHardwareCrc(LogWriter &writer, int recent, uint64_t site_id,
                      uint64_t stack_id, uint32_t kind, const Record &record,
                      ToWord to_word) {
  EventKeys *keys = writer.keys;
  if (MSC_UNLIKELY(!keys))
    return false;
  const EventKeys::Entry &last = keys->recent[recent];
  uint64_t key = last.index;
  if ((last.site_id != site_id || last.stack_id != stack_id ||
       last.kind_plus_one != kind + 1) &&
      !knownKey(writer, recent, site_id, stack_id, kind, key))
    return false;
  uint8_t *out = writer.events_end;
  // Both words are stored: the room a general event would take covers them.
  if (MSC_UNLIKELY(static_cast<size_t>(writer.events_limit - out) <
                   log::kMaxEventSize))
    return false;
  bool same_size = false;
  log::KeySize *key_size = nullptr;
  if constexpr (std::is_same_v<Record, log::AllocRecord>) {
    // Read, not yet noted: the general path notes it if the word fails.
    key_size = &keys->sizes[key];
    same_size =
        key_size->block == writer.events_block && key_size->size == record.size;
  }
  EventWord word;
  if (!to_word(writer.events_state, key, record, same_size, word))
    return false;
  if constexpr (std::is_same_v<Record, log::AllocRecord>)
    log::repeatsSize(*key_size, record.size, writer.events_block);
  // Bytes past the event are not the record's until written again.
  memcpy(out, &word.low, 8);
  memcpy(out + 8, &word.high, 8);
  uint32_t running = writer.events_crc;
  uint64_t rest = word.low;
  unsigned left = word.length;
  if (left >= 8) {
    running = static_cast<uint32_t>(__builtin_ia32_crc32di(running, rest));
    rest = word.high;
    left -= 8;
  }
  if (left & 4) {
    running = __builtin_ia32_crc32si(running, static_cast<uint32_t>(rest));
    rest >>= 32;
  }
  if (left & 2) {
    running = __builtin_ia32_crc32hi(running, static_cast<uint16_t>(rest));
    rest >>= 16;
  }
  if (left & 1)
    running = __builtin_ia32_crc32qi(running, static_cast<uint8_t>(rest));
  out += word.length;
  writer.events_end = out;
  log::RecordHeader header;
  header.type = static_cast<uint8_t>(log::RecordType::Events);
  header.flags = 0;
  header.payload_size = static_cast<uint16_t>(eventsPayloadSize(writer, out));
  uint32_t head;
  memcpy(&head, &header, 4);
  writer.events_crc = running;
  header.crc = ~__builtin_ia32_crc32si(running, head);
  publishHeader(writer.events_record, header);
  return true;
}

// The general path, out of line (below).
bool appendAllocGeneral(LogWriter &writer, const log::AllocRecord &alloc,
                        uint64_t weight_interval);
bool appendFreeGeneral(LogWriter &writer, const log::FreeRecord &free);

__attribute__((target("sse4.2"), noinline)) bool
appendAllocHardwareCrc(LogWriter &writer, const log::AllocRecord &alloc,
                       uint64_t weight_interval) {
  if (appendWordHardwareCrc(
          writer, 0, alloc.site_id, alloc.stack_id, alloc.kind, alloc,
          [](log::EventsState & state, uint64_t key,
             const log::AllocRecord &record, bool same_size, EventWord &word)
              __attribute__((always_inline)) {
                return allocWord(state, key, record, same_size, word);
              }))
    return true;
  return appendAllocGeneral(writer, alloc, weight_interval);
}
__attribute__((target("sse4.2"), noinline)) bool
appendFreeHardwareCrc(LogWriter &writer, const log::FreeRecord &free) {
  if (appendWordHardwareCrc(
          writer, 1, free.site_id, 0, 0, free,
          [](log::EventsState & state, uint64_t key,
             const log::FreeRecord &record, bool, EventWord &word)
              __attribute__((always_inline)) {
                return freeWord(state, key, record, word);
              }))
    return true;
  return appendFreeGeneral(writer, free);
}
#endif
// Apart, so that the choice below saves no registers for them. The CRC is
// SSE 4.2's where the CPU has it (log::growRecordCrc).
__attribute__((noinline)) bool appendAllocGeneral(LogWriter &writer,
                                                  const log::AllocRecord &alloc,
                                                  uint64_t weight_interval) {
  return appendAlloc(writer, alloc, weight_interval, log::growRecordCrc);
}
__attribute__((noinline)) bool appendFreeGeneral(LogWriter &writer,
                                                 const log::FreeRecord &free) {
  return appendFree(writer, free, log::growRecordCrc);
}

} // namespace

bool appendAllocEvent(LogWriter &writer, const log::AllocRecord &alloc,
                      uint64_t weight_interval) {
#ifdef MSC_HARDWARE_CRC
  if (MSC_LIKELY(log::hasHardwareCrc32c()))
    return appendAllocHardwareCrc(writer, alloc, weight_interval);
#endif
  return appendAllocGeneral(writer, alloc, weight_interval);
}

bool appendFreeEvent(LogWriter &writer, const log::FreeRecord &free) {
#ifdef MSC_HARDWARE_CRC
  if (MSC_LIKELY(log::hasHardwareCrc32c()))
    return appendFreeHardwareCrc(writer, free);
#endif
  return appendFreeGeneral(writer, free);
}

void forgetEventKeys(LogWriter &writer) {
  if (writer.keys)
    munmap(writer.keys, keysBytes(writer.keys->capacity));
  writer.keys = nullptr;
}

} // namespace rt
} // namespace memscope
