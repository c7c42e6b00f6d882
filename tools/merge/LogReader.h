//===- LogReader.h - Reads memscope log files -------------------*- C++ -*-===//
//
// Validates one log file (header, record framing, CRC32C), recovers from
// damage, and decodes record payloads. The format itself is defined by
// memscope/LogFormat.h.
//
// Reading is two-phase so that huge thread logs are never materialised:
// scanLogFile() checks every record once and remembers the byte ranges that
// hold valid records ("segments"); RecordCursor later streams the records of
// those segments without checking them again.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_LOGREADER_H
#define MEMSCOPE_MERGE_LOGREADER_H

#include "Diagnostics.h"
#include "InlineFrame.h"

#include "memscope/LogFormat.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace memscope {
namespace merge {

/// A byte range [Begin, End) of consecutive valid records.
struct Segment {
  uint64_t Begin;
  uint64_t End;
};

/// One validated log file, kept mapped for streaming.
struct LogFile {
  std::string Path;
  std::unique_ptr<llvm::MemoryBuffer> Buffer;
  log::FileHeader Header{};
  /// False when the file was rejected (bad magic, newer version, ...).
  bool Usable = false;
  std::vector<Segment> Segments;
  uint64_t RecordCount = 0;
  uint64_t SkippedBytes = 0;
  /// Problems found while scanning, in file order.
  std::vector<Diagnostic> Diags;

