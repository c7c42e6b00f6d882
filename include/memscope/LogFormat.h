//===- memscope/LogFormat.h - The one on-disk log format --------*- C++ -*-===//
//
// Shared by libmemscope_rt (writer) and memscope-merge (reader). The format is
// specified in docs/log-format.md; this header is its single implementation.
//
// A run writes  <MEMSCOPE_OUT>/<exe>.<pid>/  holding
//   process.log      process info, modules, site tables, process end
//   t<N>.log         one per concurrently live thread slot; a slot is reused
//                    by later threads, so a file holds several thread spans.
//
// Every file is a 64-byte FileHeader followed by 8-byte aligned records:
//   RecordHeader { u8 type; u8 flags; u16 payload_size; u32 crc32c }
// The CRC covers the payload, then type, flags and size (version 1: the
// header bytes first). The writer stores the payload first and the header
// last, so a reader stops at the first all-zero header (unwritten tail of a
// file-backed buffer) and detects a torn or corrupted record by its CRC.
//
// Allocations and frees (version 2) are not records of their own but events
// in an Events record: a few bytes each, varint deltas against the block's
// previous event, with (site, stack, kind) interned per file. The writer
// grows an Events record in place and republishes its header (size and CRC,
// which is why the CRC ends with the header) after every event, so a crash
// loses at most the event being written. Version 1 wrote one Alloc or Free
// record per event (~60 bytes); readers still read it.
//
// All integers are little-endian. Header-only and allocation-free: the
// runtime includes it.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_LOGFORMAT_H
#define MEMSCOPE_LOGFORMAT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__) && defined(__has_include)
#if __has_include(<sys/platform/x86.h>)
#include <sys/platform/x86.h> // glibc 2.33 and later
#endif
#endif

