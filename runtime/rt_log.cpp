//===-- rt_log.cpp - File-backed log writers -----------------------------===//
//
// Each writer maps a window of its file (buffer_size bytes) MAP_SHARED and
// writes records into it with plain stores, so the kernel holds the data even
// if the process is killed: a SIGKILL loses at most the record being written.
// Space is reserved with fallocate before a window is mapped, so a full disk
// is an error we see (ENOSPC), not a SIGBUS in the program.
//
//===----------------------------------------------------------------------===//
#include "rt_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

namespace memscope {
namespace rt {

namespace {

std::atomic<bool> g_write_warning{false};

bool reserveAndMap(LogWriter &writer, uint64_t offset) {
  int rc = fallocate(writer.fd, 0, static_cast<off_t>(offset),
                     static_cast<off_t>(writer.window_size));
  if (rc != 0 && (errno == EOPNOTSUPP || errno == ENOSYS))
    rc = ftruncate(writer.fd, static_cast<off_t>(offset + writer.window_size));
  if (rc != 0) {
    warnOnce(g_write_warning,
             "cannot extend log in %s: %s; recording stops for this thread, "
             "the program continues",
             processDirectory(), strerror(errno));
    return false;
  }
  void *window = mmap(nullptr, writer.window_size, PROT_READ | PROT_WRITE,
                      MAP_SHARED, writer.fd, static_cast<off_t>(offset));
  if (window == MAP_FAILED) {
    warnOnce(g_write_warning, "cannot map log in %s: %s; recording stops for "
             "this thread, the program continues",
             processDirectory(), strerror(errno));
    return false;
  }
  // One call maps the whole window writable, instead of a fault per page on
  // the recording path.
  prefaultWritable(window, writer.window_size);
  writer.window = static_cast<uint8_t *>(window);
  writer.window_offset = offset;
  writer.position = 0;
  return true;
}

/// Publishes a record header after its payload: a reader (or a crash)
/// sees either nothing or the whole record.
void publishHeader(uint8_t *at, const log::RecordHeader &header) {
  uint64_t bits;
  memcpy(&bits, &header, sizeof(bits));
  __atomic_store_n(reinterpret_cast<uint64_t *>(at), bits, __ATOMIC_RELEASE);
}

} // namespace

LogWriter *createLogWriter(const char *name, log::FileKind kind,
                           uint32_t slot) {
  char path[4096];
  int length = snprintf(path, sizeof(path), "%s/%s", processDirectory(), name);
  if (length < 0 || static_cast<size_t>(length) >= sizeof(path))
    return nullptr;
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    warnOnce(g_write_warning, "cannot create %s: %s; the program continues",
             path, strerror(errno));
    return nullptr;
  }
  auto *writer = static_cast<LogWriter *>(mapZeroed(sizeof(LogWriter)));
  if (!writer) {
    close(fd);
    return nullptr;
  }
  writer->fd = fd;
  writer->slot = slot;
  writer->window_size = g_flags.buffer_size;
  if (!reserveAndMap(*writer, 0)) {
    close(fd);
    writer->fd = -1;
    writer->failed = true;
    return writer;
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
  log::RecordHeader header;
  header.type = static_cast<uint8_t>(type);
  header.flags = 0;
  header.payload_size = static_cast<uint16_t>(size);
  header.crc = log::recordCrc(header, payload);
  uint64_t total = log::alignedRecordSize(static_cast<uint32_t>(size));

  if (MSC_UNLIKELY(writer.position == writer.window_size)) {
    // The last record ended exactly at the window's end.
    uint8_t *old_window = writer.window;
    if (!reserveAndMap(writer, writer.window_offset + writer.window_size)) {
      writer.failed = true;
      writer.window = old_window;
      g_dropped_records.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    munmap(old_window, writer.window_size);
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
  uint8_t *old_window = writer.window;
  uint64_t old_position = writer.position;
  uint64_t old_offset = writer.window_offset;
  uint64_t head_room = writer.window_size - old_position;
  uint64_t next_offset = old_offset + writer.window_size;
  if (!reserveAndMap(writer, next_offset)) {
    writer.failed = true;
    writer.window = old_window; // keep the old mapping valid for the reader
    g_dropped_records.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
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
  munmap(old_window, writer.window_size);
  writer.position = total - head_room;
  return true;
}

void abandonLogWriter(LogWriter &writer) {
  if (writer.window)
    munmap(writer.window, writer.window_size);
  if (writer.fd >= 0)
    close(writer.fd);
  writer.window = nullptr;
  writer.fd = -1;
  writer.failed = true;
}

} // namespace rt
} // namespace memscope
