//===- LogReader.cpp - Reads memscope log files ---------------------------===//

#include "LogReader.h"

#include "fmt/format.h"

#include <cstring>

#include <sys/mman.h>
#include <unistd.h>

using namespace memscope;
using namespace memscope::merge;
using llvm::ArrayRef;

bool memscope::merge::isKnownRecordType(uint8_t Type) {
  switch (static_cast<log::RecordType>(Type)) {
  case log::RecordType::ProcessInfo:
  case log::RecordType::Module:
  case log::RecordType::Site:
  case log::RecordType::ProcessEnd:
  case log::RecordType::Warning:
  case log::RecordType::Padding:
  case log::RecordType::ThreadRunning:
  case log::RecordType::ResourceSample:
  case log::RecordType::Snapshot:
  case log::RecordType::LogLimit:
  case log::RecordType::ThreadEnded:
  case log::RecordType::ThreadStart:
  case log::RecordType::ThreadName:
  case log::RecordType::ThreadEnd:
  case log::RecordType::Alloc:
  case log::RecordType::Free:
  case log::RecordType::Stack:
  case log::RecordType::Events:
    return true;
  case log::RecordType::End:
    return false;
  }
  return false;
}

const char *memscope::merge::recordTypeName(log::RecordType Type) {
  switch (Type) {
  case log::RecordType::End:
    return "End";
  case log::RecordType::ProcessInfo:
    return "ProcessInfo";
  case log::RecordType::Module:
    return "Module";
  case log::RecordType::Site:
    return "Site";
  case log::RecordType::ProcessEnd:
    return "ProcessEnd";
  case log::RecordType::Warning:
    return "Warning";
  case log::RecordType::Padding:
    return "Padding";
  case log::RecordType::ThreadRunning:
    return "ThreadRunning";
  case log::RecordType::ResourceSample:
    return "ResourceSample";
  case log::RecordType::LogLimit:
    return "LogLimit";
  case log::RecordType::ThreadEnded:
    return "ThreadEnded";
  case log::RecordType::Snapshot:
    return "Snapshot";
  case log::RecordType::ThreadStart:
    return "ThreadStart";
  case log::RecordType::ThreadName:
    return "ThreadName";
  case log::RecordType::ThreadEnd:
    return "ThreadEnd";
  case log::RecordType::Alloc:
    return "Alloc";
  case log::RecordType::Free:
    return "Free";
  case log::RecordType::Stack:
    return "Stack";
  case log::RecordType::Events:
    return "Events";
  }
  return "unknown";
}

//===-- Scanning --------------------------------------------------------===//

namespace {

/// Walks the records of one file, checking framing and CRCs.
class FileScanner {
public:
  FileScanner(LogFile &File)
      : File(File),
        Data(reinterpret_cast<const uint8_t *>(File.Buffer->getBufferStart())),
        Size(File.Buffer->getBufferSize()) {}

  void run();

private:
  void warn(std::string Message) {
    File.Diags.push_back({Severity::Warning, File.Path + ": " + Message});
  }
  void error(std::string Message) {
    File.Diags.push_back({Severity::Error, File.Path + ": " + Message});
  }
  bool readHeader();
  log::RecordHeader headerAt(uint64_t Offset) const {
    log::RecordHeader Header;
    memcpy(&Header, Data + Offset, sizeof(Header));
    return Header;
  }
  /// The record's CRC, by the file's version's rule.
  bool crcMatches(const log::RecordHeader &Header, uint64_t Offset) const {
    const uint8_t *Payload = Data + Offset + sizeof(Header);
    return (File.Header.version_major == 1
                ? log::recordCrcV1(Header, Payload)
                : log::recordCrc(Header, Payload)) == Header.crc;
  }
  /// A complete, known, CRC-correct record starts at Offset.
  bool isValidRecordAt(uint64_t Offset);
  /// The next offset >= From (8-aligned) holding a valid record.
  std::optional<uint64_t> resync(uint64_t From);
  bool allZeroFrom(uint64_t Offset) const;
  void acceptRecord(uint64_t Offset, uint64_t End);
  /// The file's last write, cut short: see run().
  bool isCutShortTail(uint64_t Offset, bool ZeroHeader) const;
  /// Reports a cut-short tail at Offset; false when it is not one.
  bool endsCutShort(uint64_t Offset, bool ZeroHeader);
  /// Handles damage at Offset; returns where to continue, or nullopt to stop.
  std::optional<uint64_t> recover(uint64_t Offset, const std::string &What);

