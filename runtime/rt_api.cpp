//===-- rt_api.cpp - The runtime's C interface (memscope/memscope.h) ------===//
//
// What a program calls to start and stop recording itself, and what
// PlatformResourceCollector calls to log its samples. Not a hot path.
//
//===----------------------------------------------------------------------===//
#include "memscope/memscope.h"
#include "rt_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

using namespace memscope;
using namespace memscope::rt;

extern "C" {

__attribute__((visibility("default"))) int
memscope_start(const char *out_dir, const char *options, char *error,
               unsigned long error_size) {
  auto fail = [&](int code, const char *text) {
    if (error && error_size)
      snprintf(error, error_size, "%s", text);
    return code;
  };
  if (!out_dir || !*out_dir)
    return fail(EINVAL, "no output folder given");
  int result = startRecording(out_dir, options);
  if (result == EBUSY)
    return fail(EBUSY, "tracing is already on (stop it first)");
  if (result == EAGAIN)
    return fail(EAGAIN, "the runtime is starting or stopping in another "
                        "thread; try again");
  if (result)
    return fail(result, *lastError() ? lastError() : strerror(result));
  return 0;
}

__attribute__((visibility("default"))) int memscope_stop(void) {
  return stopRecording() ? 0 : ENOENT;
}

__attribute__((visibility("default"))) int memscope_is_recording(void) {
  return isRecording() ? 1 : 0;
}

__attribute__((visibility("default"))) const char *
memscope_process_folder(void) {
  return isRecording() ? processDirectory() : "";
}

__attribute__((visibility("default"))) int64_t memscope_snapshot(void) {
  return static_cast<int64_t>(takeSnapshot(log::SnapshotCause::Call));
}

__attribute__((visibility("default"))) int
memscope_record_resource_sample(const struct memscope_resource_sample *sample) {
  if (!sample || !isRecording())
    return ENOENT;
  RecursionGuard guard;
  log::ResourceSampleRecord record;
  memset(&record, 0, sizeof(record));
  record.monotonic_ns = sample->monotonic_ns;
  record.cpu_user_ns = sample->cpu_user_ns;
  record.cpu_system_ns = sample->cpu_system_ns;
  record.rss_bytes = sample->rss_bytes;
  record.read_bytes = sample->read_bytes;
  record.write_bytes = sample->write_bytes;
  record.read_calls = sample->read_calls;
  record.write_calls = sample->write_calls;
  record.threads = sample->threads;
  appendProcessRecord(log::RecordType::ResourceSample, &record, sizeof(record));
  return 0;
}

} // extern "C"