namespace memscope {
namespace log {

constexpr char kMagic[8] = {'M', 'S', 'C', 'O', 'P', 'E', 'L', 'G'};
// 3.0: exact mode's frees name the block's address (kEventFreeAddress), an
// event 2.x readers cannot skip. 4.0: a byte sample's weight follows from
// its size and its interval (kEventDerivedWeight), which 3.x readers would
// take for a malformed event. 5.0: an event may leave out its key, size or
// id where it repeats the record's previous one (kEventSameKey and the short
// Alloc), which 4.x readers would take for malformed events.
constexpr uint16_t kVersionMajor = 5;       // readers reject a newer major
constexpr uint16_t kVersionMinor = 0;       // readers accept any minor
constexpr uint16_t kOldestVersionMajor = 1; // the oldest major still read
constexpr uint32_t kFileHeaderSize = 64;
constexpr uint32_t kRecordAlign = 8;
constexpr uint32_t kMaxPayload = 0xFFFF;
constexpr uint32_t kMaxStackDepth = 256;
constexpr uint32_t kMaxNameLength = 64;
/// The name of Memscope's own resource sampler thread (memscope::lockfree's
/// PlatformResourceCollector): readers tell it from the program's threads.
/// At most 15 characters, the kernel's limit for a thread name.
constexpr char kResourceSamplerThreadName[] = "memscope-rsrc";

enum class FileKind : uint16_t { Process = 1, Thread = 2 };

struct FileHeader {
  char magic[8];
  uint16_t version_major;
  uint16_t version_minor;
  uint16_t header_size;
  uint16_t kind; // FileKind
  uint32_t pid;
  uint32_t slot; // thread slot index for thread files, 0 for process.log
  uint64_t start_realtime_ns;
  uint64_t start_monotonic_ns;
  uint8_t reserved[24];
};
static_assert(sizeof(FileHeader) == kFileHeaderSize, "file header layout");

enum class RecordType : uint8_t {
  End = 0, // all-zero header: no more data
  // process.log
  ProcessInfo = 1,
  Module = 2,
  Site = 3,
  ProcessEnd = 4,
  Warning = 5, // str message: a warning the runtime printed, at exit
  Padding = 6, // filler with a valid CRC; readers skip it
  ThreadRunning = 7,
  ResourceSample = 8,
  Snapshot = 9,  // version 2.4: see SnapshotRecord
  LogLimit = 10, // version 2.5: see LogLimitRecord
  // version 2.5: ThreadEndRecord and ThreadTotals of a thread whose own log
  // had no room left for its ThreadEnd (max_log_size)
  ThreadEnded = 11,
  // t<N>.log
  ThreadStart = 16,
  ThreadName = 17,
  ThreadEnd = 18,
  Alloc = 19,
  Free = 20,
  Stack = 21,
  Events = 22, // version 2: allocations and frees, see EventsHeader
};

struct RecordHeader {
  uint8_t type;
  uint8_t flags;
  uint16_t payload_size;
  uint32_t crc;
};
static_assert(sizeof(RecordHeader) == 8, "record header layout");

enum class SamplingMode : uint32_t { Bytes = 1, Rate = 2, Exact = 3 };

//===-- Fixed-size payloads -------------------------------------------===//

struct ProcessInfoRecord {
  uint32_t pid;
  uint32_t ppid;
  uint32_t sampling_mode; // SamplingMode
  uint32_t stack_depth;
  uint64_t sample_interval_bytes; // Bytes mode: mean of the exponential
  double sample_rate;             // Rate mode: per-allocation probability
  uint64_t min_allocation_size;   // smaller requests are never sampled
  uint64_t start_realtime_ns;
  uint64_t start_monotonic_ns;
  // Followed by: u16 length + executable path bytes.
};

enum ModuleFlags : uint32_t { ModuleHasSites = 1 };

struct ModuleRecord {
  uint64_t load_bias;  // dlpi_addr: runtime address = file vaddr + bias
  uint64_t text_begin; // lowest executable PT_LOAD runtime address
  uint64_t text_end;   // one past the highest
  uint32_t flags;      // ModuleFlags
  uint8_t build_id_size;
  uint8_t build_id[32];
  uint8_t pad[3];
  // Followed by: u16 length + path bytes.
};

struct SiteRecord {
  uint64_t id;
  uint64_t module_text_addr; // an address inside the defining module
  uint32_t kind;             // msc_site_kind
  uint32_t line;
  uint32_t column;
  uint32_t inline_depth;
  // Followed by (encodeSite and decodeSite below): str file, str dir, str
  // function, then inline_depth times
  // { u32 line, u32 column, str function, str file, str dir },
  // then (version 2.3) str type: what the site allocates, "" when unknown.
  // str = u16 length + bytes.
};

struct ProcessEndRecord {
  uint64_t monotonic_ns;
  uint64_t dropped_records;   // records the runtime could not write
  uint64_t untracked_samples; // sampled blocks the live table could not hold
  uint64_t threads_started;
  // 0 = normal exit; N > 0 = the process died of fatal signal N, caught by
  // the runtime's crash handler. No ProcessEnd at all means it was killed
  // (SIGKILL) or is still running.
  int32_t exit_kind;
  uint32_t reserved;
};

/// process.log: one sample of the process's resource use, taken by
/// PlatformResourceCollector (memscope/lockfree.hpp) from getrusage and
/// /proc. Counters are cumulative since the process started.
struct ResourceSampleRecord {
  uint64_t monotonic_ns;
  uint64_t cpu_user_ns;   // getrusage(RUSAGE_SELF) ru_utime
  uint64_t cpu_system_ns; // getrusage(RUSAGE_SELF) ru_stime
  uint64_t rss_bytes;     // /proc/self/statm resident pages
  uint64_t read_bytes;    // /proc/self/io rchar
  uint64_t write_bytes;   // /proc/self/io wchar
  uint64_t read_calls;    // /proc/self/io syscr
  uint64_t write_calls;   // /proc/self/io syscw
  uint32_t threads;       // /proc/self/stat num_threads
  uint32_t reserved;
};

struct ThreadStartRecord {
  uint64_t thread_id; // process-unique, never reused (1 = the main thread)
  uint64_t os_tid;
  uint64_t parent_thread_id; // 0 when unknown
  uint64_t spawn_site;       // 0 when spawned by uninstrumented code
  uint64_t monotonic_ns;
  uint64_t pthread_handle; // pthread_self(): ThreadName records name it
  uint64_t spawn_stack_id; // Stack of the creating call, in the parent's log
  uint64_t creator_pc;     // return address of the pthread_create call
  // Followed by: u16 length + thread name bytes (may be empty).
};

/// A thread's name changed (pthread_setname_np). Written in the log of the
/// thread that renamed; thread_id is 0 when it renamed another thread, which
/// pthread_handle then identifies among the threads alive at that time.
struct ThreadNameRecord {
  uint64_t thread_id;
  uint64_t pthread_handle;
  uint64_t monotonic_ns;
  // Followed by: u16 length + name bytes.
};

/// process.log, at exit: a thread that was still running, with its CPU
/// time so far (from /proc/self/task/<tid>/stat).
struct ThreadRunningRecord {
  uint64_t thread_id;
  uint64_t os_tid;
  uint64_t monotonic_ns;
  uint64_t cpu_user_ns;
  uint64_t cpu_system_ns;
};

struct ThreadEndRecord {
  uint64_t thread_id;
  uint64_t monotonic_ns;
  uint64_t cpu_user_ns;
  uint64_t cpu_system_ns;
};

/// Since 2.1, after a ThreadEndRecord or a ThreadRunningRecord: what the
/// thread allocated while recording, counted (not sampled) by the inline
/// fast path and the interposers. After a ProcessEndRecord: the same for
/// the threads that ended without a log (they never recorded anything).
struct ThreadTotals {
  uint64_t allocations;
  uint64_t bytes;
};

/// Since 2.2, after ProcessEnd's ThreadTotals: the heap in use, counted on
/// every allocation and free in the allocator's own block sizes (glibc's
/// chunk sizes, header and rounding included), since recording started
/// (rt_heap.cpp). Left out when the runtime could not count every block
/// (another allocator than glibc's, or no interposers). A reader turns chunk
/// bytes into requested bytes by taking off the blocks' overhead
/// (memscope-merge estimates its mean from the sampled blocks).
struct HeapCounts {
  int64_t peak_chunk_bytes; // the most in use at once
  int64_t peak_blocks;      // blocks in use at that moment
  uint64_t peak_monotonic_ns;
  // Each thread adds to the process's count once its own change reaches a
  // limit, so a figure may miss up to this much (other threads' pending
  // changes) in either direction.
  uint64_t peak_uncertainty;
};

/// ProcessEnd (2.6), after HeapCounts: the heap in use at exit, counted as
/// SnapshotRecord's heap fields are (the whole heap, in glibc's chunk
/// sizes, blocks allocated before recording started included).
struct HeapAtExit {
  int64_t chunk_bytes;
  int64_t blocks;
  uint64_t uncertainty; // as HeapCounts::peak_uncertainty, at exit
};

/// What asked for a snapshot.
enum class SnapshotCause : uint32_t { Signal = 1, Call = 2, Interval = 3 };

/// process.log (2.4): a point in the run the program or its operator asked
/// to see (the option signal=USR2, memscope_snapshot()). The live set there
/// is what the thread logs' events up to monotonic_ns leave live, which the
/// merge reconstructs; the record adds the heap in use, counted.
struct SnapshotRecord {
  uint64_t number; // 1, 2, ... in the process
  uint64_t monotonic_ns;
  uint32_t cause;            // SnapshotCause
  uint32_t heap_counted;     // 1 when the heap_* fields are the counted heap
  int64_t heap_bytes;        // the whole heap in use now, in glibc's chunk
  int64_t heap_blocks;       // sizes
  uint64_t heap_uncertainty; // as HeapCounts::peak_uncertainty, now
};

/// process.log (2.5): the logs reached a mark of max_log_size and recording
/// was reduced from monotonic_ns on (rt_log_limit.cpp): level k once the
/// logs hold k/(k+1) of the budget for events. Samples
/// carry their weights, so estimates stay unbiased; they get coarser.
struct LogLimitRecord {
  uint64_t monotonic_ns;
  uint64_t max_log_size;          // the cap, bytes
  uint64_t log_bytes;             // this process's logs on disk then
  uint32_t level;                 // 1, 2, ...
  uint32_t flags;                 // LogLimitFlags
  uint64_t sample_interval_bytes; // byte sampling's interval from now on
  double sample_rate;             // rate mode's rate from now on
};

enum LogLimitFlags : uint32_t {
  /// Exact mode became byte sampling at this level.
  LogLimitLeftExact = 1u << 0,
  /// The cap is reached: no new log space, recording of new samples ends
  /// (the counters still count every allocation).
  LogLimitFull = 1u << 1,
};

struct AllocRecord {
  uint64_t sample_id; // process-unique; Free records name it
  uint64_t site_id;   // 0 for MSC_KIND_INDIRECT samples
  uint64_t address;   // events: only with AllocFreedByAddress
  uint64_t size;
  uint64_t monotonic_ns;
  uint64_t stack_id; // 0 = no stack captured
  double weight;     // allocations this sample stands for (>= 1)
  uint32_t kind;     // msc_site_kind
  uint32_t flags;    // AllocFlags
};

enum AllocFlags : uint32_t {
  // The live table was full: a free of this block cannot be observed, so it
  // must not be reported as live at exit.
  AllocUntracked = 1,
  // Version 3: its free names its address, not its sample id (exact mode,
  // whose allocations go into no table): a free of that address pairs with
  // the oldest such block live there.
  AllocFreedByAddress = 2,
};

struct FreeRecord {
  uint64_t sample_id; // 0: a free by address (version 3)
  uint64_t site_id;   // freeing site, 0 when freed by uninstrumented code
  uint64_t monotonic_ns;
  uint64_t address = 0; // the freed block, when sample_id is 0
};

struct StackRecordHeader {
  uint64_t stack_id;
  uint32_t depth;
  uint32_t reserved;
  // Followed by: depth x u64 return addresses, innermost first.
};

//===-- Events (version 2) --------------------------------------------===//
//
// An Events record's payload is an EventsHeader and then events, each a tag
// byte and unsigned LEB128 varints:
//   Key    tag=2 exactly, index, site_id, stack_id, kind
//          defines (or redefines) key \p index for the rest of the file
//   Alloc  tag=0 [|kEventWeight] [|kEventDerivedWeight] [|kEventUntracked]
//          [|kEventIdJump] [|kEventAddress [|kEventAddressBy16]], time
//          delta, key, size [, weight] [, zigzag id jump] [, zigzag address
//          delta]; weight: kEventWeight alone an f64, kEventDerivedWeight
//          alone nothing (byteSampleWeight of the size and the block's
//          interval), both a varint interval that becomes the block's
//          (version 4); neither: weight 1
//          sample_id = the block's previous allocation id + 1 (+ the jump)
//   Short Alloc  (version 5) tag=2 with at least one of [|kEventSameKey]
//          [|kEventSameSize] [|kEventDerivedWeight] [|kEventAddress
//          [|kEventAddressBy16]], time delta [, key] [, size] [, zigzag
//          address delta]: an Alloc whose id is the previous + 1, of the
//          block's interval's derived weight or of weight 1, not untracked
//   Free   tag=1 [|kEventSameKey] [|kEventLastId], time delta [, key]
//          (site_id = the freeing site) [, zigzag (sample_id - the block's
//          previous allocation id)]
//   FreeAddress  tag=3 [|kEventSameKey] [|kEventAddressBy16] (version 3),
//          time delta [, key] (as Free), zigzag address delta: a free of the
//          block there
// Time deltas are from the previous event of the block (the first from
// EventsHeader::monotonic_ns), address deltas from the previous event of the
// block that has one (the first from 0), in units of 16 bytes with
// kEventAddressBy16 (malloc's alignment: half a byte less per address).
// kEventSameKey leaves out a key that is the previous allocation's (Alloc)
// or the previous free's (Free, FreeAddress) in the block, kEventSameSize a
// size that is its key's previous allocation's in the block, kEventLastId a
// free's id that is the block's last allocation id: a loop that allocates
// and frees at the same places repeats all three (version 5).
// Each Events record decodes on its own, given the keys defined before it in
// the file.

/// The weight of a block of \p size bytes sampled by a Poisson process of
/// mean \p interval over the bytes: 1 / P(sampled), P = 1 - exp(-size /
/// interval). The runtime weights byte samples with it, and a reader gives
/// an Alloc event of kEventDerivedWeight the same double from it: the eight
/// bytes of weight a byte sample took before version 4 (2 of every 5 bytes
/// of a default-mode log).
inline double byteSampleWeight(uint64_t size, uint64_t interval) {
  return 1.0 /
         -expm1(-static_cast<double>(size) / static_cast<double>(interval));
}

struct EventsHeader {
  uint64_t monotonic_ns; // time base of the block
  uint64_t sample_id;    // "previous allocation id" before the first event
};

enum EventTag : uint8_t {
  kEventAlloc = 0,
  kEventFree = 1,
  kEventKey = 2,
  kEventFreeAddress = 3,
  kEventKindMask = 3,
  kEventWeight = 4,          // Alloc: an f64 weight follows (else 1.0); with
                             // kEventDerivedWeight, a varint interval
  kEventUntracked = 8,       // Alloc: AllocUntracked
  kEventIdJump = 16,         // Alloc: the id is not the previous + 1
  kEventAddress = 32,        // Alloc: AllocFreedByAddress, its address follows
  kEventAddressBy16 = 64,    // Alloc, FreeAddress: the address delta / 16
  kEventDerivedWeight = 128, // Alloc: the weight is byteSampleWeight's
  // Version 5 (see above):
  kEventSameKey = 4,  // short Alloc, Free, FreeAddress: the key is left out
  kEventSameSize = 8, // short Alloc: the size is left out
  kEventLastId = 8,   // Free: the id is left out
};
/// No key yet in the block (EventsState::last_*_key).
constexpr uint64_t kNoEventKey = ~uint64_t(0);
/// Key indices stay below this (the runtime's table gives out 1,024), so a
/// reader's table of keys is bounded whatever the file says.
constexpr uint64_t kMaxEventKeys = 65536;
/// The longest encodings: a Key, and an Alloc or Free (an Alloc's weight
/// takes at most a varint interval's 10 bytes).
constexpr uint32_t kMaxKeyEventSize = 1 + 4 * 10;
constexpr uint32_t kMaxEventSize = 1 + 3 * 10 + 10 + 2 * 10;
/// What a writer may have stored past the end of its open Events record
/// before publishing it (a Key and its event): a thread killed there leaves
/// at most this many bytes after the record, and zeros after them.
constexpr uint32_t kMaxUnpublishedEvents = kMaxKeyEventSize + kMaxEventSize;

inline __attribute__((always_inline)) uint8_t *putVarint(uint8_t *out,
                                                         uint64_t value) {
  // Most of an event's numbers take one or two bytes (a time delta under
  // 16 us, a small id jump): those without the loop.
  if (value < 0x80) {
    *out = static_cast<uint8_t>(value);
    return out + 1;
  }
  if (value < 0x4000) {
    out[0] = static_cast<uint8_t>(value | 0x80);
    out[1] = static_cast<uint8_t>(value >> 7);
    return out + 2;
  }
  while (value >= 0x80) {
    *out++ = static_cast<uint8_t>(value | 0x80);
    value >>= 7;
  }
  *out++ = static_cast<uint8_t>(value);
  return out;
}
inline uint64_t zigzag(int64_t value) {
  return (static_cast<uint64_t>(value) << 1) ^
         static_cast<uint64_t>(value >> 63);
}
inline int64_t unzigzag(uint64_t value) {
  return static_cast<int64_t>(value >> 1) ^ -static_cast<int64_t>(value & 1);
}

/// kEventSameSize's memory for one key index: the size of its previous
/// allocation, and the block (Events record) it was in. Writer and reader
/// each keep one per key index and number their blocks from 1; this header
/// allocates nothing, so they own the storage.
struct KeySize {
  uint64_t size = 0;
  uint64_t block = 0; // 0: none yet
};
/// True when \p size is \p last's size in block \p block (the event may
/// leave it out); \p last then holds \p size.
inline bool repeatsSize(KeySize &last, uint64_t size, uint64_t block) {
  bool same = last.block == block && last.size == size;
  last.size = size;
  last.block = block;
  return same;
}

/// The running state of one Events record, on both sides.
struct EventsState {
  uint64_t last_ns = 0;
  uint64_t last_alloc_id = 0;
  uint64_t last_address = 0;
  uint64_t interval = 0; // derived weights' interval; 0 before the first
  uint64_t last_alloc_key = kNoEventKey; // kEventSameKey's, for an Alloc
  uint64_t last_free_key = kNoEventKey;  // and for a Free or FreeAddress
  void start(const EventsHeader &header) {
    last_ns = header.monotonic_ns;
    last_alloc_id = header.sample_id;
    last_address = 0;
    interval = 0;
    last_alloc_key = last_free_key = kNoEventKey;
  }
  /// The address's varint, and \p tag's kEventAddressBy16.
  uint64_t addressDelta(uint64_t address, uint8_t &tag) {
    uint64_t step = address - last_address;
    last_address = address;
    if (step & 15)
      return zigzag(static_cast<int64_t>(step));
    tag |= kEventAddressBy16;
    return zigzag(static_cast<int64_t>(step) >> 4);
  }
  uint64_t timeDelta(uint64_t monotonic_ns) {
    // A thread's monotonic clock does not go back; if it did, the event
    // keeps the previous time rather than wrap.
    uint64_t delta = monotonic_ns > last_ns ? monotonic_ns - last_ns : 0;
    last_ns += delta;
    return delta;
  }
};

inline uint8_t *encodeKeyEvent(uint8_t *out, uint64_t index, uint64_t site_id,
                               uint64_t stack_id, uint32_t kind) {
  *out++ = kEventKey;
  out = putVarint(out, index);
  out = putVarint(out, site_id);
  out = putVarint(out, stack_id);
  return putVarint(out, kind);
}

/// An event's key: nothing, and kEventSameKey in \p tag, when it is \p last
/// (the block's previous allocation's or free's, by the event's type).
inline __attribute__((always_inline)) uint8_t *
putKey(uint8_t *out, uint64_t &last, uint64_t key, uint8_t &tag) {
  if (key == last) {
    tag |= kEventSameKey;
    return out;
  }
  last = key;
  return putVarint(out, key);
}

/// \p weight_interval: when not 0, \p weight is byteSampleWeight(size,
/// weight_interval), and the event leaves it out. \p same_size: the size is
/// the key's previous allocation's in the block (repeatsSize), and may be
/// left out.
inline __attribute__((always_inline)) uint8_t *
encodeAllocEvent(uint8_t *out, EventsState &state, uint64_t key,
                 uint64_t sample_id, uint64_t size, uint64_t monotonic_ns,
                 double weight, uint32_t flags, uint64_t address,
                 uint64_t weight_interval = 0, bool same_size = false) {
  uint8_t *tag = out++;
  bool derived = weight != 1.0 && weight_interval;
  if ((same_size || key == state.last_alloc_key) &&
      sample_id == state.last_alloc_id + 1 && !(flags & AllocUntracked) &&
      (derived ? weight_interval == state.interval : weight == 1.0)) {
    // The short form (version 5): what repeats is left out.
    *tag = kEventKey | (derived ? kEventDerivedWeight : 0) |
           (same_size ? kEventSameSize : 0);
    out = putVarint(out, state.timeDelta(monotonic_ns));
    out = putKey(out, state.last_alloc_key, key, *tag);
    if (!same_size)
      out = putVarint(out, size);
  } else {
    *tag = kEventAlloc;
    out = putVarint(out, state.timeDelta(monotonic_ns));
    state.last_alloc_key = key;
    out = putVarint(out, key);
    out = putVarint(out, size);
    if (derived) {
      *tag |= kEventDerivedWeight;
      if (weight_interval != state.interval) {
        *tag |= kEventWeight;
        state.interval = weight_interval;
        out = putVarint(out, weight_interval);
      }
    } else if (weight != 1.0) {
      *tag |= kEventWeight;
      memcpy(out, &weight, sizeof(weight));
      out += sizeof(weight);
    }
    if (flags & AllocUntracked)
      *tag |= kEventUntracked;
    if (sample_id != state.last_alloc_id + 1) {
      *tag |= kEventIdJump;
      out = putVarint(out, zigzag(static_cast<int64_t>(
                               sample_id - (state.last_alloc_id + 1))));
    }
  }
  state.last_alloc_id = sample_id;
  if (flags & AllocFreedByAddress) {
    *tag |= kEventAddress;
    out = putVarint(out, state.addressDelta(address, *tag));
  }
  return out;
}

inline __attribute__((always_inline)) uint8_t *
encodeFreeEvent(uint8_t *out, EventsState &state, uint64_t key,
                uint64_t sample_id, uint64_t monotonic_ns) {
  uint8_t *tag = out++;
  *tag = kEventFree;
  out = putVarint(out, state.timeDelta(monotonic_ns));
  out = putKey(out, state.last_free_key, key, *tag);
  if (sample_id == state.last_alloc_id) {
    *tag |= kEventLastId;
    return out;
  }
  return putVarint(
      out, zigzag(static_cast<int64_t>(sample_id - state.last_alloc_id)));
}

inline __attribute__((always_inline)) uint8_t *
encodeFreeAddressEvent(uint8_t *out, EventsState &state, uint64_t key,
                       uint64_t address, uint64_t monotonic_ns) {
  uint8_t *tag = out++;
  *tag = kEventFreeAddress;
  out = putVarint(out, state.timeDelta(monotonic_ns));
  out = putKey(out, state.last_free_key, key, *tag);
  return putVarint(out, state.addressDelta(address, *tag));
}

/// One decoded event. For Key: key = index, site_id/stack_id/kind defined.
/// For Alloc and Free, key names a Key defined earlier.
struct DecodedEvent {
  EventTag type = kEventAlloc;
  uint64_t monotonic_ns = 0;
  uint64_t sample_id = 0; // FreeAddress: 0
  uint64_t address = 0;   // FreeAddress, and Alloc with AllocFreedByAddress
  uint64_t key = 0;
  uint64_t size = 0;
  double weight = 1.0;
  uint32_t flags = 0; // AllocFlags
  uint64_t site_id = 0;
  uint64_t stack_id = 0;
  uint32_t kind = 0;
};

/// The Alloc record that an Alloc event stands for, given the Key event that
/// defined its key: readers that work on records see Events records this way.
inline AllocRecord allocRecordOf(const DecodedEvent &event,
                                 const DecodedEvent &key) {
  AllocRecord record{}; // address: only when its free names it (version 3)
  record.sample_id = event.sample_id;
  record.address = event.address;
  record.site_id = key.site_id;
  record.size = event.size;
  record.monotonic_ns = event.monotonic_ns;
  record.stack_id = key.stack_id;
  record.weight = event.weight;
  record.kind = key.kind;
  record.flags = event.flags;
  return record;
}
/// The Free record of a Free event; \p key as for allocRecordOf.
inline FreeRecord freeRecordOf(const DecodedEvent &event,
                               const DecodedEvent &key) {
  return {event.sample_id, key.site_id, event.monotonic_ns, event.address};
}

/// Reads the events of one Events payload. Bounds-checked: a malformed
/// payload ends in Status::Malformed, never a read past its end.
class EventsDecoder {
public:
  enum class Status { Event, End, Malformed };

