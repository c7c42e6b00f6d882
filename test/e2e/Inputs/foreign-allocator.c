// A stand-in for a preloaded allocator such as jemalloc: it defines the
// malloc family (forwarding to glibc) and counts what reaches it.
#include <stddef.h>

void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
void __libc_free(void *);

unsigned long foreign_mallocs, foreign_frees;

void *malloc(size_t size) {
  __atomic_fetch_add(&foreign_mallocs, 1, __ATOMIC_RELAXED);
  return __libc_malloc(size);
}
void *calloc(size_t count, size_t size) {
  __atomic_fetch_add(&foreign_mallocs, 1, __ATOMIC_RELAXED);
  return __libc_calloc(count, size);
}
void *realloc(void *ptr, size_t size) { return __libc_realloc(ptr, size); }
void free(void *ptr) {
  if (ptr)
    __atomic_fetch_add(&foreign_frees, 1, __ATOMIC_RELAXED);
  __libc_free(ptr);
}
