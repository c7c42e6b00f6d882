//===- AnalysisTest.cpp - Merging and estimation on synthetic runs --------===//

#include "Analysis.h"
#include "Budgets.h"
#include "Compat.h"
#include "Report.h"
#include "SourcePaths.h"
#include "Symbolization.h"
#include "TestLogWriter.h"
#include "TestSupport.h"

#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"

#include "fmt/format.h"

#include "gtest/gtest.h"

#include <cmath>
#include <link.h>
#include <new>

using namespace memscope;
using namespace memscope::merge;
using namespace memscope::merge::test;

namespace {

/// A process.log for pid with sites A (malloc) and B (new).
TestLogWriter processLog(uint32_t Pid, bool Ended = true,
                         log::SamplingMode Mode = log::SamplingMode::Exact) {
  TestLogWriter W(log::FileKind::Process, Pid);
  W.processInfo(Pid, Mode, "/bin/app",
                Mode == log::SamplingMode::Bytes ? 4096 : 0);
  W.module("/nonexistent/app", 0x0, 0x1000, 0x9000, true);
  W.module("/nonexistent/libfoo.so", 0x7f0000000000, 0x7f0000001000,
           0x7f0000009000, false);
  W.site(SiteA, MSC_KIND_MALLOC, "a.cpp", 10, "_Z6workeri", {}, 0x1100);
  W.site(SiteB, MSC_KIND_NEW, "b.cpp", 20, "main", {}, 0x1200);
  if (Ended)
    W.processEnd(T0 + 100000);
  return W;
}

/// P/t0.log: thread 1 (tid 100) sampled one block of \p Size bytes of site
/// A at \p Weight, and ended with the runtime's exact \p Totals.
void writeMainThread(const std::string &P, uint64_t Size, double Weight,
                     log::ThreadTotals Totals) {
  TestLogWriter T(log::FileKind::Thread, 100, 0);
  T.threadStart(1, 100, T0 + 1);
  T.alloc(1, SiteA, Size, T0 + 10, Weight);
  T.threadEnd(1, T0 + 50, 0, 0, Totals);
  T.writeTo(P + "/t0.log");
}

TEST(Analysis, ExactCountsAndFrees) {
  TempDir Dir;
  std::string P = appFolder(Dir, processLog(100));
  TestLogWriter T(log::FileKind::Thread, 100);
  T.threadStart(1, 100, T0 + 1, "main");
  for (int I = 0; I < 10; ++I)
    T.alloc(I + 1, SiteA, 100, T0 + 10 + I);
  T.alloc(11, SiteB, 1500, T0 + 30, 1.0, MSC_KIND_NEW);
  for (int I = 0; I < 4; ++I)
    T.free(I + 1, T0 + 40 + I);
  T.threadEnd(1, T0 + 90, 5, 6);
  T.writeTo(P + "/t0.log");

  auto R = analyzeDir(Dir.path());
  ASSERT_ANALYZED(A, R);
  EXPECT_NO_DIAGNOSTICS(R);
  EXPECT_EQ(A.Totals.ProcessCount, 1u);
  EXPECT_EQ(A.Totals.ThreadCount, 1u);
  EXPECT_EQ(A.Totals.Stats.Allocations, 11);
  EXPECT_EQ(A.Totals.Stats.Bytes, 2500);
  EXPECT_EQ(A.Totals.Stats.Frees, 4);
  EXPECT_EQ(A.Totals.Stats.FreedBytes, 400);
  EXPECT_EQ(A.Totals.Stats.LiveBytes, 2100);
  EXPECT_EQ(A.Totals.Stats.LiveAllocations, 7);
  EXPECT_EQ(A.Totals.Stats.Samples, 11u);
  EXPECT_EQ(A.Totals.PeakLiveBytes, 2500);
  EXPECT_EQ(A.Totals.PeakLiveTimeNs, 30u);
  EXPECT_TRUE(A.Totals.Exact);
  EXPECT_EQ(A.Totals.Sampling.Mode, "exact");

  ASSERT_EQ(A.Sites.size(), 2u);
  EXPECT_EQ(A.Sites[0].Id, SiteB); // sorted by bytes
  const SiteReport *Site = findSite(A, SiteA);
  ASSERT_NE(Site, nullptr);
  EXPECT_EQ(Site->Kind, "malloc");
  EXPECT_EQ(Site->File, "a.cpp");
  EXPECT_EQ(Site->Function, "worker(int)"); // demangled
  EXPECT_EQ(Site->Module, "/nonexistent/app");
  EXPECT_EQ(Site->Stats.Allocations, 10);
  EXPECT_EQ(Site->Stats.Frees, 4);
  EXPECT_EQ(Site->Stats.LiveBytes, 600);
  EXPECT_EQ(Site->ThreadCount, 1u);

  ASSERT_EQ(A.Processes.size(), 1u);
  EXPECT_TRUE(A.Processes[0].Exited);
  EXPECT_EQ(A.Processes[0].DurationNs, 100000u);
  ASSERT_EQ(A.Threads.size(), 1u);
  EXPECT_EQ(A.Threads[0].Name, "main");
  EXPECT_FALSE(A.Threads[0].RunningAtExit);
  EXPECT_EQ(A.Threads[0].EndNs, std::optional<uint64_t>(90));
  EXPECT_EQ(A.Threads[0].CpuUserNs, 5u);
  EXPECT_EQ(A.Threads[0].LiveBytesAtExit, 2100);

  nlohmann::ordered_json Json = toJson(A);
  EXPECT_EQ(Json["schema_version"], 1);
  EXPECT_EQ(Json["summary"]["total_allocations"], 11);
  EXPECT_EQ(Json["sites"][0]["id"], "0x2222222222222222");
  EXPECT_EQ(Json["threads"][0]["end_ns"], 90);
  EXPECT_EQ(Json["processes"][0]["state"], "exited");
}

TEST(Analysis, WeightsAreSummed) {
  TempDir Dir;
  std::string P =
      appFolder(Dir, processLog(100, true, log::SamplingMode::Bytes));
  TestLogWriter T(log::FileKind::Thread, 100);
  T.threadStart(1, 100, T0 + 1);
  T.alloc(1, SiteA, 10, T0 + 10, 409.6);
  T.alloc(2, SiteA, 5000, T0 + 11, 1.5);
  T.alloc(3, SiteA, 8, T0 + 12, 512.2);
  T.free(1, T0 + 20);
  T.writeTo(P + "/t0.log");

  auto R = analyzeDir(Dir.path());
  ASSERT_ANALYZED(A, R);
  EXPECT_FALSE(A.Totals.Exact);
  EXPECT_EQ(A.Totals.Sampling.Mode, "bytes");
  EXPECT_EQ(A.Totals.Sampling.IntervalBytes, 4096u);
  EXPECT_DOUBLE_EQ(A.Totals.Stats.Allocations, 409.6 + 1.5 + 512.2);
  EXPECT_DOUBLE_EQ(A.Totals.Stats.Bytes, 4096 + 7500 + 4097.6);
  EXPECT_DOUBLE_EQ(A.Totals.Stats.Frees, 409.6);
  EXPECT_DOUBLE_EQ(A.Totals.Stats.LiveBytes, 7500 + 4097.6);
  EXPECT_EQ(A.Totals.Stats.Samples, 3u);
  nlohmann::ordered_json Json = toJson(A);
  EXPECT_EQ(Json["summary"]["total_allocations"], 923); // llround(923.3)
  EXPECT_EQ(Json["summary"]["total_bytes"], 15694);     // llround(15693.6)
}

// Format 2.1: the runtime's counts replace the estimates of threads and of
// the process (ThreadEnd, ThreadRunning, and ProcessEnd for threads that
// ended without a log); a thread whose totals are missing falls back to its
// estimates and the process's totals are no longer marked exact.
TEST(Analysis, CountedTotalsReplaceEstimates) {
  auto Write = [](const std::string &P, bool SecondHasTotals) {
    TestLogWriter Process(log::FileKind::Process, 100);
    Process.processInfo(100, log::SamplingMode::Bytes, "/bin/app", 4096);
    Process.site(SiteA, MSC_KIND_MALLOC, "a.cpp", 10, "fa");
    Process.threadRunning(2, 102, T0 + 90, 0, 0,
                          SecondHasTotals
                              ? std::optional<log::ThreadTotals>({700, 7000})
                              : std::nullopt);
    Process.processEnd(T0 + 100, 0, 0, log::ThreadTotals{5, 50});
    Process.writeTo(P + "/process.log");
    writeMainThread(P, 10, 409.6, {1234, 56789});
    TestLogWriter T2(log::FileKind::Thread, 100, 1);
    T2.threadStart(2, 102, T0 + 2);
    T2.alloc(2, SiteA, 100, T0 + 20, 41);
    T2.writeTo(P + "/t1.log");
  };
  {
    TempDir Dir;
    Write(Dir.mkdir("app.100"), true);
    auto R = analyzeDir(Dir.path());
    ASSERT_ANALYZED(A, R);
    EXPECT_TRUE(A.Totals.TotalsExact);
    EXPECT_DOUBLE_EQ(A.Totals.Stats.Allocations, 1234 + 700 + 5);
    EXPECT_DOUBLE_EQ(A.Totals.Stats.Bytes, 56789 + 7000 + 50);
    ASSERT_EQ(A.Threads.size(), 2u);
    for (const ThreadReport &Thread : A.Threads) {
      EXPECT_TRUE(Thread.TotalsExact) << Thread.ThreadId;
      EXPECT_DOUBLE_EQ(Thread.Allocations, Thread.ThreadId == 1 ? 1234 : 700);
    }
    // Sites stay estimates: 409.6 + 41 allocations.
    ASSERT_EQ(A.Sites.size(), 1u);
    EXPECT_DOUBLE_EQ(A.Sites[0].Stats.Allocations, 409.6 + 41);
    nlohmann::ordered_json Json = toJson(A);
    EXPECT_EQ(Json["summary"]["totals_exact"], true);
    EXPECT_EQ(Json["summary"]["total_allocations"], 1939);
  }
  {
    TempDir Dir;
    Write(Dir.mkdir("app.100"), false);
    auto R = analyzeDir(Dir.path());
    ASSERT_ANALYZED(A, R);
    EXPECT_FALSE(A.Totals.TotalsExact);
    EXPECT_DOUBLE_EQ(A.Totals.Stats.Allocations, 409.6 + 41);
    for (const ThreadReport &Thread : A.Threads)
      EXPECT_EQ(Thread.TotalsExact, Thread.ThreadId == 1) << Thread.ThreadId;
    EXPECT_EQ(toJson(A)["summary"]["totals_exact"], false);
  }
}

TEST(Analysis, CountedPeakReplacesTheSampledCurvesMaximum) {
  // A sampled run's peak is the runtime's count of the heap in use, in
  // requested bytes: chunk bytes less the blocks' mean overhead (glibc's, for
  // the sampled blocks live at the counted peak: one of 1000 bytes, in a
  // 1008-byte chunk), with the count's uncertainty and 8 bytes a block either
  // way as its range. Without the count (a 2.1 log) it is the sampled
  // curve's maximum; exact mode keeps its events' peak and shows the count
  // beside it.
  auto Write = [](const std::string &P, log::SamplingMode Mode,
                  std::optional<log::HeapCounts> Heap) {
    TestLogWriter Process(log::FileKind::Process, 100);
    Process.processInfo(100, Mode, "/bin/app", 4096);
    Process.site(SiteA, MSC_KIND_MALLOC, "a.cpp", 10, "fa");
    Process.processEnd(T0 + 100, 0, 0, log::ThreadTotals{0, 0}, Heap);
    Process.writeTo(P + "/process.log");
    writeMainThread(P, 1000, 4, {4, 4000});
  };
  log::HeapCounts Heap{};
  Heap.peak_chunk_bytes = 100000;
  Heap.peak_blocks = 100;
  Heap.peak_monotonic_ns = T0 + 30;
  Heap.peak_uncertainty = 512;
  {
    TempDir Dir;
    Write(Dir.mkdir("app.100"), log::SamplingMode::Bytes, Heap);
    auto R = analyzeDir(Dir.path());
    ASSERT_ANALYZED(A, R);
    EXPECT_EQ(A.Totals.PeakLiveBytesMethod, PeakMethod::Counted);
    EXPECT_DOUBLE_EQ(A.Totals.PeakLiveBytes, 100000 - 100 * 8);
    EXPECT_DOUBLE_EQ(A.Totals.PeakLiveBytesInterval.Low,
                     100000 - 100 * 8 - 100 * 8 - 512);
    EXPECT_DOUBLE_EQ(A.Totals.PeakLiveBytesInterval.High,
                     100000 - 100 * 8 + 100 * 8 + 512);
    EXPECT_EQ(A.Totals.PeakLiveTimeNs, 30u);
    nlohmann::ordered_json Json = toJson(A);
    EXPECT_EQ(Json["summary"]["peak_live_bytes_method"], "counted");
    EXPECT_EQ(Json["summary"]["peak_live_bytes"], 99200);
    EXPECT_EQ(Json["processes"][0]["peak_live_bytes_method"], "counted");
    EXPECT_FALSE(Json["processes"][0].contains("counted_peak_live_bytes"));
  }
  {
    TempDir Dir;
    Write(Dir.mkdir("app.100"), log::SamplingMode::Bytes, std::nullopt);
    auto R = analyzeDir(Dir.path());
    ASSERT_TRUE(bool(R->Result));
    EXPECT_EQ(R->Result->Totals.PeakLiveBytesMethod, PeakMethod::Sampled);
    EXPECT_DOUBLE_EQ(R->Result->Totals.PeakLiveBytes, 4000);
  }
  {
    TempDir Dir;
    Write(Dir.mkdir("app.100"), log::SamplingMode::Exact, Heap);
    auto R = analyzeDir(Dir.path());
    ASSERT_TRUE(bool(R->Result));
    EXPECT_EQ(R->Result->Totals.PeakLiveBytesMethod, PeakMethod::Exact);
    EXPECT_DOUBLE_EQ(R->Result->Totals.PeakLiveBytes, 4000);
    ASSERT_TRUE(R->Result->Processes[0].CountedPeakLiveBytes.has_value());
    EXPECT_DOUBLE_EQ(*R->Result->Processes[0].CountedPeakLiveBytes, 99200);
  }
}

// The heap in use at exit is the runtime's count (format 2.6), in requested
// bytes as the counted peak is: chunk bytes less the mean overhead of the
// sampled blocks live at the end (one block of 1000 bytes, in a 1008-byte
// chunk), with the count's uncertainty and 8 bytes a block either way. It
// caps the leaks' interval, adds up over processes, and is null for a log
// without it and for a window.
TEST(Analysis, HeapInUseAtExitIsCounted) {
  using Json = nlohmann::ordered_json;
  log::HeapCounts Peak{};
  Peak.peak_chunk_bytes = 100000;
  Peak.peak_blocks = 100;
  Peak.peak_monotonic_ns = T0 + 30;
  log::HeapAtExit AtExit{};
  AtExit.chunk_bytes = 5040;
  AtExit.blocks = 5;
  AtExit.uncertainty = 256;
  constexpr uint64_t SiteCustom = 0xC0FFEE;
  auto Write = [&](const std::string &P, uint32_t Pid, bool WithAtExit,
                   bool CustomLive = false) {
    TestLogWriter Process(log::FileKind::Process, Pid);
    Process.processInfo(Pid, log::SamplingMode::Bytes, "/bin/app", 4096);
    Process.site(SiteA, MSC_KIND_MALLOC, "a.cpp", 10, "fa");
    Process.site(SiteCustom, MSC_KIND_CUSTOM, "pool.cpp", 20, "fb");
    Process.processEnd(T0 + 100, 0, 0, log::ThreadTotals{0, 0}, Peak,
                       WithAtExit ? std::optional(AtExit) : std::nullopt);
    Process.writeTo(P + "/process.log");
    // One block of 1001 bytes stays (23 bytes of overhead); one of 5000 is
    // freed (8 bytes): the overhead of the blocks live at exit is not that
    // of all blocks.
    TestLogWriter T(log::FileKind::Thread, Pid, 0);
    T.threadStart(1, Pid, T0 + 1);
    T.alloc(1, SiteA, 1001, T0 + 10, 4);
    T.alloc(2, SiteA, 5000, T0 + 11, 1.5);
    T.free(2, T0 + 20);
    // A custom allocator's object (not a glibc block) left live.
    if (CustomLive)
      T.alloc(3, SiteCustom, 64, T0 + 12, 1);
    T.threadEnd(1, T0 + 50, 0, 0, log::ThreadTotals{6, 11001});
    T.writeTo(P + "/t0.log");
  };
  double Value = 5040 - 5 * 23;      // 4925
  double High = Value + 5 * 8 + 256; // 5221
  double Ceiling = 5040 + 256;       // 5296: no request exceeds its chunk
  {
    TempDir Dir;
    Write(Dir.mkdir("app.100"), 100, true);
    Write(Dir.mkdir("app.101"), 101, true);
    auto R = analyzeDir(Dir.path());
    ASSERT_ANALYZED(A, R);
    ASSERT_TRUE(A.Processes.at(0).HeapAtExit.has_value());
    EXPECT_DOUBLE_EQ(A.Processes[0].HeapAtExit->Value, Value);
    EXPECT_DOUBLE_EQ(A.Processes[0].HeapAtExit->Range.Low, Value - 5 * 8 - 256);
    EXPECT_DOUBLE_EQ(A.Processes[0].HeapAtExit->Range.High, High);
    EXPECT_DOUBLE_EQ(A.Processes[0].HeapAtExit->Ceiling, Ceiling);
    Json Doc = toJson(A);
    const Json &Process = Doc["processes"][0];
    EXPECT_EQ(Process["heap_in_use_at_exit"], 4925);
    EXPECT_EQ(Process["heap_in_use_at_exit_interval"],
              Json::array({4925 - 296, 5221}));
    EXPECT_EQ(Process["heap_blocks_at_exit"], 5);
    // The 1001-byte block at weight 4 estimates 4004 bytes of leaks, with
    // a wide interval that the counted heap caps: at its chunk bytes and
    // uncertainty, not at the conversion's upper end, which is no bound.
    EXPECT_EQ(Process["live_bytes_at_exit"], 4004);
    EXPECT_EQ(Process["live_bytes_at_exit_interval"][1], Ceiling);
    const Json &Summary = Doc["summary"];
    EXPECT_EQ(Summary["heap_in_use_at_exit"], 9850);
    EXPECT_EQ(Summary["heap_in_use_at_exit_interval"],
              Json::array({9850 - 592, 2 * 5221}));
    EXPECT_EQ(Summary["heap_blocks_at_exit"], 10);
    EXPECT_EQ(Summary["live_bytes_at_exit_interval"][1], 2 * Ceiling);
    // A budget on the run's leaks sees the same interval.
    llvm::Expected<BudgetFile> Budget =
        parseBudgets(R"({"live_bytes_at_exit": 11000})", "b.json");
    ASSERT_TRUE(bool(Budget)) << llvm::toString(Budget.takeError());
    BudgetResult Checked = checkBudgets(*Budget, A);
    ASSERT_EQ(Checked.Checks.size(), 1u);
    EXPECT_DOUBLE_EQ(Checked.Checks[0].Range.High, 2 * Ceiling);
    EXPECT_FALSE(Checked.Checks[0].Exceeded);
    EXPECT_FALSE(Checked.Checks[0].Uncertain);
  }
  {
    // A custom allocator's object live at exit is no glibc block: the heap
    // does not bound the leaks.
    TempDir Dir;
    Write(Dir.mkdir("app.100"), 100, true, /*CustomLive=*/true);
    auto R = analyzeDir(Dir.path());
    ASSERT_ANALYZED(A, R);
    ASSERT_TRUE(A.Processes.at(0).HeapAtExit.has_value());
    Json Doc = toJson(A);
    EXPECT_GT(Doc["processes"][0]["live_bytes_at_exit_interval"][1], Ceiling);
    EXPECT_GT(Doc["summary"]["live_bytes_at_exit_interval"][1], Ceiling);
  }
  for (uint32_t Without : {101u, 100u}) {
    // One process without the count, the last or the first: the summary
    // has none, and no cap from the other's.
    TempDir Dir;
    Write(Dir.mkdir("app.100"), 100, Without != 100);
    Write(Dir.mkdir("app.101"), 101, Without != 101);
    auto R = analyzeDir(Dir.path());
    ASSERT_ANALYZED(A, R);
    EXPECT_FALSE(A.Totals.HeapAtExit.has_value());
    EXPECT_EQ(A.Totals.HeapBlocksAtExit, 0);
    Json Doc = toJson(A);
    EXPECT_TRUE(Doc["summary"]["heap_in_use_at_exit"].is_null());
    EXPECT_TRUE(Doc["summary"]["heap_in_use_at_exit_interval"].is_null());
    EXPECT_TRUE(Doc["summary"]["heap_blocks_at_exit"].is_null());
    EXPECT_GT(Doc["summary"]["live_bytes_at_exit_interval"][1], 2 * Ceiling);
    size_t Lacking = Without == 100 ? 0 : 1;
    EXPECT_TRUE(Doc["processes"][Lacking]["heap_in_use_at_exit"].is_null());
    EXPECT_FALSE(
        Doc["processes"][1 - Lacking]["heap_in_use_at_exit"].is_null());
  }
  {
    // A window's end is not the process's: no heap at exit.
    TempDir Dir;
    Write(Dir.mkdir("app.100"), 100, true);
    AnalysisOptions Options = optionsFor(Dir.path());
    llvm::Expected<WindowBound> From = parseWindowBound("0");
    ASSERT_TRUE(bool(From)) << llvm::toString(From.takeError());
    Options.From = *From;
    auto R = analyzeWith(Options);
    ASSERT_ANALYZED(A, R);
    EXPECT_FALSE(A.Processes.at(0).HeapAtExit.has_value());
    EXPECT_TRUE(toJson(A)["processes"][0]["heap_in_use_at_exit"].is_null());
  }
}

TEST(Analysis, CrossThreadFreeIsMatchedBySampleId) {
  TempDir Dir;
  std::string P = appFolder(Dir, processLog(100));
  TestLogWriter T0Log(log::FileKind::Thread, 100, 0);
  T0Log.threadStart(1, 100, T0 + 1, "producer");
  T0Log.alloc(1, SiteA, 64, T0 + 10, 3.0);
  T0Log.writeTo(P + "/t0.log");
  TestLogWriter T1Log(log::FileKind::Thread, 100, 1);
  T1Log.threadStart(2, 101, T0 + 2, "consumer");
  T1Log.free(1, T0 + 20);
  T1Log.writeTo(P + "/t1.log");

  auto R = analyzeDir(Dir.path());
  ASSERT_TRUE(bool(R->Result));
  const SiteReport *Site = findSite(*R->Result, SiteA);
  ASSERT_NE(Site, nullptr);
  EXPECT_EQ(Site->Stats.Frees, 3);        // the alloc's weight
  EXPECT_EQ(Site->Stats.FreedBytes, 192); // 3 * 64
  EXPECT_EQ(Site->Stats.LiveBytes, 0);
  EXPECT_EQ(R->Result->Processes[0].UnmatchedFrees, 0u);
}

TEST(Analysis, FreesByAddressTakeTheOldestBlockLiveThere) {
  // Exact mode (format 3): frees name addresses. Thread 2 frees what thread
  // 1 allocated at 0x1000 (block 1), while thread 1's next allocation at
  // 0x1000 (block 2) is timed 200 ns before that free: the free still takes
  // block 1, the oldest there. Block 3 is freed at once on another thread,
  // its free timed 300 ns before its allocation (the clocks' error): paired,
  // lifetime 0. A free of 0x9000 names no recorded block (allocated before
  // recording) and is ignored, and so is the free of 0x5000 that the
  // allocation at 0x5000 comes 5 us after: a block not recorded, then a new
  // one that stays live.
  TempDir Dir;
  std::string P = appFolder(Dir, processLog(100));
  TestLogWriter A(log::FileKind::Thread, 100, 0);
  A.threadStart(1, 100, T0 + 1, "producer");
  A.allocAt(0x1000, 1, SiteA, 100, T0 + 10);
  A.allocAt(0x1000, 2, SiteA, 200, T0 + 1800);
  A.allocAt(0x3000, 3, SiteB, 400, T0 + 3000);
  A.allocAt(0x5000, 4, SiteB, 800, T0 + 9000);
  A.writeTo(P + "/t0.log");
  TestLogWriter B(log::FileKind::Thread, 100, 1);
  B.threadStart(2, 101, T0 + 2, "consumer");
  B.freeAt(0x9000, T0 + 5);
  B.freeAt(0x1000, T0 + 2000);
  B.freeAt(0x3000, T0 + 2700);
  B.freeAt(0x5000, T0 + 4000);
  B.writeTo(P + "/t1.log");

  auto R = analyzeDir(Dir.path());
  ASSERT_ANALYZED(Result, R);
  EXPECT_NO_DIAGNOSTICS(R);
  EXPECT_EQ(Result.Totals.Stats.Allocations, 4);
  EXPECT_EQ(Result.Totals.Stats.Frees, 2);
  EXPECT_EQ(Result.Totals.Stats.FreedBytes, 500); // blocks 1 and 3
  EXPECT_EQ(Result.Totals.Stats.LiveBytes, 1000); // blocks 2 and 4
  EXPECT_EQ(Result.Processes[0].UnmatchedFrees, 0u);
  const SiteReport *Site = findSite(Result, SiteA);
  ASSERT_NE(Site, nullptr);
  EXPECT_EQ(Site->Stats.LiveBytes, 200); // block 2, not block 1
  // The peak is blocks 2 and 4; block 3, freed at once, never adds to it.
  EXPECT_EQ(Result.Totals.PeakLiveBytes, 1000);
}

TEST(Analysis, FreedAddressesAreTakenBackByTheirNextBlocks) {
  // Exact mode frees by address; glibc hands a freed address out again
  // soon. 12,000 blocks at distinct addresses, all but every tenth freed on
  // another thread (enough freed addresses for the live set to drop the
  // ones no block took back), then 6,000 new blocks at the freed addresses,
  // the last freed first (as glibc's caches give them back), of which every
  // other one is freed, and one address freed twice. What stays live is
  // what was not freed.
  TempDir Dir;
  std::string P = appFolder(Dir, processLog(100));
  TestLogWriter A(log::FileKind::Thread, 100, 0);
  TestLogWriter B(log::FileKind::Thread, 100, 1);
  A.threadStart(1, 100, T0 + 1, "producer");
  B.threadStart(2, 101, T0 + 2, "consumer");
  auto Address = [](uint64_t I) { return 0x100000 + I * 64; };
  constexpr uint64_t kFirst = 12000, kSecond = 6000;
  uint64_t Time = T0 + 10, Id = 1;
  double LiveBytes = 0, Allocated = 0, Freed = 0;
  std::vector<uint64_t> FreedAt; // the last freed first
  double FirstLive = 0;
  for (uint64_t I = 0; I < kFirst; ++I) {
    A.allocAt(Address(I), Id++, SiteA, 32 + I % 7, Time += 10);
    Allocated += 32 + I % 7;
  }
  Time += 5000;
  for (uint64_t I = 0; I < kFirst; ++I) {
    if (I % 10 == 0) {
      FirstLive += 32 + I % 7;
      continue;
    }
    B.freeAt(Address(I), Time += 10);
    Freed += 32 + I % 7;
    FreedAt.insert(FreedAt.begin(), I);
  }
  LiveBytes += FirstLive;
  Time += 5000;
  for (uint64_t J = 0; J < kSecond; ++J)
    A.allocAt(Address(FreedAt[J]), Id++, SiteB, 100, Time += 10);
  Allocated += kSecond * 100;
  Time += 5000;
  for (uint64_t J = 0; J < kSecond; J += 2) {
    B.freeAt(Address(FreedAt[J]), Time += 10);
    Freed += 100;
  }
  LiveBytes += kSecond / 2 * 100;
  // Freed twice: nothing is live there by then.
  B.freeAt(Address(FreedAt[0]), Time += 10);
  A.writeTo(P + "/t0.log");
  B.writeTo(P + "/t1.log");

  auto R = analyzeDir(Dir.path());
  ASSERT_ANALYZED(Result, R);
  EXPECT_EQ(Result.Totals.Stats.Allocations, double(kFirst + kSecond));
  EXPECT_EQ(Result.Totals.Stats.Bytes, Allocated);
  EXPECT_EQ(Result.Totals.Stats.FreedBytes, Freed);
  EXPECT_EQ(Result.Totals.Stats.LiveBytes + Result.Totals.Stats.LifetimeBytes,
            LiveBytes);
  const SiteReport *Second = findSite(Result, SiteB);
  ASSERT_NE(Second, nullptr);
  EXPECT_EQ(Second->Stats.LiveBytes + Second->Stats.LifetimeBytes,
            kSecond / 2 * 100.0);
  // The peak: once the second blocks are all allocated.
  EXPECT_EQ(Result.Totals.PeakLiveBytes, FirstLive + kSecond * 100.0);
}

TEST(Analysis, FreesByAddressOfBlocksBeforeTheWindowAreLeftOut) {
  // --from: a block allocated before the window and freed in it is not in
  // the report, nor is its free, although the next block at its address
  // (in the window, on the same thread) is timed 200 ns before that free
  // on another: the free is the older block's, and the newer stays live.
  TempDir Dir;
  std::string P = appFolder(Dir, processLog(100));
  TestLogWriter A(log::FileKind::Thread, 100, 0);
  A.threadStart(1, 100, T0 + 1);
  A.allocAt(0x1000, 1, SiteA, 100, T0 + 10);
  A.allocAt(0x1000, 2, SiteA, 300, T0 + 1999800);
  A.writeTo(P + "/t0.log");
  TestLogWriter B(log::FileKind::Thread, 100, 1);
  B.threadStart(2, 101, T0 + 2);
  B.freeAt(0x1000, T0 + 2000000);
  B.writeTo(P + "/t1.log");
  AnalysisOptions Options = optionsFor(Dir.path());
  Options.From = *parseWindowBound("1ms");
  auto R = analyzeWith(Options);
  ASSERT_ANALYZED(Result, R);
  EXPECT_NO_DIAGNOSTICS(R);
  EXPECT_EQ(Result.Totals.Stats.Allocations, 1);
  EXPECT_EQ(Result.Totals.Stats.Frees, 0);
  EXPECT_EQ(Result.Totals.Stats.LiveBytes, 300);
  EXPECT_EQ(Result.Processes[0].UnmatchedFrees, 0u);
}

TEST(Analysis, ThreadLogsDecodedAheadGiveTheSameAnalysis) {
  // Three threads' logs of 10,000 to 11,000 events each: several batches a
  // file (ThreadLogDecoder), with records among the events (a rename and a
  // stack halfway), frees by address across threads and frees by id.
  // Decoded ahead on a thread of its own, or in the stream, in batches of
  // any size, the analysis is the same, and holds what the logs hold.
  TempDir Dir;
  TestLogWriter Process = processLog(100, /*Ended=*/false);
  Process.processEnd(T0 + 100000000);
  std::string P = appFolder(Dir, Process);
  constexpr int kBlocks = 10000;
  auto TimeOf = [](int I) { return T0 + 100 + uint64_t(I) * 300; };
  TestLogWriter A(log::FileKind::Thread, 100, 0); // allocates by address
  TestLogWriter B(log::FileKind::Thread, 100, 1); // frees A's, keeps some
  TestLogWriter C(log::FileKind::Thread, 100, 2); // by id, on its own
  A.threadStart(1, 100, T0 + 1, "producer");
  B.threadStart(2, 101, T0 + 2, "consumer");
  C.threadStart(3, 102, T0 + 3, "loner");
  for (int I = 0; I < kBlocks; ++I) {
    if (I == kBlocks / 2)
      for (TestLogWriter *W : {&A, &B, &C}) {
        W->threadName(0, TestLogWriter::handleOf(3), TimeOf(I) - 5, "alone");
        W->stack(7, {0x401000, 0x402000});
      }
    A.allocAt(0x100000 + I * 64, I + 1, SiteA, 32, TimeOf(I));
    B.freeAt(0x100000 + I * 64, TimeOf(I) + 150);
    if (I % 10 == 0)
      B.allocAt(0x900000 + I * 64, I + 1, SiteB, 64, TimeOf(I) + 160);
    C.alloc(I + 1, SiteB, 16, TimeOf(I) + 20, 1.0, MSC_KIND_NEW);
    if (I % 1000 != 0)
      C.free(I + 1, TimeOf(I) + 70);
  }
  A.writeTo(P + "/t0.log");
  B.writeTo(P + "/t1.log");
  C.writeTo(P + "/t2.log");

  // Batches of the default size, and of 7 events: records and the ends of
  // batches then fall everywhere.
  std::optional<nlohmann::ordered_json> First;
  for (auto [Ahead, Batch] : {std::pair(true, 0), std::pair(true, 7),
                              std::pair(false, 7), std::pair(false, 0)}) {
    SCOPED_TRACE(fmt::format("{}, batches of {}",
                             Ahead ? "decoded ahead" : "decoded in the stream",
                             Batch ? Batch : 4096));
    AnalysisOptions Options = optionsFor(Dir.path());
    Options.DecodeAhead = Ahead;
    Options.BatchEvents = Batch;
    auto R = analyzeWith(Options);
    ASSERT_ANALYZED(Result, R);
    EXPECT_NO_DIAGNOSTICS(R);
    EXPECT_EQ(Result.Totals.Stats.Allocations, 21000);
    EXPECT_EQ(Result.Totals.Stats.Frees, 19990);
    EXPECT_EQ(Result.Totals.Stats.LiveBytes, 1000 * 64 + 10 * 16);
    EXPECT_EQ(Result.CrossFrees.Frees, kBlocks);
    EXPECT_EQ(Result.CrossFrees.Bytes, kBlocks * 32);
    // A's block and C's of each round are live at once: 32 + 16 bytes, and
    // B's kept blocks, 64 bytes a tenth round, until the last.
    EXPECT_EQ(Result.Totals.PeakLiveBytes, 32 + 16 + 1000 * 64 + 10 * 16);
    bool Renamed = false;
    for (const ThreadReport &Thread : Result.Threads)
      Renamed |= Thread.Name == "alone";
    EXPECT_TRUE(Renamed);
    nlohmann::ordered_json Json = toJson(Result);
    if (!First)
      First = Json;
    else
      EXPECT_EQ(Json, *First);
  }
}

TEST(Analysis, ABlockFoundFreedLeavesThePeakBeforeTheBlockThatFoundIt) {
  // An exact run that max_log_size turned to sampling (so the peak is the
  // runtime's count, at 3 us), its frees still by address: block A's free
  // at 0x1000 was lost, B took the address at 2 us, C at 10 us. C's
  // allocation shows A freed at 2 us; A leaves the live set before C joins
  // it, so the blocks live at the counted peak are B's alone.
  constexpr uint64_t SiteC = 0x3333333333333333ull;
  TempDir Dir;
  TestLogWriter Process(log::FileKind::Process, 100);
  Process.processInfo(100, log::SamplingMode::Exact, "/bin/app");
  Process.site(SiteA, MSC_KIND_MALLOC, "a.cpp", 10, "fa");
  Process.site(SiteB, MSC_KIND_MALLOC, "b.cpp", 20, "fb");
  Process.site(SiteC, MSC_KIND_MALLOC, "c.cpp", 30, "fc");
  Process.logLimit(T0 + 50000, 1, log::LogLimitLeftExact, 4096);
  log::HeapCounts Heap{};
  Heap.peak_chunk_bytes = 100000;
  Heap.peak_blocks = 3;
  Heap.peak_monotonic_ns = T0 + 3000;
  Process.processEnd(T0 + 100000, 0, 0, log::ThreadTotals{0, 0}, Heap);
  std::string P = appFolder(Dir, Process);
  TestLogWriter T(log::FileKind::Thread, 100, 0);
  T.threadStart(1, 100, T0 + 1, "main");
  T.allocAt(0x1000, 1, SiteA, 100, T0 + 1000);
  T.allocAt(0x1000, 2, SiteB, 200, T0 + 2000);
  T.allocAt(0x1000, 3, SiteC, 400, T0 + 10000);
  T.threadEnd(1, T0 + 90000);
  T.writeTo(P + "/t0.log");

  auto R = analyzeDir(Dir.path());
  ASSERT_ANALYZED(Result, R);
  for (auto [Site, AtPeak] : {std::pair(SiteA, 0.0), std::pair(SiteB, 200.0),
                              std::pair(SiteC, 0.0)}) {
    const SiteReport *Report = findSite(Result, Site);
    ASSERT_NE(Report, nullptr);
    EXPECT_EQ(Report->LiveBytesAtPeak, AtPeak) << Report->File;
  }
}

TEST(Analysis, AFreeByAddressLostIsFoundByTheNextBlockThere) {
  // Block 1's free at 0x1000 never reached the log; block 2 was allocated
  // there at 5 us, so block 1 was freed by then. The free at 8 us is block
  // 2's, and block 1 counts freed at 5 us. At 0x2000, blocks 3, 4 and 6
  // and no free: 3 and 4 were freed unlogged (found as 6 and the end come),
  // 6 is live at the end. The three lost frees are reported. A free by address
  // that no other thread's allocation follows within 1 us is not paired: block
  // 5, allocated at 0x3000 on the thread that freed that address 100 ns before,
  // stays live.
  TempDir Dir;
  std::string P = appFolder(Dir, processLog(100));
  TestLogWriter A(log::FileKind::Thread, 100, 0);
  A.threadStart(1, 100, T0 + 1);
  A.allocAt(0x1000, 1, SiteA, 100, T0 + 10);
  A.allocAt(0x2000, 3, SiteB, 1000, T0 + 20);
  A.allocAt(0x1000, 2, SiteA, 200, T0 + 5000);
  A.allocAt(0x2000, 4, SiteB, 2000, T0 + 6000);
  A.allocAt(0x2000, 6, SiteB, 4000, T0 + 7500);
  A.writeTo(P + "/t0.log");
  TestLogWriter B(log::FileKind::Thread, 100, 1);
  B.threadStart(2, 101, T0 + 2);
  B.freeAt(0x1000, T0 + 8000);
  B.freeAt(0x3000, T0 + 9000);
  B.allocAt(0x3000, 5, SiteA, 400, T0 + 9100);
  B.writeTo(P + "/t1.log");

  auto R = analyzeDir(Dir.path());
  ASSERT_ANALYZED(Result, R);
  EXPECT_NE(diagText(R->Diags).find(
                "pid 100: 3 blocks' frees are not in the logs; another block "
                "was allocated at their address, so they count as freed then"),
            std::string::npos)
      << diagText(R->Diags);
  EXPECT_EQ(Result.Totals.Stats.Allocations, 6);
  EXPECT_EQ(Result.Totals.Stats.Frees, 4); // blocks 1 to 4
  EXPECT_EQ(Result.Totals.Stats.FreedBytes, 3300);
  EXPECT_EQ(Result.Totals.Stats.LiveBytes, 4400); // blocks 5 and 6
  const SiteReport *Site = findSite(Result, SiteB);
  ASSERT_NE(Site, nullptr);
  EXPECT_EQ(Site->Stats.LiveBytes, 4000); // block 6, not 3 or 4
  // Block 3 is found freed when 6 is allocated (4 came more than 1 us
  // before): at 7.5 us blocks 1, 2, 4 and 6 are live, 6,300 bytes; the peak
  // is 6,400 at 9.1 us (block 1 freed, 2 freed, 5 allocated).
  EXPECT_EQ(Result.Totals.PeakLiveBytes, 6400);
}

TEST(Analysis, PeakIsComputedInTimeOrderAcrossFiles) {
  // In file order the peak would be 400 (100 + 300 in t0); in time order
  // the first block is freed (by t1) before the second is allocated.
  TempDir Dir;
  std::string P = appFolder(Dir, processLog(100));
  TestLogWriter A(log::FileKind::Thread, 100, 0);
  A.threadStart(1, 100, T0 + 1);
  A.alloc(1, SiteA, 100, T0 + 10);
  A.alloc(3, SiteA, 300, T0 + 50);
  A.writeTo(P + "/t0.log");
  TestLogWriter B(log::FileKind::Thread, 100, 1);
  B.threadStart(2, 101, T0 + 2);
  B.free(1, T0 + 20);
  B.alloc(2, SiteB, 200, T0 + 30);
  B.free(2, T0 + 40);
  B.writeTo(P + "/t1.log");

  auto R = analyzeDir(Dir.path());
  ASSERT_TRUE(bool(R->Result));
  EXPECT_EQ(R->Result->Totals.PeakLiveBytes, 300);
  EXPECT_EQ(R->Result->Totals.PeakLiveTimeNs, 50u);
  EXPECT_EQ(R->Result->Totals.Stats.LiveBytes, 300);
}

TEST(Analysis, SlotReuseGivesTwoThreadsAndRunningAtExit) {
  TempDir Dir;
  std::string P = appFolder(Dir, processLog(100, /*Ended=*/false));
  TestLogWriter T(log::FileKind::Thread, 100, 0);
  T.threadStart(2, 200, T0 + 5, "first");
  T.alloc(1, SiteA, 10, T0 + 6);
  T.threadEnd(2, T0 + 7);
  T.threadStart(3, 201, T0 + 8, "second");
  T.alloc(2, SiteA, 20, T0 + 9);
  T.alloc(3, SiteA, 30, T0 + 10);
  T.writeTo(P + "/t0.log");

  auto R = analyzeDir(Dir.path());
  ASSERT_ANALYZED(A, R);
  ASSERT_EQ(A.Threads.size(), 2u);
  EXPECT_EQ(A.Threads[0].ThreadId, 2u);
  EXPECT_EQ(A.Threads[0].Name, "first");
  EXPECT_FALSE(A.Threads[0].RunningAtExit);
  EXPECT_EQ(A.Threads[0].Bytes, 10);
  EXPECT_EQ(A.Threads[1].ThreadId, 3u);
  EXPECT_EQ(A.Threads[1].Tid, 201u);
  EXPECT_TRUE(A.Threads[1].RunningAtExit);
  EXPECT_FALSE(A.Threads[1].EndNs.has_value());
  EXPECT_EQ(A.Threads[1].Allocations, 2);
  EXPECT_EQ(A.Threads[1].Bytes, 50);
  EXPECT_EQ(findSite(A, SiteA)->ThreadCount, 2u);
  // No ProcessEnd: the process was killed or crashed.
  EXPECT_FALSE(A.Processes[0].Exited);
  EXPECT_EQ(A.Processes[0].DurationNs, 10u);
  nlohmann::ordered_json Json = toJson(A);
  EXPECT_EQ(Json["processes"][0]["state"], "running");
  EXPECT_TRUE(Json["threads"][1]["end_ns"].is_null());
}

TEST(Analysis, CorruptedRecordLosesOnlyThatRecord) {
  TempDir Dir;
  std::string P = appFolder(Dir, processLog(100));
  TestLogWriter T(log::FileKind::Thread, 100);
  T.threadStart(1, 100, T0 + 1);
  for (int I = 0; I < 8; ++I)
    T.alloc(I + 1, SiteA, 10, T0 + 10 + I);
  T.Bytes[T.Offsets[2] + 20] ^= 1; // its EventsHeader
  T.writeTo(P + "/t0.log");

  auto R = analyzeDir(Dir.path());
  ASSERT_TRUE(bool(R->Result));
  EXPECT_EQ(R->Result->Totals.Stats.Allocations, 7);
  std::string Text = diagText(R->Diags);
  EXPECT_NE(Text.find("memscope-merge: warning: "), std::string::npos);
  EXPECT_NE(
      Text.find("(CRC mismatch) at offset " + std::to_string(T.Offsets[2])),
      std::string::npos)
      << Text;
  ASSERT_EQ(R->Result->Totals.Warnings.size(), 1u);
}

// A site, thread or run whose samples were all freed did not thereby free
// everything: blocks no sample revealed may still be live, up to ln(40)
// intervals' worth (Estimates.h, unseenBytes()), and never more than was
// allocated. Exact mode saw every block: its zero is certain. Rate sampling
// has no bound to give.
TEST(Analysis, ASampledZeroIsBoundedByWhatNoSampleRevealed) {
  using Json = nlohmann::ordered_json;
  for (log::SamplingMode Mode :
       {log::SamplingMode::Bytes, log::SamplingMode::Exact,
        log::SamplingMode::Rate}) {
    for (bool Counted : {false, true}) {
      bool Sampled = Mode == log::SamplingMode::Bytes;
      TempDir Dir;
      TestLogWriter Process(log::FileKind::Process, 100);
      Process.processInfo(100, Mode, "/bin/app", 4096);
      Process.site(SiteA, MSC_KIND_MALLOC, "a.cpp", 10, "fa");
      // The unlogged totals complete the process's counts.
      if (Counted)
        Process.processEnd(T0 + 100000, 0, 0, log::ThreadTotals{0, 0});
      else
        Process.processEnd(T0 + 100000);
      std::string P = appFolder(Dir, Process);
      TestLogWriter T(log::FileKind::Thread, 100, 0);
      T.threadStart(1, 100, T0 + 1);
      T.alloc(1, SiteA, 10, T0 + 10, Sampled ? 409.6 : 1.0);
      T.alloc(2, SiteA, 5000, T0 + 11, Sampled ? 1.5 : 1.0);
      T.free(1, T0 + 20);
      T.free(2, T0 + 21);
      // The runtime counted 12,000 bytes: the thread's live blocks at exit
      // cannot be more.
      T.threadEnd(1, T0 + 50, 0, 0, log::ThreadTotals{5, 12000});
      T.writeTo(P + "/t0.log");

      auto R = analyzeDir(Dir.path());
      ASSERT_ANALYZED(A, R);
      SCOPED_TRACE(fmt::format("mode {} counted {}", int(Mode), Counted));
      EXPECT_EQ(A.Totals.TotalsExact, Counted);
      Json Doc = toJson(A);
      const Json &Site = Doc["sites"].at(0);
      const Json &Thread = Doc["threads"].at(0);
      const Json &Summary = Doc["summary"];
      EXPECT_EQ(Site["live_bytes_at_exit"], 0);
      EXPECT_EQ(Thread["live_bytes_at_exit"], 0);
      EXPECT_EQ(Summary["live_bytes_at_exit"], 0);
      if (!Sampled) {
        EXPECT_EQ(Site["live_bytes_at_exit_interval"], Json::array({0, 0}));
        EXPECT_EQ(Thread["live_bytes_at_exit_interval"], Json::array({0, 0}));
        EXPECT_EQ(Summary["live_bytes_at_exit_interval"], Json::array({0, 0}));
        continue;
      }
      // ln(40) x 4096 = 15,109.6: under the site's upper end for its bytes.
      EXPECT_LT(15110, Site["bytes_interval"][1].get<double>());
      EXPECT_EQ(Site["live_bytes_at_exit_interval"], Json::array({0, 15110}));
      // The thread's is capped at what it allocated, and so are the counted
      // totals'; estimated totals' upper end is above the bound.
      EXPECT_EQ(Thread["live_bytes_at_exit_interval"], Json::array({0, 12000}));
      EXPECT_EQ(Summary["live_bytes_at_exit_interval"],
                Json::array({0, Counted ? 12000 : 15110}));
    }
  }
}

TEST(Analysis, UntrackedSamplesAreNotLiveAtExit) {
  TempDir Dir;
  std::string P = appFolder(Dir, processLog(100));
  TestLogWriter T(log::FileKind::Thread, 100);
  T.threadStart(1, 100, T0 + 1);
  T.alloc(1, SiteA, 10, T0 + 10);
  T.alloc(2, SiteA, 1000, T0 + 11, 1.0, MSC_KIND_MALLOC, 0,
          log::AllocUntracked);
  T.writeTo(P + "/t0.log");

  auto R = analyzeDir(Dir.path());
  ASSERT_TRUE(bool(R->Result));
  EXPECT_EQ(R->Result->Totals.Stats.Bytes, 1010);
  EXPECT_EQ(R->Result->Totals.Stats.LiveBytes, 10);
  EXPECT_EQ(R->Result->Totals.PeakLiveBytes, 10);
}

TEST(Analysis, SampleIdsTheLiveSetReservesAreCountedButNeverLive) {
  // The live set (a DenseMap) keeps 2^64-1 and 2^64-2 for itself; a log
  // that names them must neither crash the merge nor corrupt the set.
  TempDir Dir;
  std::string P = appFolder(Dir, processLog(100));
  TestLogWriter T(log::FileKind::Thread, 100);
  T.threadStart(1, 100, T0 + 1);
  T.alloc(1, SiteA, 10, T0 + 10);
  T.alloc(~0ull, SiteA, 100, T0 + 11);
  T.alloc(~0ull - 1, SiteA, 1000, T0 + 12);
  T.free(~0ull, T0 + 13);
  T.free(~0ull - 1, T0 + 14);
  T.alloc(2, SiteA, 20, T0 + 15);
  T.free(2, T0 + 16);
  T.writeTo(P + "/t0.log");

  auto R = analyzeDir(Dir.path());
  ASSERT_TRUE(bool(R->Result));
  EXPECT_EQ(R->Result->Totals.Stats.Bytes, 1130);
  EXPECT_EQ(R->Result->Totals.Stats.LiveBytes, 10);
  EXPECT_EQ(R->Result->Totals.PeakLiveBytes, 30);
  EXPECT_NE(diagText(R->Diags).find("4 Alloc and Free records name a sample "
                                    "id or address of 2^64-1 or 2^64-2"),
            std::string::npos)
      << diagText(R->Diags);
}

TEST(Analysis, AddressesTheLiveSetReservesAreCountedButNeverLive) {
  // Exact mode's blocks are found by address: a block at 2^64-1 or 2^64-2
  // is counted and never live, and a free of either is ignored. A block's
  // sample id plays no part there, reserved or repeated.
  TempDir Dir;
  std::string P = appFolder(Dir, processLog(100));
  TestLogWriter T(log::FileKind::Thread, 100);
  T.threadStart(1, 100, T0 + 1);
  T.allocAt(~0ull, 1, SiteA, 100, T0 + 10);
  T.freeAt(~0ull, T0 + 11);
  T.allocAt(~0ull - 1, 2, SiteA, 200, T0 + 12);
  T.allocAt(0x1000, ~0ull, SiteA, 10, T0 + 13);
  T.allocAt(0x2000, ~0ull, SiteA, 20, T0 + 14);
  T.freeAt(0x1000, T0 + 15);
  T.writeTo(P + "/t0.log");

  auto R = analyzeDir(Dir.path());
  ASSERT_ANALYZED(Result, R);
  EXPECT_EQ(Result.Totals.Stats.Bytes, 330);
  EXPECT_EQ(Result.Totals.Stats.FreedBytes, 10);
  EXPECT_EQ(Result.Totals.Stats.LiveBytes, 20);
  EXPECT_EQ(Result.Totals.PeakLiveBytes, 30);
  std::string Text = diagText(R->Diags);
  EXPECT_NE(Text.find("3 Alloc and Free records name a sample id or address "
                      "of 2^64-1 or 2^64-2"),
            std::string::npos)
      << Text;
  EXPECT_EQ(Text.find("reuse a live sample id"), std::string::npos) << Text;
  EXPECT_EQ(Result.Processes[0].UnmatchedFrees, 0u);
}

TEST(Analysis, SameSiteInTwoProcessesIsAggregated) {
  TempDir Dir;
  for (uint32_t Pid : {100u, 200u}) {
    std::string P = Dir.mkdir("app." + std::to_string(Pid));
    processLog(Pid).writeTo(P + "/process.log");
    TestLogWriter T(log::FileKind::Thread, Pid);
    T.threadStart(1, Pid, T0 + 1);
    T.alloc(1, SiteA, Pid, T0 + 10);
    T.writeTo(P + "/t0.log");
  }
  auto R = analyzeDir(Dir.path());
  ASSERT_ANALYZED(A, R);
  EXPECT_EQ(A.Totals.ProcessCount, 2u);
  EXPECT_EQ(A.Threads.size(), 2u);
  ASSERT_EQ(A.Sites.size(), 1u);
  EXPECT_EQ(A.Sites[0].Stats.Bytes, 300);
  EXPECT_EQ(A.Sites[0].Stats.Allocations, 2);
  EXPECT_EQ(A.Sites[0].ThreadCount, 2u);
  EXPECT_EQ(A.Sites[0].Pids, (std::vector<uint32_t>{100, 200}));

  auto Only = analyzeDir(Dir.path(), false, 200);
  ASSERT_TRUE(bool(Only->Result));
  EXPECT_EQ(Only->Result->Totals.ProcessCount, 1u);
  EXPECT_EQ(Only->Result->Sites[0].Stats.Bytes, 200);
  auto None = analyzeDir(Dir.path(), false, 300);
  EXPECT_FALSE(bool(None->Result));
  llvm::consumeError(None->Result.takeError());
}

TEST(Analysis, IndirectWithoutSymbolizationUsesModuleOffsets) {
  TempDir Dir;
  std::string P = appFolder(Dir, processLog(100));
  TestLogWriter T(log::FileKind::Thread, 100);
  T.threadStart(1, 100, T0 + 1);
  // Innermost first: libfoo (no sites) called from app (has sites).
  T.stack(0x99, {0x7f0000001010, 0x7f0000001020, 0x1234, 0x1500});
  T.alloc(1, 0, 32, T0 + 10, 1.0, MSC_KIND_INDIRECT, 0x99);
  T.alloc(2, 0, 32, T0 + 11, 1.0, MSC_KIND_INDIRECT, 0x99);
  // Entirely outside instrumented modules.
  T.stack(0x98, {0x7f0000001010, 0x7f0000002000});
  T.alloc(3, 0, 8, T0 + 12, 1.0, MSC_KIND_INDIRECT, 0x98);
  T.writeTo(P + "/t0.log");

  auto R = analyzeDir(Dir.path(), /*Symbolize=*/false);
  ASSERT_ANALYZED(A, R);
  EXPECT_EQ(A.Totals.IndirectAllocations, 3);
  EXPECT_EQ(A.Totals.IndirectBytes, 72);
  ASSERT_EQ(A.Sites.size(), 2u);
  const SiteReport &Site = A.Sites[0];
  EXPECT_EQ(Site.Kind, "indirect");
  EXPECT_EQ(Site.Function, "app+0x1234");
  EXPECT_EQ(Site.Via, "libfoo.so+0x1020");
  EXPECT_EQ(Site.File, "");
  EXPECT_EQ(Site.Line, 0u);
  EXPECT_EQ(Site.Module, "/nonexistent/app");
  EXPECT_EQ(Site.Id, indirectSiteId("", 0, "app+0x1234"));
  EXPECT_EQ(Site.Stats.Allocations, 2);
  const SiteReport &Outside = A.Sites[1];
  EXPECT_EQ(Outside.File, "<uninstrumented>");
  EXPECT_EQ(Outside.Function, "libfoo.so+0x2000");
  EXPECT_EQ(Outside.Via, "libfoo.so+0x1010");
}

TEST(Analysis, MissingBinaryWarnsOncePerModule) {
  TempDir Dir;
  std::string P = appFolder(Dir, processLog(100));
  TestLogWriter T(log::FileKind::Thread, 100);
  T.threadStart(1, 100, T0 + 1);
  T.stack(0x1, {0x7f0000001010, 0x1234});
  T.stack(0x2, {0x7f0000001010, 0x1300});
  T.alloc(1, 0, 32, T0 + 10, 1.0, MSC_KIND_INDIRECT, 0x1);
  T.alloc(2, 0, 32, T0 + 11, 1.0, MSC_KIND_INDIRECT, 0x2);
  T.writeTo(P + "/t0.log");

  auto R = analyzeDir(Dir.path(), /*Symbolize=*/true);
  ASSERT_TRUE(bool(R->Result));
  ASSERT_EQ(R->Result->Sites.size(), 2u);
  EXPECT_EQ(R->Result->Sites[0].Function, "app+0x1234");
  EXPECT_EQ(R->Result->Sites[1].Function, "app+0x1300");
  size_t AppWarnings = 0;
  for (const Diagnostic &D : R->Diags.all())
    AppWarnings += D.Message.find("/nonexistent/app:") != std::string::npos ||
                   D.Message.find("/nonexistent/app ") != std::string::npos;
  EXPECT_EQ(AppWarnings, 1u) << diagText(R->Diags);
}

TEST(Symbolization, AttributesToTheInstrumentedCallerLine) {
  std::vector<ModuleInfo> Loaded;
  dl_iterate_phdr(collectModules, &Loaded);
  ModuleMap Modules;
  for (const ModuleInfo &Module : Loaded) {
    Modules.add(Module);
    Modules.add(Module); // repeated records are ignored
  }
  ASSERT_EQ(Modules.modules().size(), Loaded.size());
  int CallLine = __LINE__ + 1;
  uint64_t Address = returnAddressOfCaller();
  // A return address inside libstdc++, which has no Memscope sites.
  uint64_t Library = reinterpret_cast<uint64_t>(&std::__throw_bad_alloc) + 1;
  ASSERT_NE(Modules.find(Library), nullptr);
  ASSERT_FALSE(Modules.find(Library)->HasSites);

  Diagnostics Diags;
  Symbolizer Symbols(true, Diags);
  IndirectAttributor Attributor(Symbols, defaultSystemPrefixes());
  IndirectSite Site = Attributor.attribute(Modules, {Library, Address});
  EXPECT_EQ(Site.Via, "std::__throw_bad_alloc()");
  if (Site.File.empty()) {
    // Built without -g: module+offset and one warning instead.
    EXPECT_EQ(Site.Function.find("memscope-merge-tests+0x"), 0u)
        << Site.Function;
    ASSERT_EQ(Diags.all().size(), 1u);
    EXPECT_NE(Diags.all()[0].Message.find("no debug line information"),
              std::string::npos);
    GTEST_SKIP() << "the test binary has no debug info";
  }
  EXPECT_TRUE(endsWith(Site.File, "AnalysisTest.cpp"))
      << Site.File << " " << Site.Function;
  EXPECT_EQ(Site.Line, uint32_t(CallLine));
  EXPECT_NE(Site.Function.find("AttributesToTheInstrumentedCallerLine"),
            std::string::npos)
      << Site.Function;
  EXPECT_EQ(Site.Id, indirectSiteId(Site.File, Site.Line, Site.Function));
}

/// Defined at the end of this file, "in" new_allocator.h: plays the
/// instrumented function that holds a site in library code (an out-of-line
/// std::vector::_M_realloc_insert). Returns a return address inside it, the
/// first frame of the runtime's stack, and sets Caller to its caller's.
uint64_t libraryFunction(uint64_t &Caller);

constexpr uint64_t LibrarySite = 0x5151515151515151ull;
constexpr uint64_t InlinedSite = 0x5252525252525252ull;
constexpr const char *NewAllocatorH =
    "/usr/include/c++/12/bits/new_allocator.h";

TEST(StackAttribution, LibrarySitesAreSplitByTheirUserFrame) {
  std::vector<ModuleInfo> Loaded;
  dl_iterate_phdr(collectModules, &Loaded);
  ASSERT_FALSE(Loaded.empty());
  uint64_t CallerA = 0, CallerB = 0;
  int LineA = __LINE__ + 1;
  uint64_t Inner = libraryFunction(CallerA);
  int LineB = __LINE__ + 1;
  libraryFunction(CallerB);
  // A return address inside libstdc++, which has no Memscope sites.
  uint64_t Library = reinterpret_cast<uint64_t>(&std::__throw_bad_alloc) + 1;

  TempDir Dir;
  std::string P = Dir.mkdir("app.100");
  TestLogWriter Process(log::FileKind::Process, 100);
  Process.processInfo(100, log::SamplingMode::Exact);
  Process.modules(Loaded);
  uint64_t Text = Loaded[0].Fixed.text_begin;
  // Every frame of its inlined-at chain is library code.
  Process.site(LibrarySite, MSC_KIND_NEW, NewAllocatorH, 137,
               "_ZNSt15__new_allocatorIiE8allocateEmPKv",
               {{"_ZNSt16allocator_traitsISaIiEE8allocateERS0_m",
                 "/usr/include/c++/12/bits/alloc_traits.h", "", 482, 28}},
               Text);
  // Inlined into user code: its chain names the user's line.
  Process.site(InlinedSite, MSC_KIND_NEW, NewAllocatorH, 137,
               "_ZNSt15__new_allocatorIlE8allocateEmPKv",
               {{"main", "/src/app.cpp", "/src", 7, 3}}, Text);
  Process.site(SiteA, MSC_KIND_MALLOC, "a.cpp", 10, "_Z6workeri", {}, Text);
  Process.processEnd(T0 + 1000);
  Process.writeTo(P + "/process.log");

  TestLogWriter Main(log::FileKind::Thread, 100, 0);
  Main.threadStart(1, 100, T0 + 1, "main");
  Main.stack(0xA, {Inner, CallerA});
  Main.stack(0xB, {Inner, CallerB});
  Main.stack(0xC, {Inner, Library}); // reaches no user code
  Main.stack(0xD, {CallerA});        // a user site's stack: ignored
  for (uint64_t I = 1; I <= 3; ++I)  // 3 x 64 bytes from line A
    Main.alloc(I, LibrarySite, 64, T0 + 10 + I, 1.0, MSC_KIND_UNKNOWN, 0xA);
  for (uint64_t I = 4; I <= 5; ++I) // 2 x 32 bytes from line B
    Main.alloc(I, LibrarySite, 32, T0 + 10 + I, 1.0, MSC_KIND_UNKNOWN, 0xB);
  Main.alloc(6, LibrarySite, 16, T0 + 16); // no stack
  Main.alloc(7, LibrarySite, 8, T0 + 17, 1.0, MSC_KIND_UNKNOWN, 0xC);
  // 0xE: no Stack record.
  Main.alloc(8, LibrarySite, 4, T0 + 18, 1.0, MSC_KIND_UNKNOWN, 0xE);
  Main.alloc(9, InlinedSite, 2, T0 + 19, 1.0, MSC_KIND_UNKNOWN, 0xA);
  Main.alloc(10, SiteA, 1, T0 + 20, 1.0, MSC_KIND_MALLOC, 0xD);
  Main.writeTo(P + "/t0.log");
  TestLogWriter Worker(log::FileKind::Thread, 100, 1);
  Worker.threadStart(2, 200, T0 + 30, "worker", 1);
  Worker.alloc(11, LibrarySite, 64, T0 + 31, 1.0, MSC_KIND_UNKNOWN, 0xA);
  Worker.free(1, T0 + 32); // another thread's block from line A
  Worker.free(11, T0 + 33);
  Worker.writeTo(P + "/t1.log");

  // Without symbols no stack leads anywhere: one entry, at the site.
  auto Plain = analyzeDir(Dir.path(), /*Symbolize=*/false);
  ASSERT_TRUE(bool(Plain->Result));
  const SiteReport *Unsplit = findSite(*Plain->Result, LibrarySite);
  ASSERT_NE(Unsplit, nullptr);
  EXPECT_EQ(Unsplit->Stats.Allocations, 9);
  EXPECT_EQ(Unsplit->User.File, NewAllocatorH);
  EXPECT_EQ(Unsplit->AttributedBy, "site");
  EXPECT_EQ(Plain->Result->Sites.size(), 3u);

  auto R = analyzeDir(Dir.path(), /*Symbolize=*/true);
  ASSERT_ANALYZED(A, R);
  const SiteReport *Rest = findSite(A, LibrarySite);
  ASSERT_NE(Rest, nullptr);
  if (Rest->Stats.Allocations == 9)
    GTEST_SKIP() << "the test binary has no debug info";
  std::string Function = "std::__new_allocator<int>::allocate(unsigned long, "
                         "void const*)";
  // Samples without a stack, with one that reaches no user code, or whose
  // Stack record is missing stay at the site, as before.
  EXPECT_EQ(Rest->Stats.Allocations, 3);
  EXPECT_EQ(Rest->Stats.Bytes, 28);
  EXPECT_EQ(Rest->User.File, NewAllocatorH);
  EXPECT_EQ(Rest->AttributedBy, "site");
  EXPECT_NE(diagText(R->Diags).find("pid 100: 1 stacks of allocation sites in "
                                    "library code have no Stack record; "
                                    "reported at the site"),
            std::string::npos)
      << diagText(R->Diags);

  const SiteReport *FromA = nullptr, *FromB = nullptr;
  for (const SiteReport &Site : A.Sites) {
    if (Site.AttributedBy != "stack" || Site.isIndirect())
      continue;
    if (Site.User.Line == uint32_t(LineA))
      FromA = &Site;
    else if (Site.User.Line == uint32_t(LineB))
      FromB = &Site;
    else
      ADD_FAILURE() << "unexpected entry at line " << Site.User.Line;
  }
  ASSERT_TRUE(FromA && FromB);
  for (const SiteReport *Site : {FromA, FromB}) {
    EXPECT_EQ(Site->Kind, "new");
    EXPECT_EQ(Site->File, NewAllocatorH);
    EXPECT_EQ(Site->Line, 137u);
    EXPECT_EQ(Site->Function, Function);
    EXPECT_EQ(Site->Via, Function);
    ASSERT_EQ(Site->InlinedAt.size(), 1u);
    EXPECT_EQ(Site->InlinedAt[0].Line, 482u);
    EXPECT_TRUE(endsWith(Site->User.File, "AnalysisTest.cpp"))
        << Site->User.File;
    EXPECT_NE(Site->User.Function.find("LibrarySitesAreSplitByTheirUserFrame"),
              std::string::npos)
        << Site->User.Function;
    EXPECT_EQ(Site->Id, stackSiteId(LibrarySite, Site->User.File,
                                    Site->User.Line, Site->User.Function));
  }
  EXPECT_NE(FromA->Id, FromB->Id);
  EXPECT_EQ(FromA->Stats.Allocations, 4);
  EXPECT_EQ(FromA->Stats.Bytes, 256);
  EXPECT_EQ(FromA->Stats.Frees, 2);
  EXPECT_EQ(FromA->ThreadCount, 2u);
  EXPECT_EQ(FromB->Stats.Allocations, 2);
  EXPECT_EQ(FromB->Stats.Bytes, 64);

  // Sites attributed by their chain or by themselves are not split, even
  // when their samples carry a stack.
  const SiteReport *Inlined = findSite(A, InlinedSite);
  ASSERT_NE(Inlined, nullptr);
  EXPECT_EQ(Inlined->AttributedBy, "inline");
  EXPECT_EQ(Inlined->User.File, "app.cpp"); // relative to /src, the sites' dir
  EXPECT_EQ(Inlined->Stats.Allocations, 1);
  const SiteReport *User = findSite(A, SiteA);
  ASSERT_NE(User, nullptr);
  EXPECT_EQ(User->AttributedBy, "site");
  EXPECT_EQ(User->Stats.Allocations, 1);

  // Every sample is in exactly one entry.
  double Allocations = 0;
  for (const SiteReport &Site : A.Sites)
    Allocations += Site.Stats.Allocations;
  EXPECT_EQ(Allocations, A.Totals.Stats.Allocations);
  EXPECT_EQ(A.Sites.size(), 5u);

  // Threads and cross-thread frees use the split entries.
  const ThreadReport *MainThread = nullptr, *WorkerThread = nullptr;
  for (const ThreadReport &Thread : A.Threads)
    (Thread.ThreadId == 1 ? MainThread : WorkerThread) = &Thread;
  ASSERT_TRUE(MainThread && WorkerThread);
  ASSERT_FALSE(MainThread->TopSites.empty());
  EXPECT_EQ(MainThread->TopSites[0].SiteId, FromA->Id);
  EXPECT_EQ(MainThread->TopSites[0].Bytes, 192);
  EXPECT_EQ(MainThread->TopSites[0].Location.Line, uint32_t(LineA));
  ASSERT_EQ(WorkerThread->TopSites.size(), 1u);
  EXPECT_EQ(WorkerThread->TopSites[0].SiteId, FromA->Id);
  ASSERT_EQ(A.CrossFrees.BySitePair.size(), 1u);
  EXPECT_EQ(A.CrossFrees.BySitePair[0].AllocSite, FromA->Id);
  EXPECT_EQ(A.CrossFrees.BySitePair[0].AllocLocation.Line, uint32_t(LineA));
  EXPECT_EQ(A.CrossFrees.BySitePair[0].Frees, 1);

  nlohmann::ordered_json Json = toJson(A);
  bool Seen = false;
  for (const auto &Site : Json["sites"]) {
    if (Site["id"] == hexId(FromA->Id)) {
      Seen = true;
      EXPECT_EQ(Site["kind"], "new");
      EXPECT_EQ(Site["file"], NewAllocatorH);
      EXPECT_EQ(Site["line"], 137);
      EXPECT_EQ(Site["user_frame"]["line"], LineA);
      EXPECT_EQ(Site["attributed_by"], "stack");
      EXPECT_EQ(Site["via"], Function);
    } else if (Site["id"] == hexId(InlinedSite)) {
      EXPECT_EQ(Site["attributed_by"], "inline");
      EXPECT_FALSE(Site.contains("via"));
    } else if (Site["id"] == hexId(LibrarySite)) {
      EXPECT_EQ(Site["attributed_by"], "site");
    }
  }
  EXPECT_TRUE(Seen);

  // The text summary shows the user's line and the library function.
  std::string Summary;
  llvm::raw_string_ostream OS(Summary);
  writeTextSummary(A, TextOptions(), OS);
  std::string Row = fmt::format("AnalysisTest.cpp:{}", LineA);
  size_t At = Summary.find(Row);
  ASSERT_NE(At, std::string::npos) << Summary;
  llvm::StringRef Line = llvm::StringRef(Summary).substr(At).split('\n').first;
  EXPECT_TRUE(endsWith(Line, " [via " + Function + "]")) << Line.str();
}

TEST(StackAttribution, SplitIdsAreStable) {
  uint64_t Id = stackSiteId(0x1234, "/src/a.cpp", 5, "main");
  EXPECT_EQ(Id, stackSiteId(0x1234, "/src/a.cpp", 5, "main"));
  EXPECT_NE(Id, stackSiteId(0x1235, "/src/a.cpp", 5, "main"));
  EXPECT_NE(Id, stackSiteId(0x1234, "/src/a.cpp", 6, "main"));
  EXPECT_NE(Id, stackSiteId(0x1234, "/src/b.cpp", 5, "main"));
  EXPECT_NE(Id, stackSiteId(0x1234, "/src/a.cpp", 5, "f"));
  EXPECT_NE(Id, indirectSiteId("/src/a.cpp", 5, "main"));
  std::string Key = std::string("stack\0", 6) + "0x0000000000001234" + '\0' +
                    "/src/a.cpp" + '\0' + "5" + '\0' + "main";
  EXPECT_EQ(Id, llvm::xxHash64(Key));
}

TEST(Symbolization, SystemPaths) {
  Diagnostics Diags;
  Symbolizer Symbols(false, Diags);
  IndirectAttributor Defaults(Symbols, defaultSystemPrefixes());
  EXPECT_TRUE(Defaults.isSystemPath("/usr/include/c++/12/bits/vector.tcc"));
  EXPECT_TRUE(Defaults.isSystemPath("/usr/lib/gcc/x86_64-linux-gnu/12/x.h"));
  EXPECT_TRUE(Defaults.isSystemPath("/usr/local/include/boost/x.hpp"));
  EXPECT_TRUE(Defaults.isSystemPath("/usr/share/foo/c++/v1/vector"));
  EXPECT_FALSE(Defaults.isSystemPath("/home/me/app.cpp"));
  EXPECT_FALSE(Defaults.isSystemPath("/usr/src/app/main.cpp"));
  EXPECT_FALSE(Defaults.isSystemPath("/home/me/c++/x.cpp"));
  IndirectAttributor Custom(Symbols, {"/opt/sdk/"});
  EXPECT_TRUE(Custom.isSystemPath("/opt/sdk/a.h"));
  EXPECT_FALSE(Custom.isSystemPath("/usr/include/stdio.h"));
}

TEST(Analysis, TextSummaryFormat) {
  TempDir Dir;
  std::string P = appFolder(Dir, processLog(100));
  TestLogWriter T(log::FileKind::Thread, 100);
  T.threadStart(1, 4242, T0 + 1, "main");
  T.alloc(1, SiteA, 100, T0 + 10);
  T.alloc(2, SiteB, 50, T0 + 11, 1.0, MSC_KIND_NEW);
  T.free(2, T0 + 12);
  T.threadEnd(1, T0 + 20);
  T.writeTo(P + "/t0.log");
  auto R = analyzeDir(Dir.path());
  ASSERT_TRUE(bool(R->Result));
  std::string Text;
  llvm::raw_string_ostream OS(Text);
  TextOptions Options;
  Options.ReportPath = "out/analysis.json";
  writeTextSummary(*R->Result, Options, OS);
  std::string Expected =
      "memscope-merge: " + Dir.path() +
      ": 1 process, 1 thread, sampling exact\n"
      "total: 2 allocations, 150 bytes; peak live 150 bytes; live at exit "
      "100 bytes in 1 allocations; process-lifetime 0 bytes in 0 "
      "allocations\n"
      "processes:\n"
      "  pid 100 /bin/app: exited; 1 thread, 2 allocations, 150 bytes, peak "
      "live 150 bytes\n"
      "top sites by bytes:\n"
      "         bytes      allocs  live-at-exit  kind            location  "
      "function\n"
      "           100           1           100  malloc          a.cpp:10  "
      "worker(int)\n"
      "            50           1             0  new             b.cpp:20  "
      "main\n"
      "threads:\n"
      "  pid 100 thread 1 tid 4242 \"main\": 2 allocations, 150 bytes, 100 "
      "bytes live at exit, exited\n"
      "spawn sites: none\n"
      "cross-thread frees: 0 blocks, 0 bytes\n"
      "threads running at exit: 0\n"
      // Site B's one block lives 1 ns and is half of all allocations, but
      // one freed sample is too few for the temporaries rule.
      "bottlenecks: none\n"
      "report: out/analysis.json\n";
  EXPECT_EQ(Text, Expected);
}

TEST(Analysis, ErrorsForUnusableInput) {
  TempDir Dir;
  auto Missing = analyzeDir(Dir.sub("nope"));
  ASSERT_FALSE(bool(Missing->Result));
  EXPECT_NE(llvm::toString(Missing->Result.takeError())
                .find("cannot open input directory"),
            std::string::npos);

  std::string Empty = Dir.mkdir("empty");
  auto NoLogs = analyzeDir(Empty);
  ASSERT_FALSE(bool(NoLogs->Result));
  EXPECT_EQ(llvm::toString(NoLogs->Result.takeError()),
            "no memscope logs found in " + Empty);

  std::string P = Dir.mkdir("newer/app.5");
  TestLogWriter W = processLog(5);
  W.header().version_major = log::kVersionMajor + 1;
  W.writeTo(P + "/process.log");
  auto Newer = analyzeDir(Dir.sub("newer"));
  ASSERT_FALSE(bool(Newer->Result));
  EXPECT_NE(llvm::toString(Newer->Result.takeError()).find("no usable"),
            std::string::npos);
  EXPECT_EQ(Newer->Diags.errorCount(), 1u);
}

// Last in the file: everything below is "in" a library header.
#line 130 "/usr/include/c++/12/bits/new_allocator.h"
__attribute__((noinline)) uint64_t libraryFunction(uint64_t &Caller) {
  Caller = reinterpret_cast<uint64_t>(__builtin_return_address(0));
  uint64_t Inner = returnAddressOfCaller();
  // Not a tail call: the return address must lie in this function.
  asm volatile("" : : "r"(Inner) : "memory");
  return Inner;
}

} // namespace

