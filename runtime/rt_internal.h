//===-- rt_internal.h - libmemscope_rt's internal interfaces ----*- C++ -*-===//
//
// The runtime is split one file per job, like compiler-rt's xray/memprof:
//   rt_flags.cpp      MEMSCOPE_OPTIONS parsing (X-macro rt_flags.inc)
//   rt_init.cpp       process start/exit, output folder, site registration
//   rt_log.cpp        file-backed per-thread log writers
//   rt_thread.cpp     per-thread state, slots, thread start/end
//   rt_sampling.cpp   countdown, weights, exact totals, live sampled-block
//                     table
//   rt_heap.cpp       the heap in use and its peak, counted on every block
//   rt_clock.cpp      the events' clock: the TSC between CLOCK_MONOTONIC reads
//   rt_events.cpp     allocations and frees as compact events, keys
//   rt_stack.cpp      stack ids and Stack records of sampled allocations
//   rt_unwind.cpp     the stack walk: frame pointers, cached unwind rules
//   rt_modules.cpp    module map (paths, build-ids, text ranges)
//   rt_interpose.cpp  malloc-family interposers
//   rt_dispatch.cpp   the allocator behind them (glibc or a preloaded one),
//                     and the uncounted entries instrumented sites call
//   rt_spawn.cpp      pthread_create/thrd_create trampolines
//   rt_crash.cpp      fatal-signal handler that finishes the logs
//   rt_api.cpp        the C interface (memscope/memscope.h)
//   rt_version.cpp    the pass/runtime version and ABI check of each module
//
// Rules for every file: never call the instrumented malloc on a recording
// path (memory comes from mmap), keep TLS trivially destructible, and enter
// the runtime only through a RecursionGuard.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_RT_INTERNAL_H
#define MEMSCOPE_RT_INTERNAL_H

#include "memscope/LogFormat.h"
#include "memscope/abi.h"

#include <atomic>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define MSC_HIDDEN __attribute__((visibility("hidden")))
#define MSC_LIKELY(x) __builtin_expect(!!(x), 1)
#define MSC_UNLIKELY(x) __builtin_expect(!!(x), 0)

extern "C" {
// Exported to instrumented code (memscope/abi.h).
extern __thread msc_thread_fast __memscope_tls
    __attribute__((tls_model("initial-exec")));
extern uint16_t __memscope_live_filter[1u << MEMSCOPE_LIVE_FILTER_BITS];
// glibc's allocator, which the interposers forward to.
void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
void __libc_free(void *);
void *__libc_memalign(size_t, size_t);
void *__libc_valloc(size_t);
void *__libc_pvalloc(size_t);
}

