//===-- rt_thread.cpp - Per-thread state, log slots, thread lifecycle ----===//
//
// A thread gets a log slot the first time it records. At thread exit (a
// pthread key destructor: TLS here must stay trivially destructible) it
// writes ThreadEnd and returns the slot, so the next thread reuses the file:
// the number of log files is the peak number of recording threads, not the
// number of threads ever started.
//
//===----------------------------------------------------------------------===//
#include "rt_internal.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

extern "C" {
__attribute__((visibility("default"))) __thread msc_thread_fast __memscope_tls
    __attribute__((tls_model("initial-exec")));
}

namespace memscope {
namespace rt {

__thread ThreadState t_state __attribute__((tls_model("initial-exec")));

namespace {

constexpr uint32_t kMaxSlots = 1u << 16;
LogWriter **g_slots = nullptr; // the session's writers, by slot
std::atomic<uint32_t> g_slot_count{0};
LogWriter *g_free_slots = nullptr;
// Writers of earlier sessions, unmapped, whose memory createLogWriter reuses.
LogWriter *g_retired_writers = nullptr;
// The session whose folder g_slots' files are in.
uint32_t g_slots_session = 0;
StaticSpinMutex g_slots_lock;
std::atomic<uint64_t> g_next_thread_id{1};
std::atomic<uint64_t> g_threads_started{0};
pthread_key_t g_exit_key;
bool g_exit_key_created = false;
std::atomic<bool> g_slot_warning{false};
long g_clock_ticks = 0; // sysconf(_SC_CLK_TCK), read once at init

msc_thread_fast **g_idle = nullptr; // parked threads' countdowns
uint32_t g_idle_used = 0;           // high-water mark of g_idle
StaticSpinMutex g_idle_lock;

void leaveIdleList() {
  if (!t_state.idle_index)
    return;
  SpinMutexLock lock(g_idle_lock);
  g_idle[t_state.idle_index - 1] = nullptr;
  t_state.idle_index = 0;
}

/// Takes \p writer out of use for good; the caller holds g_slots_lock.
void retireLocked(LogWriter *writer) {
  retireLogWriter(*writer);
  writer->next_free = g_retired_writers;
  g_retired_writers = writer;
}

LogWriter *acquireSlot() {
  uint32_t slot, session;
  LogWriter *recycled;
  {
    SpinMutexLock lock(g_slots_lock);
    if (LogWriter *reused = g_free_slots) {
      g_free_slots = reused->next_free;
      reused->next_free = nullptr;
      return reused;
    }
    slot = g_slot_count.load(std::memory_order_relaxed);
    if (!g_slots || slot >= kMaxSlots) {
      warnOnce(g_slot_warning,
               "more than %u threads recording at once; "
               "further threads are not recorded",
               kMaxSlots);
      return nullptr;
    }
    g_slot_count.store(slot + 1, std::memory_order_relaxed);
    session = g_slots_session;
    recycled = g_retired_writers;
    if (recycled)
      g_retired_writers = recycled->next_free;
  }
  // The file is created outside the lock: other threads keep recording.
  char name[32];
  snprintf(name, sizeof(name), "t%u.log", slot);
  LogWriter *writer =
      createLogWriter(name, log::FileKind::Thread, slot, recycled);
  SpinMutexLock lock(g_slots_lock);
  if (!writer) {
    if (recycled) {
      recycled->next_free = g_retired_writers;
      g_retired_writers = recycled;
    }
    return nullptr;
  }
  if (session != g_slots_session) {
    // A new session began meanwhile; this slot number is the new
    // session's to give out.
    retireLocked(writer);
    return nullptr;
  }
  __atomic_store_n(&g_slots[slot], writer, __ATOMIC_RELEASE);
  return writer;
}

/// The calling thread's log belongs to an earlier session: nobody else
/// writes or hands it out, so it is retired.
void retireOwnStaleLog() {
  if (!t_state.log)
    return;
  SpinMutexLock lock(g_slots_lock);
  retireLocked(t_state.log);
  t_state.log = nullptr;
}

void releaseSlot(LogWriter *writer) {
  if (!writer)
    return;
  writer->owner_thread_id.store(0, std::memory_order_relaxed);
  writer->owner_os_tid.store(0, std::memory_order_relaxed);
  if (writer->failed)
    return;
  SpinMutexLock lock(g_slots_lock);
  writer->next_free = g_free_slots;
  g_free_slots = writer;
}

void cpuTimes(uint64_t &user_ns, uint64_t &system_ns) {
  struct rusage usage;
  if (getrusage(RUSAGE_THREAD, &usage) != 0) {
    user_ns = system_ns = 0;
    return;
  }
  user_ns =
      usage.ru_utime.tv_sec * 1000000000ull + usage.ru_utime.tv_usec * 1000ull;
  system_ns =
      usage.ru_stime.tv_sec * 1000000000ull + usage.ru_stime.tv_usec * 1000ull;
}

/// Writes the thread's ThreadEnd: to its own log, or when that is full
/// (max_log_size) to process.log, which keeps a reserve. False when neither
/// could take it.
bool writeThreadEnd() {
  if (!t_state.registered || !t_state.log)
    return false;
  // A name set without pthread_setname_np (prctl) shows up here.
  char name[17] = {0};
  prctl(PR_GET_NAME, name, 0, 0, 0);
  if (strncmp(name, t_state.start_name, sizeof(t_state.start_name)) != 0) {
    uint8_t buffer[sizeof(log::ThreadNameRecord) + 2 + 16];
    log::PayloadBuilder payload(buffer, sizeof(buffer));
    log::ThreadNameRecord rename;
    rename.thread_id = t_state.thread_id;
    rename.pthread_handle = static_cast<uint64_t>(pthread_self());
    rename.monotonic_ns = monotonicNs();
    payload.pod(rename);
    payload.str(name);
    appendRecord(*t_state.log, log::RecordType::ThreadName, buffer,
                 payload.size());
  }
  struct {
    log::ThreadEndRecord end;
    log::ThreadTotals totals;
  } record;
  record.end.thread_id = t_state.thread_id;
  record.end.monotonic_ns = monotonicNs();
  cpuTimes(record.end.cpu_user_ns, record.end.cpu_system_ns);
  record.totals = currentThreadTotals();
  if (!t_state.log->failed &&
      appendRecord(*t_state.log, log::RecordType::ThreadEnd, &record,
                   sizeof(record)))
    return true;
  return appendProcessRecord(log::RecordType::ThreadEnded, &record,
                             sizeof(record));
}

void onThreadExit(void *) {
  RecursionGuard guard;
  if (t_state.heap_counted) {
    t_state.heap_counted = false;
    heapThreadEnded();
  }
  leaveIdleList(); // before this thread's TLS goes away
  if (t_state.session == currentSession() && isRecording()) {
    // A thread whose log is full (max_log_size) still counts.
    if (!writeThreadEnd())
      addToUnloggedTotals();
  }
  if (t_state.session == currentSession())
    releaseSlot(t_state.log);
  else
    retireOwnStaleLog();
  t_state.log = nullptr;
  t_state.exited = true;
  removeAltStack();
  // Allocations from later TLS destructors are not recorded.
  armCountdown(INT64_MAX, false);
}

} // namespace

void initThreads() {
  if (!g_clock_ticks)
    g_clock_ticks = sysconf(_SC_CLK_TCK);
  if (!g_slots)
    g_slots =
        static_cast<LogWriter **>(mapZeroed(sizeof(LogWriter *) * kMaxSlots));
  if (!g_idle)
    g_idle = static_cast<msc_thread_fast **>(
        mapZeroed(sizeof(msc_thread_fast *) * kMaxSlots));
  if (!g_exit_key_created)
    g_exit_key_created = pthread_key_create(&g_exit_key, onThreadExit) == 0;
}

void beginThreadLogsSession(uint32_t session) {
  if (!g_slots)
    return;
  SpinMutexLock lock(g_slots_lock);
  // Free logs have no owner; logs still owned by a thread are retired by
  // that thread when it next records or exits.
  while (LogWriter *writer = g_free_slots) {
    g_free_slots = writer->next_free;
    retireLocked(writer);
  }
  uint32_t count = g_slot_count.load(std::memory_order_relaxed);
  for (uint32_t i = 0; i < count; ++i)
    __atomic_store_n(&g_slots[i], nullptr, __ATOMIC_RELEASE);
  g_slot_count.store(0, std::memory_order_release);
  g_slots_session = session;
}

void watchThreadExit() {
  if (!g_exit_key_created || t_state.heap_counted)
    return;
  t_state.heap_counted = true;
  heapThreadStarted();
  pthread_setspecific(g_exit_key, &t_state);
}

void giveThreadSignalStack() {
  if (!crashHandlersInstalled())
    return;
  installAltStack();
  if (t_state.alt_stack && g_exit_key_created) // removed at thread exit
    pthread_setspecific(g_exit_key, &t_state);
}

uint64_t ensureOsTid() {
  if (MSC_UNLIKELY(!t_state.os_tid))
    t_state.os_tid = static_cast<uint64_t>(syscall(SYS_gettid));
  return t_state.os_tid;
}

uint64_t ensureThreadId() {
  ensureOsTid(); // also after a fork, which keeps the thread id
  if (MSC_UNLIKELY(!t_state.thread_id)) {
    t_state.thread_id =
        g_next_thread_id.fetch_add(1, std::memory_order_relaxed);
    g_threads_started.fetch_add(1, std::memory_order_relaxed);
  }
  return t_state.thread_id;
}

LogWriter *registerThreadLog() {
  if (t_state.registered && t_state.session == currentSession())
    return t_state.log;
  if (t_state.exited || g_process_ended.load(std::memory_order_acquire))
    return nullptr;
  if (t_state.registered)
    retireOwnStaleLog();
  t_state.registered = true;
  t_state.session = currentSession();
  ensureThreadId();
  // The exit hook even without a log: a thread that could not get one
  // (max_log_size, a full disk) still adds its counts to the totals.
  if (g_exit_key_created)
    pthread_setspecific(g_exit_key, &t_state);
  t_state.log = acquireSlot();
  if (!t_state.log)
    return nullptr;
  t_state.log->owner_thread_id.store(t_state.thread_id,
                                     std::memory_order_relaxed);
  t_state.log->owner_os_tid.store(t_state.os_tid, std::memory_order_relaxed);
  t_state.log->owner_counts.store(&t_state.counts, std::memory_order_relaxed);
  t_state.log->owner_fast.store(&__memscope_tls, std::memory_order_relaxed);

  uint8_t buffer[sizeof(log::ThreadStartRecord) + 2 + 16];
  log::PayloadBuilder payload(buffer, sizeof(buffer));
  log::ThreadStartRecord start;
  start.thread_id = t_state.thread_id;
  start.os_tid = t_state.os_tid;
  start.parent_thread_id = t_state.parent_thread_id;
  start.spawn_site = t_state.spawn_site;
  start.monotonic_ns = monotonicNs();
  start.pthread_handle = static_cast<uint64_t>(pthread_self());
  start.spawn_stack_id = t_state.spawn_stack_id;
  start.creator_pc = t_state.creator_pc;
  payload.pod(start);
  char name[17] = {0};
  prctl(PR_GET_NAME, name, 0, 0, 0);
  memcpy(t_state.start_name, name, sizeof(t_state.start_name));
  payload.str(name);
  appendRecord(*t_state.log, log::RecordType::ThreadStart, buffer,
               payload.size());
  return t_state.log;
}

void finishCurrentThread() {
  if (t_state.session != currentSession())
    return;
  if (t_state.registered && !writeThreadEnd())
    addToUnloggedTotals(); // no log, or no room for it anywhere
  // The thread may keep allocating (static destructors): it keeps its slot
  // but a later record needs a new ThreadStart.
  t_state.registered = false;
  releaseSlot(t_state.log);
  t_state.log = nullptr;
}

void resetThreadLocksAfterFork() {
  g_slots_lock.resetAfterFork();
  g_idle_lock.resetAfterFork();
}

void resetThreadsAfterFork() {
  uint32_t count = g_slot_count.load(std::memory_order_relaxed);
  for (uint32_t i = 0; i < count; ++i)
    if (g_slots[i])
      abandonLogWriter(*g_slots[i]);
  g_slot_count.store(0, std::memory_order_relaxed);
  g_free_slots = nullptr;
  // Parked countdowns of the parent's other threads: gone with them.
  for (uint32_t i = 0; i < g_idle_used; ++i)
    g_idle[i] = nullptr;
  g_idle_used = 0;
  t_state.idle_index = 0;
  t_state.registered = false;
  t_state.log = nullptr;
  // t_state.os_tid: childAfterFork cleared it; ensureOsTid asks again.
}

void parkIdleThread() {
  armCountdown(idleCountdown(), false);
  if (t_state.idle_index || t_state.exited || !g_idle)
    return;
  {
    SpinMutexLock lock(g_idle_lock);
    uint32_t index = 0;
    while (index < g_idle_used && g_idle[index])
      ++index;
    if (index >= kMaxSlots)
      return;
    g_idle[index] = &__memscope_tls;
    if (index == g_idle_used)
      ++g_idle_used;
    t_state.idle_index = static_cast<int32_t>(index + 1);
  }
  if (g_exit_key_created)
    pthread_setspecific(g_exit_key, &t_state);
}

void wakeIdleThreadsFromSignal() {
  if (!g_idle)
    return;
  // The interrupted thread may hold the lock itself (parkIdleThread): then
  // the threads wake at their idle countdowns instead.
  for (int attempt = 0; !g_idle_lock.tryLock(); ++attempt)
    if (attempt == 1000)
      return;
  for (uint32_t i = 0; i < g_idle_used; ++i)
    if (g_idle[i])
      __atomic_store_n(&g_idle[i]->bytes_until_sample, -1, __ATOMIC_RELAXED);
  g_idle_lock.unlock();
}

void wakeIdleThreads() {
  if (!g_idle)
    return;
  SpinMutexLock lock(g_idle_lock);
  for (uint32_t i = 0; i < g_idle_used; ++i)
    if (g_idle[i]) {
      // A racing allocation in that thread may overwrite this store; it then
      // wakes at its idle countdown as before.
      __atomic_store_n(&g_idle[i]->bytes_until_sample, -1, __ATOMIC_RELAXED);
      g_idle[i] = nullptr;
    }
  g_idle_used = 0;
}

namespace {

/// Appends the decimal digits of \p value; async-signal-safe.
char *appendDecimal(char *out, uint64_t value) {
  char digits[24];
  int count = 0;
  do {
    digits[count++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value);
  while (count)
    *out++ = digits[--count];
  return out;
}

/// utime and stime of a thread from /proc, without allocating and with
/// async-signal-safe calls only (the crash handler reaches here).
bool readThreadCpu(uint64_t os_tid, uint64_t &user_ns, uint64_t &system_ns) {
  static const char kPrefix[] = "/proc/self/task/";
  char path[64];
  memcpy(path, kPrefix, sizeof(kPrefix) - 1);
  char *end = appendDecimal(path + sizeof(kPrefix) - 1, os_tid);
  memcpy(end, "/stat", 6);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  char text[1024];
  ssize_t length = read(fd, text, sizeof(text) - 1);
  close(fd);
  if (length <= 0)
    return false;
  text[length] = '\0';
  // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
  const char *cursor = strrchr(text, ')');
  if (!cursor)
    return false;
  uint64_t fields[13] = {0};
  int field = 0;
  for (++cursor; *cursor && field < 13; ++field) {
    while (*cursor == ' ')
      ++cursor;
    uint64_t value = 0;
    while (*cursor >= '0' && *cursor <= '9')
      value = value * 10 + static_cast<uint64_t>(*cursor++ - '0');
    fields[field] = value;
    while (*cursor && *cursor != ' ') // the state letter
      ++cursor;
  }
  if (field < 13 || g_clock_ticks <= 0)
    return false;
  user_ns = fields[11] * (1000000000ull / g_clock_ticks);
  system_ns = fields[12] * (1000000000ull / g_clock_ticks);
  return true;
}

} // namespace

void writeRunningThreads(bool include_current) {
  uint32_t count = g_slot_count.load(std::memory_order_acquire);
  for (uint32_t i = 0; i < count; ++i) {
    LogWriter *writer = __atomic_load_n(&g_slots[i], __ATOMIC_ACQUIRE);
    if (!writer)
      continue;
    uint64_t thread_id =
        writer->owner_thread_id.load(std::memory_order_relaxed);
    uint64_t os_tid = writer->owner_os_tid.load(std::memory_order_relaxed);
    if (!thread_id || (thread_id == t_state.thread_id && !include_current))
      continue;
    struct {
      log::ThreadRunningRecord running;
      log::ThreadTotals totals;
    } record;
    record.running.thread_id = thread_id;
    record.running.os_tid = os_tid;
    record.running.monotonic_ns = monotonicNs();
    if (!readThreadCpu(os_tid, record.running.cpu_user_ns,
                       record.running.cpu_system_ns))
      record.running.cpu_user_ns = record.running.cpu_system_ns = 0;
    size_t size = sizeof(record);
    if (thread_id == t_state.thread_id)
      record.totals = currentThreadTotals();
    else if (!otherThreadTotals(
                 writer->owner_counts.load(std::memory_order_relaxed),
                 writer->owner_fast.load(std::memory_order_relaxed),
                 record.totals))
      size = sizeof(record.running); // unknown: the merge estimates them
    appendProcessRecord(log::RecordType::ThreadRunning, &record, size);
  }
}

uint64_t threadsStarted() {
  return g_threads_started.load(std::memory_order_relaxed);
}

} // namespace rt
} // namespace memscope