TEST(SourcePathsTest, OneSpellingUnderTheRoot) {
  SourcePaths Paths("/home/u/proj/");
  EXPECT_EQ(Paths.root(), "/home/u/proj/");
  // A site table's relative name and DWARF's absolute one read the same.
  EXPECT_EQ(Paths.spell("examples/x.cpp", "/home/u/proj"), "examples/x.cpp");
  EXPECT_EQ(Paths.spell("/home/u/proj/examples/x.cpp"), "examples/x.cpp");
  EXPECT_EQ(Paths.spell("../examples/x.cpp", "/home/u/proj/build"),
            "examples/x.cpp");
  // Outside the root: absolute. Without a directory: as given.
  EXPECT_EQ(Paths.spell("/usr/include/c++/12/bits/vector.tcc"),
            "/usr/include/c++/12/bits/vector.tcc");
  EXPECT_EQ(Paths.spell("x.cpp", "/elsewhere"), "/elsewhere/x.cpp");
  EXPECT_EQ(Paths.spell("nptl/pthread_create.c"), "nptl/pthread_create.c");
  EXPECT_EQ(Paths.spell("/home/u/project2/y.cpp"), "/home/u/project2/y.cpp");
  // No root ("/" or none): absolute everywhere.
  EXPECT_EQ(SourcePaths("/").spell("a.c", "/src"), "/src/a.c");
  EXPECT_EQ(SourcePaths().spell("a.c", "/src"), "/src/a.c");
}

