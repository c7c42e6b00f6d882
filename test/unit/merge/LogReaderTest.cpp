//===- LogReaderTest.cpp - Framing, CRC, recovery and decoding ------------===//

#include "LogReader.h"
#include "TestLogWriter.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>

using namespace memscope;
using namespace memscope::merge;
using namespace memscope::merge::test;

namespace {

LogFile scanBytes(const std::vector<uint8_t> &Bytes,
                  llvm::StringRef Name = "test.log") {
  llvm::StringRef Data(reinterpret_cast<const char *>(Bytes.data()),
                       Bytes.size());
  return scanLogBuffer(llvm::MemoryBuffer::getMemBufferCopy(Data, Name), Name);
}

std::vector<RecordView> allRecords(const LogFile &File) {
  std::vector<RecordView> Records;
  RecordCursor Cursor(File);
  RecordView Record;
  while (Cursor.next(Record))
    Records.push_back(Record);
  return Records;
}

std::string joinDiags(const LogFile &File) {
  std::string Text;
  for (const Diagnostic &D : File.Diags)
    Text += D.Message + "\n";
  return Text;
}

/// A thread log with a ThreadStart and Count allocations.
/// The sample id of the allocation or free in a one-event Events record.
uint64_t eventSampleId(llvm::ArrayRef<uint8_t> Payload) {
  OneBlockDecoder Decoder(Payload.data(), Payload.size());
  log::DecodedEvent Event;
  while (Decoder.next(Event) == log::EventsDecoder::Status::Event)
    if (Event.type != log::kEventKey)
      return Event.sample_id;
  ADD_FAILURE() << "no allocation or free in the record";
  return 0;
}

TestLogWriter threadLog(int Count) {
  TestLogWriter W(log::FileKind::Thread, 42, 0);
  W.threadStart(1, 42, TestLogWriter::StartMonotonic + 1, "main");
  for (int I = 0; I < Count; ++I)
    W.alloc(I + 1, 0x100, 16 * (I + 1), TestLogWriter::StartMonotonic + 10 + I);
  return W;
}

#if defined(__x86_64__)
// The writer and the reader pick the CRC32C instruction where the CPU has
// it (hasHardwareCrc32c reads glibc's CPU features, not CPUID), and it must
// give the table's CRC at every length an event or record can have.
TEST(LogReader, HardwareCrcIsUsedWhereTheCpuHasItAndMatchesTheTable) {
  __builtin_cpu_init();
  EXPECT_EQ(log::hasHardwareCrc32c(), __builtin_cpu_supports("sse4.2") != 0);
  if (!log::hasHardwareCrc32c())
    GTEST_SKIP() << "no SSE 4.2 on this CPU";
  uint8_t bytes[64];
  for (size_t i = 0; i < sizeof(bytes); ++i)
    bytes[i] = static_cast<uint8_t>(i * 37 + 11);
  for (size_t size = 0; size <= sizeof(bytes); ++size)
    for (size_t offset : {size_t(0), size_t(3)})
      if (offset + size <= sizeof(bytes))
        EXPECT_EQ(log::crc32cHardware(0xFFFFFFFFu, bytes + offset, size),
                  log::crc32cSoftware(0xFFFFFFFFu, bytes + offset, size))
            << "size " << size << " offset " << offset;
  // The standard check value of CRC32C: "123456789" gives 0xE3069283.
  EXPECT_EQ(~log::crc32cUpdate(0xFFFFFFFFu, "123456789", 9), 0xE3069283u);
}
#endif

TEST(LogReader, RoundTripsProcessRecords) {
  TestLogWriter W(log::FileKind::Process, 42);
  W.processInfo(42, log::SamplingMode::Bytes, "/bin/app", 524288, 0.0);
  W.module("/bin/app", 0x400000, 0x401000, 0x402000, true);
  W.site(0xABCDEF0123456789ull, MSC_KIND_NEW, "app.cpp", 12, "_Z6workeri",
         {{"_Z5outerv", "outer.cpp", "/inc", 30, 4}}, 0x401234);
  W.record(log::RecordType::Warning, Payload().str("live table full"));
  uint64_t Zero = 0;
  W.record(log::RecordType::Padding, &Zero, sizeof(Zero));
  W.processEnd(TestLogWriter::StartMonotonic + 5000, 3, 4);
  W.threadRunning(5, 4245, TestLogWriter::StartMonotonic + 4999, 700, 800);

  LogFile File = scanBytes(W.Bytes);
  ASSERT_TRUE(File.Usable) << joinDiags(File);
  EXPECT_TRUE(File.Diags.empty()) << joinDiags(File);
  EXPECT_EQ(File.kind(), log::FileKind::Process);
  EXPECT_EQ(File.Header.pid, 42u);
  std::vector<RecordView> Records = allRecords(File);
  ASSERT_EQ(Records.size(), 7u);

  ProcessInfo Info;
  ASSERT_EQ(Records[0].Type, log::RecordType::ProcessInfo);
  ASSERT_TRUE(decodePayload(Records[0].Payload, Info));
  EXPECT_EQ(Info.Fixed.pid, 42u);
  EXPECT_EQ(Info.Fixed.sampling_mode, uint32_t(log::SamplingMode::Bytes));
  EXPECT_EQ(Info.Fixed.sample_interval_bytes, 524288u);
  EXPECT_EQ(Info.Executable, "/bin/app");

  ModuleInfo Module;
  ASSERT_TRUE(decodePayload(Records[1].Payload, Module));
  EXPECT_EQ(Module.Path, "/bin/app");
  EXPECT_EQ(Module.Fixed.load_bias, 0x400000u);
  EXPECT_EQ(Module.Fixed.text_end, 0x402000u);
  EXPECT_EQ(Module.Fixed.flags, uint32_t(log::ModuleHasSites));

  SiteInfo Site;
  ASSERT_TRUE(decodePayload(Records[2].Payload, Site));
  EXPECT_EQ(Site.Id, 0xABCDEF0123456789ull);
  EXPECT_EQ(Site.Kind, uint32_t(MSC_KIND_NEW));
  EXPECT_EQ(Site.File, "app.cpp");
  EXPECT_EQ(Site.Dir, "/src");
  EXPECT_EQ(Site.Line, 12u);
  EXPECT_EQ(Site.Function, "_Z6workeri");
  EXPECT_EQ(Site.ModuleTextAddr, 0x401234u);
  ASSERT_EQ(Site.InlinedAt.size(), 1u);
  EXPECT_EQ(Site.InlinedAt[0].Function, "_Z5outerv");
  EXPECT_EQ(Site.InlinedAt[0].File, "outer.cpp");
  EXPECT_EQ(Site.InlinedAt[0].Dir, "/inc");
  EXPECT_EQ(Site.InlinedAt[0].Line, 30u);
  EXPECT_EQ(Site.InlinedAt[0].Column, 4u);

  WarningInfo Warning;
  ASSERT_TRUE(decodePayload(Records[3].Payload, Warning));
  EXPECT_EQ(Warning.Message, "live table full");
  EXPECT_EQ(Records[4].Type, log::RecordType::Padding);

  ProcessEndInfo End;
  ASSERT_TRUE(decodePayload(Records[5].Payload, End));
  EXPECT_EQ(End.Fixed.dropped_records, 3u);
  EXPECT_EQ(End.Fixed.untracked_samples, 4u);

  ThreadRunningInfo Running;
  ASSERT_EQ(Records[6].Type, log::RecordType::ThreadRunning);
  ASSERT_TRUE(decodePayload(Records[6].Payload, Running));
  EXPECT_EQ(Running.Fixed.thread_id, 5u);
  EXPECT_EQ(Running.Fixed.os_tid, 4245u);
  EXPECT_EQ(Running.Fixed.monotonic_ns, TestLogWriter::StartMonotonic + 4999);
  EXPECT_EQ(Running.Fixed.cpu_user_ns, 700u);
  EXPECT_EQ(Running.Fixed.cpu_system_ns, 800u);
  EXPECT_FALSE(decodePayload(Records[6].Payload.drop_back(1), Running));
}

TEST(LogReader, ProcessEndCarriesWhatItsMinorVersionAppended) {
  log::ThreadTotals Unlogged{7, 700};
  log::HeapCounts Heap{};
  Heap.peak_chunk_bytes = 9000;
  Heap.peak_blocks = 90;
  log::HeapAtExit AtExit{};
  AtExit.chunk_bytes = 5040;
  AtExit.blocks = 5;
  AtExit.uncertainty = 256;
  auto EndOf = [](const TestLogWriter &W) {
    LogFile File = scanBytes(W.Bytes);
    EXPECT_TRUE(File.Usable) << joinDiags(File);
    std::vector<RecordView> Records = allRecords(File);
    EXPECT_EQ(Records.size(), 1u);
    ProcessEndInfo End;
    EXPECT_TRUE(!Records.empty() && decodePayload(Records[0].Payload, End));
    return std::make_pair(
        End, Records.empty() ? std::vector<uint8_t>()
                             : std::vector<uint8_t>(Records[0].Payload.begin(),
                                                    Records[0].Payload.end()));
  };
  {
    // 2.6: the heap in use at exit after the heap counts.
    TestLogWriter W(log::FileKind::Process, 42);
    W.processEnd(TestLogWriter::StartMonotonic + 5000, 0, 0, Unlogged, Heap,
                 AtExit);
    auto [End, Payload] = EndOf(W);
    ASSERT_TRUE(End.Heap.has_value());
    EXPECT_EQ(End.Heap->peak_chunk_bytes, 9000);
    ASSERT_TRUE(End.HeapAtExit.has_value());
    EXPECT_EQ(End.HeapAtExit->chunk_bytes, 5040);
    EXPECT_EQ(End.HeapAtExit->blocks, 5);
    EXPECT_EQ(End.HeapAtExit->uncertainty, 256u);
    // Cut inside the appended field: the record still decodes, without it
    // (a reader cannot tell a cut field from an older writer's record, and
    // the record's CRC vouches for what is there).
    ProcessEndInfo Cut;
    llvm::ArrayRef<uint8_t> Bytes(Payload);
    ASSERT_TRUE(decodePayload(Bytes.drop_back(1), Cut));
    EXPECT_TRUE(Cut.Heap.has_value());
    EXPECT_FALSE(Cut.HeapAtExit.has_value());
  }
  {
    // 2.5 and before (2.2 on): the heap counts, not the heap at exit.
    TestLogWriter W(log::FileKind::Process, 42);
    W.processEnd(TestLogWriter::StartMonotonic + 5000, 0, 0, Unlogged, Heap);
    auto [End, Payload] = EndOf(W);
    EXPECT_TRUE(End.Heap.has_value());
    EXPECT_FALSE(End.HeapAtExit.has_value());
  }
  {
    // 2.0: neither.
    TestLogWriter W(log::FileKind::Process, 42);
    W.processEnd(TestLogWriter::StartMonotonic + 5000);
    auto [End, Payload] = EndOf(W);
    EXPECT_FALSE(End.Unlogged.has_value());
    EXPECT_FALSE(End.Heap.has_value());
    EXPECT_FALSE(End.HeapAtExit.has_value());
  }
}

TEST(LogReader, RoundTripsThreadRecords) {
  // Version 1's Alloc and Free records (still read); Events records are
  // EventsRoundTripThroughTheSharedEncoder's.
  TestLogWriter W(log::FileKind::Thread, 42, 3, /*Major=*/1);
  W.threadStart(7, 4242, 100, "worker", 1, 0x55, 0x66, 0x401020, 0xBEEF000);
  W.threadName(0, 0xCAFE000, 150, "renamed");
  W.stack(0x77, {0x1000, 0x2000, 0x3000});
  W.alloc(9, 0, 48, 200, 2.5, MSC_KIND_INDIRECT, 0x77, log::AllocUntracked);
  W.free(9, 300);
  W.threadEnd(7, 400, 11, 22);

  LogFile File = scanBytes(W.Bytes);
  ASSERT_TRUE(File.Usable);
  EXPECT_EQ(File.Header.slot, 3u);
  std::vector<RecordView> Records = allRecords(File);
  ASSERT_EQ(Records.size(), 6u);

  ThreadStartInfo Start;
  ASSERT_TRUE(decodePayload(Records[0].Payload, Start));
  EXPECT_EQ(Start.Fixed.thread_id, 7u);
  EXPECT_EQ(Start.Fixed.os_tid, 4242u);
  EXPECT_EQ(Start.Fixed.parent_thread_id, 1u);
  EXPECT_EQ(Start.Fixed.spawn_site, 0x55u);
  EXPECT_EQ(Start.Fixed.monotonic_ns, 100u);
  EXPECT_EQ(Start.Fixed.pthread_handle, 0xBEEF000u);
  EXPECT_EQ(Start.Fixed.spawn_stack_id, 0x66u);
  EXPECT_EQ(Start.Fixed.creator_pc, 0x401020u);
  EXPECT_EQ(Start.Name, "worker");

  ThreadNameInfo Name;
  ASSERT_TRUE(decodePayload(Records[1].Payload, Name));
  EXPECT_EQ(Name.ThreadId, 0u);
  EXPECT_EQ(Name.PthreadHandle, 0xCAFE000u);
  EXPECT_EQ(Name.MonotonicNs, 150u);
  EXPECT_EQ(Name.Name, "renamed");
  // The fixed part is required; a name running past the payload is damage.
  EXPECT_FALSE(decodePayload(Records[1].Payload.take_front(20), Name));
  EXPECT_FALSE(decodePayload(Records[1].Payload.drop_back(1), Name));

  StackInfo Stack;
  ASSERT_TRUE(decodePayload(Records[2].Payload, Stack));
  EXPECT_EQ(Stack.Id, 0x77u);
  EXPECT_EQ(Stack.Frames, (std::vector<uint64_t>{0x1000, 0x2000, 0x3000}));

  log::AllocRecord Alloc;
  ASSERT_TRUE(decodePayload(Records[3].Payload, Alloc));
  EXPECT_EQ(Alloc.sample_id, 9u);
  EXPECT_EQ(Alloc.size, 48u);
  EXPECT_EQ(Alloc.weight, 2.5);
  EXPECT_EQ(Alloc.kind, uint32_t(MSC_KIND_INDIRECT));
  EXPECT_EQ(Alloc.stack_id, 0x77u);
  EXPECT_EQ(Alloc.flags, uint32_t(log::AllocUntracked));

  log::FreeRecord Free;
  ASSERT_TRUE(decodePayload(Records[4].Payload, Free));
  EXPECT_EQ(Free.sample_id, 9u);
  EXPECT_EQ(Free.monotonic_ns, 300u);

  ThreadEndInfo End;
  ASSERT_TRUE(decodePayload(Records[5].Payload, End));
  EXPECT_EQ(End.Fixed.cpu_user_ns, 11u);
  EXPECT_EQ(End.Fixed.cpu_system_ns, 22u);
}

TEST(LogReader, ZeroTailEndsTheLogSilently) {
  TestLogWriter W = threadLog(3);
  W.Bytes.resize(W.Bytes.size() + 4096, 0);
  LogFile File = scanBytes(W.Bytes);
  EXPECT_TRUE(File.Diags.empty()) << joinDiags(File);
  EXPECT_EQ(File.RecordCount, 4u);
}

TEST(LogReader, UnknownRecordTypeWithValidCrcIsSkippedSilently) {
  // A newer minor version may add record types; they are framed and
  // checksummed, so a reader skips them without calling them damage.
  TestLogWriter W = threadLog(2);
  uint8_t Future[12] = {1, 2, 3};
  W.record(static_cast<log::RecordType>(200), Future, sizeof(Future));
  LogFile Baseline = scanBytes(threadLog(2).Bytes);
  LogFile File = scanBytes(W.Bytes);
  EXPECT_TRUE(File.Diags.empty()) << joinDiags(File);
  EXPECT_EQ(File.RecordCount, Baseline.RecordCount);
}

TEST(LogReader, TruncatedTailKeepsEverythingBefore) {
  TestLogWriter W = threadLog(5);
  size_t LastOffset = W.Offsets.back();
  W.Bytes.resize(LastOffset + 20); // cut inside the last Alloc
  LogFile File = scanBytes(W.Bytes, "t0.log");
  ASSERT_TRUE(File.Usable);
  EXPECT_EQ(File.RecordCount, 5u); // ThreadStart + 4 allocs
  ASSERT_EQ(File.Diags.size(), 1u);
  EXPECT_EQ(File.Diags[0].Level, Severity::Warning);
  EXPECT_NE(File.Diags[0].Message.find("t0.log"), std::string::npos);
  EXPECT_NE(File.Diags[0].Message.find("truncated"), std::string::npos);
  EXPECT_NE(File.Diags[0].Message.find("offset " + std::to_string(LastOffset)),
            std::string::npos)
      << File.Diags[0].Message;
}

// A process that dies while a thread appends an event leaves that event's
// bytes after the open Events record, unpublished, and zeros after them.
TEST(LogReader, EventCutShortByTheProcessDyingIsReportedAsSuch) {
  TestLogWriter W = threadLog(3);
  const uint8_t Event[] = {0x01, 0x5a, 0x01, 0x00, 0x32, 0x20};
  W.Bytes.insert(W.Bytes.end(), Event, Event + sizeof(Event));
  W.Bytes.resize(W.Bytes.size() / 4096 * 4096 + 8192, 0); // whole pages
  LogFile File = scanBytes(W.Bytes, "t2.log");
  EXPECT_EQ(File.RecordCount, 4u);
  EXPECT_EQ(File.SkippedBytes, sizeof(Event));
  ASSERT_EQ(File.Diags.size(), 1u) << joinDiags(File);
  EXPECT_NE(File.Diags[0].Message.find("cut short"), std::string::npos)
      << File.Diags[0].Message;

  // Non-zero bytes further than one event's reach are damage.
  W.Bytes[W.Bytes.size() - 2048] = 0x7f;
  EXPECT_EQ(W.Bytes.size() % 4096, 0u);
  LogFile Damaged = scanBytes(W.Bytes, "t2.log");
  EXPECT_EQ(Damaged.RecordCount, 4u);
  ASSERT_FALSE(Damaged.Diags.empty());
  EXPECT_EQ(Damaged.Diags[0].Message.find("cut short"), std::string::npos)
      << Damaged.Diags[0].Message;
}

// A record is written payload first: a zero header with part of a payload
// after it, then zeros, is the record being written when the process died.
TEST(LogReader, RecordWithUnpublishedHeaderIsCutShort) {
  TestLogWriter W = threadLog(2);
  W.Bytes.resize(W.Bytes.size() + sizeof(log::RecordHeader), 0);
  const uint8_t Payload[] = {9, 8, 7, 6, 5, 4, 3, 2, 1};
  W.Bytes.insert(W.Bytes.end(), Payload, Payload + sizeof(Payload));
  W.Bytes.resize(W.Bytes.size() / 4096 * 4096 + 8192, 0);
  LogFile File = scanBytes(W.Bytes);
  EXPECT_EQ(File.RecordCount, 3u);
  ASSERT_EQ(File.Diags.size(), 1u) << joinDiags(File);
  EXPECT_NE(File.Diags[0].Message.find("cut short"), std::string::npos)
      << File.Diags[0].Message;
}

TEST(LogReader, FileShorterThanHeaderIsTruncated) {
  TestLogWriter W = threadLog(0);
  W.Bytes.resize(30);
  LogFile File = scanBytes(W.Bytes);
  EXPECT_FALSE(File.Usable);
  ASSERT_EQ(File.Diags.size(), 1u);
  EXPECT_NE(File.Diags[0].Message.find("truncated"), std::string::npos);
  EXPECT_NE(File.Diags[0].Message.find("offset 30"), std::string::npos);
}

TEST(LogReader, CorruptedByteResyncsToTheNextRecord) {
  TestLogWriter W = threadLog(6);
  size_t Bad = W.Offsets[3]; // the third Alloc
  W.Bytes[Bad + 20] ^= 0x40; // a payload byte
  LogFile File = scanBytes(W.Bytes, "t1.log");
  ASSERT_TRUE(File.Usable);
  EXPECT_EQ(File.RecordCount, 6u); // only the damaged record is lost
  EXPECT_EQ(File.SkippedBytes, W.Offsets[4] - Bad);
  ASSERT_EQ(File.Diags.size(), 1u);
  const std::string &Message = File.Diags[0].Message;
  EXPECT_NE(Message.find("t1.log"), std::string::npos);
  EXPECT_NE(Message.find("CRC mismatch"), std::string::npos);
  EXPECT_NE(Message.find("offset " + std::to_string(Bad)), std::string::npos)
      << Message;

  std::vector<RecordView> Records = allRecords(File);
  ASSERT_EQ(Records.size(), 6u);
  ASSERT_EQ(Records[3].Type, log::RecordType::Events);
  EXPECT_EQ(eventSampleId(Records[3].Payload), 4u); // 3 is gone, 4..6 kept
  EXPECT_EQ(eventSampleId(Records[5].Payload), 6u);
}

TEST(LogReader, CorruptedSizeFieldResyncs) {
  TestLogWriter W = threadLog(4);
  size_t Bad = W.Offsets[1];
  W.Bytes[Bad + 3] = 0xFF; // payload_size high byte: runs past the file
  LogFile File = scanBytes(W.Bytes);
  ASSERT_TRUE(File.Usable);
  EXPECT_EQ(File.RecordCount, 4u);
  ASSERT_EQ(File.Diags.size(), 1u);
  EXPECT_NE(File.Diags[0].Message.find("corrupted"), std::string::npos);
}

/// A log of format version \p Major.\p Minor is unusable, with one
/// diagnostic of \p Level that says \p Says.
void expectVersionRejected(uint16_t Major, uint16_t Minor, Severity Level,
                           const std::string &Says) {
  TestLogWriter W = threadLog(2);
  W.header().version_major = Major;
  W.header().version_minor = Minor;
  LogFile File = scanBytes(W.Bytes, "t0.log");
  EXPECT_FALSE(File.Usable);
  ASSERT_EQ(File.Diags.size(), 1u);
  EXPECT_EQ(File.Diags[0].Level, Level);
  EXPECT_NE(File.Diags[0].Message.find(Says), std::string::npos)
      << File.Diags[0].Message;
}

TEST(LogReader, NewerMajorVersionIsRejected) {
  expectVersionRejected(6, 0, Severity::Error,
                        "log format version 6.0 is newer than this "
                        "memscope-merge supports (5.x)");
}

TEST(LogReader, OlderMajorVersionIsRejectedNamingWhatIsRead) {
  expectVersionRejected(0, 0, Severity::Warning,
                        "log format version 0.0 is older than this "
                        "memscope-merge reads (1.x to 5.x)");
}

TEST(LogReader, EventsRoundTripThroughTheSharedEncoder) {
  // Every field at awkward values: id jumps both ways, weights, untracked
  // blocks, huge sizes and time steps, frees of other threads' blocks, and
  // exact mode's addresses (a custom object's tag bit, steps both ways, an
  // odd address between aligned ones).
  uint8_t Buffer[4096];
  log::EventsHeader Header{123456789, (uint64_t(3) << 40) | 7};
  memcpy(Buffer, &Header, sizeof(Header));
  log::EventsState State;
  State.start(Header);
  uint8_t *Out = Buffer + sizeof(Header);
  Out = log::encodeKeyEvent(Out, 0, ~uint64_t(0), 0x1234, 7);
  struct Expected {
    log::EventTag Type;
    uint64_t Time, Id, Size;
    double Weight;
    uint32_t Flags;
    uint64_t Address = 0;
  };
  std::vector<Expected> Events = {
      {log::kEventAlloc, 123456789, (uint64_t(3) << 40) | 8, 1, 1.0, 0},
      {log::kEventAlloc, 123456790, (uint64_t(3) << 40) | 9, ~uint64_t(0), 2.5,
       log::AllocUntracked},
      {log::kEventFree, 123456790, (uint64_t(9) << 40) | 1, 0, 1.0, 0},
      {log::kEventAlloc, 999999999999, (uint64_t(3) << 40) | 100, 64, 1.0, 0},
      {log::kEventAlloc, 999999999999, (uint64_t(3) << 40) | 2, 64, 1.0, 0},
      {log::kEventFree, 1000000000000, (uint64_t(3) << 40) | 100, 0, 1.0, 0},
      {log::kEventAlloc, 1000000000001, (uint64_t(3) << 40) | 101, 48, 1.0,
       log::AllocFreedByAddress, 0x7f0000001000},
      {log::kEventAlloc, 1000000000002, (uint64_t(3) << 40) | 102, 48, 1.0,
       log::AllocFreedByAddress, 0x7f0000000fc0},
      {log::kEventFreeAddress, 1000000000003, 0, 0, 1.0, 0, 0x7f0000001000},
      {log::kEventAlloc, 1000000000004, (uint64_t(3) << 40) | 103, 8, 1.0,
       log::AllocFreedByAddress | log::AllocUntracked,
       MEMSCOPE_CUSTOM_PTR_TAG | 0x7f0000001000},
      {log::kEventFreeAddress, 1000000000004, 0, 0, 1.0, 0, 0x13},
      {log::kEventFreeAddress, 1000000000005, 0, 0, 1.0, 0, 0x7f0000001000},
  };
  for (const Expected &E : Events)
    Out = E.Type == log::kEventAlloc
              ? log::encodeAllocEvent(Out, State, 0, E.Id, E.Size, E.Time,
                                      E.Weight, E.Flags, E.Address)
          : E.Type == log::kEventFree
              ? log::encodeFreeEvent(Out, State, 0, E.Id, E.Time)
              : log::encodeFreeAddressEvent(Out, State, 0, E.Address, E.Time);
  size_t Size = Out - Buffer;
  // A small allocation costs a few bytes; one 64 bytes from the last event's
  // address, two more.
  EXPECT_LE(Size - sizeof(Header), 41u + 80u + 40u);

  OneBlockDecoder Decoder(Buffer, Size);
  log::DecodedEvent Event;
  ASSERT_EQ(Decoder.next(Event), log::EventsDecoder::Status::Event);
  EXPECT_EQ(Event.type, log::kEventKey);
  EXPECT_EQ(Event.site_id, ~uint64_t(0));
  EXPECT_EQ(Event.stack_id, 0x1234u);
  EXPECT_EQ(Event.kind, 7u);
  for (const Expected &E : Events) {
    ASSERT_EQ(Decoder.next(Event), log::EventsDecoder::Status::Event);
    EXPECT_EQ(Event.type, E.Type);
    EXPECT_EQ(Event.monotonic_ns, E.Time);
    EXPECT_EQ(Event.sample_id, E.Id);
    EXPECT_EQ(Event.address, E.Address);
    if (E.Type == log::kEventAlloc) {
      EXPECT_EQ(Event.size, E.Size);
      EXPECT_EQ(Event.weight, E.Weight);
      EXPECT_EQ(Event.flags, E.Flags);
    }
  }
  EXPECT_EQ(Decoder.next(Event), log::EventsDecoder::Status::End);

  // Every truncation ends in Malformed or End, never past the buffer.
  for (size_t Cut = 0; Cut < Size; ++Cut) {
    OneBlockDecoder Short(Buffer, Cut);
    size_t Decoded = 0;
    log::EventsDecoder::Status Status;
    while ((Status = Short.next(Event)) == log::EventsDecoder::Status::Event)
      ++Decoded;
    EXPECT_LE(Decoded, Events.size() + 1);
    if (Cut < sizeof(Header))
      EXPECT_EQ(Status, log::EventsDecoder::Status::Malformed);
  }
}

TEST(LogReader, EventsWithFlagsTheirTypeDoesNotHaveAreMalformed) {
  // An address in 16-byte units needs an address; a FreeAddress has no
  // flag but that one. And the longest Alloc fits kMaxEventSize.
  for (uint8_t Tag : {uint8_t(log::kEventAlloc | log::kEventAddressBy16),
                      uint8_t(log::kEventFreeAddress | log::kEventWeight),
                      uint8_t(log::kEventFreeAddress | log::kEventAddress)}) {
    uint8_t Buffer[64] = {};
    log::EventsHeader Header{1, 1};
    memcpy(Buffer, &Header, sizeof(Header));
    uint8_t *Out = Buffer + sizeof(Header);
    Out = log::encodeKeyEvent(Out, 0, 1, 0, 0);
    *Out++ = Tag;
    for (int I = 0; I < 4; ++I)
      *Out++ = 1; // time, key, size or address, address
    OneBlockDecoder Decoder(Buffer, Out - Buffer);
    log::DecodedEvent Event;
    ASSERT_EQ(Decoder.next(Event), log::EventsDecoder::Status::Event);
    EXPECT_EQ(Decoder.next(Event), log::EventsDecoder::Status::Malformed)
        << "tag " << int(Tag);
  }
  uint8_t Longest[128];
  log::EventsState State;
  State.start({0, 0});
  size_t Size =
      log::encodeAllocEvent(Longest, State, log::kMaxEventKeys - 1, 1ull << 63,
                            ~uint64_t(0), ~uint64_t(0), 2.5,
                            log::AllocFreedByAddress | log::AllocUntracked,
                            0x8000000000000001ull) -
      Longest;
  EXPECT_LE(Size, log::kMaxEventSize);
  State.start({0, 0});
  Size = log::encodeAllocEvent(Longest, State, log::kMaxEventKeys - 1,
                               1ull << 63, ~uint64_t(0), ~uint64_t(0), 2.5,
                               log::AllocFreedByAddress | log::AllocUntracked,
                               0x8000000000000001ull, ~uint64_t(0)) -
         Longest;
  EXPECT_LE(Size, log::kMaxEventSize);
}

/// Encodes Alloc events of \p Sizes, each weighted byteSampleWeight(size,
/// interval) of its interval (0: weight 1) and left out, in one Events
/// block; returns the block and each event's length.
static std::vector<uint8_t>
derivedWeightBlock(const std::vector<std::pair<uint64_t, uint64_t>> &Allocs,
                   std::vector<size_t> &Lengths) {
  std::vector<uint8_t> Block(sizeof(log::EventsHeader) + log::kMaxKeyEventSize +
                             Allocs.size() * log::kMaxEventSize);
  log::EventsHeader Header{1000, 0};
  memcpy(Block.data(), &Header, sizeof(Header));
  log::EventsState State;
  State.start(Header);
  uint8_t *Out = log::encodeKeyEvent(Block.data() + sizeof(Header), 0, 7, 0, 0);
  uint64_t Id = 0;
  for (auto [Size, Interval] : Allocs) {
    double Weight = Interval ? log::byteSampleWeight(Size, Interval) : 1.0;
    ++Id;
    uint8_t *End = log::encodeAllocEvent(Out, State, 0, Id, Size, 2000 + Id,
                                         Weight, 0, 0, Interval);
    Lengths.push_back(End - Out);
    Out = End;
  }
  Block.resize(Out - Block.data());
  return Block;
}

TEST(LogReader, ByteSampleWeightsAreDerivedNotWritten) {
  // Version 4: a byte sample's weight follows from its size and interval.
  // The interval is written once per Events block and again when it
  // changes; the reader derives the very double the runtime weighted with.
  const std::vector<std::pair<uint64_t, uint64_t>> Allocs = {
      {100, 4096},     {5000, 4096}, {7, 262144},
      {40000, 262144}, {1, 0},       {100, 4096}};
  std::vector<size_t> Lengths;
  std::vector<uint8_t> Block = derivedWeightBlock(Allocs, Lengths);
  // tag, time, key, size: no weight bytes where the interval is the last
  // one's, a 2- or 3-byte varint where it is new (not an f64's 8). Where
  // the interval is the last one's, the short form leaves out the key too
  // (version 5): the allocations are all of one key.
  EXPECT_EQ(Lengths, (std::vector<size_t>{7, 4, 7, 5, 3, 6}));
  OneBlockDecoder Decoder(Block.data(), Block.size());
  log::DecodedEvent Event;
  ASSERT_EQ(Decoder.next(Event), log::EventsDecoder::Status::Event); // key
  for (auto [Size, Interval] : Allocs) {
    ASSERT_EQ(Decoder.next(Event), log::EventsDecoder::Status::Event);
    EXPECT_EQ(Event.size, Size);
    EXPECT_EQ(Event.weight,
              Interval ? 1.0 / -std::expm1(-double(Size) / double(Interval))
                       : 1.0)
        << Size << " at " << Interval;
  }
  EXPECT_EQ(Decoder.next(Event), log::EventsDecoder::Status::End);
}

TEST(LogReader, DerivedWeightsWithoutTheirIntervalAreMalformed) {
  // A derived weight needs its block's interval, and a size (the weight of
  // zero bytes would be infinite): a writer writes neither case.
  for (auto [Tag, Size] :
       {std::pair<uint8_t, uint8_t>{log::kEventAlloc | log::kEventDerivedWeight,
                                    5},
        {log::kEventAlloc | log::kEventDerivedWeight | log::kEventWeight, 0}}) {
    uint8_t Buffer[64] = {};
    log::EventsHeader Header{1, 1};
    memcpy(Buffer, &Header, sizeof(Header));
    uint8_t *Out = Buffer + sizeof(Header);
    Out = log::encodeKeyEvent(Out, 0, 1, 0, 0);
    *Out++ = Tag;
    *Out++ = 1;    // time
    *Out++ = 0;    // key
    *Out++ = Size; // size
    *Out++ = 64;   // the interval, when the tag says it follows
    OneBlockDecoder Decoder(Buffer, Out - Buffer);
    log::DecodedEvent Event;
    ASSERT_EQ(Decoder.next(Event), log::EventsDecoder::Status::Event);
    EXPECT_EQ(Decoder.next(Event), log::EventsDecoder::Status::Malformed)
        << "tag " << int(Tag) << " size " << int(Size);
  }
}

TEST(LogReader, RepeatedKeysSizesAndIdsAreLeftOut) {
  // Version 5: a loop allocating at two sites in turn, with sizes that
  // repeat per site, each block freed at once. After the first of each,
  // an allocation is a tag and a time, and so is a free; a size repeats
  // per key, not only the last one.
  log::EventsHeader Header{1000, 0};
  std::vector<uint8_t> Block(4096);
  memcpy(Block.data(), &Header, sizeof(Header));
  log::EventsState State;
  State.start(Header);
  std::vector<log::KeySize> Sizes(4);
  uint8_t *Out = Block.data() + sizeof(Header);
  Out = log::encodeKeyEvent(Out, 0, 7, 0, 0);
  Out = log::encodeKeyEvent(Out, 1, 8, 0, 0);
  Out = log::encodeKeyEvent(Out, 2, 9, 0, 0); // the freeing site
  struct Step {
    uint64_t Key, Size;
    size_t AllocBytes, FreeBytes;
  };
  // Key 0 then key 1: both new. Key 0 again: its size repeats, not the
  // last allocation's key; then a new size, then key 1 at key 0's size.
  const std::vector<Step> Steps = {
      {0, 24, 4, 3},   {1, 200, 5, 2},  {0, 24, 3, 2}, {0, 24, 2, 2},
      {0, 4000, 4, 2}, {1, 4000, 5, 2}, {1, 200, 4, 2}};
  uint64_t Id = 0, Time = 1000;
  std::vector<std::pair<uint64_t, uint64_t>> Expected; // key, size
  for (const Step &S : Steps) {
    ++Id;
    Time += 50;
    bool Same = log::repeatsSize(Sizes[S.Key], S.Size, 1);
    uint8_t *End = log::encodeAllocEvent(Out, State, S.Key, Id, S.Size, Time,
                                         1.0, 0, 0, 0, Same);
    EXPECT_EQ(size_t(End - Out), S.AllocBytes) << "allocation " << Id;
    Out = End;
    End = log::encodeFreeEvent(Out, State, 2, Id, Time + 1);
    EXPECT_EQ(size_t(End - Out), S.FreeBytes) << "free " << Id;
    Out = End;
    Expected.push_back({S.Key, S.Size});
  }
  Block.resize(Out - Block.data());
  OneBlockDecoder Decoder(Block.data(), Block.size());
  log::DecodedEvent Event;
  for (int I = 0; I < 3; ++I)
    ASSERT_EQ(Decoder.next(Event), log::EventsDecoder::Status::Event);
  for (size_t I = 0; I < Expected.size(); ++I) {
    ASSERT_EQ(Decoder.next(Event), log::EventsDecoder::Status::Event);
    EXPECT_EQ(Event.type, log::kEventAlloc);
    EXPECT_EQ(Event.key, Expected[I].first);
    EXPECT_EQ(Event.size, Expected[I].second) << "allocation " << I + 1;
    EXPECT_EQ(Event.sample_id, I + 1);
    EXPECT_EQ(Event.monotonic_ns, 1050 + 50 * I);
    ASSERT_EQ(Decoder.next(Event), log::EventsDecoder::Status::Event);
    EXPECT_EQ(Event.type, log::kEventFree);
    EXPECT_EQ(Event.key, 2u);
    EXPECT_EQ(Event.sample_id, I + 1);
  }
  EXPECT_EQ(Decoder.next(Event), log::EventsDecoder::Status::End);
}

TEST(LogReader, ASizeRepeatsOnlyWithinItsBlock) {
  // Each block decodes on its own: a size from the file's previous block
  // cannot be repeated, while one from this block can.
  std::vector<log::KeySize> Sizes(1);
  uint8_t First[64], Second[64];
  log::EventsHeader Header{1, 0};
  for (uint8_t *Buffer : {First, Second}) {
    memcpy(Buffer, &Header, sizeof(Header));
    uint8_t *Out = Buffer + sizeof(Header);
    *Out++ = log::kEventKey | log::kEventSameSize; // short Alloc
    *Out++ = 1;                                    // time
    *Out++ = 0;                                    // key
  }
  // First: a long Alloc of 48 bytes precedes it.
  uint8_t Long[] = {log::kEventAlloc, 1, 0, 48};
  std::vector<uint8_t> A(First, First + sizeof(Header));
  A.insert(A.end(), Long, Long + sizeof(Long));
  A.insert(A.end(), First + sizeof(Header), First + sizeof(Header) + 3);
  log::DecodedEvent Event;
  log::EventsDecoder One(A.data(), A.size(), 1);
  ASSERT_EQ(One.next(Event, Sizes.data(), Sizes.size()),
            log::EventsDecoder::Status::Event);
  ASSERT_EQ(One.next(Event, Sizes.data(), Sizes.size()),
            log::EventsDecoder::Status::Event);
  EXPECT_EQ(Event.size, 48u);
  EXPECT_EQ(Event.sample_id, 2u);
  EXPECT_EQ(One.next(Event, Sizes.data(), Sizes.size()),
            log::EventsDecoder::Status::End);
  log::EventsDecoder Two(Second, sizeof(Header) + 3, 2);
  EXPECT_EQ(Two.next(Event, Sizes.data(), Sizes.size()),
            log::EventsDecoder::Status::Malformed);
  // A block number of 0 is none.
  log::EventsDecoder Zero(A.data(), A.size(), 0);
  EXPECT_EQ(Zero.next(Event, Sizes.data(), Sizes.size()),
            log::EventsDecoder::Status::Malformed);
}

TEST(LogReader, WhatIsLeftOutMustHaveBeenThere) {
  // A key, a size or an id left out before the block has one, and flags
  // the short Alloc or a Free does not have: not what a writer writes.
  const std::vector<std::vector<uint8_t>> Bad = {
      {log::kEventKey | log::kEventSameKey, 1, 24},      // no allocation yet
      {log::kEventKey | log::kEventSameSize, 1, 0},      // no size yet
      {log::kEventKey | log::kEventSameSize | 16, 1, 0}, // flag 16
      {log::kEventKey | log::kEventAddressBy16, 1, 0, 24, 1},
      {log::kEventFree | log::kEventSameKey, 1, 0}, // no free yet
      {log::kEventFree | 16, 1, 0, 0},              // flag 16
      {log::kEventFreeAddress | log::kEventSameKey, 1, 2},
      {log::kEventFreeAddress | log::kEventLastId, 1, 0, 2},
  };
  for (const std::vector<uint8_t> &Event : Bad) {
    std::vector<uint8_t> Buffer(sizeof(log::EventsHeader));
    log::EventsHeader Header{1, 1};
    memcpy(Buffer.data(), &Header, sizeof(Header));
    uint8_t Key[16];
    Buffer.insert(Buffer.end(), Key, log::encodeKeyEvent(Key, 0, 1, 0, 0));
    Buffer.insert(Buffer.end(), Event.begin(), Event.end());
    OneBlockDecoder Decoder(Buffer.data(), Buffer.size());
    log::DecodedEvent Decoded;
    ASSERT_EQ(Decoder.next(Decoded), log::EventsDecoder::Status::Event);
    EXPECT_EQ(Decoder.next(Decoded), log::EventsDecoder::Status::Malformed)
        << "tag " << int(Event[0]);
  }
}

TEST(LogReader, NewerMinorVersionIsAccepted) {
  TestLogWriter W = threadLog(2);
  W.header().version_minor = 7;
  LogFile File = scanBytes(W.Bytes);
  EXPECT_TRUE(File.Usable);
  EXPECT_EQ(File.RecordCount, 3u);
}

TEST(LogReader, BadMagicIsSkipped) {
  TestLogWriter W = threadLog(2);
  memcpy(W.header().magic, "NOTMSCOP", 8);
  LogFile File = scanBytes(W.Bytes);
  EXPECT_FALSE(File.Usable);
  ASSERT_EQ(File.Diags.size(), 1u);
  EXPECT_EQ(File.Diags[0].Level, Severity::Warning);
  EXPECT_NE(File.Diags[0].Message.find("bad magic"), std::string::npos);
}

TEST(LogReader, HostileLengthsAreRejected) {
  // A stack deeper than kMaxStackDepth.
  log::StackRecordHeader Deep{1, log::kMaxStackDepth + 1, 0};
  Payload DeepStack;
  DeepStack.pod(Deep);
  for (uint32_t I = 0; I <= log::kMaxStackDepth; ++I)
    DeepStack.pod(uint64_t(I));
  StackInfo Stack;
  EXPECT_FALSE(decodePayload(DeepStack.Data, Stack));

  // A depth that does not fit the payload.
  log::StackRecordHeader Short{1, 10, 0};
  Payload ShortStack;
  ShortStack.pod(Short).pod(uint64_t(1));
  EXPECT_FALSE(decodePayload(ShortStack.Data, Stack));

  // A string length past the end of the payload.
  log::SiteRecord Site{};
  Payload BadString;
  BadString.pod(Site).pod(uint16_t(60000)).pod(uint32_t(0));
  SiteInfo Decoded;
  EXPECT_FALSE(decodePayload(BadString.Data, Decoded));

  // An inline depth that cannot fit.
  Site.inline_depth = 0xFFFFFFFF;
  Payload HugeDepth;
  HugeDepth.pod(Site).str("f").str("d").str("fn");
  EXPECT_FALSE(decodePayload(HugeDepth.Data, Decoded));

  // A fixed record shorter than its struct.
  uint32_t Tiny = 5;
  log::AllocRecord Alloc;
  EXPECT_FALSE(decodePayload(
      llvm::ArrayRef<uint8_t>(reinterpret_cast<uint8_t *>(&Tiny), 4), Alloc));
}

} // namespace

namespace {

TEST(LogReader, HostileDamageDoesNotHang) {
  // Every 8 bytes look like an Alloc header with a 4.8 KB payload; a naive
  // resync would compute ~250k CRCs of 4.8 KB each.
  TestLogWriter W = threadLog(1);
  W.Bytes.resize(W.Bytes.size() + (2 << 20), 0x13);
  LogFile File = scanBytes(W.Bytes);
  EXPECT_TRUE(File.Usable);
  EXPECT_EQ(File.RecordCount, 2u);
  EXPECT_FALSE(File.Diags.empty());
}

} // namespace
