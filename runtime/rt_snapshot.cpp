//===-- rt_snapshot.cpp - Snapshots of a running process ------------------===//
//
// A service that runs for weeks is asked "what is in the heap now?". A
// snapshot answers without stopping it: a Snapshot record in process.log
// marks the moment (and the heap in use, counted). The thread logs already
// hold every sampled event up to it, so memscope-merge reconstructs the live
// set there, on a running process's folder too (--from/--to snapshot:N).
//
// With start=signal the same signal's first arrival starts recording
// instead: the handler only flags it, and the next allocation of any thread
// starts it (woken from their idle countdowns), so that nothing allocated
// before the signal is recorded and everything after it is.
//
// snapshot_interval takes them without a signal or a thread of the
// runtime's (a periodic signal would interrupt the program's sleeps and
// reads with EINTR): the allocations the runtime records check the time,
// and the first one past the interval takes the snapshot. A process that
// allocates nothing gets none, and has nothing new to show.
//
// Two ways to take one: the signal of the option signal= (SIGUSR2 unless
// changed, installed only over the default action so that a program's own
// handler stays), and memscope_snapshot(). The handler is async-signal-safe:
// it reads clocks and atomics and appends one record into an already
// mapped window. Should the signal interrupt its own thread inside an
// append to process.log (holding its lock), the snapshot is left pending and
// that append writes it as it lets go of the lock. Numbers are given as
// records are made; one that could not be written (process.log's lock held
// elsewhere past a bounded wait) leaves a gap and counts as a dropped
// record.
//
//===----------------------------------------------------------------------===//
#include "rt_internal.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

namespace memscope {
namespace rt {

std::atomic<uint32_t> g_snapshot_pending{0};

namespace {

std::atomic<uint64_t> g_snapshots{0};
// start=signal: where to record, kept from start-up; the signal came.
char g_deferred_out_dir[PATH_MAX];
char g_deferred_options[1024];
std::atomic<bool> g_start_requested{false};
// This thread is starting the recording start=signal asked for.
__thread bool t_starting_by_signal __attribute__((tls_model("initial-exec")));
// snapshot_interval: when the next periodic snapshot is due (UINT64_MAX:
// never).
std::atomic<uint64_t> g_next_interval_ns{UINT64_MAX};
std::atomic<bool> g_signal_installed{false};
std::atomic<bool> g_signal_taken_warned{false};

log::SnapshotRecord makeSnapshot(log::SnapshotCause cause) {
  log::SnapshotRecord record;
  memset(&record, 0, sizeof(record));
  record.number = g_snapshots.fetch_add(1, std::memory_order_relaxed) + 1;
  record.monotonic_ns = monotonicNs();
  record.cause = static_cast<uint32_t>(cause);
  record.heap_counted =
      heapInUse(record.heap_bytes, record.heap_blocks, record.heap_uncertainty)
          ? 1
          : 0;
  return record;
}

void snapshotSignalHandler(int, siginfo_t *, void *) {
  int saved_errno = errno;
  if (!isRecording() && g_flags.start.on_signal && g_deferred_out_dir[0]) {
    // start=signal: the first allocation of any thread from now on starts
    // recording (starting takes locks a handler must not wait for).
    g_start_requested.store(true, std::memory_order_release);
    wakeIdleThreadsFromSignal();
  } else if (isRecording() &&
             !g_process_ended.load(std::memory_order_acquire)) {
    RecursionGuard guard;
    if (processLogHeldByThisThread()) {
      // The interrupted append writes it as it lets go of the lock.
      g_snapshot_pending.store(
          static_cast<uint32_t>(log::SnapshotCause::Signal),
          std::memory_order_relaxed);
    } else {
      log::SnapshotRecord record = makeSnapshot(log::SnapshotCause::Signal);
      if (!appendProcessRecordFromSignal(log::RecordType::Snapshot, &record,
                                         sizeof(record)))
        g_dropped_records.fetch_add(1, std::memory_order_relaxed);
    }
  }
  errno = saved_errno;
}

} // namespace

uint64_t takeSnapshot(log::SnapshotCause cause) {
  if (!isRecording() || g_process_ended.load(std::memory_order_acquire))
    return 0;
  RecursionGuard guard;
  log::SnapshotRecord record = makeSnapshot(cause);
  appendProcessRecord(log::RecordType::Snapshot, &record, sizeof(record));
  return record.number;
}

void deferStart(const char *out_dir, const char *options) {
  if (out_dir != g_deferred_out_dir)
    snprintf(g_deferred_out_dir, sizeof(g_deferred_out_dir), "%s", out_dir);
  if (options != g_deferred_options)
    snprintf(g_deferred_options, sizeof(g_deferred_options), "%s",
             options ? options : "");
  if (g_flags.verbose)
    report("start=signal: not recording until signal %d", g_flags.signal.value);
}

bool startingBySignal() { return t_starting_by_signal; }

bool startRequestedBySignal() {
  // One thread claims the request; the others go on once it is recording.
  bool requested = true;
  if (!g_start_requested.compare_exchange_strong(requested, false,
                                                 std::memory_order_acq_rel))
    return isRecording();
  t_starting_by_signal = true;
  startRecording(g_deferred_out_dir, g_deferred_options);
  t_starting_by_signal = false;
  return isRecording();
}

void maybeIntervalSnapshot(uint64_t now_ns) {
  uint64_t due = g_next_interval_ns.load(std::memory_order_relaxed);
  if (now_ns < due)
    return;
  // One thread takes it; the next is due an interval after this one.
  if (!g_next_interval_ns.compare_exchange_strong(
          due, now_ns + g_flags.snapshot_interval.ns,
          std::memory_order_relaxed))
    return;
  takeSnapshot(log::SnapshotCause::Interval);
}

void writePendingSnapshot() {
  uint32_t cause = g_snapshot_pending.exchange(0, std::memory_order_relaxed);
  if (cause)
    takeSnapshot(static_cast<log::SnapshotCause>(cause));
}

void startSnapshots() {
  // Each recording (an API session writes a new folder) numbers from 1.
  g_snapshots.store(0, std::memory_order_relaxed);
  g_next_interval_ns.store(g_flags.snapshot_interval.ns
                               ? monotonicNs() + g_flags.snapshot_interval.ns
                               : UINT64_MAX,
                           std::memory_order_relaxed);
  int signo = g_flags.signal.value;
  if (!signo || g_signal_installed.load(std::memory_order_acquire))
    return;
  struct sigaction previous;
  if (sigaction(signo, nullptr, &previous) != 0)
    return;
  bool is_default =
      !(previous.sa_flags & SA_SIGINFO) && previous.sa_handler == SIG_DFL;
  if (!is_default) {
    // The program uses the signal (or ignores it): leave it alone.
    warnOnce(g_signal_taken_warned,
             "signal %d already has a handler of the program's; snapshots "
             "by signal are off (MEMSCOPE_OPTIONS=signal=<another>, or call "
             "memscope_snapshot())",
             signo);
    return;
  }
  if (g_signal_installed.exchange(true))
    return;
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_sigaction = snapshotSignalHandler;
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&action.sa_mask);
  sigaction(signo, &action, nullptr);
}

} // namespace rt
} // namespace memscope
