//===-- rt_init.cpp - Process start, exit, output folder, site tables ----===//
//
// Recording starts when MEMSCOPE_OUT names a folder (or through the C++ API).
// The runtime initialises from a high-priority constructor, or lazily from the
// first allocation if that comes earlier (another library's constructor).
// Everything here runs outside the allocation fast path.
//
//===----------------------------------------------------------------------===//
#include "rt_internal.h"
#include "rt_modules.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern "C" {
// Instrumented modules reference this; a runtime of another ABI lacks it.
__attribute__((visibility("default"))) char MEMSCOPE_ABI_MARKER = 1;
}

namespace memscope {
namespace rt {

std::atomic<State> g_state{State::Uninitialized};
std::atomic<uint32_t> g_session{0};
std::atomic<uint64_t> g_dropped_records{0};
std::atomic<uint64_t> g_untracked_samples{0};
std::atomic<bool> g_process_ended{false};

namespace {

char g_process_dir[PATH_MAX];
// A copy of g_process_dir per session, never freed (sessions are few), that
// the session's log writers keep (LogWriter::folder).
const char *g_session_folder = "";
char g_last_error[PATH_MAX + 256]; // room for a path and why it failed
char g_exe_path[PATH_MAX];
// A forked child records into this folder (its parent's output folder) once
// it first records; empty when not a forked child waiting to record.
char g_child_out_dir[PATH_MAX];
LogWriter *g_process_log = nullptr;
StaticSpinMutex g_process_log_lock;
// Who holds g_process_log_lock (os tid), so that the crash handler of a
// thread that crashed while holding it does not wait for itself.
std::atomic<long> g_process_log_holder{0};
// The crash path holds the lock across several records.
__thread bool t_holds_process_log __attribute__((tls_model("initial-exec")));
// In appendProcessRecord, from before its lock to after (rt_snapshot.cpp).
__thread bool t_appending_process_log
    __attribute__((tls_model("initial-exec")));

/// Site tables registered by module constructors, kept so that recording
/// started later (trace_all, fork) can still write them.
struct SiteTableRange {
  const msc_module_sites *begin;
  const msc_module_sites *end;
  const void *module_address;
};
constexpr size_t kMaxSiteTables = 4096;
SiteTableRange *g_site_tables = nullptr;
std::atomic<uint32_t> g_site_table_count{0};
StaticSpinMutex g_site_tables_lock;

/// Warnings printed while the process ran, kept for process.log. They are
/// written as Warning records at exit (writeProcessEnd), not where they
/// happen: a warning may come from inside a log write, under process.log's
/// lock. The first kMaxKeptWarnings are kept; warnOnce makes them few.
constexpr uint32_t kMaxKeptWarnings = 8;
struct KeptWarning {
  std::atomic<bool> ready{false};
  char text[512];
};
KeptWarning g_kept_warnings[kMaxKeptWarnings];
std::atomic<uint32_t> g_kept_warning_count{0};
uint32_t g_written_warnings = 0; // only writeProcessEnd reads and moves it

void keepWarning(const char *text) {
  uint32_t index = g_kept_warning_count.fetch_add(1, std::memory_order_relaxed);
  if (index >= kMaxKeptWarnings)
    return;
  KeptWarning &kept = g_kept_warnings[index];
  snprintf(kept.text, sizeof(kept.text), "%s", text);
  kept.ready.store(true, std::memory_order_release);
}

/// Appends the kept warnings not yet in process.log.
void writeKeptWarnings() {
  uint32_t count = g_kept_warning_count.load(std::memory_order_relaxed);
  if (count > kMaxKeptWarnings)
    count = kMaxKeptWarnings;
  for (; g_written_warnings < count; ++g_written_warnings) {
    KeptWarning &kept = g_kept_warnings[g_written_warnings];
    if (!kept.ready.load(std::memory_order_acquire))
      break; // still being kept by another thread: the next exit writes it
    uint8_t buffer[2 + sizeof(kept.text)];
    log::PayloadBuilder payload(buffer, sizeof(buffer));
    payload.str(kept.text);
    appendProcessRecord(log::RecordType::Warning, buffer, payload.size());
  }
}

void vreport(const char *prefix, const char *format, va_list args) {
  char line[1024];
  int length = snprintf(line, sizeof(line), "%s", prefix);
  int more = vsnprintf(line + length, sizeof(line) - length - 1, format, args);
  if (more > 0)
    length += more < static_cast<int>(sizeof(line)) - length - 1
                  ? more
                  : static_cast<int>(sizeof(line)) - length - 2;
  line[length++] = '\n';
  ssize_t ignored = write(STDERR_FILENO, line, length);
  (void)ignored;
}

/// mkdir -p with mode 0700 for every folder it creates.
int makeDirectories(const char *path) {
  char buffer[PATH_MAX];
  size_t length = strlen(path);
  if (length == 0 || length >= sizeof(buffer))
    return ENAMETOOLONG;
  memcpy(buffer, path, length + 1);
  for (size_t i = 1; i <= length; ++i) {
    if (buffer[i] != '/' && buffer[i] != '\0')
      continue;
    char saved = buffer[i];
    buffer[i] = '\0';
    if (mkdir(buffer, 0700) != 0 && errno != EEXIST)
      return errno;
    buffer[i] = saved;
  }
  struct stat info;
  if (stat(path, &info) != 0)
    return errno;
  return S_ISDIR(info.st_mode) ? 0 : ENOTDIR;
}

const char *baseName(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

void writeSiteTable(const SiteTableRange &range) {
  for (const msc_module_sites *table = range.begin; table < range.end;
       ++table) {
    if (table->abi_version != MEMSCOPE_ABI_VERSION) {
      report("%s was instrumented by MemscopePass %s (ABI %u), but this is "
             "libmemscope_rt %s (ABI %u); its sites are ignored. Rebuild it "
             "with the matching plugin.",
             table->module_id ? table->module_id : "a module",
             table->memscope_version ? table->memscope_version : "?",
             table->abi_version, MEMSCOPE_VERSION_STRING, MEMSCOPE_ABI_VERSION);
      continue;
    }
    for (uint32_t i = 0; i < table->site_count; ++i) {
      const msc_site_desc &site = table->sites[i];
      uint8_t buffer[8192];
      log::SiteRecord record;
      record.id = site.id;
      record.module_text_addr =
          reinterpret_cast<uint64_t>(range.module_address);
      record.kind = site.kind;
      record.line = site.line;
      record.column = site.column;
      record.inline_depth = site.inline_depth;
      size_t size = log::encodeSite(
          buffer, sizeof(buffer), record,
          {site.file, site.dir, site.function, site.type}, [&](uint32_t f) {
            const msc_inline_frame &frame = site.inlined_at[f];
            return log::InlineFrameText{frame.line, frame.column,
                                        frame.function, frame.file, frame.dir};
          });
      appendProcessRecord(log::RecordType::Site, buffer, size);
    }
  }
}

void writeProcessInfo() {
  uint8_t buffer[sizeof(log::ProcessInfoRecord) + 2 + PATH_MAX];
  log::PayloadBuilder payload(buffer, sizeof(buffer));
  log::ProcessInfoRecord info;
  memset(&info, 0, sizeof(info));
  info.pid = static_cast<uint32_t>(getpid());
  info.ppid = static_cast<uint32_t>(getppid());
  info.sampling_mode = static_cast<uint32_t>(
      g_flags.exact             ? log::SamplingMode::Exact
      : g_flags.sample_rate > 0 ? log::SamplingMode::Rate
                                : log::SamplingMode::Bytes);
  info.stack_depth = g_flags.stack_depth;
  info.sample_interval_bytes = g_flags.sample_interval;
  info.sample_rate = g_flags.sample_rate;
  info.min_allocation_size = g_flags.min_allocation_size;
  info.start_realtime_ns = realtimeNs();
  info.start_monotonic_ns = monotonicNs();
  payload.pod(info);
  payload.str(g_exe_path);
  appendProcessRecord(log::RecordType::ProcessInfo, buffer, payload.size());
}

void writeProcessEnd(int32_t exit_kind) {
  struct {
    log::ProcessEndRecord end;
    log::ThreadTotals unlogged; // threads that ended without a log
    log::HeapCounts heap;       // these two left out when not counted
    log::HeapAtExit heap_at_exit;
  } record;
  memset(&record, 0, sizeof(record));
  log::ProcessEndRecord &end = record.end;
  end.monotonic_ns = monotonicNs();
  end.dropped_records = g_dropped_records.load(std::memory_order_relaxed);
  end.untracked_samples = g_untracked_samples.load(std::memory_order_relaxed);
  end.threads_started = threadsStarted();
  end.exit_kind = exit_kind;
  record.unlogged = unloggedThreadTotals();
  writeKeptWarnings();
  if (logLimitPending()) // before the end: the merge must know them
    writeLogLimitRecords();
  size_t size = sizeof(record);
  if (!heapCounts(record.heap) ||
      !heapInUse(record.heap_at_exit.chunk_bytes, record.heap_at_exit.blocks,
                 record.heap_at_exit.uncertainty))
    size = offsetof(decltype(record), heap);
  appendProcessRecord(log::RecordType::ProcessEnd, &record, size);
}

void onExit() {
  if (!isRecording())
    return;
  RecursionGuard guard;
  finishCurrentThread();
  writeRunningThreads();
  writeModuleMap();
  writeProcessEnd(0);
  // Whatever libc frees after this is not the program's; the logs end here.
  g_process_ended.store(true, std::memory_order_release);
}

/// Creates the per-process folder and process.log and starts recording.
/// Called with g_state == Initializing.
int beginSession(const char *out_dir) {
  if (getauxval(AT_SECURE)) {
    snprintf(g_last_error, sizeof(g_last_error),
             "MEMSCOPE_OUT is ignored in a setuid/setgid program");
    report("%s", g_last_error);
    return EPERM;
  }
  if (int error = makeDirectories(out_dir)) {
    snprintf(g_last_error, sizeof(g_last_error),
             "cannot create output folder '%s': %s", out_dir, strerror(error));
    report("%s; not recording, the program continues", g_last_error);
    return error;
  }
  ssize_t length =
      readlink("/proc/self/exe", g_exe_path, sizeof(g_exe_path) - 1);
  g_exe_path[length > 0 ? length : 0] = '\0';
  const char *exe = length > 0 ? baseName(g_exe_path) : "process";
  int pid = getpid();
  for (int attempt = 0; attempt < 100; ++attempt) {
    int written = attempt == 0
                      ? snprintf(g_process_dir, sizeof(g_process_dir),
                                 "%s/%s.%d", out_dir, exe, pid)
                      : snprintf(g_process_dir, sizeof(g_process_dir),
                                 "%s/%s.%d.%d", out_dir, exe, pid, attempt);
    if (written < 0 || static_cast<size_t>(written) >= sizeof(g_process_dir))
      return ENAMETOOLONG;
    if (mkdir(g_process_dir, 0700) == 0)
      break;
    if (errno != EEXIST || attempt == 99) {
      int error = errno;
      snprintf(g_last_error, sizeof(g_last_error), "cannot create '%s': %s",
               g_process_dir, strerror(error));
      report("%s; not recording, the program continues", g_last_error);
      return error;
    }
  }
  size_t folder_size = strlen(g_process_dir) + 1;
  if (char *folder = static_cast<char *>(mapZeroed(folder_size))) {
    memcpy(folder, g_process_dir, folder_size);
    g_session_folder = folder;
  }
  resetLogLimit(); // before the first window is reserved
  LogWriter *process_log =
      createLogWriter("process.log", log::FileKind::Process, 0);
  if (!process_log || process_log->failed) {
    snprintf(g_last_error, sizeof(g_last_error), "cannot write logs in '%s'",
             g_process_dir);
    rmdir(g_process_dir); // empty: leave nothing half-made behind
    return EIO;
  }
  LogWriter *previous;
  {
    SpinMutexLock lock(g_process_log_lock);
    previous = g_process_log;
    g_process_log = process_log;
  }
  if (previous) // the previous session's, which nobody writes any more
    abandonLogWriter(*previous);
  uint32_t session = g_session.load(std::memory_order_relaxed) + 1;
  beginThreadLogsSession(session);
  g_session.store(session, std::memory_order_relaxed);
  installCrashHandlers();
  startSnapshots();
  beginSamplingSession();
  startHeapCount();
  writeProcessInfo();
  uint32_t tables = g_site_table_count.load(std::memory_order_acquire);
  for (uint32_t i = 0; i < tables; ++i)
    writeSiteTable(g_site_tables[i]);
  if (g_flags.verbose)
    report("recording into %s", g_process_dir);
  return 0;
}

void childAfterFork() {
  // Locks another parent thread held at fork time are gone with it.
  g_process_log_lock.resetAfterFork();
  g_process_log_holder.store(0, std::memory_order_relaxed);
  g_site_tables_lock.resetAfterFork();
  resetThreadLocksAfterFork();
  resetSignalStacksAfterFork();
  resetSpawnAfterFork();
  resetHeapCountAfterFork();
  t_state.os_tid = 0; // the child's own, asked again when needed
  if (g_state.load(std::memory_order_relaxed) != State::Recording)
    return;
  RecursionGuard guard;
  // The parent's files are not ours to write: start a folder of our own.
  if (g_process_log)
    abandonLogWriter(*g_process_log);
  resetThreadsAfterFork();
  resetSamplingAfterFork();
  resetModulesAfterFork();
  // The child's folder is created when it first records, not here: a child
  // that only execs (fork+exec, popen, system) then leaves no empty folder,
  // and the work happens outside the fork handler.
  memcpy(g_child_out_dir, g_process_dir, sizeof(g_child_out_dir));
  char *slash = strrchr(g_child_out_dir, '/');
  if (slash)
    *slash = '\0';
  g_state.store(State::Uninitialized, std::memory_order_release);
}

/// First record of a forked child: a folder of its own, in its parent's
/// output folder, with its parent's options.
int beginChildSession() {
  int error = beginSession(g_child_out_dir);
  if (!error)
    writeModuleMap();
  return error;
}

int initialize(const char *out_dir, const char *options) {
  parseFlags(options);
  if (g_flags.help)
    printFlagHelp();
  if (!g_site_tables)
    g_site_tables = static_cast<SiteTableRange *>(
        mapZeroed(sizeof(SiteTableRange) * kMaxSiteTables));
  initSampling();
  initThreads();
  initEventClock();
  static bool fork_handler_installed = false;
  if (!fork_handler_installed) {
    fork_handler_installed = true;
    pthread_atfork(lockLoaderForFork, unlockLoaderAfterFork, childAfterFork);
  }
  if (!out_dir || !*out_dir)
    return ENOENT;
  if (g_flags.start.on_signal && !startingBySignal()) {
    // start=signal: not yet. The handler is there to hear the signal.
    deferStart(out_dir, options);
    startSnapshots();
    return EAGAIN;
  }
  return beginSession(out_dir);
}

} // namespace

uint64_t realtimeNs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

void report(const char *format, ...) {
  va_list args;
  va_start(args, format);
  vreport("memscope: ", format, args);
  va_end(args);
}

void warnOnce(std::atomic<bool> &once_flag, const char *format, ...) {
  if (once_flag.exchange(true, std::memory_order_relaxed))
    return;
  char text[sizeof(KeptWarning::text)];
  va_list args;
  va_start(args, format);
  vsnprintf(text, sizeof(text), format, args);
  va_end(args);
  report("warning: %s", text);
  keepWarning(text);
}

void *mapZeroed(size_t bytes) {
  void *memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return memory == MAP_FAILED ? nullptr : memory;
}

void prefaultWritable(void *address, size_t bytes) {
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 // Linux 5.14
#endif
  uintptr_t page = 4096;
  uintptr_t begin = reinterpret_cast<uintptr_t>(address) & ~(page - 1);
  uintptr_t end =
      (reinterpret_cast<uintptr_t>(address) + bytes + page - 1) & ~(page - 1);
  if (madvise(reinterpret_cast<void *>(begin), end - begin,
              MADV_POPULATE_WRITE) == 0)
    return;
  // Older kernels: touch every page with a write.
  for (uintptr_t at = begin; at < end; at += page)
    __atomic_fetch_add(reinterpret_cast<char *>(at), 0, __ATOMIC_RELAXED);
}

const char *processDirectory() { return g_process_dir; }

const char *sessionFolder() { return g_session_folder; }

const char *lastError() { return g_last_error; }

bool appendProcessRecord(log::RecordType type, const void *payload,
                         size_t size) {
  // What the report cannot do without may use max_log_size's last reserve.
  FinalRecordScope final(type == log::RecordType::ProcessEnd ||
                         type == log::RecordType::ThreadRunning ||
                         type == log::RecordType::ThreadEnded ||
                         type == log::RecordType::Module ||
                         type == log::RecordType::LogLimit);
  if (t_holds_process_log) // the crash path, which holds the lock
    return g_process_log && appendRecord(*g_process_log, type, payload, size);
  bool written = false;
  // From before taking the lock to after letting it go: a snapshot signal
  // handled on this thread meanwhile must not wait for the lock.
  t_appending_process_log = true;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  {
    SpinMutexLock lock(g_process_log_lock);
    // The cached thread id: a syscall per record cost a program with many
    // sites a gettid per site at start-up.
    g_process_log_holder.store(static_cast<long>(ensureOsTid()),
                               std::memory_order_relaxed);
    written =
        g_process_log && appendRecord(*g_process_log, type, payload, size);
    g_process_log_holder.store(0, std::memory_order_relaxed);
  }
  std::atomic_signal_fence(std::memory_order_seq_cst);
  t_appending_process_log = false;
  if (MSC_UNLIKELY(g_snapshot_pending.load(std::memory_order_relaxed)))
    writePendingSnapshot();
  if (logLimitPending())
    writeLogLimitRecords();
  return written;
}

bool processLogHeldByThisThread() {
  return t_appending_process_log || t_holds_process_log ||
         g_process_log_holder.load(std::memory_order_relaxed) ==
             static_cast<long>(ensureOsTid());
}

bool appendProcessRecordFromSignal(log::RecordType type, const void *payload,
                                   size_t size) {
  long self = static_cast<long>(ensureOsTid());
  // The holder appends one record: a short wait, unless it was descheduled
  // on a busy machine; bounded all the same (about 2 s).
  for (int attempt = 0; !g_process_log_lock.tryLock(); ++attempt) {
    if (attempt == 3000)
      return false;
    if (attempt < 1000) {
      sched_yield();
    } else {
      struct timespec delay = {0, 1000000L};
      nanosleep(&delay, nullptr);
    }
  }
  g_process_log_holder.store(self, std::memory_order_relaxed);
  if (g_process_log)
    appendRecord(*g_process_log, type, payload, size);
  g_process_log_holder.store(0, std::memory_order_relaxed);
  g_process_log_lock.unlock();
  return true;
}

bool finishAfterCrash(int signo) {
  if (!isRecording() || g_process_ended.load(std::memory_order_acquire))
    return false;
  bool was_in_runtime = t_state.in_runtime;
  RecursionGuard guard;
  // Modules loaded since the last map (dlopen) are needed to symbolise
  // stacks. Only safe when this thread holds no runtime lock, i.e. it was
  // not inside the runtime; taken before process.log's lock, in the same
  // order as every other path.
  if (!was_in_runtime)
    writeModuleMap();
  long self = static_cast<long>(ensureOsTid());
  bool locked = false;
  for (int attempt = 0; attempt < 2000; ++attempt) {
    if (g_process_log_lock.tryLock()) {
      locked = true;
      break;
    }
    if (g_process_log_holder.load(std::memory_order_relaxed) == self)
      break; // this thread crashed inside appendProcessRecord
    struct timespec delay = {0, 1000000L};
    nanosleep(&delay, nullptr);
  }
  if (!locked)
    return false;
  t_holds_process_log = true;
  writeRunningThreads(/*include_current=*/true);
  writeProcessEnd(signo);
  g_process_ended.store(true, std::memory_order_release);
  t_holds_process_log = false;
  g_process_log_lock.unlock();
  return true;
}

namespace {
// Set by the runtime's constructor. A static program allocates inside
// libc's own start-up (_dl_non_dynamic_init), before the unwinder can find
// any FDE (_Unwind_Backtrace aborts there): it starts recording at that
// constructor, not at its first allocation. A dynamic program's libc is up
// before any allocation reaches the runtime.
std::atomic<bool> g_constructor_ran{false};

bool libcReady() {
  return g_constructor_ran.load(std::memory_order_relaxed) ||
         getauxval(AT_BASE) != 0; // an interpreter: a dynamic program
}
} // namespace

bool initializeOnce() {
  if (!libcReady())
    return false;
  State expected = State::Uninitialized;
  if (!g_state.compare_exchange_strong(expected, State::Initializing,
                                       std::memory_order_acq_rel))
    return false; // another thread is initialising: this sample is skipped
  RecursionGuard guard;
  int error = g_child_out_dir[0] ? beginChildSession()
                                 : initialize(getenv("MEMSCOPE_OUT"),
                                              getenv("MEMSCOPE_OPTIONS"));
  g_child_out_dir[0] = '\0';
  g_state.store(error ? State::Disabled : State::Recording,
                std::memory_order_release);
  if (!error)
    wakeIdleThreads();
  return !error;
}

int startRecording(const char *out_dir, const char *options) {
  ensureInitialized();
  g_last_error[0] = '\0';
  State expected = State::Disabled;
  if (!g_state.compare_exchange_strong(expected, State::Initializing,
                                       std::memory_order_acq_rel))
    return expected == State::Recording ? EBUSY : EAGAIN;
  RecursionGuard guard;
  int error = initialize(out_dir, options);
  if (!error)
    writeModuleMap();
  g_state.store(error ? State::Disabled : State::Recording,
                std::memory_order_release);
  if (!error)
    wakeIdleThreads();
  return error;
}

bool stopRecording() {
  State expected = State::Recording;
  if (!g_state.compare_exchange_strong(expected, State::Initializing,
                                       std::memory_order_acq_rel))
    return false;
  RecursionGuard guard;
  finishCurrentThread();
  writeRunningThreads();
  writeModuleMap();
  writeProcessEnd(0);
  g_state.store(State::Disabled, std::memory_order_release);
  return true;
}

void onExitHook() { onExit(); }

} // namespace rt
} // namespace memscope

using namespace memscope::rt;

extern "C" {

__attribute__((visibility("default"))) void
__memscope_register_sites(const msc_module_sites *begin,
                          const msc_module_sites *end) {
  RecursionGuard guard;
  if (!g_site_tables)
    g_site_tables = static_cast<SiteTableRange *>(
        mapZeroed(sizeof(SiteTableRange) * kMaxSiteTables));
  // The module is the one that holds its site table. Not our return
  // address: under LTO the constructor's call here can be a tail call, and
  // the return address is then in its caller (libc's init code).
  const void *module_address =
      reinterpret_cast<const void *>(noteInstrumentedModule(begin));
  if (!module_address)
    module_address = __builtin_return_address(0);
  SiteTableRange range{begin, end, module_address};
  {
    SpinMutexLock lock(g_site_tables_lock);
    uint32_t count = g_site_table_count.load(std::memory_order_relaxed);
    if (g_site_tables && count < kMaxSiteTables) {
      g_site_tables[count] = range;
      g_site_table_count.store(count + 1, std::memory_order_release);
    }
  }
  if (ensureInitialized()) {
    writeSiteTable(range);
    writeModuleMap();
  }
}

} // extern "C"

// Finish after every atexit handler and static destructor (they run in
// exit() before the .fini_array entries of _dl_fini), so that their
// allocations and frees are in the logs and the exiting thread's ThreadEnd
// is its last record.
__attribute__((destructor(101))) static void memscopeDestructor() {
  onExitHook();
}

// Initialise before user constructors so that their allocations are seen.
__attribute__((constructor(101))) static void memscopeConstructor() {
  memscope::rt::ensureThreadId(); // the main thread is thread 1
  memscope::rt::chooseRealAllocator();
  memscope::rt::g_constructor_ran.store(true, std::memory_order_relaxed);
  memscope::rt::ensureInitialized();
  if (memscope::rt::isRecording()) {
    RecursionGuard guard;
    writeModuleMap();
  }
}
