//===-- rt_log.cpp - File-backed log writers -----------------------------===//
//
// Each writer maps a window of its file (buffer_size bytes) MAP_SHARED and
// writes records into it with plain stores, so the kernel holds the data even
// if the process is killed: a SIGKILL loses at most the record being written
// (of an Events record, which grows in place, the event being written).
// Space is reserved with fallocate before a window is mapped, so a full disk
// is an error we see (ENOSPC), not a SIGBUS in the program. A writer keeps
// no file descriptor open between windows.
//
//===----------------------------------------------------------------------===//
#include "rt_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <new>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

namespace memscope {
namespace rt {

namespace {

std::atomic<bool> g_write_warning{false};
// One page: most threads of a large pool write a few records (their start,
// a sample or two, their end), and a log is at least one window long.
constexpr uint64_t kFirstWindow = 4 * 1024;

/// Maps the window at \p offset. The file is opened only for this (\p fd:
/// the caller's descriptor of it, which this closes; -1 to open it): a
/// mapping outlives its descriptor, so a thousand recording threads hold no
/// open files.
bool reserveAndMap(LogWriter &writer, uint64_t offset, uint64_t size,
                   int fd = -1) {
  if (!reserveLogSpace(size, writer.is_process_log)) {
    if (fd >= 0)
      close(fd);
    return false; // max_log_size: rt_log_limit.cpp has said so
  }
  char path[4096];
  int length =
      snprintf(path, sizeof(path), "%s/%s", writer.folder, writer.name);
  if (fd < 0 && length > 0 && static_cast<size_t>(length) < sizeof(path))
    fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    warnOnce(g_write_warning,
             "cannot open %s: %s; recording stops for this "
             "thread, the program continues",
             path, strerror(errno));
    return false;
  }
  int rc =
      fallocate(fd, 0, static_cast<off_t>(offset), static_cast<off_t>(size));
  if (rc != 0 && (errno == EOPNOTSUPP || errno == ENOSYS))
    rc = ftruncate(fd, static_cast<off_t>(offset + size));
  if (rc != 0) {
    warnOnce(g_write_warning,
             "cannot extend log in %s: %s; recording stops for this thread, "
             "the program continues",
             writer.folder, strerror(errno));
    close(fd);
    return false;
  }
  void *window = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                      static_cast<off_t>(offset));
  int map_error = errno;
  close(fd);
  if (window == MAP_FAILED) {
    warnOnce(g_write_warning,
             "cannot map log in %s: %s; recording stops for "
             "this thread, the program continues",
             writer.folder, strerror(map_error));
    return false;
  }
  // One call maps the whole window writable, instead of a fault per page on
  // the recording path.
  prefaultWritable(window, size);
  writer.window = static_cast<uint8_t *>(window);
  writer.window_offset = offset;
  writer.window_size = size;
  writer.position = 0;
  return true;
}

/// Windows double from 4 KiB up to buffer_size: a thread that writes little
/// costs little memory, a busy one remaps rarely. Near max_log_size they
/// shrink, but never below \p at_least (what must fit in the new window).
uint64_t nextWindowSize(const LogWriter &writer, uint64_t at_least) {
  uint64_t next = writer.window_size * 2;
  next = logWindowLimit(next > g_flags.buffer_size ? g_flags.buffer_size : next,
                        writer.is_process_log);
  at_least = (at_least + 4095) / 4096 * 4096;
  return next < at_least ? at_least : next;
}

/// Moves to the window after the current one; the old stays mapped until
/// the caller unmaps it.
bool advanceWindow(LogWriter &writer, uint8_t *&old_window, uint64_t &old_size,
                   uint64_t at_least) {
  old_window = writer.window;
  old_size = writer.window_size;
  if (!reserveAndMap(writer, writer.window_offset + writer.window_size,
                     nextWindowSize(writer, at_least))) {
    writer.failed = true;
    writer.window = old_window; // keep the old mapping valid for the reader
    writer.window_size = old_size;
    g_dropped_records.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

/// Ends the open Events record: the next record starts after it.
void closeEvents(LogWriter &writer) {
  if (!writer.events_record)
    return;
  writer.position =
      static_cast<uint64_t>(writer.events_record - writer.window) +
      log::alignedRecordSize(eventsPayloadSize(writer, writer.events_end));
  writer.events_record = writer.events_end = writer.events_limit = nullptr;
}

/// Makes \p bytes contiguous bytes available at writer.position: when the
/// window's rest is too small, it becomes a Padding record (its bytes are
/// still the file's zeros) and the next window is mapped.
bool ensureContiguous(LogWriter &writer, uint64_t bytes) {
  if (writer.position + bytes <= writer.window_size)
    return true;
  uint64_t room = writer.window_size - writer.position;
  if (room >= sizeof(log::RecordHeader)) {
    uint8_t *at = writer.window + writer.position;
    log::RecordHeader header;
    header.type = static_cast<uint8_t>(log::RecordType::Padding);
    header.flags = 0;
    header.payload_size = static_cast<uint16_t>(room - sizeof(header));
    header.crc = log::recordCrc(header, at + sizeof(header));
    publishHeader(at, header);
  }
  uint8_t *old_window;
  uint64_t old_size;
  if (!advanceWindow(writer, old_window, old_size, bytes))
    return false;
  munmap(old_window, old_size);
  return bytes <= writer.window_size;
}

} // namespace

uint8_t *openEvents(LogWriter &writer, uint32_t max_bytes,
                    const log::EventsHeader &fresh) {
  if (MSC_UNLIKELY(writer.failed)) {
    g_dropped_records.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  constexpr uint32_t kHeader = sizeof(log::RecordHeader);
  closeEvents(writer);
  if (!ensureContiguous(writer, kHeader + sizeof(fresh) + max_bytes)) {
    g_dropped_records.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  uint8_t *record = writer.window + writer.position;
  memcpy(record + kHeader, &fresh, sizeof(fresh));
  writer.events_record = record;
  writer.events_end = record + kHeader + sizeof(fresh);
  uint8_t *window_end = writer.window + writer.window_size;
  writer.events_limit = window_end - record < kHeader + kMaxEventsPayload
                            ? window_end
                            : record + kHeader + kMaxEventsPayload;
  writer.events_crc = log::crc32cUpdate(0xFFFFFFFFu, &fresh, sizeof(fresh));
  writer.events_state.start(fresh);
  ++writer.events_block;
  return writer.events_end;
}

LogWriter *createLogWriter(const char *name, log::FileKind kind, uint32_t slot,
                           LogWriter *recycled) {
  const char *folder = sessionFolder();
  char path[4096];
  int length = snprintf(path, sizeof(path), "%s/%s", folder, name);
  if (length < 0 || static_cast<size_t>(length) >= sizeof(path))
    return nullptr;
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    warnOnce(g_write_warning, "cannot create %s: %s; the program continues",
             path, strerror(errno));
    return nullptr;
  }
  auto *writer = recycled
                     ? recycled
                     : static_cast<LogWriter *>(mapZeroed(sizeof(LogWriter)));
  if (!writer) {
    close(fd);
    unlink(path);
    return nullptr;
  }
  new (writer) LogWriter();
  snprintf(writer->name, sizeof(writer->name), "%s", name);
  writer->folder = folder;
  writer->slot = slot;
  writer->is_process_log = kind == log::FileKind::Process;
  uint64_t first =
      kFirstWindow < g_flags.buffer_size ? kFirstWindow : g_flags.buffer_size;
  // The descriptor just made: no second open of the file.
  if (!reserveAndMap(*writer, 0, first, fd)) {
    // No room for even the header (disk full): leave no empty file behind.
    // The name is ours: O_EXCL created it in the 0700 process folder.
    unlink(path);
    if (!recycled)
      munmap(writer, sizeof(LogWriter));
    return nullptr;
  }
  log::FileHeader header;
  log::initFileHeader(header, kind, static_cast<uint32_t>(getpid()), slot,
                      realtimeNs(), monotonicNs());
  memcpy(writer->window, &header, sizeof(header));
  writer->position = sizeof(header);
  return writer;
}

bool appendRecord(LogWriter &writer, log::RecordType type, const void *payload,
                  size_t size) {
  if (MSC_UNLIKELY(writer.failed || size > log::kMaxPayload)) {
    g_dropped_records.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  closeEvents(writer);
  log::RecordHeader header;
  header.type = static_cast<uint8_t>(type);
  header.flags = 0;
  header.payload_size = static_cast<uint16_t>(size);
  header.crc = log::recordCrc(header, payload);
  uint64_t total = log::alignedRecordSize(static_cast<uint32_t>(size));

  if (MSC_UNLIKELY(writer.position == writer.window_size)) {
    // The last record ended exactly at the window's end.
    uint8_t *old_window;
    uint64_t old_size;
    if (!advanceWindow(writer, old_window, old_size, total))
      return false;
    munmap(old_window, old_size);
  }
  if (MSC_LIKELY(writer.position + total <= writer.window_size)) {
    uint8_t *at = writer.window + writer.position;
    memcpy(at + sizeof(header), payload, size);
    publishHeader(at, header);
    writer.position += total;
    return true;
  }

  // The record crosses into the next window. Map it first, write the tail
  // there and the head here, and publish the header last.
  uint64_t old_position = writer.position;
  uint64_t head_room = writer.window_size - old_position;
  uint8_t *old_window;
  uint64_t old_size;
  // The tail goes at the start of the next window: it must be that large.
  if (!advanceWindow(writer, old_window, old_size, total - head_room))
    return false;
  const uint8_t *bytes = static_cast<const uint8_t *>(payload);
  // Bytes of the payload that fit after the header in the old window.
  uint64_t payload_head = head_room > sizeof(header)
                              ? head_room - sizeof(header)
                              : 0; // head_room is a multiple of 8, > 0
  if (payload_head > size)
    payload_head = size;
  memcpy(writer.window, bytes + payload_head, size - payload_head);
  memcpy(old_window + old_position + sizeof(header), bytes, payload_head);
  publishHeader(old_window + old_position, header);
  munmap(old_window, old_size);
  writer.position = total - head_room;
  return true;
}

void abandonLogWriter(LogWriter &writer) {
  writer.events_record = writer.events_end = writer.events_limit = nullptr;
  if (writer.window)
    munmap(writer.window, writer.window_size);
  writer.window = nullptr;
  writer.failed = true;
}

void retireLogWriter(LogWriter &writer) {
  abandonLogWriter(writer);
  forgetWrittenStacks(writer);
  forgetEventKeys(writer);
  writer.owner_thread_id.store(0, std::memory_order_relaxed);
  writer.owner_os_tid.store(0, std::memory_order_relaxed);
}

} // namespace rt
} // namespace memscope
