//===- TestLogWriter.h - Builds memscope logs for tests ---------*- C++ -*-===//
//
// A tiny writer on top of memscope/LogFormat.h, so that tests produce
// exactly the bytes the runtime would.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_TESTLOGWRITER_H
#define MEMSCOPE_MERGE_TESTLOGWRITER_H

#include "LogReader.h"
#include "memscope/LogFormat.h"
#include "memscope/abi.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace memscope {
namespace merge {
namespace test {

/// Payload bytes: fixed parts and u16-length strings.
/// log::EventsDecoder over an Events payload that is its file's first block,
/// with a KeySize for every key index.
class OneBlockDecoder {
public:
  OneBlockDecoder(const uint8_t *Payload, size_t Size)
      : Decoder(Payload, Size, 1), Sizes(log::kMaxEventKeys) {}
  log::EventsDecoder::Status next(log::DecodedEvent &Event) {
    return Decoder.next(Event, Sizes.data(), Sizes.size());
  }

private:
  log::EventsDecoder Decoder;
  std::vector<log::KeySize> Sizes;
};

class Payload {
public:
  template <typename T> Payload &pod(const T &Value) {
    const uint8_t *Bytes = reinterpret_cast<const uint8_t *>(&Value);
    Data.insert(Data.end(), Bytes, Bytes + sizeof(T));
    return *this;
  }
  Payload &str(llvm::StringRef Text) {
    pod(static_cast<uint16_t>(Text.size()));
    Data.insert(Data.end(), Text.begin(), Text.end());
    return *this;
  }
  std::vector<uint8_t> Data;
};

struct TestInlineFrame {
  std::string Function, File, Dir;
  uint32_t Line = 0, Column = 0;
};

class TestLogWriter {
public:
  static constexpr uint64_t StartMonotonic = 1000000;
  static constexpr uint64_t StartRealtime = 1700000000000000000ull;

  /// \p Major 1 writes version 1's framing (its CRC rule) and its Alloc
  /// and Free records; the current version writes Events records.
  TestLogWriter(log::FileKind Kind, uint32_t Pid, uint32_t Slot = 0,
                uint16_t Major = log::kVersionMajor)
      : Major(Major) {
    log::FileHeader Header;
    log::initFileHeader(Header, Kind, Pid, Slot, StartRealtime, StartMonotonic);
    Header.version_major = Major;
    append(&Header, sizeof(Header));
  }

  /// Appends one framed record; returns its offset.
  size_t record(log::RecordType Type, const void *Data, size_t Size) {
    log::RecordHeader Header;
    Header.type = static_cast<uint8_t>(Type);
    Header.flags = 0;
    Header.payload_size = static_cast<uint16_t>(Size);
    Header.crc = Major == 1 ? log::recordCrcV1(Header, Data)
                            : log::recordCrc(Header, Data);
    size_t Offset = Bytes.size();
    append(&Header, sizeof(Header));
    append(Data, Size);
    Bytes.resize(Offset + log::alignedRecordSize(Size), 0);
    Offsets.push_back(Offset);
    return Offset;
  }
  size_t record(log::RecordType Type, const Payload &P) {
    return record(Type, P.Data.data(), P.Data.size());
  }
  /// The payload of the record at \p Offset (what record() returned).
  std::vector<uint8_t> payloadAt(size_t Offset) const {
    log::RecordHeader Header;
    memcpy(&Header, Bytes.data() + Offset, sizeof(Header));
    const uint8_t *Begin = Bytes.data() + Offset + sizeof(Header);
    return std::vector<uint8_t>(Begin, Begin + Header.payload_size);
  }
  template <typename T> size_t fixed(log::RecordType Type, const T &Value) {
    return record(Type, &Value, sizeof(T));
  }
  /// A fixed record, followed by ThreadTotals when given (format 2.1).
  template <typename T>
  size_t withTotals(log::RecordType Type, const T &Value,
                    const std::optional<log::ThreadTotals> &Totals) {
    Payload P;
    P.pod(Value);
    if (Totals)
      P.pod(*Totals);
    return record(Type, P);
  }