TEST(SourcePathsTest, CommonCompilationDirectory) {
  using V = std::vector<std::string>;
  EXPECT_EQ(SourcePaths::commonDirectory(V{"/p/a", "/p/b/c", "", "/p/a"}),
            "/p");
  EXPECT_EQ(SourcePaths::commonDirectory(V{"/p/ab", "/p/a"}), "/p");
  EXPECT_EQ(SourcePaths::commonDirectory(V{"/work/main"}), "/work/main");
  EXPECT_EQ(SourcePaths::commonDirectory(V{"/a", "/b"}), "");
  EXPECT_EQ(SourcePaths::commonDirectory(V{"relative", ""}), "");
}

TEST(TidySourcePathTest, RemovesDotSegmentsOnly) {
  EXPECT_EQ(tidySourcePath("bench/../examples/x.cpp"), "examples/x.cpp");
  EXPECT_EQ(tidySourcePath("/src/./a/../b.c"), "/src/b.c");
  EXPECT_EQ(tidySourcePath("./x.c"), "x.c");
  EXPECT_EQ(tidySourcePath("/usr/include/c++/12/bits/.hidden/x.h"),
            "/usr/include/c++/12/bits/.hidden/x.h");
  EXPECT_EQ(tidySourcePath("a.b/c.cpp"), "a.b/c.cpp");
}
