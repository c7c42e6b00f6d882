//===-- ThreadLogDecoder.h - A thread log's events, in batches -*- C++ -*-===//
//
// Turns one thread log's records, and the events inside its Events records,
// into batches that ProcessStreamer takes in order. A batch is self-contained
// (decoded values, no pointers into the file), so that the next batch can be
// decoded while the stream works through the current one: on an exact-mode
// log decoding is about a quarter of the streaming, and DecodeAhead runs it
// on a core of its own.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_THREADLOGDECODER_H
#define MEMSCOPE_MERGE_THREADLOGDECODER_H

#include "LogReader.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace memscope {
namespace merge {

/// An allocation or free, as the stream takes them. One of the two records
/// (the stream reads what another core wrote: every cache line counts).
struct StreamEvent {
  uint64_t Time = 0;
  bool IsFree = false;
  union {
    log::AllocRecord Alloc;
    log::FreeRecord Free;
  };
  StreamEvent() : Alloc{} {}
};
static_assert(std::is_trivially_copyable_v<log::AllocRecord> &&
                  std::is_trivially_copyable_v<log::FreeRecord>,
              "StreamEvent's union copies its records as bytes");

/// The next stretch of one thread log: its events in order, and the records
/// among them that are not events (thread starts, names and ends, stacks),
/// each with the number of the batch's events before it.
struct DecodedBatch {
  std::vector<StreamEvent> Events;
  std::vector<std::pair<size_t, ThreadRecord>> Records;
  uint64_t Bytes = 0; // of the records read
  uint64_t Malformed = 0;
  uint64_t Misplaced = 0;
  bool End = false; // the file has nothing after this batch
  /// Decoded, when DecodeAhead decodes it (guarded by DecodeAhead's lock).
  bool Ready = true;
};

/// Reads one thread log. Keeps what the file's events need from each other:
/// the open Events record and the Key events defined so far.
class ThreadLogDecoder {
public:
  explicit ThreadLogDecoder(const LogFile &File) : Cursor(File) {}
  /// Replaces \p Out with the next batch: up to \p MaxEvents events, and at
  /// most as many other records. \p BytesRead, if any, counts the bytes of
  /// the records read as they are (the merge's progress).
  void decode(DecodedBatch &Out, size_t MaxEvents,
              std::atomic<uint64_t> *BytesRead);

private:
  /// Reads the open Events record's next event, if any, into \p Out.
  void decodeEvent(DecodedBatch &Out);

  RecordCursor Cursor;
  std::optional<log::EventsDecoder> Events;
  /// By index; undefined indices hold another type.
  std::vector<log::DecodedEvent> Keys;
  /// Each key index's previous allocation size, which an event may repeat;
  /// as many as Keys.
  std::vector<log::KeySize> KeySizes;
  /// The Events records opened so far (EventsDecoder's block numbers).
  uint64_t Blocks = 0;
};

/// Decodes batches on a thread of its own, in the order they are asked for.
/// A batch asked for must be waited for before it is read, and its decoder
/// and batch must stay put until then.
class DecodeAhead {
public:
  DecodeAhead();
  ~DecodeAhead();
  DecodeAhead(const DecodeAhead &) = delete;
  DecodeAhead &operator=(const DecodeAhead &) = delete;

  void request(ThreadLogDecoder &Decoder, DecodedBatch &Out, size_t MaxEvents,
               std::atomic<uint64_t> *BytesRead);
  /// Returns once \p Out is decoded. Decodes it here if the thread has not
  /// started on it, rather than sit idle.
  void wait(DecodedBatch &Out);

private:
  struct Job {
    ThreadLogDecoder *Decoder;
    DecodedBatch *Out;
    size_t MaxEvents;
    std::atomic<uint64_t> *BytesRead;
  };
  void work();

  std::mutex Lock;
  std::condition_variable HasJob;
  std::condition_variable JobDone;
  std::deque<Job> Jobs;
  bool Stopping = false;
  std::thread Worker;
};

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_THREADLOGDECODER_H
