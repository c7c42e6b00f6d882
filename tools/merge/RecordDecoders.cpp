//===- RecordDecoders.cpp - Record payloads into typed values -------------===//
//
// Each record type's payload decoder (LogFormat.h defines the layouts), and
// the typed records built on them: decodeProcessRecord and
// decodeThreadRecord are the one place a record's type picks its decoder.
// Every read is bounds-checked; a payload longer than its fields is
// accepted, since later minor versions append fields.
//
//===----------------------------------------------------------------------===//

#include "LogReader.h"

#include <cstring>

using namespace memscope;
using namespace memscope::merge;
using llvm::ArrayRef;

namespace {

/// Bounds-checked reads from a payload.
class PayloadReader {
public:
  explicit PayloadReader(ArrayRef<uint8_t> Payload) : Payload(Payload) {}

  template <typename T> bool pod(T &Value) {
    if (Payload.size() - Position < sizeof(T))
      return false;
    memcpy(&Value, Payload.data() + Position, sizeof(T));
    Position += sizeof(T);
    return true;
  }
  /// u16 length + bytes; fails when the length runs past the payload.
  bool str(std::string &Value) {
    uint16_t Length;
    if (!pod(Length))
      return false;
    if (Payload.size() - Position < Length)
      return false;
    Value.assign(reinterpret_cast<const char *>(Payload.data() + Position),
                 Length);
    Position += Length;
    return true;
  }
  size_t remaining() const { return Payload.size() - Position; }

private:
  ArrayRef<uint8_t> Payload;
  size_t Position = 0;
};

template <typename T> bool decodeFixed(ArrayRef<uint8_t> Payload, T &Out) {
  PayloadReader Reader(Payload);
  return Reader.pod(Out);
}

/// A fixed record followed, from a later minor version on, by ThreadTotals.
template <typename T>
bool decodeWithTotals(ArrayRef<uint8_t> Payload, T &Out,
                      std::optional<log::ThreadTotals> *Totals) {
  PayloadReader Reader(Payload);
  if (!Reader.pod(Out))
    return false;
  if (Totals) {
    log::ThreadTotals Counted;
    if (Reader.remaining() >= sizeof(Counted) && Reader.pod(Counted))
      *Totals = Counted;
    else
      Totals->reset();
  }
  return true;
}

} // namespace

bool memscope::merge::decodeProcessInfo(ArrayRef<uint8_t> Payload,
                                        ProcessInfo &Out) {
  PayloadReader Reader(Payload);
  return Reader.pod(Out.Fixed) && Reader.str(Out.Executable);
}

bool memscope::merge::decodeModule(ArrayRef<uint8_t> Payload, ModuleInfo &Out) {
  PayloadReader Reader(Payload);
  if (!Reader.pod(Out.Fixed) || !Reader.str(Out.Path))
    return false;
  if (Out.Fixed.build_id_size > sizeof(Out.Fixed.build_id))
    Out.Fixed.build_id_size = sizeof(Out.Fixed.build_id);
  return true;
}

bool memscope::merge::decodeSite(ArrayRef<uint8_t> Payload, SiteInfo &Out) {
  // LogFormat.h's decoder, the other side of the runtime's encodeSite; it
  // bounds the depth by the payload's size before any frame is stored.
  auto Text = [](const log::PayloadString &S) {
    return std::string(S.text ? S.text : "", S.length);
  };
  log::SiteRecord Fixed;
  log::PayloadString File, Dir, Function;
  Out.InlinedAt.clear();
  if (!log::decodeSite(
          Payload.data(), Payload.size(), Fixed, File, Dir, Function,
          [&](uint32_t, uint32_t Line, uint32_t Column,
              const log::PayloadString &Name, const log::PayloadString &Path,
              const log::PayloadString &Folder) {
            if (Out.InlinedAt.empty())
              Out.InlinedAt.reserve(Fixed.inline_depth);
            Out.InlinedAt.push_back(
                {Text(Name), Text(Path), Text(Folder), Line, Column});
          }))
    return false;
  Out.Id = Fixed.id;
  Out.ModuleTextAddr = Fixed.module_text_addr;
  Out.Kind = Fixed.kind;
  Out.Line = Fixed.line;
  Out.Column = Fixed.column;
  Out.File = Text(File);
  Out.Dir = Text(Dir);
  Out.Function = Text(Function);
  return true;
}

bool memscope::merge::decodeProcessEnd(
    ArrayRef<uint8_t> Payload, log::ProcessEndRecord &Out,
    std::optional<log::ThreadTotals> *Unlogged,
    std::optional<log::HeapCounts> *Heap) {
  if (!decodeWithTotals(Payload, Out, Unlogged))
    return false;
  if (Heap) {
    Heap->reset();
    size_t Offset = sizeof(log::ProcessEndRecord) + sizeof(log::ThreadTotals);
    log::HeapCounts Counts;
    if (Payload.size() >= Offset + sizeof(Counts)) {
      memcpy(&Counts, Payload.data() + Offset, sizeof(Counts));
      *Heap = Counts;
    }
  }
  return true;
}

