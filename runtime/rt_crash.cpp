//===-- rt_crash.cpp - Finish the logs when the program dies of a signal --===//
//
// When recording starts, the runtime installs a handler for SIGSEGV, SIGBUS,
// SIGFPE, SIGILL and SIGABRT, keeping whatever handler was there before.
// On a fatal signal whose previous disposition is the default action, it
// writes ThreadRunning records and ProcessEnd{exit_kind = signal} into
// process.log, restores the previous disposition and lets the signal kill the
// process as it would have (same signal, same core dump). A previous handler
// installed by the program is called instead, untouched: it may recover, so
// the runtime writes nothing then. A handler the program installs later
// replaces this one, as sigaction always does.
//
// Everything on the handler's path is async-signal-safe: syscalls, plain
// stores into already-mapped log windows, and a bounded wait for the
// process.log lock (the crashing thread may hold it itself).
//
//===----------------------------------------------------------------------===//
#include "rt_internal.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

namespace memscope {
namespace rt {

namespace {

constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
constexpr int kFatalCount = sizeof(kFatalSignals) / sizeof(kFatalSignals[0]);
struct sigaction g_previous[kFatalCount];
std::atomic<bool> g_installed{false};
// The thread that is writing the crash records (os tid), 0 when none.
std::atomic<long> g_crash_writer{0};
std::atomic<bool> g_crash_written{false};
// Large enough for the handler's deepest path (module map: two PATH_MAX
// buffers) with room to spare.
constexpr size_t kAltStackSize = 64 * 1024;

int fatalIndex(int signo) {
  for (int i = 0; i < kFatalCount; ++i)
    if (kFatalSignals[i] == signo)
      return i;
  return -1;
}

bool isFunction(const struct sigaction &action) {
  if (action.sa_flags & SA_SIGINFO)
    return action.sa_sigaction != nullptr;
  return action.sa_handler != SIG_DFL && action.sa_handler != SIG_IGN;
}

void sleepMs(long ms) {
  struct timespec delay = {0, ms * 1000000L};
  nanosleep(&delay, nullptr);
}

/// One thread writes the crash records; a second thread that crashes at the
/// same time waits for it (bounded) and then dies with its own signal.
void finishLogsOnce(int signo) {
  long self = syscall(SYS_gettid);
  long expected = 0;
  if (g_crash_writer.compare_exchange_strong(expected, self,
                                             std::memory_order_acq_rel)) {
    finishAfterCrash(signo);
    g_crash_written.store(true, std::memory_order_release);
    return;
  }
  if (expected == self)
    return;
  for (int waited = 0;
       waited < 2000 && !g_crash_written.load(std::memory_order_acquire);
       ++waited)
    sleepMs(1);
}

void crashHandler(int signo, siginfo_t *info, void *context) {
  int saved_errno = errno;
  int index = fatalIndex(signo);
  if (index < 0)
    return;
  const struct sigaction &previous = g_previous[index];
  if (isFunction(previous)) {
    // The program's own handler decides what happens; it may recover.
    if (previous.sa_flags & SA_SIGINFO)
      previous.sa_sigaction(signo, info, context);
    else
      previous.sa_handler(signo);
    errno = saved_errno;
    return;
  }
  bool dies = previous.sa_handler == SIG_DFL ||
              (info && info->si_code > 0); // an ignored fault still kills
  if (dies && isRecording())
    finishLogsOnce(signo);
  sigaction(signo, &previous, nullptr);
  // A fault (si_code > 0) happens again when the handler returns, now with
  // the previous disposition. A signal that was sent (kill, raise, abort) is
  // sent again; it stays blocked until the handler returns.
  if (!info || info->si_code <= 0)
    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), signo);
  errno = saved_errno;
}

} // namespace

namespace {

// Signal stacks of exited threads, kept for the next threads: a thread's
// start and exit then map and unmap nothing. Each mmap or munmap takes the
// address space's lock for writing, which stalls every other thread's page
// faults: with 50 short threads busy faulting in their data, that cost more
// than the rest of a thread's set-up. An array, not a list through the
// stacks themselves, so that a spare stack's pages stay untouched.
constexpr uint32_t kMaxSpareStacks = 256;
void *g_spare_stacks[kMaxSpareStacks];
uint32_t g_spare_count = 0;
StaticSpinMutex g_spare_lock;

void *takeSignalStack() {
  {
    SpinMutexLock lock(g_spare_lock);
    if (g_spare_count)
      return g_spare_stacks[--g_spare_count];
  }
  void *memory = mmap(nullptr, kAltStackSize, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return memory == MAP_FAILED ? nullptr : memory;
}

void returnSignalStack(void *memory) {
  {
    SpinMutexLock lock(g_spare_lock);
    if (g_spare_count < kMaxSpareStacks) {
      g_spare_stacks[g_spare_count++] = memory;
      return;
    }
  }
  munmap(memory, kAltStackSize);
}

} // namespace

void installAltStack() {
  void *memory = takeSignalStack();
  if (!memory)
    return;
  // One call that also reads the previous setting: a new thread has none
  // (clone clears it), and one the program set (the main thread's) is put
  // back.
  stack_t stack, previous;
  stack.ss_sp = memory;
  stack.ss_size = kAltStackSize;
  stack.ss_flags = 0;
  if (sigaltstack(&stack, &previous) != 0) {
    returnSignalStack(memory);
    return;
  }
  // The program has one: keep it. Should putting it back fail, ours stays
  // installed, and so this thread's.
  if (!(previous.ss_flags & SS_DISABLE) &&
      sigaltstack(&previous, nullptr) == 0) {
    returnSignalStack(memory);
    return;
  }
  t_state.alt_stack = memory;
}

void removeAltStack() {
  void *memory = t_state.alt_stack;
  if (!memory)
    return;
  t_state.alt_stack = nullptr;
  stack_t disable, previous;
  memset(&disable, 0, sizeof(disable));
  disable.ss_flags = SS_DISABLE;
  if (sigaltstack(&disable, &previous) != 0)
    return; // running on it (exit from a handler): it stays, unused after
  if (previous.ss_sp == memory && !(previous.ss_flags & SS_DISABLE)) {
    returnSignalStack(memory);
    return;
  }
  // Not ours any more: the program's own, set since, which it keeps. Ours
  // is not reused, since whoever replaced it may have unmapped it (as the
  // sanitizers' runtimes do with the stack they find).
  if (!(previous.ss_flags & SS_DISABLE))
    sigaltstack(&previous, nullptr);
}

void resetSignalStacksAfterFork() {
  // Another parent thread may have been halfway through the list.
  g_spare_lock.resetAfterFork();
  g_spare_count = 0;
}

bool crashHandlersInstalled() {
  return g_installed.load(std::memory_order_acquire);
}

void installCrashHandlers() {
  if (!g_flags.handle_crashes || g_installed.exchange(true))
    return;
  // A stack overflow in the main thread needs a stack to report it on.
  installAltStack();
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_sigaction = crashHandler;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (int signo : kFatalSignals)
    sigaddset(&action.sa_mask, signo);
  for (int i = 0; i < kFatalCount; ++i)
    if (sigaction(kFatalSignals[i], &action, &g_previous[i]) != 0)
      g_previous[i].sa_handler = SIG_DFL;
}

} // namespace rt
} // namespace memscope