  log::FileKind kind() const { return static_cast<log::FileKind>(Header.kind); }
};

/// A record as stored: its offset in the file, type and payload bytes.
struct RecordView {
  uint64_t Offset = 0;
  log::RecordType Type = log::RecordType::End;
  uint8_t Flags = 0;
  llvm::ArrayRef<uint8_t> Payload;
};

/// Maps and validates a file. Never fails hard: problems become Diags and, if
/// nothing can be used, Usable = false.
LogFile scanLogFile(llvm::StringRef Path);

/// Validates a file already in memory (Name is used in messages).
LogFile scanLogBuffer(std::unique_ptr<llvm::MemoryBuffer> Buffer,
                      llvm::StringRef Name);

/// Streams the records of a scanned file's valid segments, in file order.
class RecordCursor {
public:
  explicit RecordCursor(const LogFile &File) : File(&File) {}
  /// Returns false at the end of the file.
  bool next(RecordView &Record);

private:
  const LogFile *File;
  size_t SegmentIndex = 0;
  uint64_t Offset = 0;
  uint64_t Released = 0; // pages below this were given back (see below)
  bool Started = false;
};

/// Gives back the resident pages of \p File's mapping in [\p From, \p To)
/// once they have been read: a mapped log's pages count in the merge's
/// resident set, which would then grow with the size of the logs rather than
/// with what the analysis keeps. Page-aligned inside; a no-op for a buffer
/// that is not a file mapping. Returns the new release point.
uint64_t releaseReadPages(const LogFile &File, uint64_t From, uint64_t To);

/// True for the record types this version of the format defines.
bool isKnownRecordType(uint8_t Type);

//===-- Decoded payloads -----------------------------------------------===//

struct ProcessInfo {
  log::ProcessInfoRecord Fixed{};
  std::string Executable;
};

struct ModuleInfo {
  log::ModuleRecord Fixed{};
  std::string Path;
};

struct SiteInfo {
  uint64_t Id = 0;
  uint64_t ModuleTextAddr = 0;
  uint32_t Kind = 0;
  uint32_t Line = 0;
  uint32_t Column = 0;
  std::string File;
  std::string Dir;
  std::string Function; // as recorded (often a mangled linkage name)
  std::vector<InlineFrame> InlinedAt;
  std::string Type; // what it allocates as the user spells it; "" unknown
};

struct ThreadStartInfo {
  log::ThreadStartRecord Fixed{};
  std::string Name;
};

struct ThreadNameInfo {
  uint64_t ThreadId = 0;      // 0: another thread, named by PthreadHandle
  uint64_t PthreadHandle = 0; // pthread_t of the renamed thread
  uint64_t MonotonicNs = 0;
  std::string Name;
};

struct StackInfo {
  uint64_t Id = 0;
  std::vector<uint64_t> Frames; // return addresses, innermost first
};

const char *recordTypeName(log::RecordType Type);

//===-- Typed records --------------------------------------------------===//
// The merge reads process.log and the thread logs as these values, never by
// type number: ProcessRecord and ThreadRecord list what each kind of file
// holds, and RecordDecoders.cpp maps each value to its record type.

struct ProcessEndInfo {
  log::ProcessEndRecord Fixed{};
  std::optional<log::ThreadTotals> Unlogged; // 2.1 on
  std::optional<log::HeapCounts> Heap;       // 2.2 on, when counted
  std::optional<log::HeapAtExit> HeapAtExit; // 2.6 on, when counted
};
/// A fixed record that version 2.1 on follows with the thread's exact
/// totals (unset when the record has none).
template <typename Record> struct WithTotals {
  Record Fixed{};
  std::optional<log::ThreadTotals> Totals;
};
using ThreadRunningInfo = WithTotals<log::ThreadRunningRecord>;
using ThreadEndInfo = WithTotals<log::ThreadEndRecord>;
/// A ThreadEnd written to process.log (2.5): the thread's log was full.
struct ThreadEndedInfo : ThreadEndInfo {};
struct WarningInfo {
  std::string Message;
};
/// An Events record: its payload, read event by event with LogFormat.h's
/// EventsDecoder.
struct EventsInfo {
  llvm::ArrayRef<uint8_t> Payload;
};
struct PaddingInfo {};

// The decoder of each record's value. Each returns false when the payload
// is too short or a length field points outside it. Longer payloads are
// accepted: later minor versions may append fields.
bool decodePayload(llvm::ArrayRef<uint8_t> Payload, ProcessInfo &Out);
bool decodePayload(llvm::ArrayRef<uint8_t> Payload, ModuleInfo &Out);
bool decodePayload(llvm::ArrayRef<uint8_t> Payload, SiteInfo &Out);
bool decodePayload(llvm::ArrayRef<uint8_t> Payload, ProcessEndInfo &Out);
bool decodePayload(llvm::ArrayRef<uint8_t> Payload, WarningInfo &Out);
bool decodePayload(llvm::ArrayRef<uint8_t> Payload, ThreadStartInfo &Out);
bool decodePayload(llvm::ArrayRef<uint8_t> Payload, ThreadNameInfo &Out);
/// ThreadRunningInfo and ThreadEndInfo.
template <typename Record>
bool decodePayload(llvm::ArrayRef<uint8_t> Payload, WithTotals<Record> &Out);
bool decodePayload(llvm::ArrayRef<uint8_t> Payload, StackInfo &Out);
bool decodePayload(llvm::ArrayRef<uint8_t> Payload, EventsInfo &Out);
bool decodePayload(llvm::ArrayRef<uint8_t> Payload, PaddingInfo &Out);

/// The records that are their LogFormat.h struct alone.
template <typename T>
constexpr bool IsFixedRecord = std::is_same_v<T, log::ResourceSampleRecord> ||
                               std::is_same_v<T, log::SnapshotRecord> ||
                               std::is_same_v<T, log::LogLimitRecord> ||
                               std::is_same_v<T, log::AllocRecord>;
template <typename T>
std::enable_if_t<IsFixedRecord<T>, bool>
decodePayload(llvm::ArrayRef<uint8_t> Payload, T &Out) {
  if (Payload.size() < sizeof(T))
    return false;
  memcpy(&Out, Payload.data(), sizeof(T));
  return true;
}
/// A version 1 Free record: FreeRecord up to its address, which only
/// version 3's events carry.
inline bool decodePayload(llvm::ArrayRef<uint8_t> Payload,
                          log::FreeRecord &Out) {
  constexpr size_t Size = offsetof(log::FreeRecord, address);
  if (Payload.size() < Size)
    return false;
  Out = log::FreeRecord{};
  memcpy(&Out, Payload.data(), Size);
  return true;
}

/// What a process.log record can be.
using ProcessRecord =
    std::variant<PaddingInfo, ProcessInfo, ModuleInfo, SiteInfo, ProcessEndInfo,
                 WarningInfo, ThreadRunningInfo, log::ResourceSampleRecord,
                 log::SnapshotRecord, log::LogLimitRecord, ThreadEndedInfo>;
/// What a t<N>.log record can be (Alloc and Free: version 1 files).
using ThreadRecord =
    std::variant<PaddingInfo, ThreadStartInfo, ThreadNameInfo, ThreadEndInfo,
                 StackInfo, EventsInfo, log::AllocRecord, log::FreeRecord>;

enum class RecordFit {
  Decoded,   // Out holds the record
  Malformed, // its payload is too short or points outside itself
  Misplaced, // a record of the other kind of file
};
RecordFit decodeProcessRecord(const RecordView &Record, ProcessRecord &Out);
RecordFit decodeThreadRecord(const RecordView &Record, ThreadRecord &Out);

/// std::visit with one lambda per alternative.
template <class... Ts> struct Overloaded : Ts... { using Ts::operator()...; };
template <class... Ts> Overloaded(Ts...) -> Overloaded<Ts...>;

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_LOGREADER_H