  LogFile &File;
  const uint8_t *Data;
  uint64_t Size;
  // Every resync candidate costs a CRC over up to 64 KiB; bound the total so
  // that a hostile file cannot make the scan quadratic.
  uint64_t ResyncBudget = 16 * Size + (uint64_t(1) << 24);
  bool GaveUp = false;
  uint64_t Released = 0; // see releaseReadPages
  bool LastWasEvents = false;
};

} // namespace

bool FileScanner::isValidRecordAt(uint64_t Offset) {
  if (Offset + sizeof(log::RecordHeader) > Size)
    return false;
  log::RecordHeader Header = headerAt(Offset);
  if (!isKnownRecordType(Header.type))
    return false;
  if (Offset + sizeof(Header) + Header.payload_size > Size)
    return false;
  ResyncBudget -= std::min<uint64_t>(ResyncBudget, Header.payload_size);
  return crcMatches(Header, Offset);
}

std::optional<uint64_t> FileScanner::resync(uint64_t From) {
  uint64_t Offset = (From + log::kRecordAlign - 1) & ~uint64_t(7);
  for (; Offset + sizeof(log::RecordHeader) <= Size && ResyncBudget > 0;
       Offset += log::kRecordAlign)
    if (isValidRecordAt(Offset))
      return Offset;
  if (ResyncBudget == 0 && !GaveUp) {
    GaveUp = true;
    warn("too much damage to resynchronise; ignoring the rest of the file");
  }
  return std::nullopt;
}

bool FileScanner::allZeroFrom(uint64_t Offset) const {
  for (uint64_t I = Offset; I < Size; ++I)
    if (Data[I] != 0)
      return false;
  return true;
}

// A writer stores a record's payload before its header, and grows an open
// Events record event by event before republishing its header. A process that
// dies while a thread writes (a crash in another thread, SIGKILL) leaves that
// one write after the file's last record: a zero header and a partial payload,
// or the bytes of an event after an Events record. Only the file's zeros
// follow it. That is the documented cost of a kill (the event being written),
// not damage: it is reported as such.
bool FileScanner::isCutShortTail(uint64_t Offset, bool ZeroHeader) const {
  uint64_t Reach = ZeroHeader ? sizeof(log::RecordHeader) + log::kMaxPayload
                   : LastWasEvents ? log::kMaxUnpublishedEvents
                                   : 0;
  // The runtime grows a log by whole windows of pages (buffer_size is a
  // multiple of 4096); a file of another size was cut, not left unwritten.
  return Reach != 0 && Size % 4096 == 0 &&
         allZeroFrom(Offset + std::min(Reach, Size - Offset));
}

bool FileScanner::endsCutShort(uint64_t Offset, bool ZeroHeader) {
  if (!isCutShortTail(Offset, ZeroHeader))
    return false;
  uint64_t Last = Size;
  while (Last > Offset && Data[Last - 1] == 0)
    --Last;
  File.SkippedBytes += Last - Offset;
  warn(fmt::format("the last record was cut short at offset {} ({} byte{} "
                   "written): the process stopped while this thread was "
                   "writing it; the records before it are complete",
                   Offset, Last - Offset, Last - Offset == 1 ? "" : "s"));
  return true;
}

void FileScanner::acceptRecord(uint64_t Offset, uint64_t End) {
  if (!File.Segments.empty() && File.Segments.back().End == Offset)
    File.Segments.back().End = End;
  else
    File.Segments.push_back({Offset, End});
  ++File.RecordCount;
}

std::optional<uint64_t> FileScanner::recover(uint64_t Offset,
                                             const std::string &What) {
  std::optional<uint64_t> Next = resync(Offset + log::kRecordAlign);
  if (!Next) {
    uint64_t Lost = Size - Offset;
    File.SkippedBytes += Lost;
    warn(fmt::format("{} at offset {}; no valid record follows, skipped the "
                     "remaining {} bytes",
                     What, Offset, Lost));
    return std::nullopt;
  }
  File.SkippedBytes += *Next - Offset;
  warn(fmt::format("{} at offset {}; skipped {} bytes, resumed at offset {}",
                   What, Offset, *Next - Offset, *Next));
  return Next;
}

