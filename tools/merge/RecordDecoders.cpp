//===- RecordDecoders.cpp - Record payloads into typed values -------------===//
//
// Each record type's payload decoder (LogFormat.h defines the layouts): one
// decodePayload overload per typed value. At the end, RecordTypeOf names the
// record type each value is read from; with the variants of LogReader.h
// (what each kind of file holds) it is the one place where a record's type
// picks its decoder. Every read is bounds-checked; a payload longer than its
// fields is accepted, since later minor versions append fields.
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
  /// A field that a later minor version appended: unset when the payload
  /// ends before it.
  template <typename T> std::optional<T> appended() {
    T Value;
    if (!pod(Value))
      return std::nullopt;
    return Value;
  }

private:
  ArrayRef<uint8_t> Payload;
  size_t Position = 0;
};

} // namespace

bool memscope::merge::decodePayload(ArrayRef<uint8_t> Payload,
                                    ProcessInfo &Out) {
  PayloadReader Reader(Payload);
  return Reader.pod(Out.Fixed) && Reader.str(Out.Executable);
}

bool memscope::merge::decodePayload(ArrayRef<uint8_t> Payload,
                                    ModuleInfo &Out) {
  PayloadReader Reader(Payload);
  if (!Reader.pod(Out.Fixed) || !Reader.str(Out.Path))
    return false;
  if (Out.Fixed.build_id_size > sizeof(Out.Fixed.build_id))
    Out.Fixed.build_id_size = sizeof(Out.Fixed.build_id);
  return true;
}

