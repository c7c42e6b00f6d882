/*===- memscope/abi.h - Contract between MemscopePass and libmemscope_rt ---===*
 *
 * The pass emits code against exactly these names and layouts; the runtime
 * implements them. Changing anything here means bumping MEMSCOPE_ABI_VERSION,
 * which renames the link-time marker symbol so that a plugin and a runtime
 * from different builds fail to link instead of misbehaving.
 *
 *===----------------------------------------------------------------------===*/
#ifndef MEMSCOPE_ABI_H
#define MEMSCOPE_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MEMSCOPE_VERSION_STRING "0.1.0"
#define MEMSCOPE_ABI_VERSION 1

/* Every instrumented module references this symbol; only a runtime built with
 * the same ABI defines it. */
#define MEMSCOPE_ABI_MARKER_NAME "__memscope_abi_v1"

/* What a site does. Stored in site tables and logs; never renumber. */
enum msc_site_kind {
  MSC_KIND_UNKNOWN = 0,
  MSC_KIND_MALLOC = 1,
  MSC_KIND_CALLOC = 2,
  MSC_KIND_REALLOC = 3,
  MSC_KIND_REALLOCARRAY = 4,
  MSC_KIND_ALIGNED_ALLOC = 5,
  MSC_KIND_MEMALIGN = 6,
  MSC_KIND_POSIX_MEMALIGN = 7,
  MSC_KIND_VALLOC = 8,
  MSC_KIND_STRDUP = 9,
  MSC_KIND_STRNDUP = 10,
  MSC_KIND_NEW = 11,
  MSC_KIND_NEW_ARRAY = 12,
  MSC_KIND_FREE = 32,
  MSC_KIND_DELETE = 33,
  MSC_KIND_DELETE_ARRAY = 34,
  MSC_KIND_THREAD_SPAWN = 64,
  /* Allocations the runtime caught in uninstrumented code (libstdc++, libc,
   * third-party libraries); the merge attributes them through the stack. */
  MSC_KIND_INDIRECT = 96
};

/* One frame of a site's inlined-at chain, innermost caller first. */
struct msc_inline_frame {
  const char *function; /* linkage name when known, else the plain name */
  const char *file;
  const char *dir;
  uint32_t line;
  uint32_t column;
};

/* One instrumented call site. */
struct msc_site_desc {
  uint64_t id;
  uint32_t kind; /* enum msc_site_kind */
  uint32_t line;
  uint32_t column;
  uint32_t inline_depth;
  const char *file;
  const char *dir;
  const char *function;
  const struct msc_inline_frame *inlined_at; /* inline_depth entries */
};

/* One per instrumented translation unit, placed in section
 * MEMSCOPE_SITES_SECTION; the DSO-wide constructor hands the section's
 * __start_/__stop_ bounds to __memscope_register_sites. */
struct msc_module_sites {
  uint32_t abi_version;
  uint32_t site_count;
  const struct msc_site_desc *sites;
  const char *module_id;        /* the TU's source file name */
  const char *memscope_version; /* MEMSCOPE_VERSION_STRING of the pass */
};

#define MEMSCOPE_SITES_SECTION "memscope_sites"

/* Per-thread state the inline fast path touches. It is trivially
 * destructible and lives in static TLS (initial-exec). */
struct msc_thread_fast {
  /* Bytes left before the next sample; the inline check subtracts the
   * request size and calls the runtime when the result is negative. */
  int64_t bytes_until_sample;
  /* Non-zero while an instrumented allocation call is in progress, so the
   * runtime's allocator interposers do not count it a second time. */
  uint32_t in_instrumented_call;
  uint32_t reserved;
};

#define MEMSCOPE_TLS_NAME "__memscope_tls"
#define MEMSCOPE_LIVE_FILTER_NAME "__memscope_live_filter"
#define MEMSCOPE_LIVE_FILTER_BITS 16
/* Index of a pointer in the live filter; the pass emits the same arithmetic
 * inline. The multiplier is the 64-bit golden ratio. */
#define MEMSCOPE_PTR_HASH_MUL 0x9E3779B97F4A7C15ull

/* Called by instrumented code only when the countdown went negative. */
void __memscope_alloc_sampled(uint64_t site_id, void *ptr, uint64_t size);
/* The same, for a site with no frame in user code (all of it inlined from
 * library headers): the runtime also records the stack. */
void __memscope_alloc_sampled_stack(uint64_t site_id, void *ptr, uint64_t size);
/* Called by instrumented code before a free/delete whose pointer hits the
 * live filter. */
void __memscope_free_sampled(uint64_t site_id, void *ptr);
/* Called once per DSO by the module constructor. */
void __memscope_register_sites(const struct msc_module_sites *begin,
                               const struct msc_module_sites *end);
/* Called instead of nothing: records a thread spawn site for the next thread
 * the calling thread creates. */
void __memscope_note_spawn(uint64_t site_id);

#ifdef __cplusplus
}
#endif

#endif /* MEMSCOPE_ABI_H */