namespace memscope {
namespace rt {

//===-- Flags ------------------------------------------------------------===//
/// A signal number option: "USR2", "SIGUSR1", "12", or "none" (0).
struct SignalNumber {
  int value;
};
/// A time: "60s", "500ms", "2m", "1h" (a plain number is seconds); 0 off.
struct Duration {
  uint64_t ns;
};
/// When recording starts: "now" (at start-up) or "signal" (at the first
/// signal of the option signal=).
struct StartMode {
  bool on_signal;
};
struct Flags {
#define MEMSCOPE_FLAG(Type, Name, Default, Description) Type Name;
#include "rt_flags.inc"
#undef MEMSCOPE_FLAG
};
MSC_HIDDEN extern Flags g_flags;
/// Parses \p options into g_flags (defaults first). Reports each bad key or
/// value once on stderr and keeps that flag's default.
MSC_HIDDEN void parseFlags(const char *options);
MSC_HIDDEN void printFlagHelp();

//===-- The runtime's one lock --------------------------------------------===//
/// A test-and-set spin lock, like sanitizer_common's StaticSpinMutex:
/// constant-initialised (usable before constructors run and on paths that
/// must not allocate), a yield while it is held elsewhere (the holder may be
/// descheduled on few cores), and a reset for the child of a fork, where a
/// lock held by another parent thread would never be released.
class StaticSpinMutex {
public:
  constexpr StaticSpinMutex() = default;
  void lock() {
    while (Flag.exchange(true, std::memory_order_acquire))
      sched_yield();
  }
  bool tryLock() { return !Flag.exchange(true, std::memory_order_acquire); }
  void unlock() { Flag.store(false, std::memory_order_release); }
  void resetAfterFork() { Flag.store(false, std::memory_order_relaxed); }

private:
  std::atomic<bool> Flag{false};
};

/// Holds a StaticSpinMutex for a scope.
class SpinMutexLock {
public:
  explicit SpinMutexLock(StaticSpinMutex &Mutex) : Mutex(Mutex) {
    Mutex.lock();
  }
  ~SpinMutexLock() { Mutex.unlock(); }
  SpinMutexLock(const SpinMutexLock &) = delete;
  SpinMutexLock &operator=(const SpinMutexLock &) = delete;

private:
  StaticSpinMutex &Mutex;
};

//===-- Small utilities (rt_init.cpp) -------------------------------------===//
/// CLOCK_MONOTONIC in ns. Inline: exact mode reads it per event, and the
/// call into the vDSO is most of the cost.
inline uint64_t monotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}
MSC_HIDDEN uint64_t realtimeNs();
MSC_HIDDEN void report(const char *format, ...)
    __attribute__((format(printf, 1, 2)));
/// Prints a warning once per \p once_flag.
MSC_HIDDEN void warnOnce(std::atomic<bool> &once_flag, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
/// mmap-backed allocation for runtime structures; never freed.
MSC_HIDDEN void *mapZeroed(size_t bytes);
/// Makes [address, address+bytes) resident and writable now. A page that is
/// first read (mapping the shared zero page) and then written costs a
/// write-protect fault and a TLB shootdown IPI to every other CPU running the
/// program; prefaulting the runtime's hot structures keeps that off the
/// recording path.
MSC_HIDDEN void prefaultWritable(void *address, size_t bytes);

//===-- Process state (rt_init.cpp) ---------------------------------------===//
enum class State : int { Uninitialized, Initializing, Recording, Disabled };
MSC_HIDDEN extern std::atomic<State> g_state;
MSC_HIDDEN extern std::atomic<uint64_t> g_dropped_records;
MSC_HIDDEN extern std::atomic<uint64_t> g_untracked_samples;
/// Set once the process's last records are written, at exit.
MSC_HIDDEN extern std::atomic<bool> g_process_ended;
/// ensureInitialized's first call (or calls racing it): initialises.
MSC_HIDDEN bool initializeOnce();
/// Initialises from MEMSCOPE_OUT/MEMSCOPE_OPTIONS once; returns whether the
/// runtime is recording. Safe to call from any thread, at any time. Inline:
/// exact mode asks on every event.
inline bool ensureInitialized() {
  State state = g_state.load(std::memory_order_acquire);
  if (MSC_LIKELY(state != State::Uninitialized))
    return state == State::Recording;
  return initializeOnce();
}
inline bool isRecording() {
  return g_state.load(std::memory_order_acquire) == State::Recording;
}
/// Starts recording into \p out_dir with \p options (API and env var path).
/// Returns 0 or an errno value.
MSC_HIDDEN int startRecording(const char *out_dir, const char *options);
/// Stops recording; threads write nothing more. False if not recording.
MSC_HIDDEN bool stopRecording();
/// Why the last startRecording() failed, or "".
MSC_HIDDEN const char *lastError();
/// Appends to process.log under its lock; false if it could not.
MSC_HIDDEN bool appendProcessRecord(log::RecordType type, const void *payload,
                                    size_t size);
/// Whether this thread holds process.log's lock: a signal handler that
/// interrupted its append must not wait for it.
MSC_HIDDEN bool processLogHeldByThisThread();
/// appendProcessRecord for a signal handler whose thread does not hold the
/// lock: false, writing nothing, when another holds it past a bounded wait.
MSC_HIDDEN bool appendProcessRecordFromSignal(log::RecordType type,
                                              const void *payload, size_t size);

//===-- Snapshots (rt_snapshot.cpp) --------------------------------------===//
/// Writes a Snapshot record; returns its number, or 0 when not recording.
MSC_HIDDEN uint64_t takeSnapshot(log::SnapshotCause cause);
/// At the start of a recording (and of start=signal's wait): numbers
/// snapshots from 1, sets when the first periodic one is due, and installs
/// the signal=... handler (once; not over the program's own).
MSC_HIDDEN void startSnapshots();
/// start=signal: called by a thread's slow path while the runtime is not
/// recording; starts the recording when the signal came (one thread does).
/// True when recording now.
MSC_HIDDEN bool startRequestedBySignal();
/// Whether this thread is starting that recording (initialize() asks).
MSC_HIDDEN bool startingBySignal();
/// snapshot_interval: takes a snapshot when one is due at \p now_ns.
MSC_HIDDEN void maybeIntervalSnapshot(uint64_t now_ns);
/// start=signal: keeps where to record until the signal comes.
MSC_HIDDEN void deferStart(const char *out_dir, const char *options);
/// The same as wakeIdleThreads, for a signal handler: gives up rather than
/// wait long for the lock.
MSC_HIDDEN void wakeIdleThreadsFromSignal();
/// A snapshot a signal asked for while its thread held process.log's lock:
/// written when the lock is let go (appendProcessRecord).
MSC_HIDDEN extern std::atomic<uint32_t> g_snapshot_pending;
MSC_HIDDEN void writePendingSnapshot();
MSC_HIDDEN const char *processDirectory();
/// The current session's folder, as a string that stays valid (and
/// unchanged) for the life of the process.
MSC_HIDDEN const char *sessionFolder();
/// Writes the exit records (ThreadEnd, ThreadRunning, modules, ProcessEnd).
MSC_HIDDEN void onExitHook();
/// The crash path of onExitHook, async-signal-safe: ThreadRunning for every
/// thread (the crashing one too) and ProcessEnd{exit_kind = signo}. Waits a
/// bounded time for process.log's lock and gives up (no ProcessEnd, read as
/// "killed") rather than deadlock. Returns whether ProcessEnd was written.
MSC_HIDDEN bool finishAfterCrash(int signo);
/// Increments each time recording (re)starts; threads re-register on change.
MSC_HIDDEN extern std::atomic<uint32_t> g_session;
inline uint32_t currentSession() {
  return g_session.load(std::memory_order_relaxed);
}

//===-- Log writers (rt_log.cpp) ------------------------------------------===//
struct StackCache;
struct EventKeys;
struct ThreadCounts;

struct LogWriter {
  char name[32]; // file name inside the folder
  // The session folder it was created in (sessionFolder()): a log stays
  // there even if a later session starts while its owner still writes.
  const char *folder = nullptr;
  uint32_t slot = 0;
  bool failed = false;
  bool is_process_log = false; // may use the reserve of max_log_size
  uint8_t *window = nullptr;   // current mapped window of the file
  uint64_t window_offset = 0;  // file offset of window[0]
  uint64_t position = 0;       // next write offset within the window
  uint64_t window_size = 0;    // grows from 4 KiB to buffer_size
  StackCache *stacks = nullptr;
  // The Events record that grows in place (rt_events.cpp): its header in
  // the window (null when none is open; position stays at it until the
  // record is closed), where its next event goes, and how far it may grow
  // (kMaxEventsPayload or the window's end): an event's room is then one
  // compare, which exact mode makes per event.
  uint8_t *events_record = nullptr;
  uint8_t *events_end = nullptr;
  uint8_t *events_limit = nullptr;
  uint32_t events_crc = 0; // running CRC32C of its payload
  log::EventsState events_state;
  uint64_t events_block = 0; // Events records opened (log::KeySize's blocks)
  EventKeys *keys = nullptr; // (site, stack, kind) interned in this file
  LogWriter *next_free = nullptr;
  // The thread that owns the slot now (0 when free), for the exit snapshot.
  std::atomic<uint64_t> owner_thread_id{0};
  std::atomic<uint64_t> owner_os_tid{0};
  // Its counts and fast-path state (TLS), read at exit by otherThreadTotals.
  std::atomic<const ThreadCounts *> owner_counts{nullptr};
  std::atomic<const msc_thread_fast *> owner_fast{nullptr};
};
/// Creates <process folder>/<name> and maps its first window; nullptr on
/// failure. \p recycled, if given, is a retired writer whose memory is
/// reused (see retireLogWriter).
MSC_HIDDEN LogWriter *createLogWriter(const char *name, log::FileKind kind,
                                      uint32_t slot,
                                      LogWriter *recycled = nullptr);
/// Appends one record. Not thread-safe: each writer has one owner.
MSC_HIDDEN bool appendRecord(LogWriter &writer, log::RecordType type,
                             const void *payload, size_t size);
/// Publishes a record header after its payload: a reader (or a crash)
/// sees either nothing or the whole record.
inline void publishHeader(uint8_t *at, const log::RecordHeader &header) {
  uint64_t bits;
  memcpy(&bits, &header, sizeof(bits));
  __atomic_store_n(reinterpret_cast<uint64_t *>(at), bits, __ATOMIC_RELEASE);
}
/// An Events record stays under this size, so a window's padding and a
/// Padding record's u16 size always fit.
constexpr uint32_t kMaxEventsPayload = 16 * 1024;
/// reserveEvents' slow path: closes the open Events record and opens one
/// (starting at \p fresh), mapping the next window if need be.
MSC_HIDDEN uint8_t *openEvents(LogWriter &writer, uint32_t max_bytes,
                               const log::EventsHeader &fresh);
/// Room for \p max_bytes more bytes of events in the writer's open Events
/// record; opens one when none is open or it is full. Returns where to
/// write them, nullptr when the log cannot be written. commitEvents then
/// publishes what was written. Inline: exact mode runs this per event.
inline __attribute__((always_inline)) uint8_t *
reserveEvents(LogWriter &writer, uint32_t max_bytes,
              const log::EventsHeader &fresh) {
  // With no record open both are null, and there is no room.
  if (MSC_LIKELY(static_cast<size_t>(writer.events_limit - writer.events_end) >=
                 max_bytes))
    return writer.events_end;
  return openEvents(writer, max_bytes, fresh);
}
/// The open Events record's payload size when its events end at \p end.
inline uint32_t eventsPayloadSize(const LogWriter &writer, const uint8_t *end) {
  return static_cast<uint32_t>(end - writer.events_record -
                               sizeof(log::RecordHeader));
}
/// Publishes the events written up to \p end: the record's header, with its
/// size and the CRC over its whole payload, is rewritten in one store, so a
/// kill loses at most the event being written. \p grow is
/// log::growRecordCrc or, where the CPU has it, growRecordCrcHardware, which
/// inlines only into a function compiled for SSE 4.2 (rt_events.cpp).
template <typename GrowCrc>
inline __attribute__((always_inline)) void
commitEvents(LogWriter &writer, uint8_t *end, GrowCrc grow) {
  const uint8_t *added = writer.events_end;
  writer.events_end = end;
  log::RecordHeader header;
  header.type = static_cast<uint8_t>(log::RecordType::Events);
  header.flags = 0;
  header.payload_size = static_cast<uint16_t>(eventsPayloadSize(writer, end));
  log::GrownCrc crc = grow(writer.events_crc, added,
                           static_cast<uint32_t>(end - added), header);
  writer.events_crc = crc.running;
  header.crc = crc.record;
  publishHeader(writer.events_record, header);
}

//===-- Events (rt_events.cpp) -------------------------------------------===//
/// An allocation or free of a sampled block, as an event of the writer's
/// Events record (log::encodeAllocEvent, log::encodeFreeEvent); a weight
/// that is log::byteSampleWeight(size, \p weight_interval) is left out.
MSC_HIDDEN bool appendAllocEvent(LogWriter &writer,
                                 const log::AllocRecord &alloc,
                                 uint64_t weight_interval = 0);
MSC_HIDDEN bool appendFreeEvent(LogWriter &writer, const log::FreeRecord &free);
/// Releases the writer's key table (its file is done).
MSC_HIDDEN void forgetEventKeys(LogWriter &writer);
/// Unmaps and closes (used after fork, for the parent's writers).
MSC_HIDDEN void abandonLogWriter(LogWriter &writer);
/// Unmaps a writer that nobody writes any more (a log of an earlier session)
/// and forgets the stacks it wrote; its memory stays mapped for reuse by
/// createLogWriter, since a crash handler may still read it.
MSC_HIDDEN void retireLogWriter(LogWriter &writer);

//===-- Threads (rt_thread.cpp) -------------------------------------------===//
/// What a thread allocated while recording, counted, not sampled: the fast
/// path adds each request to the countdown and 1 to its allocations; the
/// runtime banks both here whenever it re-arms the countdown (rt_sampling.cpp).
struct ThreadCounts {
  uint64_t allocations; // banked
  uint64_t bytes;
  int64_t armed;    // the countdown's value when it was last armed
  bool counting;    // armed while recording: what it counts down counts
  uint32_t session; // the banked figures' session
};

struct ThreadState {
  bool registered;
  bool exited;
  bool in_runtime; // recursion guard
  uint64_t thread_id;
  uint64_t os_tid;
  uint64_t next_sample_seq;
  uint64_t rng;
  // Set by an instrumented spawn site just before it creates a thread;
  // consumed by the pthread_create/thrd_create interposer.
  uint64_t pending_spawn_site;
  // How this thread was created (from its spawn record).
  uint64_t parent_thread_id;
  uint64_t spawn_site;
  uint64_t spawn_stack_id;
  uint64_t creator_pc;
  uint64_t rate_skip; // rate mode: eligible allocations left to skip
  // The interval (bytes) or rate the running countdown or skip was drawn
  // with, and in which session; 0 before the first. A sample's weight uses
  // it (rt_log_limit.cpp).
  double drawn_with;
  uint32_t drawn_session;
  uint32_t session;
  char start_name[16]; // the name in ThreadStart, to notice a change
  int32_t idle_index;  // 1 + position in the idle list, 0 when not in it
  LogWriter *log;
  void *alt_stack; // signal stack the runtime installed for this thread
  ThreadCounts counts;
  bool heap_counted; // among the heap count's threads (watchThreadExit)
  // The events' clock: a CLOCK_MONOTONIC read and the TSC at that moment.
  uint64_t clock_tsc;
  uint64_t clock_ns;
};
MSC_HIDDEN extern __thread ThreadState t_state
    __attribute__((tls_model("initial-exec")));
/// threadLog's slow path: registers the thread in the current session.
MSC_HIDDEN LogWriter *registerThreadLog();
/// Returns the calling thread's log, registering the thread on first use;
/// nullptr when the thread cannot record. Inline: exact mode asks per event.
inline LogWriter *threadLog() {
  if (MSC_LIKELY(t_state.registered && t_state.session == currentSession()))
    return t_state.log;
  return registerThreadLog();
}
MSC_HIDDEN void initThreads();

//===-- The events' clock (rt_clock.cpp) -------------------------------===//
/// Where the kernel keeps CLOCK_MONOTONIC by the TSC itself, ticks since the
/// thread last read it convert to ns by one multiply: 2^32 x ns per tick in
/// \p scale, and \p window ticks (50 us) before the thread reads the clock
/// again. 0 when the TSC is not used.
struct EventClock {
  std::atomic<uint64_t> scale{0};
  std::atomic<uint64_t> window{0};
};
MSC_HIDDEN extern EventClock g_event_clock;
/// Decides whether the events' clock may use the TSC (tsc_clock=, and the
/// kernel's clocksource), and takes the pair it calibrates from.
MSC_HIDDEN void initEventClock();
/// eventNs' slow path: reads CLOCK_MONOTONIC, anchors the thread there and
/// refines the calibration.
MSC_HIDDEN uint64_t eventNsSlow();
inline uint64_t readTsc() {
#if defined(__x86_64__)
  // Not fenced, unlike the vDSO's read: an lfence waits for every load
  // before it, and in a free of a block another thread allocated, one of
  // those is a cache miss across cores, so the fence cost all that the TSC
  // saves. The read may then run up to about one miss (~100 ns) early, so
  // two threads' events that close may be timed in either order; the merge
  // matches a free read before its allocation all the same (PendingFrees)
  // and gives it a lifetime of 0.
  return __builtin_ia32_rdtsc();
#else
  return 0;
#endif
}
/// CLOCK_MONOTONIC in ns for an allocation or a free: exact mode reads it
/// per event, and on this project's VM a clock_gettime call costs 25 ns
/// against 10 for the TSC. Between two of the thread's real reads at most
/// 50 us apart the time is interpolated from the TSC, within tens of ns of
/// the real clock (test: EventClockStaysWithinTheRealClock).
inline uint64_t eventNs() {
#if defined(__x86_64__)
  uint64_t scale = g_event_clock.scale.load(std::memory_order_relaxed);
  if (MSC_LIKELY(scale)) {
    // Unsigned: a TSC behind the anchor (another CPU's) takes the slow path.
    uint64_t since = readTsc() - t_state.clock_tsc;
    if (MSC_LIKELY(since <
                   g_event_clock.window.load(std::memory_order_relaxed)))
      return t_state.clock_ns + ((since * scale) >> 32);
  }
#endif
  return eventNsSlow();
}
/// A new session (folder) starts: thread logs of the previous one are no
/// longer handed out; each thread gets a new log at its next record.
/// Called while nothing records (g_state is Initializing).
MSC_HIDDEN void beginThreadLogsSession(uint32_t session);
/// Gives the calling thread its process-unique id (1 for the first, the
/// main thread) without registering a log.
MSC_HIDDEN uint64_t ensureThreadId();
/// The calling thread's kernel id, asked once (t_state.os_tid).
MSC_HIDDEN uint64_t ensureOsTid();
/// Writes ThreadEnd for the calling thread (process exit path).
MSC_HIDDEN void finishCurrentThread();
/// Writes a ThreadRunning record for every thread that holds a slot, the
/// calling thread only if \p include_current. Async-signal-safe.
MSC_HIDDEN void writeRunningThreads(bool include_current = false);
MSC_HIDDEN void resetThreadsAfterFork();
/// Frees the spin locks a parent thread may have held at fork time; the
/// child runs this first, recording or not.
MSC_HIDDEN void resetThreadLocksAfterFork();
MSC_HIDDEN void resetSpawnAfterFork();
/// A thread started through the spawn trampoline gets a signal stack, so
/// that its stack overflow still reaches the crash handler.
MSC_HIDDEN void giveThreadSignalStack();
/// A thread started through the spawn trampoline: counted among the heap
/// count's threads, and onThreadExit runs when it ends.
MSC_HIDDEN void watchThreadExit();
/// A thread that allocates while nothing records parks its countdown at
/// idleCountdown() and joins the idle list; startRecording() then restarts
/// every parked countdown so that the next allocation of every thread is
/// seen (exact mode stays exact after trace_all).
MSC_HIDDEN void parkIdleThread();
MSC_HIDDEN void wakeIdleThreads();
MSC_HIDDEN uint64_t threadsStarted();

/// The calling thread runs the runtime's own code (RecursionGuard).
inline bool inRuntime() { return t_state.in_runtime; }
/// Marks the runtime's own code on this thread: nested calls into the
/// sampled path return at once, and the interposers neither count nor
/// sample what the runtime itself allocates (in_instrumented_call, which
/// they already skip on), so that counted totals equal exact mode's events.
class RecursionGuard {
public:
  RecursionGuard() : Entered(!t_state.in_runtime) {
    if (Entered) {
      t_state.in_runtime = true;
      SavedInCall = __memscope_tls.in_instrumented_call;
      __memscope_tls.in_instrumented_call = 1;
    }
  }
  ~RecursionGuard() {
    if (Entered) {
      __memscope_tls.in_instrumented_call = SavedInCall;
      t_state.in_runtime = false;
    }
  }
  bool entered() const { return Entered; }

private:
  bool Entered;
  uint32_t SavedInCall = 0;
};

//===-- Fatal signals (rt_crash.cpp) --------------------------------------===//
/// Installs the SIGSEGV/SIGBUS/SIGFPE/SIGILL/SIGABRT handler once (when
/// recording first starts), keeping the previous handlers to chain to.
MSC_HIDDEN void installCrashHandlers();
MSC_HIDDEN bool crashHandlersInstalled();
/// Gives the calling thread a signal stack (if it has none) so that a stack
/// overflow still reaches the crash handler; removeAltStack undoes it.
/// Exited threads' stacks are kept for the next threads (no mmap, munmap).
MSC_HIDDEN void installAltStack();
MSC_HIDDEN void removeAltStack();
MSC_HIDDEN void resetSignalStacksAfterFork();

//===-- The runtime's caller --------------------------------------------===//
/// Where a stack walk starts: \p pc is the return address into the code that
/// called the runtime, \p record the frame record (saved rbp, then that
/// return address) of the runtime function it called. From the record the
/// walk starts in the caller without stepping through the runtime's own
/// frames (about a fifth of an exact-mode event's instructions); without it
/// the walk steps outwards until it meets \p pc.
struct CallerFrame {
  uintptr_t pc = 0;
  const uintptr_t *record = nullptr;
};
/// The caller of the function this expands in. __builtin_frame_address
/// gives that function a frame record, so use it on slow paths only, and
/// never in a tail call: the record must outlive the call that walks from it
/// (MSC_KEEP_FRAME after such a call keeps it from being one).
#define MSC_CALLER_FRAME()                                                     \
  (::memscope::rt::CallerFrame{                                                \
      reinterpret_cast<uintptr_t>(__builtin_return_address(0)),                \
      static_cast<const uintptr_t *>(__builtin_frame_address(0))})
#define MSC_KEEP_FRAME() asm volatile("" ::: "memory")

//===-- Sampling (rt_sampling.cpp) ---------------------------------------===//
/// The slow path shared by instrumented sites and the interposers. A
/// non-zero \p caller.pc asks for the stack from there.
MSC_HIDDEN void allocSampled(uint64_t site_id, void *ptr, uint64_t size,
                             msc_site_kind kind, CallerFrame caller);
/// A custom allocator's call took \p ptr from malloc while it ran: a chunk
/// of its pool. Recorded apart from the program's allocations (kind
/// pool_chunk), sampled per chunk: with probability 1 - exp(-size/interval)
/// and weight its inverse (the byte countdown counts the program's
/// allocations, which the custom objects already are), every one in exact
/// mode.
MSC_HIDDEN void poolChunkAllocated(void *ptr, uint64_t size,
                                   CallerFrame caller);
/// Whether a custom allocator's call is running on this thread.
inline bool inCustomCall() {
  return __memscope_tls.in_instrumented_call == MEMSCOPE_IN_CUSTOM_CALL;
}
/// Records the free of \p ptr: by address in a session that keys its frees
/// so (exact mode), else if the live table had it (taking it out); the
/// caller has seen a filter hit. \p site_id is 0 for uninstrumented frees.
MSC_HIDDEN void freeSampled(uint64_t site_id, void *ptr);
/// Whether this session logs every free by address: it began in exact mode
/// (g_flags, written only as a session begins, while nothing records). Not
/// exactNow(), which max_log_size turns off: the exact phase's blocks are
/// in no table, so their frees stay logged by address.
inline bool freesByAddress() { return g_flags.exact; }
/// Live-table primitives for realloc, which must undo a removal on failure.
MSC_HIDDEN uint64_t liveRemove(void *ptr);
MSC_HIDDEN void liveReinsert(void *ptr, uint64_t sample_id);
/// As a session begins: the live filter is made writable and, in exact mode,
/// where frees are logged by address, every counter is saturated
/// (rt_sampling.cpp).
MSC_HIDDEN void beginSamplingSession();
/// The live table's number of entries (0 before initSampling).
MSC_HIDDEN uint64_t liveTableEntries();
/// Logs a free: of sample \p sample_id, or when that is 0 of the block at
/// \p ptr (freesByAddress); timed at \p monotonic_ns, or now when 0.
MSC_HIDDEN void recordFree(uint64_t site_id, uint64_t sample_id,
                           const void *ptr, uint64_t monotonic_ns = 0);
MSC_HIDDEN void initSampling();
MSC_HIDDEN void resetSamplingAfterFork();
/// Sets the calling thread's countdown to \p value, first banking what the
/// previous one counted; \p counting says whether what this one counts
/// down is recorded. Every store to the countdown by its thread goes here.
MSC_HIDDEN void armCountdown(int64_t value, bool counting);
/// The calling thread's exact totals so far.
MSC_HIDDEN log::ThreadTotals currentThreadTotals();
/// Another thread's totals, read through process_vm_readv so that a thread
/// that exits meanwhile costs a failed read, not a fault. False if either
/// could not be read.
MSC_HIDDEN bool otherThreadTotals(const ThreadCounts *counts,
                                  const msc_thread_fast *fast,
                                  log::ThreadTotals &totals);
/// Totals of threads that ended without a log, for ProcessEnd.
MSC_HIDDEN log::ThreadTotals unloggedThreadTotals();
/// Adds the calling thread's totals to unloggedThreadTotals (it ends with no
/// log to write them to).
MSC_HIDDEN void addToUnloggedTotals();
/// The countdown value a thread restarts from when it is not recording.
MSC_HIDDEN int64_t idleCountdown();

//===-- Log size limit (rt_log_limit.cpp) ---------------------------------===//
/// The sampling in force now: max_log_size raises it as the logs grow.
MSC_HIDDEN extern std::atomic<uint64_t> g_sample_interval_now;
MSC_HIDDEN extern std::atomic<double> g_sample_rate_now;
MSC_HIDDEN extern std::atomic<bool> g_exact_now;
/// LogLimit records announced, and written to process.log.
MSC_HIDDEN extern std::atomic<uint32_t> g_log_limit_changes;
MSC_HIDDEN extern std::atomic<uint32_t> g_log_limit_written;
inline bool exactNow() { return g_exact_now.load(std::memory_order_relaxed); }
inline uint64_t sampleIntervalNow() {
  return g_sample_interval_now.load(std::memory_order_relaxed);
}
inline double sampleRateNow() {
  return g_sample_rate_now.load(std::memory_order_relaxed);
}
/// A new session's logs start with nothing spent.
MSC_HIDDEN void resetLogLimit();
/// The sampling in force becomes g_flags' (the unit tests change them).
MSC_HIDDEN void samplingFlagsChanged();
/// Takes \p bytes of the process's log budget for a new window; false when
/// they would pass it (process.log may use the reserve kept for it).
MSC_HIDDEN bool reserveLogSpace(uint64_t bytes, bool process_log);
/// While one lives, this thread's process.log records may use the last of
/// max_log_size's reserve when \p final (ProcessEnd and the like).
class FinalRecordScope {
public:
  explicit FinalRecordScope(bool final);
  ~FinalRecordScope();

private:
  bool previous;
};
/// \p wanted, or less near the cap.
MSC_HIDDEN uint64_t logWindowLimit(uint64_t wanted, bool process_log);
/// Writes the LogLimit records announced and not yet written.
MSC_HIDDEN void writeLogLimitRecords();
inline bool logLimitPending() {
  return MSC_UNLIKELY(g_log_limit_written.load(std::memory_order_relaxed) !=
                      g_log_limit_changes.load(std::memory_order_relaxed));
}

inline uint32_t liveFilterIndex(const void *ptr) {
  return static_cast<uint32_t>(
      (reinterpret_cast<uintptr_t>(ptr) >> MEMSCOPE_LIVE_FILTER_SHIFT) &
      ((1u << MEMSCOPE_LIVE_FILTER_BITS) - 1));
}
inline bool maybeLive(const void *ptr) {
  return __atomic_load_n(&__memscope_live_filter[liveFilterIndex(ptr)],
                         __ATOMIC_RELAXED) != 0;
}

//===-- Heap in use (rt_heap.cpp) ----------------------------------------===//
/// The calling thread's changes to the heap in use that the process's count
/// does not have yet. Trivially destructible, initial-exec TLS: the
/// interposers touch it on every call.
struct HeapTally {
  int64_t bytes;          // chunk bytes allocated minus chunk bytes freed
  int64_t blocks;         // blocks allocated minus blocks freed
  int64_t limit;          // flush once |bytes| reaches it (0 before the first)
  int64_t negative_limit; // -limit, so that a free compares with one load
  bool flushing;
  bool ended; // the thread is exiting: every later change is flushed at once
  // Not a figure: the block an instrumented free site last handed to
  // __memscope_free_sampled, when its page's filter counter is saturated
  // (exact mode). A delete site's operator delete frees it next through the
  // interposer, which then must not log its free again by address, nor look
  // for it in the live table again (that lookup, of a block no longer
  // there, ran to the end of its run).
  // Set only there, it is cleared off the interposer's fast path: a
  // saturated counter never goes back, so the free interposer takes its
  // slow path (freeMaybeSampled) for that page, which clears the mark
  // whichever block it frees; a C free site's direct free
  // (__memscope_free_unchecked) and a recorded allocation clear it too.
  // The one case it misses: an operator delete the program
  // replaced that does not free the block, whose address another thread
  // then gets back from malloc and hands to this one, which frees it
  // through the interposer before it frees or records anything else; that
  // block's free is then not logged (docs/architecture.md). Here because
  // frees touch t_heap.
  const void *handed_over;
};
MSC_HIDDEN extern __thread HeapTally t_heap
    __attribute__((tls_model("initial-exec")));
/// Adds the calling thread's tally to the process's count.
MSC_HIDDEN void flushHeapTally();
/// A thread started by the spawn trampoline; its exit flushes its tally.
MSC_HIDDEN void heapThreadStarted();
MSC_HIDDEN void heapThreadEnded();
/// Recording starts: the figures count from here, and the peak restarts.
MSC_HIDDEN void startHeapCount();
MSC_HIDDEN void resetHeapCountAfterFork();
/// The figures for ProcessEnd; false when not every block is counted.
MSC_HIDDEN bool heapCounts(log::HeapCounts &out);
/// The whole heap in use now (blocks from before recording started too), in
/// glibc chunk sizes, and
/// how much the threads' pending changes may be off by; false when the
/// runtime cannot count every block. Lock-free: a signal handler calls it.
MSC_HIDDEN bool heapInUse(int64_t &bytes, int64_t &blocks,
                          uint64_t &uncertainty);
/// Finds the allocator behind the interposers: glibc's, unless another one
/// (a preloaded jemalloc or tcmalloc, a sanitizer's) won the symbol lookup.
MSC_HIDDEN void chooseRealAllocator();
/// True when the blocks the program allocates and frees all pass through
/// the interposers or the direct entries to glibc's allocator (rt_dispatch).
MSC_HIDDEN bool heapCountedEverywhere();

/// glibc's size of the chunk that holds \p ptr, header and rounding
/// included: the word before a block glibc allocated, less its three flag
/// bits (malloc_usable_size reads the same word).
inline size_t chunkBytes(const void *ptr) {
  return static_cast<const size_t *>(ptr)[-1] & ~size_t(7);
}
/// glibc allocated \p ptr (not null); true when the tally must be flushed.
/// The interposers' common paths flush in a tail call (flushHeapTallyAnd*),
/// so that they keep nothing across a call of their own.
inline __attribute__((always_inline)) bool heapAdd(const void *ptr) {
  HeapTally &tally = t_heap;
  tally.bytes += static_cast<int64_t>(chunkBytes(ptr));
  tally.blocks += 1;
  return MSC_UNLIKELY(tally.bytes >= tally.limit);
}
/// A block of \p chunk bytes is about to go back to glibc; true when the
/// tally must be flushed.
inline __attribute__((always_inline)) bool heapRemove(size_t chunk) {
  HeapTally &tally = t_heap;
  tally.bytes -= static_cast<int64_t>(chunk);
  tally.blocks -= 1;
  return MSC_UNLIKELY(tally.bytes <= tally.negative_limit);
}
/// For the slow paths: glibc allocated \p ptr (or failed, if null).
inline void heapAdded(const void *ptr) {
  if (ptr && heapAdd(ptr))
    flushHeapTally();
}
inline void heapRemoved(size_t chunk) {
  if (heapRemove(chunk))
    flushHeapTally();
}
/// flushHeapTally, then return \p ptr or free it (noinline tails).
MSC_HIDDEN void *flushHeapTallyAndReturn(void *ptr);
MSC_HIDDEN void flushHeapTallyAndFree(void *ptr);
/// glibc's malloc, calloc and free (of a non-null block) with the heap
/// count: the common paths of the interposers and of the direct entries.
inline __attribute__((always_inline)) void *heapCountedMalloc(size_t size) {
  void *ptr = __libc_malloc(size);
  if (MSC_UNLIKELY(ptr && heapAdd(ptr)))
    return flushHeapTallyAndReturn(ptr);
  return ptr;
}
inline __attribute__((always_inline)) void *heapCountedCalloc(size_t count,
                                                              size_t size) {
  void *ptr = __libc_calloc(count, size);
  if (MSC_UNLIKELY(ptr && heapAdd(ptr)))
    return flushHeapTallyAndReturn(ptr);
  return ptr;
}
inline __attribute__((always_inline)) void heapCountedFree(void *ptr) {
  if (MSC_UNLIKELY(heapRemove(chunkBytes(ptr))))
    return flushHeapTallyAndFree(ptr);
  return __libc_free(ptr);
}

//===-- Stacks (rt_stack.cpp) --------------------------------------------===//
/// Captures return addresses from \p caller outwards, up to stack_depth
/// frames. Returns the stack id (0 if nothing was captured) and writes a
/// Stack record to \p log the first time the writer sees that stack.
MSC_HIDDEN uint64_t captureStack(LogWriter &log, const CallerFrame &caller);
/// Releases the record of which stacks \p log has written.
MSC_HIDDEN void forgetWrittenStacks(LogWriter &log);

//===-- Modules (rt_modules.cpp) ------------------------------------------===//
/// Marks the module that holds \p address_in_module (code or data) as
/// instrumented; returns the start of its text, or 0 if no module holds it.
MSC_HIDDEN uintptr_t noteInstrumentedModule(const void *address_in_module);
MSC_HIDDEN bool inInstrumentedModule(uintptr_t pc);
/// Writes a Module record for every loaded module not yet written.
MSC_HIDDEN void writeModuleMap();
MSC_HIDDEN void resetModulesAfterFork();

} // namespace rt
} // namespace memscope

#endif // MEMSCOPE_RT_INTERNAL_H