  // process.log records.
  size_t processInfo(uint32_t Pid, log::SamplingMode Mode,
                     llvm::StringRef Exe = "/bin/app", uint64_t Interval = 0,
                     double Rate = 0) {
    log::ProcessInfoRecord Info{};
    Info.pid = Pid;
    Info.ppid = 1;
    Info.sampling_mode = static_cast<uint32_t>(Mode);
    Info.stack_depth = 64;
    Info.sample_interval_bytes = Interval;
    Info.sample_rate = Rate;
    Info.start_realtime_ns = StartRealtime;
    Info.start_monotonic_ns = StartMonotonic;
    return record(log::RecordType::ProcessInfo, Payload().pod(Info).str(Exe));
  }
  size_t module(llvm::StringRef Path, uint64_t Bias, uint64_t Begin,
                uint64_t End, bool HasSites) {
    log::ModuleRecord Module{};
    Module.load_bias = Bias;
    Module.text_begin = Begin;
    Module.text_end = End;
    Module.flags = HasSites ? uint32_t(log::ModuleHasSites) : 0u;
    return record(log::RecordType::Module, Payload().pod(Module).str(Path));
  }
  /// Module records for modules read from a live process (dl_iterate_phdr).
  void modules(llvm::ArrayRef<ModuleInfo> Loaded) {
    for (const ModuleInfo &Module : Loaded)
      module(Module.Path, Module.Fixed.load_bias, Module.Fixed.text_begin,
             Module.Fixed.text_end, Module.Fixed.flags & log::ModuleHasSites);
  }
  size_t site(uint64_t Id, uint32_t Kind, llvm::StringRef File, uint32_t Line,
              llvm::StringRef Function,
              const std::vector<TestInlineFrame> &Inlined = {},
              uint64_t TextAddr = 0, llvm::StringRef Dir = "/src",
              llvm::StringRef Type = "") {
    log::SiteRecord Site{};
    Site.id = Id;
    Site.module_text_addr = TextAddr;
    Site.kind = Kind;
    Site.line = Line;
    Site.column = 7;
    Site.inline_depth = Inlined.size();
    // The runtime's encoder (LogFormat.h), from null-terminated copies.
    std::string FileText = File.str(), DirText = Dir.str(),
                FunctionText = Function.str(), TypeText = Type.str();
    Payload P;
    P.Data.resize(log::kMaxPayload);
    P.Data.resize(log::encodeSite(P.Data.data(), P.Data.size(), Site,
                                  {FileText.c_str(), DirText.c_str(),
                                   FunctionText.c_str(), TypeText.c_str()},
                                  [&](uint32_t I) {
                                    const TestInlineFrame &Frame = Inlined[I];
                                    return log::InlineFrameText{
                                        Frame.Line, Frame.Column,
                                        Frame.Function.c_str(),
                                        Frame.File.c_str(), Frame.Dir.c_str()};
                                  }));
    return record(log::RecordType::Site, P);
  }
  /// \p Unlogged: the totals of threads without a log (format 2.1); left
  /// out, the record is a 2.0 one. \p Heap (format 2.2) needs \p Unlogged,
  /// \p AtExit (2.6) needs \p Heap.
  size_t processEnd(uint64_t Monotonic, uint64_t Dropped = 0,
                    uint64_t Untracked = 0,
                    std::optional<log::ThreadTotals> Unlogged = std::nullopt,
                    std::optional<log::HeapCounts> Heap = std::nullopt,
                    std::optional<log::HeapAtExit> AtExit = std::nullopt) {
    log::ProcessEndRecord End{};
    End.monotonic_ns = Monotonic;
    End.dropped_records = Dropped;
    End.untracked_samples = Untracked;
    Payload P;
    P.pod(End);
    if (Unlogged)
      P.pod(*Unlogged);
    if (Unlogged && Heap)
      P.pod(*Heap);
    if (Unlogged && Heap && AtExit)
      P.pod(*AtExit);
    return record(log::RecordType::ProcessEnd, P);
  }