RecordFit memscope::merge::decodeProcessRecord(const RecordView &Record,
                                               ProcessRecord &Out) {
  ArrayRef<uint8_t> Payload = Record.Payload;
  bool Ok = true;
  switch (Record.Type) {
  case log::RecordType::Padding:
    Out = PaddingInfo{};
    break;
  case log::RecordType::ProcessInfo:
    Ok = decodeProcessInfo(Payload, Out.emplace<ProcessInfo>());
    break;
  case log::RecordType::Module:
    Ok = decodeModule(Payload, Out.emplace<ModuleInfo>());
    break;
  case log::RecordType::Site:
    Ok = decodeSite(Payload, Out.emplace<SiteInfo>());
    break;
  case log::RecordType::ProcessEnd: {
    ProcessEndInfo &End = Out.emplace<ProcessEndInfo>();
    Ok = decodeProcessEnd(Payload, End.Fixed, &End.Unlogged, &End.Heap);
    break;
  }
  case log::RecordType::Warning:
    Ok = decodeWarning(Payload, Out.emplace<WarningInfo>().Message);
    break;
  case log::RecordType::ThreadRunning: {
    ThreadRunningInfo &Running = Out.emplace<ThreadRunningInfo>();
    Ok = decodeThreadRunning(Payload, Running.Fixed, &Running.Totals);
    break;
  }
  case log::RecordType::ResourceSample:
    Ok =
        decodeResourceSample(Payload, Out.emplace<log::ResourceSampleRecord>());
    break;
  default:
    return RecordFit::Misplaced;
  }
  return Ok ? RecordFit::Decoded : RecordFit::Malformed;
}

RecordFit memscope::merge::decodeThreadRecord(const RecordView &Record,
                                              ThreadRecord &Out) {
  ArrayRef<uint8_t> Payload = Record.Payload;
  bool Ok = true;
  switch (Record.Type) {
  case log::RecordType::Padding:
    Out = PaddingInfo{};
    break;
  case log::RecordType::ThreadStart:
    Ok = decodeThreadStart(Payload, Out.emplace<ThreadStartInfo>());
    break;
  case log::RecordType::ThreadName:
    Ok = decodeThreadName(Payload, Out.emplace<ThreadNameInfo>());
    break;
  case log::RecordType::ThreadEnd: {
    ThreadEndInfo &End = Out.emplace<ThreadEndInfo>();
    Ok = decodeThreadEnd(Payload, End.Fixed, &End.Totals);
    break;
  }
  case log::RecordType::Stack:
    Ok = decodeStack(Payload, Out.emplace<StackInfo>());
    break;
  case log::RecordType::Events:
    Out = EventsInfo{Payload};
    break;
  case log::RecordType::Alloc:
    Ok = decodeAlloc(Payload, Out.emplace<log::AllocRecord>());
    break;
  case log::RecordType::Free:
    Ok = decodeFree(Payload, Out.emplace<log::FreeRecord>());
    break;
  default:
    return RecordFit::Misplaced;
  }
  return Ok ? RecordFit::Decoded : RecordFit::Malformed;
}

bool memscope::merge::decodeWarning(ArrayRef<uint8_t> Payload,
                                    std::string &Out) {
  // LogFormat.h does not pin the payload down; the runtime writes a single
  // str. Fall back to the raw bytes so that no message is lost.
  PayloadReader Reader(Payload);
  if (Reader.str(Out) && Reader.remaining() == 0)
    return true;
  Out.assign(reinterpret_cast<const char *>(Payload.data()), Payload.size());
  while (!Out.empty() && Out.back() == '\0')
    Out.pop_back();
  return true;
}

bool memscope::merge::decodeThreadStart(ArrayRef<uint8_t> Payload,
                                        ThreadStartInfo &Out) {
  PayloadReader Reader(Payload);
  if (!Reader.pod(Out.Fixed))
    return false;
  // The name is optional: an empty name may be left out entirely.
  if (Reader.remaining() > 0 && !Reader.str(Out.Name))
    return false;
  return true;
}

bool memscope::merge::decodeThreadName(ArrayRef<uint8_t> Payload,
                                       ThreadNameInfo &Out) {
  PayloadReader Reader(Payload);
  log::ThreadNameRecord Fixed;
  if (!Reader.pod(Fixed) || !Reader.str(Out.Name))
    return false;
  Out.ThreadId = Fixed.thread_id;
  Out.PthreadHandle = Fixed.pthread_handle;
  Out.MonotonicNs = Fixed.monotonic_ns;
  return true;
}

bool memscope::merge::decodeThreadRunning(
    ArrayRef<uint8_t> Payload, log::ThreadRunningRecord &Out,
    std::optional<log::ThreadTotals> *Totals) {
  return decodeWithTotals(Payload, Out, Totals);
}

bool memscope::merge::decodeResourceSample(ArrayRef<uint8_t> Payload,
                                           log::ResourceSampleRecord &Out) {
  return decodeFixed(Payload, Out);
}

bool memscope::merge::decodeThreadEnd(
    ArrayRef<uint8_t> Payload, log::ThreadEndRecord &Out,
    std::optional<log::ThreadTotals> *Totals) {
  return decodeWithTotals(Payload, Out, Totals);
}

bool memscope::merge::decodeAlloc(ArrayRef<uint8_t> Payload,
                                  log::AllocRecord &Out) {
  return decodeFixed(Payload, Out);
}

bool memscope::merge::decodeFree(ArrayRef<uint8_t> Payload,
                                 log::FreeRecord &Out) {
  return decodeFixed(Payload, Out);
}

bool memscope::merge::decodeStack(ArrayRef<uint8_t> Payload, StackInfo &Out) {
  PayloadReader Reader(Payload);
  log::StackRecordHeader Fixed;
  if (!Reader.pod(Fixed))
    return false;
  if (Fixed.depth > log::kMaxStackDepth ||
      uint64_t(Fixed.depth) * sizeof(uint64_t) > Reader.remaining())
    return false;
  Out.Id = Fixed.stack_id;
  Out.Frames.resize(Fixed.depth);
  for (uint64_t &Frame : Out.Frames)
    Reader.pod(Frame);
  return true;
}