bool FileScanner::readHeader() {
  if (Size < log::kFileHeaderSize) {
    warn(fmt::format("truncated log: file is {} bytes, shorter than the "
                     "{}-byte header (truncated at offset {}); skipped",
                     Size, log::kFileHeaderSize, Size));
    return false;
  }
  memcpy(&File.Header, Data, sizeof(File.Header));
  const log::FileHeader &Header = File.Header;
  if (memcmp(Header.magic, log::kMagic, sizeof(log::kMagic)) != 0) {
    warn("not a memscope log (bad magic); skipped");
    return false;
  }
  if (Header.version_major > log::kVersionMajor) {
    error(fmt::format("log format version {}.{} is newer than this "
                      "memscope-merge supports ({}.x); skipped",
                      Header.version_major, Header.version_minor,
                      log::kVersionMajor));
    return false;
  }
  if (Header.version_major < log::kOldestVersionMajor) {
    warn(fmt::format("log format version {}.{} is older than this "
                     "memscope-merge reads ({}.x to {}.x); skipped",
                     Header.version_major, Header.version_minor,
                     log::kOldestVersionMajor, log::kVersionMajor));
    return false;
  }
  if (Header.kind != uint16_t(log::FileKind::Process) &&
      Header.kind != uint16_t(log::FileKind::Thread)) {
    warn(fmt::format("unknown file kind {}; skipped", Header.kind));
    return false;
  }
  if (Header.header_size < log::kFileHeaderSize || Header.header_size > Size) {
    warn(fmt::format("invalid header size {}; skipped", Header.header_size));
    return false;
  }
  return true;
}

void FileScanner::run() {
  if (!readHeader())
    return;
  File.Usable = true;
  // A later minor version may grow the header; records start after it.
  uint64_t Offset =
      (uint64_t(File.Header.header_size) + log::kRecordAlign - 1) &
      ~uint64_t(log::kRecordAlign - 1);
  while (Offset < Size) {
    if (Size - Offset < sizeof(log::RecordHeader)) {
      if (!allZeroFrom(Offset))
        warn(fmt::format("truncated log: file ends inside a record header at "
                         "offset {}",
                         Offset));
      return;
    }
    log::RecordHeader Header = headerAt(Offset);
    static const uint8_t Zero[sizeof(Header)] = {};
    if (memcmp(&Header, Zero, sizeof(Header)) == 0) {
      // The unwritten tail of a file-backed buffer ends the log. Anything
      // non-zero after it means a record was reserved but never completed.
      if (allZeroFrom(Offset) || endsCutShort(Offset, true))
        return;
      std::optional<uint64_t> Next = recover(Offset, "unwritten record");
      if (!Next)
        return;
      Offset = *Next;
      continue;
    }
    if (!isKnownRecordType(Header.type)) {
      // A record type from a newer minor version: framed and checksummed
      // like any other, so it is skipped, not treated as damage.
      uint64_t End = Offset + sizeof(Header) + Header.payload_size;
      if (Header.type != 0 && End <= Size && crcMatches(Header, Offset)) {
        Offset += log::alignedRecordSize(Header.payload_size);
        LastWasEvents = false;
        continue;
      }
      if (endsCutShort(Offset, false))
        return;
      std::optional<uint64_t> Next =
          recover(Offset, fmt::format("corrupted record (unknown type {})",
                                      unsigned(Header.type)));
      if (!Next)
        return;
      Offset = *Next;
      continue;
    }
    uint64_t PayloadEnd = Offset + sizeof(Header) + Header.payload_size;
    if (PayloadEnd > Size && endsCutShort(Offset, false))
      return;
    if (PayloadEnd > Size) {
      // Either the file was cut short or the size field is damaged; only a
      // valid record further on tells them apart.
      if (std::optional<uint64_t> Next = resync(Offset + log::kRecordAlign)) {
        File.SkippedBytes += *Next - Offset;
        warn(fmt::format("corrupted record (size {} exceeds the file) at "
                         "offset {}; skipped {} bytes, resumed at offset {}",
                         Header.payload_size, Offset, *Next - Offset, *Next));
        Offset = *Next;
        continue;
      }
      File.SkippedBytes += Size - Offset;
      warn(
          fmt::format("truncated log: file ends inside a record ({}) at offset "
                      "{} ({} of {} bytes present)",
                      recordTypeName(log::RecordType(Header.type)), Offset,
                      Size - Offset, sizeof(Header) + Header.payload_size));
      return;
    }
    if (!crcMatches(Header, Offset)) {
      if (endsCutShort(Offset, false))
        return;
      std::optional<uint64_t> Next =
          recover(Offset, "corrupted record (CRC mismatch)");
      if (!Next)
        return;
      Offset = *Next;
      continue;
    }
    uint64_t End = Offset + log::alignedRecordSize(Header.payload_size);
    acceptRecord(Offset, std::min(End, Size));
    LastWasEvents = Header.type == uint8_t(log::RecordType::Events);
    if (Offset - Released >= (4 << 20))
      Released = releaseReadPages(File, Released, Offset);
    Offset = End;
  }
}