  /// \p block numbers the payload among the file's (from 1, one more each):
  /// it tells the sizes of this payload's allocations (KeySize) from older
  /// ones.
  EventsDecoder(const uint8_t *payload, size_t size, uint64_t block)
      : at(payload), end(payload + size), block(block) {
    EventsHeader header;
    if (size < sizeof(header) || !block) {
      bad = true;
      return;
    }
    memcpy(&header, payload, sizeof(header));
    at += sizeof(header);
    state.start(header);
  }

  /// \p sizes (\p count of them) are the file's KeySize for its key indices,
  /// kept by the caller from one payload to the next; an allocation of a
  /// key index past them has no size to repeat.
  Status next(DecodedEvent &event, KeySize *sizes, size_t count) {
    if (bad)
      return Status::Malformed;
    if (at == end)
      return Status::End;
    uint8_t tag = *at++;
    event = DecodedEvent();
    event.type = static_cast<EventTag>(tag & kEventKindMask);
    switch (event.type) {
    case kEventKey: {
      if (tag != kEventKey)
        return shortAlloc(tag, event, sizes, count);
      event.key = varint();
      if (event.key >= kMaxEventKeys)
        return fail();
      event.site_id = varint();
      event.stack_id = varint();
      uint64_t kind = varint();
      event.kind = static_cast<uint32_t>(kind);
      if (kind > 0xFFFFFFFFu)
        return fail();
      break;
    }
    case kEventAlloc: {
      if ((tag & ~(kEventKindMask | kEventWeight | kEventDerivedWeight |
                   kEventUntracked | kEventIdJump | kEventAddress |
                   kEventAddressBy16)) ||
          (tag & (kEventAddress | kEventAddressBy16)) == kEventAddressBy16)
        return fail();
      state.last_ns += varint();
      event.monotonic_ns = state.last_ns;
      event.key = state.last_alloc_key = varint();
      event.size = varint();
      if (!noteSize(event, false, sizes, count))
        return fail();
      if (tag & kEventDerivedWeight) {
        if (tag & kEventWeight)
          state.interval = varint();
        if (!derivedWeight(event))
          return fail();
      } else if (tag & kEventWeight) {
        if (end - at < static_cast<ptrdiff_t>(sizeof(double)))
          return fail();
        memcpy(&event.weight, at, sizeof(double));
        at += sizeof(double);
      }
      event.flags = (tag & kEventUntracked) ? AllocUntracked : 0;
      uint64_t id = state.last_alloc_id + 1;
      if (tag & kEventIdJump)
        id += static_cast<uint64_t>(unzigzag(varint()));
      event.sample_id = state.last_alloc_id = id;
      if (tag & kEventAddress) {
        event.flags |= AllocFreedByAddress;
        event.address = address(tag);
      }
      break;
    }
    case kEventFree: {
      if (tag & ~(kEventFree | kEventSameKey | kEventLastId))
        return fail();
      state.last_ns += varint();
      event.monotonic_ns = state.last_ns;
      if (!key(tag, state.last_free_key, event))
        return fail();
      event.sample_id = state.last_alloc_id;
      if (!(tag & kEventLastId))
        event.sample_id += static_cast<uint64_t>(unzigzag(varint()));
      break;
    }
    case kEventFreeAddress: {
      if (tag & ~(kEventFreeAddress | kEventSameKey | kEventAddressBy16))
        return fail();
      state.last_ns += varint();
      event.monotonic_ns = state.last_ns;
      if (!key(tag, state.last_free_key, event))
        return fail();
      event.address = address(tag);
      break;
    }
    default:
      return fail();
    }
    return bad ? Status::Malformed : Status::Event;
  }

private:
  const uint8_t *at;
  const uint8_t *end;
  uint64_t block;
  EventsState state;
  bool bad = false;

