/*===- memscope/memscope.h - Controlling libmemscope_rt from a program ----===*
 *
 * The C interface of the runtime, for programs that start and stop
 * recording themselves (the C++ API in memscope/lockfree.hpp is built on it).
 * Without these calls, MEMSCOPE_OUT=<dir> records the whole run.
 *
 *===----------------------------------------------------------------------===*/
#ifndef MEMSCOPE_MEMSCOPE_H
#define MEMSCOPE_MEMSCOPE_H

#include <stdint.h>

/* Names one of the program's own allocators to MemscopePass, on its
 * declaration: its calls become sites of kind "custom" at their callers, of
 * the size in argument size_index (counting from 0). What it takes from
 * malloc while it runs is recorded as its pool's chunks. The same as the
 * pass option allocator=NAME:size=INDEX. Without the pass it does nothing.
 *   MEMSCOPE_ALLOCATOR(1) void *pool_alloc(struct pool *, size_t size);
 *   MEMSCOPE_DEALLOCATOR(1) void pool_free(struct pool *, void *object);
 * clang records an annotation of a declaration from LLVM 15 on; LLVM 14
 * only of a definition (there, use the option). */
#define MEMSCOPE_ALLOCATOR(size_index)                                         \
  __attribute__((annotate("memscope_allocator:size=" #size_index)))
/* Names its deallocator: frees of custom objects are matched by pointer, the
 * pointer in argument ptr_index. The same as deallocator=NAME:ptr=INDEX. */
#define MEMSCOPE_DEALLOCATOR(ptr_index)                                        \
  __attribute__((annotate("memscope_deallocator:ptr=" #ptr_index)))

#ifdef __cplusplus
extern "C" {
#endif

/* Starts recording every thread, current and future, into out_dir (created
 * like mkdir -p). options has the MEMSCOPE_OPTIONS syntax and may be NULL.
 * Returns 0, or an errno value: EBUSY when already recording, or why the
 * folder could not be used. Writes a one-line reason into error (if not
 * NULL) on failure. */
int memscope_start(const char *out_dir, const char *options, char *error,
                   unsigned long error_size);

/* Stops recording. Every thread's log is complete when this returns: logs are
 * file-backed, and threads still running get a snapshot record. Returns 0,
 * or ENOENT when nothing was recording. */
int memscope_stop(void);

/* 1 while recording. */
int memscope_is_recording(void);

/* The folder of this process's logs (<out_dir>/<exe>.<pid>), or "" when not
 * recording. */
const char *memscope_process_folder(void);

/* One resource sample, as PlatformResourceCollector takes it. */
struct memscope_resource_sample {
  uint64_t monotonic_ns;
  uint64_t cpu_user_ns;
  uint64_t cpu_system_ns;
  uint64_t rss_bytes;
  uint64_t read_bytes;
  uint64_t write_bytes;
  uint64_t read_calls;
  uint64_t write_calls;
  uint32_t threads;
};

/* Writes a snapshot: a mark in the logs of this moment and of the heap in
 * use, from which memscope-merge reports what is live then, on a running
 * process too (--from/--to snapshot:N). The signal of the option signal=
 * (SIGUSR2 by default) does the same. Returns the snapshot's number (1, 2,
 * ...), or 0 when nothing is being recorded. */
int64_t memscope_snapshot(void);

/* Appends a resource sample to the process log; 0 when written. */
int memscope_record_resource_sample(const struct memscope_resource_sample *);

#ifdef __cplusplus
}
#endif

#endif /* MEMSCOPE_MEMSCOPE_H */