bool memscope::merge::decodePayload(ArrayRef<uint8_t> Payload, SiteInfo &Out) {
  // LogFormat.h's decoder, the other side of the runtime's encodeSite; it
  // bounds the depth by the payload's size before any frame is stored.
  auto Text = [](const log::PayloadString &S) {
    return std::string(S.text ? S.text : "", S.length);
  };
  log::SiteRecord Fixed;
  log::PayloadString File, Dir, Function, Type;
  Out.InlinedAt.clear();
  if (!log::decodeSite(
          Payload.data(), Payload.size(), Fixed, File, Dir, Function, Type,
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
  Out.Type = Text(Type);
  return true;
}

bool memscope::merge::decodePayload(ArrayRef<uint8_t> Payload,
                                    ProcessEndInfo &Out) {
  PayloadReader Reader(Payload);
  if (!Reader.pod(Out.Fixed))
    return false;
  // Version 2.1 appended the unlogged threads' totals, 2.2 the heap counts,
  // 2.6 the heap in use at exit.
  Out.Unlogged = Reader.appended<log::ThreadTotals>();
  Out.Heap = Out.Unlogged ? Reader.appended<log::HeapCounts>() : std::nullopt;
  Out.HeapAtExit = Out.Heap ? Reader.appended<log::HeapAtExit>() : std::nullopt;
  return true;
}

bool memscope::merge::decodePayload(ArrayRef<uint8_t> Payload,
                                    WarningInfo &Out) {
  // LogFormat.h does not pin the payload down; the runtime writes a single
  // str. Fall back to the raw bytes so that no message is lost.
  std::string &Text = Out.Message;
  PayloadReader Reader(Payload);
  if (Reader.str(Text) && Reader.remaining() == 0)
    return true;
  Text.assign(reinterpret_cast<const char *>(Payload.data()), Payload.size());
  while (!Text.empty() && Text.back() == '\0')
    Text.pop_back();
  return true;
}

bool memscope::merge::decodePayload(ArrayRef<uint8_t> Payload,
                                    ThreadStartInfo &Out) {
  // The name is optional: an empty name may be left out entirely.
  PayloadReader Reader(Payload);
  return Reader.pod(Out.Fixed) &&
         (Reader.remaining() == 0 || Reader.str(Out.Name));
}

bool memscope::merge::decodePayload(ArrayRef<uint8_t> Payload,
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

template <typename Record>
bool memscope::merge::decodePayload(ArrayRef<uint8_t> Payload,
                                    WithTotals<Record> &Out) {
  PayloadReader Reader(Payload);
  if (!Reader.pod(Out.Fixed))
    return false;
  Out.Totals = Reader.appended<log::ThreadTotals>();
  return true;
}
template bool memscope::merge::decodePayload(ArrayRef<uint8_t>,
                                             ThreadRunningInfo &);
template bool memscope::merge::decodePayload(ArrayRef<uint8_t>,
                                             ThreadEndInfo &);

bool memscope::merge::decodePayload(ArrayRef<uint8_t> Payload,
                                    EventsInfo &Out) {
  Out.Payload = Payload; // read event by event, with log::EventsDecoder
  return true;
}

bool memscope::merge::decodePayload(ArrayRef<uint8_t>, PaddingInfo &) {
  return true;
}

bool memscope::merge::decodePayload(ArrayRef<uint8_t> Payload, StackInfo &Out) {
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

namespace {

using Type = log::RecordType;

/// The record type whose payload each typed value is read from.
template <typename Value> constexpr Type RecordTypeOf = Type::End;
template <> constexpr Type RecordTypeOf<PaddingInfo> = Type::Padding;
template <> constexpr Type RecordTypeOf<ProcessInfo> = Type::ProcessInfo;
template <> constexpr Type RecordTypeOf<ModuleInfo> = Type::Module;
template <> constexpr Type RecordTypeOf<SiteInfo> = Type::Site;
template <> constexpr Type RecordTypeOf<ProcessEndInfo> = Type::ProcessEnd;
template <> constexpr Type RecordTypeOf<WarningInfo> = Type::Warning;
template <>
constexpr Type RecordTypeOf<ThreadRunningInfo> = Type::ThreadRunning;
template <>
constexpr Type RecordTypeOf<log::ResourceSampleRecord> = Type::ResourceSample;
template <> constexpr Type RecordTypeOf<log::SnapshotRecord> = Type::Snapshot;
template <> constexpr Type RecordTypeOf<log::LogLimitRecord> = Type::LogLimit;
template <> constexpr Type RecordTypeOf<ThreadStartInfo> = Type::ThreadStart;
template <> constexpr Type RecordTypeOf<ThreadNameInfo> = Type::ThreadName;
template <> constexpr Type RecordTypeOf<ThreadEndInfo> = Type::ThreadEnd;
template <> constexpr Type RecordTypeOf<ThreadEndedInfo> = Type::ThreadEnded;
template <> constexpr Type RecordTypeOf<StackInfo> = Type::Stack;
template <> constexpr Type RecordTypeOf<EventsInfo> = Type::Events;
template <> constexpr Type RecordTypeOf<log::AllocRecord> = Type::Alloc;
template <> constexpr Type RecordTypeOf<log::FreeRecord> = Type::Free;

/// Decodes \p Record into the alternative of \p Out read from its type;
/// Misplaced when no alternative is (a record of the other kind of file).
template <typename... Values>
RecordFit decodeOneOf(const RecordView &Record, std::variant<Values...> &Out) {
  static_assert(((RecordTypeOf<Values> != Type::End) && ...),
                "every alternative needs its RecordTypeOf");
  RecordFit Fit = RecordFit::Misplaced;
  (void)((Record.Type == RecordTypeOf<Values> &&
          (Fit = decodePayload(Record.Payload, Out.template emplace<Values>())
                     ? RecordFit::Decoded
                     : RecordFit::Malformed,
           true)) ||
         ...);
  return Fit;
}

} // namespace

RecordFit memscope::merge::decodeProcessRecord(const RecordView &Record,
                                               ProcessRecord &Out) {
  return decodeOneOf(Record, Out);
}

RecordFit memscope::merge::decodeThreadRecord(const RecordView &Record,
                                              ThreadRecord &Out) {
  return decodeOneOf(Record, Out);
}
