//===-- rt_dispatch.cpp - Instrumented sites' direct allocator entries ---===//
//
// An instrumented malloc, calloc or free site counts its request (or checks
// the live filter) inline, then calls one of the entries below, which go
// straight to the allocator: the interposers' own check would only be paid
// twice. They count the heap in use as the interposers do (rt_heap.cpp). That
// allocator is glibc's, unless another one won the symbol lookup over the
// runtime's interposers (jemalloc or tcmalloc in LD_PRELOAD, a sanitizer's, or
// the interposers are not built): then it is that one, so a block is never
// freed into an allocator that did not make it.
//
//===----------------------------------------------------------------------===//
#include "rt_internal.h"

#include <dlfcn.h>

// The runtime's own malloc interposer (rt_interpose.cpp), under a hidden
// name; null when the interposers are not built (MEMSCOPE_RT_INTERPOSE=OFF).
extern "C" __attribute__((weak, visibility("hidden"))) void *
    __memscope_own_malloc(size_t);

namespace {

struct RealAllocator {
  void *(*malloc)(size_t);
  void *(*calloc)(size_t, size_t);
  void (*free)(void *);
};
RealAllocator g_real = {__libc_malloc, __libc_calloc, __libc_free};
// g_real is glibc's, so the entries below count the heap in use: they pass
// by the interposers, which count it for everyone else.
bool g_glibc = true;

} // namespace

/// Called by the runtime's constructor, before any constructor of the
/// program's own modules (the runtime is a dependency of them all), so the
/// choice is made before their first call; and before recording can start,
/// so that what dlsym allocates in a static program is not the program's.
void memscope::rt::chooseRealAllocator() {
  void *winner = dlsym(RTLD_DEFAULT, "malloc");
  if (!winner || winner == reinterpret_cast<void *>(&__memscope_own_malloc))
    return;
  auto *other_calloc = dlsym(RTLD_DEFAULT, "calloc");
  auto *other_free = dlsym(RTLD_DEFAULT, "free");
  if (!other_calloc || !other_free)
    return;
  g_real.malloc = reinterpret_cast<void *(*)(size_t)>(winner);
  g_real.calloc = reinterpret_cast<void *(*)(size_t, size_t)>(other_calloc);
  g_real.free = reinterpret_cast<void (*)(void *)>(other_free);
  g_glibc = false;
}

extern "C" {

#define MSC_ENTRY __attribute__((visibility("default"), used))

MSC_ENTRY void *__memscope_malloc_uncounted(size_t size) {
  if (MSC_UNLIKELY(!g_glibc))
    return g_real.malloc(size);
  return memscope::rt::heapCountedMalloc(size);
}

MSC_ENTRY void *__memscope_calloc_uncounted(size_t count, size_t size) {
  if (MSC_UNLIKELY(!g_glibc))
    return g_real.calloc(count, size);
  return memscope::rt::heapCountedCalloc(count, size);
}

MSC_ENTRY void __memscope_free_unchecked(void *ptr) {
  // The free that follows __memscope_free_sampled at a C free site.
  memscope::rt::t_heap.handed_over = nullptr;
  if (MSC_UNLIKELY(!g_glibc))
    return g_real.free(ptr);
  if (MSC_UNLIKELY(!ptr))
    return;
  return memscope::rt::heapCountedFree(ptr);
}

} // extern "C"

bool memscope::rt::heapCountedEverywhere() {
  // Without the interposers, uninstrumented code reaches glibc unseen.
  return g_glibc && &__memscope_own_malloc != nullptr;
}
