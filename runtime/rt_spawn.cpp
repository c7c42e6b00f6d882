//===-- rt_spawn.cpp - Who created each thread ----------------------------===//
//
// The runtime interposes pthread_create (which std::thread, std::jthread and
// std::async reach through libstdc++) and thrd_create (glibc's does not go
// through pthread_create's PLT entry), and runs every new thread through a
// trampoline that carries its parent, its spawn site and the stack of the
// creating call. Threads created by uninstrumented code go through the same
// path, so they appear too, with an unknown spawn site and the module that
// created them. pthread_setname_np is interposed to record renames.
//
// The spawn records come from an mmap'd free list, never from malloc.
//
//===----------------------------------------------------------------------===//
#include "rt_internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <threads.h>

// glibc's own names for the functions the runtime interposes. A shared
// libc exports none of them (the weak references stay null and dlsym finds
// the real functions); a static program has no dlsym(RTLD_NEXT), and there
// these are the real functions, linked in by the -u options of
// MEMSCOPE_STATIC_LINK_OPTIONS (runtime/CMakeLists.txt).
extern "C" {
int __pthread_create_2_1(pthread_t *, const pthread_attr_t *, void *(*)(void *),
                         void *) __attribute__((weak));
int __thrd_create(thrd_t *, thrd_start_t, void *) __attribute__((weak));
int __pthread_setname_np(pthread_t, const char *) __attribute__((weak));
}

using namespace memscope;
using namespace memscope::rt;

namespace {

struct SpawnRecord {
  void *(*pthread_start)(void *);
  int (*c11_start)(void *);
  void *arg;
  uint64_t parent_thread_id;
  uint64_t spawn_site;
  uint64_t spawn_stack_id;
  uint64_t creator_pc;
  SpawnRecord *next_free;
};

SpawnRecord *g_free_spawns = nullptr;
StaticSpinMutex g_spawn_lock;

SpawnRecord *takeSpawnRecord() {
  SpinMutexLock lock(g_spawn_lock);
  if (!g_free_spawns) {
    constexpr size_t kChunk = 64 * 1024;
    auto *chunk = static_cast<SpawnRecord *>(mapZeroed(kChunk));
    if (!chunk)
      return nullptr;
    for (size_t i = 0; i < kChunk / sizeof(SpawnRecord); ++i) {
      chunk[i].next_free = g_free_spawns;
      g_free_spawns = &chunk[i];
    }
  }
  SpawnRecord *record = g_free_spawns;
  g_free_spawns = record->next_free;
  return record;
}

void returnSpawnRecord(SpawnRecord *record) {
  SpinMutexLock lock(g_spawn_lock);
  record->next_free = g_free_spawns;
  g_free_spawns = record;
}

} // namespace

namespace memscope {
namespace rt {
void resetSpawnAfterFork() {
  // A parent thread that held the lock at fork time does not exist here.
  g_spawn_lock.resetAfterFork();
}
} // namespace rt
} // namespace memscope

namespace {

/// Fills in what the parent knows: its id, the instrumented spawn site it
/// announced (if any) and, when recording, the stack of the creating call.
SpawnRecord *prepareSpawn(CallerFrame caller) {
  SpawnRecord *record = takeSpawnRecord();
  if (!record)
    return nullptr;
  RecursionGuard guard;
  record->parent_thread_id = ensureThreadId();
  record->spawn_site = t_state.pending_spawn_site;
  t_state.pending_spawn_site = 0;
  record->creator_pc = caller.pc;
  record->spawn_stack_id = 0;
  if (guard.entered() && isRecording())
    if (LogWriter *log = threadLog())
      record->spawn_stack_id = captureStack(*log, caller);
  return record;
}

/// Runs in the new thread before its start routine.
void adoptSpawn(const SpawnRecord &record) {
  t_state.parent_thread_id = record.parent_thread_id;
  t_state.spawn_site = record.spawn_site;
  t_state.spawn_stack_id = record.spawn_stack_id;
  t_state.creator_pc = record.creator_pc;
  ensureThreadId();
  watchThreadExit();
  giveThreadSignalStack();
  // Register now, so that a thread appears even if it never allocates.
  if (isRecording()) {
    RecursionGuard guard;
    threadLog();
  }
}

void *pthreadTrampoline(void *raw) {
  SpawnRecord record = *static_cast<SpawnRecord *>(raw);
  returnSpawnRecord(static_cast<SpawnRecord *>(raw));
  adoptSpawn(record);
  return record.pthread_start(record.arg);
}

int c11Trampoline(void *raw) {
  SpawnRecord record = *static_cast<SpawnRecord *>(raw);
  returnSpawnRecord(static_cast<SpawnRecord *>(raw));
  adoptSpawn(record);
  return record.c11_start(record.arg);
}

/// The next definition of \p name after the runtime's, or \p static_name
/// (glibc's internal name of it) in a static program.
template <typename Function>
Function nextSymbol(const char *name, Function static_name) {
  RecursionGuard guard; // dlsym may allocate
  auto next = reinterpret_cast<Function>(dlsym(RTLD_NEXT, name));
  return next ? next : static_name;
}

std::atomic<bool> g_missing_warning{false};

/// A static program linked without the -u options has no real function to
/// call: say so once, naming the fix.
void warnMissing(const char *name) {
  warnOnce(g_missing_warning,
           "%s: the real function is not linked into this static program; "
           "link it with memscope-clang/memscope-clang++ -static or with "
           "Memscope::runtime_static, which add the options it needs",
           name);
}

using PthreadCreate = int (*)(pthread_t *, const pthread_attr_t *,
                              void *(*)(void *), void *);
using ThrdCreate = int (*)(thrd_t *, thrd_start_t, void *);
using PthreadSetname = int (*)(pthread_t, const char *);

} // namespace