LogFile
memscope::merge::scanLogBuffer(std::unique_ptr<llvm::MemoryBuffer> Buffer,
                               llvm::StringRef Name) {
  LogFile File;
  File.Path = Name.str();
  File.Buffer = std::move(Buffer);
  FileScanner(File).run();
  return File;
}

LogFile memscope::merge::scanLogFile(llvm::StringRef Path) {
  // Not null-terminated so that large files are mmapped, not copied.
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> Buffer =
      llvm::MemoryBuffer::getFile(Path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!Buffer) {
    LogFile File;
    File.Path = Path.str();
    File.Diags.push_back(
        {Severity::Warning, fmt::format("{}: cannot read: {}", Path.str(),
                                        Buffer.getError().message())});
    return File;
  }
  return scanLogBuffer(std::move(*Buffer), Path);
}

uint64_t memscope::merge::releaseReadPages(const LogFile &File, uint64_t From,
                                           uint64_t To) {
  if (!File.Buffer ||
      File.Buffer->getBufferKind() != llvm::MemoryBuffer::MemoryBuffer_MMap)
    return From;
  static const uint64_t Page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  auto Start = reinterpret_cast<uintptr_t>(File.Buffer->getBufferStart());
  // Whole pages of the mapping only: the first may begin before the buffer.
  uintptr_t Begin = (Start + From + Page - 1) & ~(Page - 1);
  uintptr_t End = (Start + To) & ~(Page - 1);
  if (End <= Begin)
    return From;
  madvise(reinterpret_cast<void *>(Begin), End - Begin, MADV_DONTNEED);
  return End - Start;
}

bool RecordCursor::next(RecordView &Record) {
  const std::vector<Segment> &Segments = File->Segments;
  if (!Started) {
    Started = true;
    if (Segments.empty())
      return false;
    Offset = Segments[0].Begin;
  }
  while (SegmentIndex < Segments.size() &&
         Offset >= Segments[SegmentIndex].End) {
    if (++SegmentIndex < Segments.size())
      Offset = Segments[SegmentIndex].Begin;
  }
  if (SegmentIndex >= Segments.size())
    return false;
  const uint8_t *Data =
      reinterpret_cast<const uint8_t *>(File->Buffer->getBufferStart());
  log::RecordHeader Header;
  memcpy(&Header, Data + Offset, sizeof(Header));
  Record.Offset = Offset;
  Record.Type = static_cast<log::RecordType>(Header.type);
  Record.Flags = Header.flags;
  Record.Payload =
      ArrayRef<uint8_t>(Data + Offset + sizeof(Header), Header.payload_size);
  // The record before this one has been handled by now.
  constexpr uint64_t kReleaseStep = 4 << 20;
  if (Offset - Released >= kReleaseStep)
    Released = releaseReadPages(*File, Released, Offset);
  Offset += log::alignedRecordSize(Header.payload_size);
  return true;
}
