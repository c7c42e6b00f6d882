//===-- StreamFuzzer.cpp - libFuzzer harness for the merge's stream -------===//
//
// The log-reader harness sees the records; this one sees what the merge
// makes of valid records in any order. The input is a program of 4-byte
// operations that three threads' logs are written from, with the runtime's
// own encoders (TestLogWriter.h): allocations and frees by sample id and by
// address over a few ids and addresses, times that step forward or back by
// less than the merge's clock slack, thread starts, ends and renames,
// stacks; now and then DenseMap's reserved keys as an address or an id.
// analyze() then runs on them (ThreadLogDecoder, ProcessStreamer and
// everything after) with a window picked by the first byte, in batches of a
// few events, decoded ahead and in the stream. It must not crash, hang or
// read out of bounds; what it reports must add up (no more frees and blocks
// live at exit than allocations, nothing negative or not finite), and be
// the same both ways.
//
//===----------------------------------------------------------------------===//
#include "Analysis.h"
#include "Report.h"
#include "TestLogWriter.h"

#include "llvm/Support/FileSystem.h"

#include <cmath>
#include <cstdlib>
#include <string>

using namespace memscope;
using namespace memscope::merge;
using namespace memscope::merge::test;

namespace {

constexpr uint32_t kPid = 100;
constexpr uint64_t kSiteA = 0x1111111111111111ull;
constexpr uint64_t kSiteB = 0x2222222222222222ull;

/// The folder the logs are written to, made once.
const std::string &folder() {
  static const std::string Folder = [] {
    llvm::SmallString<128> Dir;
    if (llvm::sys::fs::createUniqueDirectory("memscope-stream-fuzz", Dir))
      abort();
    std::string App = std::string(Dir) + "/app.100";
    if (llvm::sys::fs::create_directory(App))
      abort();
    return App;
  }();
  return Folder;
}

bool finiteAndNotNegative(double Value) {
  return std::isfinite(Value) && Value >= -1e-6;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  if (Size < 1)
    return 0;
  uint8_t Setup = Data[0];
  bool Sampled = Setup & 1;
  TestLogWriter Process(log::FileKind::Process, kPid);
  Process.processInfo(
      kPid, Sampled ? log::SamplingMode::Bytes : log::SamplingMode::Exact,
      "/bin/app", Sampled ? 4096 : 0);
  Process.site(kSiteA, MSC_KIND_MALLOC, "a.cpp", 10, "worker");
  Process.site(kSiteB, MSC_KIND_NEW, "b.cpp", 20, "main");
  Process.processEnd(TestLogWriter::StartMonotonic + 100000000);
  Process.writeTo(folder() + "/process.log");

  TestLogWriter Threads[3] = {{log::FileKind::Thread, kPid, 0},
                              {log::FileKind::Thread, kPid, 1},
                              {log::FileKind::Thread, kPid, 2}};
  uint64_t Times[3] = {TestLogWriter::StartMonotonic + 10,
                       TestLogWriter::StartMonotonic + 10,
                       TestLogWriter::StartMonotonic + 10};
  uint64_t NextId[3] = {0, 0, 0};
  for (size_t I = 1; I + 4 <= Size; I += 4) {
    uint8_t Op = Data[I], A = Data[I + 1], B = Data[I + 2], C = Data[I + 3];
    unsigned T = Op % 3;
    TestLogWriter &W = Threads[T];
    // Mostly forward, sometimes back: within and beyond the merge's slack.
    uint64_t &Time = Times[T];
    Time += B;
    if (A & 0x80)
      Time -= std::min<uint64_t>(Time - TestLogWriter::StartMonotonic, 600);
    uint64_t Address = 0x10000 + (A & 15) * 16;
    uint64_t Site = (A & 16) ? kSiteA : kSiteB;
    uint64_t Id = (uint64_t(T) << 40) + (C & 31) + 1;
    // DenseMap's empty and tombstone keys, which no runtime gives out.
    if ((C & 0xE0) == 0xE0) {
      Address = ~0ull - (C & 1);
      Id = ~0ull - (B & 1);
    }
    switch ((Op / 3) % 8) {
    case 0:
      W.allocAt(Address, (uint64_t(T) << 40) + ++NextId[T], Site, B + 1, Time);
      break;
    case 1:
      W.freeAt(Address, Time, Site);
      break;
    case 2: {
      // A weight of 0 or below is refused by the merge (counted as 1).
      double Weight = (A & 32) ? double(C) / 8 : 1.0;
      uint32_t Flags = (A & 64) ? uint32_t(log::AllocUntracked) : 0;
      W.alloc(Id, Site, B, Time, Weight, MSC_KIND_MALLOC, C & 3, Flags);
      break;
    }
    case 3:
      W.free(Id, Time, Site);
      break;
    case 4:
      W.threadStart(T + 1 + (C & 1) * 3, 1000 + T, Time, "worker");
      break;
    case 5:
      W.threadEnd(T + 1, Time);
      break;
    case 6:
      W.stack(C & 3, {uint64_t(0x401000 + A), uint64_t(0x402000 + B)});
      break;
    case 7:
      W.threadName(0, TestLogWriter::handleOf(C % 4), Time, "renamed");
      break;
    }
  }
  for (unsigned T = 0; T < 3; ++T)
    Threads[T].writeTo(folder() + "/t" + std::to_string(T) + ".log");

  AnalysisOptions Options;
  Options.InputDir = llvm::sys::path::parent_path(folder()).str();
  Options.Symbolize = false;
  Options.Series = Setup & 4;
  if (Setup & 8)
    Options.From = *parseWindowBound("2us");
  if (Setup & 16)
    Options.To = *parseWindowBound("20us");
  // Batches of 1 to 8 events: the inputs are shorter than a default batch.
  Options.BatchEvents = 1 + (Setup >> 5);
  std::optional<nlohmann::ordered_json> First;
  for (bool Ahead : {true, false}) {
    Options.DecodeAhead = Ahead;
    Diagnostics Diags;
    llvm::Expected<Analysis> Result = analyze(Options, Diags);
    if (!Result) {
      llvm::consumeError(Result.takeError());
      if (First)
        abort(); // it analysed the same logs the other way
      return 0;
    }
    const AllocationStats &Stats = Result->Totals.Stats;
    for (double Figure :
         {Stats.Allocations, Stats.Bytes, Stats.Frees, Stats.FreedBytes,
          Stats.LiveAllocations, Stats.LiveBytes, Result->Totals.PeakLiveBytes})
      if (!finiteAndNotNegative(Figure))
        abort();
    // A block is freed, live at exit, or neither (a lost free's block, or
    // one of a process-lifetime's), never both.
    if (Stats.Frees + Stats.LiveAllocations > Stats.Allocations + 1e-6)
      abort();
    nlohmann::ordered_json Json = toJson(*Result);
    if (!First)
      First = std::move(Json);
    else if (Json != *First)
      abort(); // decoding ahead changed the analysis
  }
  return 0;
}