extern "C" {

__attribute__((visibility("default"))) void
__memscope_note_spawn(uint64_t site_id) {
  t_state.pending_spawn_site = site_id;
}

#ifndef MEMSCOPE_RT_NO_INTERPOSE // see runtime/CMakeLists.txt

__attribute__((visibility("default"))) int
pthread_create(pthread_t *thread, const pthread_attr_t *attr,
               void *(*start)(void *), void *arg) {
  static PthreadCreate real = nullptr;
  if (!real)
    real = nextSymbol<PthreadCreate>("pthread_create", __pthread_create_2_1);
  if (!real) {
    warnMissing("pthread_create");
    return EAGAIN;
  }
  SpawnRecord *record = prepareSpawn(MSC_CALLER_FRAME());
  if (!record)
    return real(thread, attr, start, arg);
  record->pthread_start = start;
  record->arg = arg;
  int result = real(thread, attr, pthreadTrampoline, record);
  if (result != 0)
    returnSpawnRecord(record);
  return result;
}

__attribute__((visibility("default"))) int
thrd_create(thrd_t *thread, thrd_start_t start, void *arg) {
  static ThrdCreate real = nullptr;
  if (!real)
    real = nextSymbol<ThrdCreate>("thrd_create", __thrd_create);
  if (!real) {
    warnMissing("thrd_create");
    return thrd_error;
  }
  SpawnRecord *record = prepareSpawn(MSC_CALLER_FRAME());
  if (!record)
    return real(thread, start, arg);
  record->c11_start = start;
  record->arg = arg;
  int result = real(thread, c11Trampoline, record);
  if (result != thrd_success)
    returnSpawnRecord(record);
  return result;
}

__attribute__((visibility("default"))) int
pthread_setname_np(pthread_t thread, const char *name) {
  static PthreadSetname real = nullptr;
  if (!real)
    real =
        nextSymbol<PthreadSetname>("pthread_setname_np", __pthread_setname_np);
  if (!real) {
    warnMissing("pthread_setname_np");
    return ENOSYS;
  }
  int result = real(thread, name);
  if (result != 0 || !isRecording())
    return result;
  RecursionGuard guard;
  if (!guard.entered())
    return result;
  if (LogWriter *log = threadLog()) {
    uint8_t buffer[sizeof(log::ThreadNameRecord) + 2 + 64];
    log::PayloadBuilder payload(buffer, sizeof(buffer));
    log::ThreadNameRecord record;
    bool self = pthread_equal(thread, pthread_self());
    record.thread_id = self ? t_state.thread_id : 0;
    record.pthread_handle = static_cast<uint64_t>(thread);
    record.monotonic_ns = monotonicNs();
    payload.pod(record);
    payload.str(name);
    appendRecord(*log, log::RecordType::ThreadName, buffer, payload.size());
    if (self) // ThreadEnd need not repeat it
      snprintf(t_state.start_name, sizeof(t_state.start_name), "%s", name);
  }
  return result;
}

#endif // MEMSCOPE_RT_NO_INTERPOSE

} // extern "C"