  /// The short form of an Alloc (version 5).
  Status shortAlloc(uint8_t tag, DecodedEvent &event, KeySize *sizes,
                    size_t count) {
    if ((tag & ~(kEventKindMask | kEventSameKey | kEventSameSize |
                 kEventDerivedWeight | kEventAddress | kEventAddressBy16)) ||
        (tag & (kEventAddress | kEventAddressBy16)) == kEventAddressBy16)
      return fail();
    event.type = kEventAlloc;
    state.last_ns += varint();
    event.monotonic_ns = state.last_ns;
    if (!key(tag, state.last_alloc_key, event))
      return fail();
    bool same_size = tag & kEventSameSize;
    if (!same_size)
      event.size = varint();
    if (!noteSize(event, same_size, sizes, count))
      return fail();
    if ((tag & kEventDerivedWeight) && !derivedWeight(event))
      return fail();
    event.sample_id = ++state.last_alloc_id;
    if (tag & kEventAddress) {
      event.flags = AllocFreedByAddress;
      event.address = address(tag);
    }
    return bad ? Status::Malformed : Status::Event;
  }
  /// The event's key: \p last with kEventSameKey (none yet is malformed),
  /// else the next number, which becomes \p last.
  bool key(uint8_t tag, uint64_t &last, DecodedEvent &event) {
    if (tag & kEventSameKey) {
      event.key = last;
      return last != kNoEventKey;
    }
    event.key = last = varint();
    return true;
  }
  /// Gives \p event its key's previous size when \p same_size (false if it
  /// has none in this block), and remembers its size.
  bool noteSize(DecodedEvent &event, bool same_size, KeySize *sizes,
                size_t count) {
    if (event.key >= count)
      return !same_size;
    KeySize &last = sizes[event.key];
    if (same_size) {
      if (last.block != block)
        return false;
      event.size = last.size;
    }
    repeatsSize(last, event.size, block);
    return true;
  }
  /// byteSampleWeight of the block's interval; false with no interval yet in
  /// this block, or for a block of no bytes (weight infinite): not what a
  /// writer writes.
  bool derivedWeight(DecodedEvent &event) {
    if (!state.interval || !event.size)
      return false;
    event.weight = byteSampleWeight(event.size, state.interval);
    return true;
  }