  // t<N>.log records.
  /// A stand-in pthread_t for a thread id, unless one is given.
  static uint64_t handleOf(uint64_t ThreadId) {
    return 0x7f0000a00000ull + ThreadId * 0x1000;
  }
  size_t threadStart(uint64_t ThreadId, uint64_t Tid, uint64_t Monotonic,
                     llvm::StringRef Name = "", uint64_t Parent = 0,
                     uint64_t SpawnSite = 0, uint64_t SpawnStack = 0,
                     uint64_t CreatorPc = 0, uint64_t Handle = 0) {
    log::ThreadStartRecord Start{};
    Start.thread_id = ThreadId;
    Start.os_tid = Tid;
    Start.parent_thread_id = Parent;
    Start.spawn_site = SpawnSite;
    Start.monotonic_ns = Monotonic;
    Start.pthread_handle = Handle ? Handle : handleOf(ThreadId);
    Start.spawn_stack_id = SpawnStack;
    Start.creator_pc = CreatorPc;
    return record(log::RecordType::ThreadStart, Payload().pod(Start).str(Name));
  }
  /// ThreadId 0: the writer renamed another thread, named by Handle.
  size_t threadName(uint64_t ThreadId, uint64_t Handle, uint64_t Monotonic,
                    llvm::StringRef Name) {
    log::ThreadNameRecord Rename{ThreadId, Handle, Monotonic};
    return record(log::RecordType::ThreadName, Payload().pod(Rename).str(Name));
  }
  /// process.log: a thread still running at exit.
  size_t threadRunning(uint64_t ThreadId, uint64_t Tid, uint64_t Monotonic,
                       uint64_t CpuUser, uint64_t CpuSystem,
                       std::optional<log::ThreadTotals> Totals = std::nullopt) {
    log::ThreadRunningRecord Running{ThreadId, Tid, Monotonic, CpuUser,
                                     CpuSystem};
    return withTotals(log::RecordType::ThreadRunning, Running, Totals);
  }
  /// process.log: max_log_size reduced recording to \p Level at \p
  /// Monotonic (a cap of 1 MiB, \p Flags log::LogLimitFlags).
  size_t logLimit(uint64_t Monotonic, uint32_t Level, uint32_t Flags,
                  uint64_t Interval) {
    log::LogLimitRecord Record{};
    Record.monotonic_ns = Monotonic;
    Record.max_log_size = 1 << 20;
    Record.log_bytes = 600000 + Level;
    Record.level = Level;
    Record.flags = Flags;
    Record.sample_interval_bytes = Interval;
    return fixed(log::RecordType::LogLimit, Record);
  }
  /// process.log: a resource sample; counters are cumulative.
  size_t resourceSample(uint64_t Monotonic, uint64_t CpuUser,
                        uint64_t CpuSystem, uint64_t Rss, uint64_t ReadBytes,
                        uint64_t WriteBytes, uint64_t ReadCalls,
                        uint64_t WriteCalls, uint32_t Threads) {
    log::ResourceSampleRecord Sample{
        Monotonic,  CpuUser,   CpuSystem,  Rss,     ReadBytes,
        WriteBytes, ReadCalls, WriteCalls, Threads, 0};
    return fixed(log::RecordType::ResourceSample, Sample);
  }
  size_t threadEnd(uint64_t ThreadId, uint64_t Monotonic, uint64_t CpuUser = 0,
                   uint64_t CpuSystem = 0,
                   std::optional<log::ThreadTotals> Totals = std::nullopt) {
    log::ThreadEndRecord End{ThreadId, Monotonic, CpuUser, CpuSystem};
    return withTotals(log::RecordType::ThreadEnd, End, Totals);
  }
  size_t alloc(uint64_t SampleId, uint64_t SiteId, uint64_t Size,
               uint64_t Monotonic, double Weight = 1.0,
               uint32_t Kind = MSC_KIND_MALLOC, uint64_t StackId = 0,
               uint32_t Flags = 0, uint64_t Address = 0) {
    if (Major == 1) {
      log::AllocRecord Alloc{SampleId, SiteId,    0x10000 + SampleId * 16,
                             Size,     Monotonic, StackId,
                             Weight,   Kind,      Flags};
      return fixed(log::RecordType::Alloc, Alloc);
    }
    return oneEvent({Monotonic, SampleId - 1}, SiteId, StackId, Kind,
                    [&](uint8_t *Out, log::EventsState &State, uint64_t Key) {
                      return log::encodeAllocEvent(Out, State, Key, SampleId,
                                                   Size, Monotonic, Weight,
                                                   Flags, Address);
                    });
  }
  /// An allocation of exact mode (version 3): its free names its address.
  size_t allocAt(uint64_t Address, uint64_t SampleId, uint64_t SiteId,
                 uint64_t Size, uint64_t Monotonic) {
    return alloc(SampleId, SiteId, Size, Monotonic, 1.0, MSC_KIND_MALLOC, 0,
                 log::AllocFreedByAddress, Address);
  }
  /// A free by address (version 3).
  size_t freeAt(uint64_t Address, uint64_t Monotonic, uint64_t SiteId = 0) {
    return oneEvent({Monotonic, 0}, SiteId, 0, 0,
                    [&](uint8_t *Out, log::EventsState &State, uint64_t Key) {
                      return log::encodeFreeAddressEvent(Out, State, Key,
                                                         Address, Monotonic);
                    });
  }
  size_t free(uint64_t SampleId, uint64_t Monotonic, uint64_t SiteId = 0) {
    if (Major == 1) { // 24 bytes: FreeRecord up to its address
      Payload P;
      P.pod(SampleId);
      P.pod(SiteId);
      P.pod(Monotonic);
      return record(log::RecordType::Free, P);
    }
    return oneEvent({Monotonic, SampleId}, SiteId, 0, 0,
                    [&](uint8_t *Out, log::EventsState &State, uint64_t Key) {
                      return log::encodeFreeEvent(Out, State, Key, SampleId,
                                                  Monotonic);
                    });
  }
  size_t stack(uint64_t StackId, llvm::ArrayRef<uint64_t> Frames) {
    log::StackRecordHeader Header{};
    Header.stack_id = StackId;
    Header.depth = Frames.size();
    Payload P;
    P.pod(Header);
    for (uint64_t Frame : Frames)
      P.pod(Frame);
    return record(log::RecordType::Stack, P);
  }

