//===-- rt_interpose.cpp - The malloc family, for uninstrumented code ----===//
//
// A C++ program makes most of its allocations inside code no pass sees
// (libstdc++'s out-of-line std::string growth, libc, third-party libraries).
// The runtime therefore defines the malloc family itself, forwarding to
// glibc's __libc_* entry points (glibc supports replacing malloc this way and
// routes its own internal calls, operator new's included, through us).
//
// The interposers share the thread's byte countdown with the instrumented
// sites. When an instrumented site makes the call, it has already counted the
// request and set in_instrumented_call, so the interposer does not count it
// again: every allocation is counted exactly once, and instrumented sites keep
// their exact site IDs. Uninstrumented samples are recorded with their stack.
//
// Every block also passes through heapAdded and heapRemoved here (or in
// rt_dispatch.cpp's direct entries): the heap in use is counted, whoever
// allocated, so that its peak is a count (rt_heap.cpp).
//
//===----------------------------------------------------------------------===//
#include "rt_internal.h"

#include <errno.h>

using namespace memscope::rt;

namespace {

/// Counts an allocation made by uninstrumented code down the thread's
/// countdown; returns true when it must go to the slow path: sampled, or a
/// chunk of a custom allocator's pool (inCustomCall()). Allocations made by
/// an instrumented site were counted there already (in_instrumented_call).
/// Branch-free apart from the one rarely taken branch, so that the common
/// case stays a few instructions.
inline __attribute__((always_inline)) bool mustSample(size_t size) {
  msc_thread_fast &fast = __memscope_tls;
  if (fast.in_instrumented_call)
    return MSC_UNLIKELY(inCustomCall());
  // Counted exactly, as the instrumented sites count theirs.
  __atomic_store_n(&fast.allocations,
                   __atomic_load_n(&fast.allocations, __ATOMIC_RELAXED) + 1,
                   __ATOMIC_RELAXED);
  // Relaxed atomics: wakeIdleThreads may store -1 from another thread.
  int64_t remaining =
      __atomic_load_n(&fast.bytes_until_sample, __ATOMIC_RELAXED) -
      static_cast<int64_t>(size);
  __atomic_store_n(&fast.bytes_until_sample, remaining, __ATOMIC_RELAXED);
  return MSC_UNLIKELY(remaining < 0);
}

// On the slow paths below the heap count comes after allocSampled: the
// process's first allocations start recording there (startHeapCount), and
// the block that started it is recorded, so it must count too.

/// The slow path's choice: a pool's chunk, or a sample of the program's.
void sampledOrChunk(void *ptr, size_t size, CallerFrame caller) {
  if (MSC_UNLIKELY(inCustomCall()))
    poolChunkAllocated(ptr, size, caller);
  else
    allocSampled(0, ptr, size, MSC_KIND_INDIRECT, caller);
}

void countUninstrumented(void *ptr, size_t size, uintptr_t caller_pc) {
  if (mustSample(size) && ptr)
    sampledOrChunk(ptr, size, {caller_pc, nullptr});
  heapAdded(ptr);
}

/// The interposers reach the functions below by a tail call, so the frame
/// record of the one that takes this has the interposer's caller's return
/// address in it (the walk checks, and steps through otherwise).
#define callerOfTailCall(caller_pc)                                            \
  (CallerFrame{caller_pc,                                                      \
               static_cast<const uintptr_t *>(__builtin_frame_address(0))})

__attribute__((noinline)) void *mallocSampled(size_t size,
                                              uintptr_t caller_pc) {
  void *ptr = __libc_malloc(size);
  // Called for a failed allocation too: allocSampled re-arms the countdown,
  // which a huge failed request would otherwise leave far below zero.
  sampledOrChunk(ptr, size, callerOfTailCall(caller_pc));
  heapAdded(ptr);
  return ptr;
}

__attribute__((noinline)) void *callocSampled(size_t count, size_t size,
                                              uintptr_t caller_pc) {
  void *ptr = __libc_calloc(count, size);
  sampledOrChunk(ptr, count * size, callerOfTailCall(caller_pc));
  heapAdded(ptr);
  return ptr;
}

__attribute__((noinline)) void freeMaybeSampled(void *ptr) {
  // Only the free that follows at once: any other passes by and clears it.
  const void *handed_over = t_heap.handed_over;
  t_heap.handed_over = nullptr;
  if (ptr != handed_over)
    freeSampled(0, ptr);
  heapRemoved(chunkBytes(ptr));
  __libc_free(ptr);
}

/// realloc, as far as the heap count goes: \p old_chunk is the chunk size
/// of \p ptr (0 when null) before the call, \p result what it returned.
inline void heapReallocated(void *ptr, size_t old_chunk, void *result,
                            size_t size) {
  if (result) {
    if (ptr)
      heapRemoved(old_chunk);
    heapAdded(result);
  } else if (ptr && size == 0) {
    heapRemoved(old_chunk); // glibc's realloc(ptr, 0) frees ptr
  }
}

/// realloc of a block that may be sampled, or a result that must be.
__attribute__((noinline)) void *reallocSlow(void *ptr, size_t size, bool sample,
                                            uintptr_t caller_pc) {
  // Take the old block out of the live table first, so that a racing
  // allocation that reuses its address cannot be confused with it, and put
  // it back if realloc fails (the old block then stays valid). Where frees
  // are logged by address, the old block's is logged once realloc succeeded,
  // but timed before the call: another thread may get its address while
  // realloc copies, and its allocation must come after this free.
  bool by_address = ptr && freesByAddress() && !inRuntime();
  uint64_t old_sample =
      ptr && !by_address && MSC_UNLIKELY(maybeLive(ptr)) ? liveRemove(ptr) : 0;
  size_t old_chunk = ptr ? chunkBytes(ptr) : 0;
  uint64_t before = by_address ? eventNs() : 0;
  void *result = __libc_realloc(ptr, size);
  if (by_address && (result || !size))
    recordFree(0, 0, ptr, before);
  if (old_sample) {
    if (!result && size)
      liveReinsert(ptr, old_sample);
    else
      recordFree(0, old_sample, ptr);
  }
  if (sample) // also when it failed, to re-arm the countdown
    sampledOrChunk(result, size, callerOfTailCall(caller_pc));
  heapReallocated(ptr, old_chunk, result, size);
  return result;
}

inline bool isPowerOfTwo(size_t value) {
  return value && !(value & (value - 1));
}

#define MSC_CALLER_PC reinterpret_cast<uintptr_t>(__builtin_return_address(0))

} // namespace