  Status fail() {
    bad = true;
    return Status::Malformed;
  }
  // Most numbers of an event fit one byte: that case inline, the loop not.
  uint64_t varint() {
    if (__builtin_expect(at != end && !(*at & 0x80), 1))
      return *at++;
    return varintLong();
  }
  __attribute__((noinline)) uint64_t varintLong() {
    uint64_t value = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (at == end) {
        bad = true;
        return 0;
      }
      uint8_t byte = *at++;
      value |= uint64_t(byte & 0x7f) << shift;
      if (!(byte & 0x80))
        return value;
    }
    bad = true; // more than ten bytes
    return 0;
  }
  uint64_t address(uint8_t tag) {
    uint64_t step = static_cast<uint64_t>(unzigzag(varint()));
    state.last_address += (tag & kEventAddressBy16) ? step << 4 : step;
    return state.last_address;
  }
};

//===-- CRC32C (Castagnoli), table-driven; shared by writer and reader -===//

struct Crc32cTable {
  uint32_t entries[256];
  constexpr Crc32cTable() : entries() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      entries[i] = c;
    }
  }
};
inline constexpr Crc32cTable kCrc32cTable{};

inline uint32_t crc32cSoftware(uint32_t crc, const void *data, size_t size) {
  const uint8_t *bytes = static_cast<const uint8_t *>(data);
  for (size_t i = 0; i < size; ++i)
    crc = kCrc32cTable.entries[(crc ^ bytes[i]) & 0xFF] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
/// The SSE4.2 crc32 instruction computes the same CRC32C, 8 bytes a step.
__attribute__((target("sse4.2"))) inline uint32_t
crc32cHardware(uint32_t crc, const void *data, size_t size) {
  const uint8_t *bytes = static_cast<const uint8_t *>(data);
  uint64_t wide = crc;
  for (; size >= 8; size -= 8, bytes += 8) {
    uint64_t word;
    memcpy(&word, bytes, 8);
    wide = __builtin_ia32_crc32di(wide, word);
  }
  // An event is a few bytes: finish in 4-, 2- and 1-byte steps.
  uint32_t narrow = static_cast<uint32_t>(wide);
  if (size & 4) {
    uint32_t word;
    memcpy(&word, bytes, 4);
    narrow = __builtin_ia32_crc32si(narrow, word);
    bytes += 4;
  }
  if (size & 2) {
    uint16_t half;
    memcpy(&half, bytes, 2);
    narrow = __builtin_ia32_crc32hi(narrow, half);
    bytes += 2;
  }
  if (size & 1)
    narrow = __builtin_ia32_crc32qi(narrow, *bytes);
  return narrow;
}

inline bool hasHardwareCrc32c() {
  // Constant-initialised, so no guard variable (the runtime has no
  // libstdc++); a benign race at worst computes the answer twice.
  static int cached = -1;
  if (cached < 0) {
#if defined(CPU_FEATURE_ACTIVE)
    // What glibc learnt at start-up: __builtin_cpu_init runs CPUID again,
    // which a virtual machine may trap (55 us of every recorded process's
    // start-up on the benchmarks' machine).
    cached = CPU_FEATURE_ACTIVE(SSE4_2) ? 1 : 0;
#else
    __builtin_cpu_init();
    cached = __builtin_cpu_supports("sse4.2") ? 1 : 0;
#endif
  }
  return cached == 1;
}
#endif

inline uint32_t crc32cUpdate(uint32_t crc, const void *data, size_t size) {
#if defined(__x86_64__)
  if (hasHardwareCrc32c())
    return crc32cHardware(crc, data, size);
#endif
  return crc32cSoftware(crc, data, size);
}

/// The CRC of a record whose payload's running CRC32C (from 0xFFFFFFFF) is
/// \p payload_crc: it ends with the header's first four bytes, so a record
/// that grows (Events) costs only its new bytes to republish.
inline uint32_t finishRecordCrc(const RecordHeader &header,
                                uint32_t payload_crc) {
  return ~crc32cUpdate(payload_crc, &header, 4);
}

/// A grown record's CRCs: its payload's running CRC, and the record's.
struct GrownCrc {
  uint32_t running;
  uint32_t record;
};

#if defined(__x86_64__)
// A byte at a time: the event's bytes were stored one by one a moment ago,
// and a wider load over several of those stores cannot take them from the
// store buffer; it waits until they reach the cache (about 40% of an
// event's append on cross-thread-free, by perf).
__attribute__((target("sse4.2"))) inline GrownCrc
growRecordCrcHardware(uint32_t running, const void *added, size_t size,
                      const RecordHeader &header) {
  const uint8_t *bytes = static_cast<const uint8_t *>(added);
  for (size_t i = 0; i < size; ++i)
    running = __builtin_ia32_crc32qi(running, bytes[i]);
  uint32_t head;
  memcpy(&head, &header, 4);
  return {running, ~__builtin_ia32_crc32si(running, head)};
}
#endif

/// The payload's running CRC extended by \p size bytes at \p added, and the
/// record's CRC for \p header (finishRecordCrc): an Events record's two
/// CRCs per event, in one call.
inline GrownCrc growRecordCrc(uint32_t running, const void *added, size_t size,
                              const RecordHeader &header) {
#if defined(__x86_64__)
  if (hasHardwareCrc32c())
    return growRecordCrcHardware(running, added, size, header);
#endif
  running = crc32cSoftware(running, added, size);
  return {running, ~crc32cSoftware(running, &header, 4)};
}

/// CRC of a record: its payload, then its first four header bytes.
inline uint32_t recordCrc(const RecordHeader &header, const void *payload) {
  return finishRecordCrc(
      header, crc32cUpdate(0xFFFFFFFFu, payload, header.payload_size));
}

/// Version 1's CRC: the first four header bytes, then the payload.
inline uint32_t recordCrcV1(const RecordHeader &header, const void *payload) {
  uint32_t crc = crc32cUpdate(0xFFFFFFFFu, &header, 4);
  crc = crc32cUpdate(crc, payload, header.payload_size);
  return ~crc;
}

inline constexpr uint32_t alignedRecordSize(uint32_t payload_size) {
  return (sizeof(RecordHeader) + payload_size + kRecordAlign - 1) &
         ~(kRecordAlign - 1);
}

inline void initFileHeader(FileHeader &header, FileKind kind, uint32_t pid,
                           uint32_t slot, uint64_t realtime_ns,
                           uint64_t monotonic_ns) {
  memset(&header, 0, sizeof(header));
  memcpy(header.magic, kMagic, sizeof(kMagic));
  header.version_major = kVersionMajor;
  header.version_minor = kVersionMinor;
  header.header_size = kFileHeaderSize;
  header.kind = static_cast<uint16_t>(kind);
  header.pid = pid;
  header.slot = slot;
  header.start_realtime_ns = realtime_ns;
  header.start_monotonic_ns = monotonic_ns;
}

/// Appends variable-length payload parts into a caller-provided buffer.
class PayloadBuilder {
public:
  PayloadBuilder(uint8_t *buffer, size_t capacity)
      : Buffer(buffer), Capacity(capacity) {}
  void bytes(const void *data, size_t size) {
    if (Size + size > Capacity) {
      Overflow = true;
      return;
    }
    memcpy(Buffer + Size, data, size);
    Size += size;
  }
  template <typename T> void pod(const T &value) { bytes(&value, sizeof(T)); }
  /// u16 length + bytes; a null string is written as empty.
  void str(const char *text) {
    size_t length = text ? strlen(text) : 0;
    if (length > 0xFFFF)
      length = 0xFFFF;
    pod(static_cast<uint16_t>(length));
    bytes(text, length);
  }
  size_t size() const { return Size; }
  bool overflowed() const { return Overflow; }

private:
  uint8_t *Buffer;
  size_t Capacity;
  size_t Size = 0;
  bool Overflow = false;
};

//===-- Site records ---------------------------------------------------===//
//
// The one encoding of a Site record's variable tail (see SiteRecord): the
// runtime writes it from the pass's site tables, the merge's unit tests
// from their own strings, and LogReader decodes it (decodeSite).

/// The strings of a Site record, and of each frame it is inlined into.
struct SiteText {
  const char *file;
  const char *dir;
  const char *function;
  const char *type; // null or "" when unknown
};
struct InlineFrameText {
  uint32_t line;
  uint32_t column;
  const char *function;
  const char *file;
  const char *dir;
};

/// The fixed part and the strings of a Site record, without its frames.
inline void encodeSiteHead(PayloadBuilder &out, const SiteRecord &fixed,
                           const SiteText &text) {
  out.pod(fixed);
  out.str(text.file);
  out.str(text.dir);
  out.str(text.function);
}

/// Encodes a Site record into \p buffer: \p fixed, \p text, then
/// fixed.inline_depth frames, \p frame(i) giving the i-th (innermost caller
/// first), then the type. When they do not fit, the site is written with its
/// own location only (inline_depth 0). Returns the payload's size.
template <typename FrameAt>
size_t encodeSite(uint8_t *buffer, size_t capacity, SiteRecord fixed,
                  const SiteText &text, FrameAt frame) {
  PayloadBuilder out(buffer, capacity);
  encodeSiteHead(out, fixed, text);
  for (uint32_t i = 0; i < fixed.inline_depth; ++i) {
    InlineFrameText inlined = frame(i);
    out.pod(inlined.line);
    out.pod(inlined.column);
    out.str(inlined.function);
    out.str(inlined.file);
    out.str(inlined.dir);
  }
  out.str(text.type ? text.type : "");
  if (!out.overflowed())
    return out.size();
  fixed.inline_depth = 0;
  PayloadBuilder shortened(buffer, capacity);
  encodeSiteHead(shortened, fixed, text);
  shortened.str(text.type ? text.type : "");
  return shortened.size();
}

/// Bounds-checked reads of a payload: PayloadBuilder's other side.
class PayloadParser {
public:
  PayloadParser(const uint8_t *data, size_t size) : Data(data), Size(size) {}
  template <typename T> bool pod(T &value) {
    if (Size - Position < sizeof(T))
      return false;
    memcpy(&value, Data + Position, sizeof(T));
    Position += sizeof(T);
    return true;
  }
  /// u16 length + bytes, pointing into the payload; false when the length
  /// runs past it.
  bool str(const char *&text, uint16_t &length) {
    if (!pod(length) || Size - Position < length)
      return false;
    text = reinterpret_cast<const char *>(Data + Position);
    Position += length;
    return true;
  }
  size_t remaining() const { return Size - Position; }

private:
  const uint8_t *Data;
  size_t Size;
  size_t Position = 0;
};

/// A string of a decoded payload: a pointer into it and a length.
struct PayloadString {
  const char *text = nullptr;
  uint16_t length = 0;
};

/// Decodes a Site record: its fixed part and strings into \p fixed and
/// \p file, \p dir, \p function, then calls \p frame(line, column,
/// function, file, dir) for each of fixed.inline_depth frames, then reads
/// \p type (empty before version 2.3). False when the payload is too short,
/// a length runs past it, or fixed.inline_depth cannot fit in it (each frame
/// takes at least 14 bytes: checked before any frame is read, so a reader
/// may size its storage from it).
template <typename OnFrame>
bool decodeSite(const uint8_t *data, size_t size, SiteRecord &fixed,
                PayloadString &file, PayloadString &dir,
                PayloadString &function, PayloadString &type, OnFrame frame) {
  PayloadParser in(data, size);
  if (!in.pod(fixed) || !in.str(file.text, file.length) ||
      !in.str(dir.text, dir.length) || !in.str(function.text, function.length))
    return false;
  constexpr size_t kMinFrameSize = 2 * 4 + 3 * 2;
  if (fixed.inline_depth > in.remaining() / kMinFrameSize)
    return false;
  for (uint32_t i = 0; i < fixed.inline_depth; ++i) {
    uint32_t line, column;
    PayloadString name, path, folder;
    if (!in.pod(line) || !in.pod(column) || !in.str(name.text, name.length) ||
        !in.str(path.text, path.length) || !in.str(folder.text, folder.length))
      return false;
    frame(i, line, column, name, path, folder);
  }
  type = PayloadString();
  // Version 2.3 appended the type; what a later minor appends follows it.
  return in.remaining() < sizeof(uint16_t) || in.str(type.text, type.length);
}

} // namespace log
} // namespace memscope

#endif // MEMSCOPE_LOGFORMAT_H