  log::FileHeader &header() {
    return *reinterpret_cast<log::FileHeader *>(Bytes.data());
  }
  std::vector<uint8_t> Bytes;
  std::vector<size_t> Offsets; // of each record, in order

  void writeTo(const std::string &Path) const {
    std::error_code EC;
    llvm::raw_fd_ostream OS(Path, EC);
    OS.write(reinterpret_cast<const char *>(Bytes.data()), Bytes.size());
  }

private:
  uint16_t Major;
  std::vector<std::tuple<uint64_t, uint64_t, uint32_t>> Keys;

  /// An Events record of one event, with the shared encoder: the key's
  /// definition first if the file does not have it, then what \p Encode
  /// writes.
  template <typename Encode>
  size_t oneEvent(const log::EventsHeader &Header, uint64_t SiteId,
                  uint64_t StackId, uint32_t Kind, Encode Encode_) {
    uint8_t Buffer[sizeof(log::EventsHeader) + log::kMaxKeyEventSize +
                   log::kMaxEventSize];
    memcpy(Buffer, &Header, sizeof(Header));
    log::EventsState State;
    State.start(Header);
    uint8_t *Out = Buffer + sizeof(Header);
    uint64_t Key = key(Out, SiteId, StackId, Kind);
    Out = Encode_(Out, State, Key);
    return record(log::RecordType::Events, Buffer, Out - Buffer);
  }

  /// The key of (site, stack, kind); defines it at \p Out the first time.
  uint64_t key(uint8_t *&Out, uint64_t SiteId, uint64_t StackId,
               uint32_t Kind) {
    auto Wanted = std::make_tuple(SiteId, StackId, Kind);
    for (size_t I = 0; I < Keys.size(); ++I)
      if (Keys[I] == Wanted)
        return I;
    Keys.push_back(Wanted);
    Out = log::encodeKeyEvent(Out, Keys.size() - 1, SiteId, StackId, Kind);
    return Keys.size() - 1;
  }

  void append(const void *Data, size_t Size) {
    const uint8_t *P = static_cast<const uint8_t *>(Data);
    Bytes.insert(Bytes.end(), P, P + Size);
  }
};

/// A temporary directory removed at the end of the test.
class TempDir {
public:
  TempDir() {
    llvm::sys::fs::createUniqueDirectory("memscope-merge-test", Path);
  }
  ~TempDir() { llvm::sys::fs::remove_directories(Path); }
  std::string path() const { return std::string(Path); }
  std::string sub(llvm::StringRef Name) const {
    llvm::SmallString<256> Result(Path);
    llvm::sys::path::append(Result, Name);
    return std::string(Result);
  }
  /// Creates <dir>/<Name> and returns its path.
  std::string mkdir(llvm::StringRef Name) const {
    std::string Result = sub(Name);
    llvm::sys::fs::create_directories(Result);
    return Result;
  }

private:
  llvm::SmallString<256> Path;
};

} // namespace test
} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_TESTLOGWRITER_H
