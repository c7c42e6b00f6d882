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

/* Appends a resource sample to the process log; 0 when written. */
int memscope_record_resource_sample(const struct memscope_resource_sample *);

#ifdef __cplusplus
}
#endif

#endif /* MEMSCOPE_MEMSCOPE_H */