extern "C" {

// Weak, so that a static program, whose libc.a defines the same names in the
// object that also defines __libc_malloc, links: there the program reaches
// these through -Wl,--wrap (the __wrap_ names at the end of this file), and
// glibc's definitions stay the real ones. The dynamic loader does not tell
// weak from strong, so in every other program these interpose as before.
#define MSC_INTERPOSER __attribute__((visibility("default"), used, weak))

// The common paths below are a call to glibc and the heap count (free's a
// tail call after it); everything else is in separate noinline functions, so
// that the frame setup the slow paths need is not paid on every call.

MSC_INTERPOSER void *malloc(size_t size) {
  if (MSC_LIKELY(!mustSample(size)))
    return heapCountedMalloc(size);
  return mallocSampled(size, MSC_CALLER_PC);
}

// GCC wants an alias to repeat the attributes glibc's headers give the
// function it names (-Wmissing-attributes); it is the same function.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmissing-attributes"
#endif

// rt_dispatch.cpp tells by this name whether the program's malloc is ours.
extern __attribute__((alias("malloc"), visibility("hidden"))) void *
    __memscope_own_malloc(size_t);

MSC_INTERPOSER void free(void *ptr) {
  if (MSC_UNLIKELY(!ptr))
    return;
  if (MSC_UNLIKELY(maybeLive(ptr)))
    return freeMaybeSampled(ptr);
  return heapCountedFree(ptr);
}

MSC_INTERPOSER void *calloc(size_t count, size_t size) {
  if (MSC_LIKELY(!mustSample(count * size)))
    return heapCountedCalloc(count, size);
  return callocSampled(count, size, MSC_CALLER_PC);
}

MSC_INTERPOSER void *realloc(void *ptr, size_t size) {
  // The countdown is charged before the call, as for malloc; a failed
  // realloc is rare enough not to matter to the estimate.
  bool sample = mustSample(size);
  if (MSC_LIKELY(!sample && !(ptr && maybeLive(ptr)))) {
    size_t old_chunk = ptr ? chunkBytes(ptr) : 0;
    void *result = __libc_realloc(ptr, size);
    heapReallocated(ptr, old_chunk, result, size);
    return result;
  }
  return reallocSlow(ptr, size, sample, MSC_CALLER_PC);
}

MSC_INTERPOSER void *reallocarray(void *ptr, size_t count, size_t size) {
  size_t bytes;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  bool sample = mustSample(bytes);
  return reallocSlow(ptr, bytes, sample, MSC_CALLER_PC);
}

MSC_INTERPOSER void *memalign(size_t alignment, size_t size) {
  void *ptr = __libc_memalign(alignment, size);
  if (MSC_LIKELY(ptr))
    countUninstrumented(ptr, size, MSC_CALLER_PC);
  return ptr;
}

MSC_INTERPOSER void *aligned_alloc(size_t alignment, size_t size) {
  void *ptr = __libc_memalign(alignment, size);
  if (MSC_LIKELY(ptr))
    countUninstrumented(ptr, size, MSC_CALLER_PC);
  return ptr;
}

MSC_INTERPOSER int posix_memalign(void **out, size_t alignment, size_t size) {
  if (alignment % sizeof(void *) != 0 || !isPowerOfTwo(alignment))
    return EINVAL;
  void *ptr = __libc_memalign(alignment, size);
  if (!ptr)
    return ENOMEM;
  *out = ptr;
  countUninstrumented(ptr, size, MSC_CALLER_PC);
  return 0;
}

MSC_INTERPOSER void *valloc(size_t size) {
  void *ptr = __libc_valloc(size);
  if (MSC_LIKELY(ptr))
    countUninstrumented(ptr, size, MSC_CALLER_PC);
  return ptr;
}

MSC_INTERPOSER void *pvalloc(size_t size) {
  void *ptr = __libc_pvalloc(size);
  if (MSC_LIKELY(ptr))
    countUninstrumented(ptr, size, MSC_CALLER_PC);
  return ptr;
}

// A static program is linked with -Wl,--wrap=<name> for each of these
// (tools/wrappers, Memscope::runtime_static): every call of <name>, libc's
// and libstdc++'s own included, then reaches __wrap_<name>.
#define MSC_WRAP(ret, name, params)                                            \
  __attribute__((visibility("default"), alias(#name))) ret __wrap_##name params;
MSC_WRAP(void *, malloc, (size_t))
MSC_WRAP(void, free, (void *))
MSC_WRAP(void *, calloc, (size_t, size_t))
MSC_WRAP(void *, realloc, (void *, size_t))
MSC_WRAP(void *, reallocarray, (void *, size_t, size_t))
MSC_WRAP(void *, memalign, (size_t, size_t))
MSC_WRAP(void *, aligned_alloc, (size_t, size_t))
MSC_WRAP(int, posix_memalign, (void **, size_t, size_t))
MSC_WRAP(void *, valloc, (size_t))
MSC_WRAP(void *, pvalloc, (size_t))
#undef MSC_WRAP

} // extern "C"
