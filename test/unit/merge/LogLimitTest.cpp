//===- LogLimitTest.cpp - max_log_size and --pprof-series in the merge ----===//
//
// What the merge makes of a run whose logs neared max_log_size (LogLimit
// records, a ThreadEnd that had to go to process.log), and the intervals of
// --pprof-series between snapshots.
//
//===----------------------------------------------------------------------===//

#include "Estimates.h"
#include "TestSupport.h"

#include "llvm/ADT/STLExtras.h"

#include "gtest/gtest.h"

using namespace memscope;
using namespace memscope::merge;
using namespace memscope::merge::test;

namespace {

TEST(LogLimit, ExactRunThatSampledIsReportedAsSampledWithExactTotals) {
  TempDir Dir;
  TestLogWriter Process(log::FileKind::Process, 100);
  Process.processInfo(100, log::SamplingMode::Exact, "/bin/app", 262144);
  Process.site(SiteA, MSC_KIND_MALLOC, "a.cpp", 10, "f");
  // Written out of order: the merge sorts them by time.
  Process.logLimit(T0 + 700, 2, 0, 524288);
  Process.logLimit(T0 + 500, 1, log::LogLimitLeftExact, 262144);
  // Thread 2's own log had no room for its ThreadEnd.
  Process.withTotals(log::RecordType::ThreadEnded,
                     log::ThreadEndRecord{2, T0 + 900, 0, 0},
                     log::ThreadTotals{10, 1000});
  Process.processEnd(T0 + 1000, 0, 0, log::ThreadTotals{0, 0});
  std::string P = appFolder(Dir, Process);

  TestLogWriter Main(log::FileKind::Thread, 100, 0);
  Main.threadStart(1, 100, T0 + 1, "main");
  Main.alloc(1, SiteA, 100, T0 + 10);
  Main.alloc(2, SiteA, 100, T0 + 20);
  Main.alloc(3, SiteA, 100, T0 + 600, 4.0); // sampled, after level 1
  Main.threadEnd(1, T0 + 950, 0, 0, log::ThreadTotals{6, 600});
  Main.writeTo(P + "/t0.log");
  TestLogWriter Worker(log::FileKind::Thread, 100, 1);
  Worker.threadStart(2, 200, T0 + 30, "worker", 1);
  Worker.alloc(4, SiteA, 100, T0 + 40);
  Worker.writeTo(P + "/t1.log");

  auto R = analyzeDir(Dir.path());
  ASSERT_ANALYZED(A, R);
  const ProcessReport &Report = A.Processes.at(0);
  // The counts of both threads: the ThreadEnded totals make them exact.
  EXPECT_TRUE(Report.TotalsExact);
  EXPECT_EQ(Report.Stats.Allocations, 16);
  EXPECT_EQ(Report.Stats.Bytes, 1600);
  // Not exact any more: a sampled run at the first level's interval.
  EXPECT_EQ(Report.Sampling.Mode, "bytes");
  EXPECT_EQ(Report.Sampling.IntervalBytes, 262144u);
  EXPECT_FALSE(A.Totals.Exact);
  EXPECT_TRUE(A.Totals.DetailReduced);
  ASSERT_TRUE(Report.LogLimit.has_value());
  EXPECT_EQ(Report.LogLimit->MaxLogSize, 1u << 20);
  ASSERT_EQ(Report.LogLimit->Steps.size(), 2u);
  EXPECT_EQ(Report.LogLimit->Steps[0].TimeNs, 500u);
  EXPECT_TRUE(Report.LogLimit->Steps[0].LeftExact);
  EXPECT_EQ(Report.LogLimit->Steps[1].Level, 2u);
  EXPECT_EQ(Report.LogLimit->Steps[1].SampleIntervalBytes, 524288u);
  // What no sample revealed is bounded at the largest interval in force.
  EXPECT_DOUBLE_EQ(Report.Stats.UnseenBytes, unseenBytes(524288));
  // The worker ended (at 900), it was not running at exit.
  const ThreadReport *Worker2 = nullptr;
  for (const ThreadReport &Thread : A.Threads)
    if (Thread.ThreadId == 2)
      Worker2 = &Thread;
  ASSERT_NE(Worker2, nullptr);
  EXPECT_FALSE(Worker2->RunningAtExit);
  EXPECT_EQ(Worker2->EndNs, 900u);
  EXPECT_EQ(Worker2->Allocations, 10);
  // The site's estimate uses the samples' weights: 1 + 1 + 4 + 1.
  const SiteReport *Site = findSite(A, SiteA);
  ASSERT_NE(Site, nullptr);
  EXPECT_EQ(Site->Stats.Allocations, 7);
  EXPECT_TRUE(llvm::any_of(R->Diags.all(), [](const Diagnostic &D) {
    return D.Message.find("neared max_log_size") != std::string::npos;
  })) << diagText(R->Diags);
}

// Once the logs are full no samples are taken: the record's interval (the
// largest there is) bounds nothing, and what no sample revealed is bounded
// at the interval in force before it.
TEST(LogLimit, AFullLogBoundsOnlyWhatCameBefore) {
  TempDir Dir;
  TestLogWriter Process(log::FileKind::Process, 100);
  Process.processInfo(100, log::SamplingMode::Bytes, "/bin/app", 262144);
  Process.logLimit(T0 + 500, 1, 0, 524288);
  Process.logLimit(T0 + 700, 24, log::LogLimitFull, 1ull << 36);
  Process.processEnd(T0 + 1000);
  std::string P = appFolder(Dir, Process);
  TestLogWriter Main(log::FileKind::Thread, 100, 0);
  Main.threadStart(1, 100, T0 + 1, "main");
  Main.alloc(1, SiteA, 8, T0 + 10, 4096.5);
  Main.writeTo(P + "/t0.log");
  auto R = analyzeDir(Dir.path());
  ASSERT_ANALYZED(A, R);
  EXPECT_DOUBLE_EQ(A.Processes.at(0).Stats.UnseenBytes, unseenBytes(524288));
  EXPECT_DOUBLE_EQ(A.Totals.Stats.UnseenBytes, unseenBytes(524288));
}

// After the cap no samples are taken, while the runtime still counts every
// allocation: the sites' estimates cover the run up to the cap, and the
// summary's note says when that was and what share of the counted bytes they
// hold (here 2 samples of weight 10 x 100 bytes, of 10,000 bytes counted).
TEST(LogLimit, AFullLogSaysWhatItsSitesCover) {
  auto Run = [](bool Full) {
    TempDir Dir;
    TestLogWriter Process(log::FileKind::Process, 100);
    Process.processInfo(100, log::SamplingMode::Bytes, "/bin/app", 262144);
    Process.site(SiteA, MSC_KIND_MALLOC, "a.cpp", 10, "f");
    Process.logLimit(T0 + 500, 1, 0, 524288);
    if (Full)
      Process.logLimit(T0 + 1500000000, 24, log::LogLimitFull, 1ull << 36);
    Process.processEnd(T0 + 3000000000, 0, 0, log::ThreadTotals{0, 0});
    std::string P = appFolder(Dir, Process);
    TestLogWriter Main(log::FileKind::Thread, 100, 0);
    Main.threadStart(1, 100, T0 + 1, "main");
    Main.alloc(1, SiteA, 100, T0 + 10, 10.0);
    Main.alloc(2, SiteA, 100, T0 + 20, 10.0);
    Main.threadEnd(1, T0 + 2900000000, 0, 0, log::ThreadTotals{100, 10000});
    Main.writeTo(P + "/t0.log");
    auto R = analyzeDir(Dir.path());
    if (!R->Result) {
      std::string Error = llvm::toString(R->Result.takeError());
      ADD_FAILURE() << Error;
      return Error;
    }
    return R->Result->Totals.PrecisionNote;
  };
  std::string Note = Run(true);
  EXPECT_NE(Note.find("Sampling stopped at 1.500 s, when the logs reached "
                      "max_log_size: per-site figures and their intervals "
                      "cover the run up to then, not after. The sites' bytes "
                      "add up to 20.0% of the 10000 bytes counted."),
            std::string::npos)
      << Note;
  // Not the advice of a smaller interval, which would fill the log sooner.
  EXPECT_EQ(Note.find("sample_interval="), std::string::npos) << Note;
  EXPECT_EQ(Run(false).find("Sampling stopped"), std::string::npos);
}

TEST(LogLimit, RunUnderTheCapHasNoLimitReport) {
  TempDir Dir;
  TestLogWriter Process(log::FileKind::Process, 100);
  Process.processInfo(100, log::SamplingMode::Exact);
  Process.processEnd(T0 + 1000);
  std::string P = appFolder(Dir, Process);
  TestLogWriter Main(log::FileKind::Thread, 100, 0);
  Main.threadStart(1, 100, T0 + 1, "main");
  Main.alloc(1, SiteA, 8, T0 + 10);
  Main.writeTo(P + "/t0.log");
  auto R = analyzeDir(Dir.path());
  ASSERT_ANALYZED(A, R);
  EXPECT_FALSE(A.Processes.at(0).LogLimit.has_value());
  EXPECT_FALSE(A.Totals.DetailReduced);
  EXPECT_EQ(A.Processes.at(0).Sampling.Mode, "exact");
}

/// analyze() with --pprof-series (and a window).
std::unique_ptr<Run> analyzeSeries(const std::string &Dir,
                                   std::optional<WindowBound> From = {}) {
  AnalysisOptions Options = optionsFor(Dir);
  Options.Series = true;
  Options.From = std::move(From);
  return analyzeWith(Options);
}

/// Per interval: {allocated bytes, live bytes at its end} of site-stack
/// samples, summed over samples and threads.
std::vector<std::pair<double, double>> intervalBytes(const ProcessSeries &S) {
  std::vector<std::pair<double, double>> Out;
  double Live = 0;
  for (const SeriesInterval &Interval : S.Intervals) {
    double Allocated = 0;
    for (const SeriesChange &Change : Interval.Changes) {
      Allocated += Change.Bytes;
      Live += Change.LiveBytes;
    }
    Out.push_back({Allocated, Live});
  }
  return Out;
}

/// An exact run of pid 100 (site A) with snapshots 1 and 2 at T0 + 100 and
/// T0 + 200, written in reverse order, ending at T0 + 300: its folder.
std::string runWithTwoSnapshots(TempDir &Dir) {
  TestLogWriter Process(log::FileKind::Process, 100);
  Process.processInfo(100, log::SamplingMode::Exact);
  Process.site(SiteA, MSC_KIND_MALLOC, "a.cpp", 10, "f");
  log::SnapshotRecord First{}, Second{};
  First.number = 1;
  First.monotonic_ns = T0 + 100;
  Second.number = 2;
  Second.monotonic_ns = T0 + 200;
  Process.fixed(log::RecordType::Snapshot, Second);
  Process.fixed(log::RecordType::Snapshot, First);
  Process.processEnd(T0 + 300);
  return appFolder(Dir, Process);
}

TEST(PprofSeries, IntervalsBetweenSnapshotsCarryTheLiveSet) {
  TempDir Dir;
  std::string P = runWithTwoSnapshots(Dir);
  TestLogWriter Main(log::FileKind::Thread, 100, 0);
  Main.threadStart(1, 100, T0 + 1, "main");
  Main.alloc(1, SiteA, 1000, T0 + 10); // live until 150
  Main.alloc(2, SiteA, 500, T0 + 20);  // live to the end
  Main.free(1, T0 + 150);
  Main.alloc(3, SiteA, 64, T0 + 250); // live to the end
  Main.threadEnd(1, T0 + 290);
  Main.writeTo(P + "/t0.log");

  auto R = analyzeSeries(Dir.path());
  ASSERT_ANALYZED(A, R);
  ASSERT_EQ(A.Series.size(), 1u);
  const ProcessSeries &S = A.Series[0];
  EXPECT_EQ(S.Pid, 100u);
  ASSERT_EQ(S.Intervals.size(), 3u);
  EXPECT_EQ(S.Intervals[0].StartNs, 0u);
  EXPECT_EQ(S.Intervals[0].EndNs, 100u);
  EXPECT_EQ(S.Intervals[0].Snapshot, std::optional<uint64_t>(1));
  EXPECT_EQ(S.Intervals[1].StartNs, 100u);
  EXPECT_EQ(S.Intervals[1].EndNs, 200u);
  EXPECT_EQ(S.Intervals[2].EndNs, 300u);
  EXPECT_FALSE(S.Intervals[2].Snapshot.has_value());
  std::vector<std::pair<double, double>> Bytes = intervalBytes(S);
  EXPECT_EQ(Bytes[0], std::make_pair(1500.0, 1500.0));
  EXPECT_EQ(Bytes[1], std::make_pair(0.0, 500.0));
  EXPECT_EQ(Bytes[2], std::make_pair(64.0, 564.0));
  for (const SeriesInterval &Interval : S.Intervals)
    for (const SeriesChange &Change : Interval.Changes) {
      EXPECT_LT(Change.Sample, A.Stacks.Samples.size());
      ASSERT_LT(Change.Thread, A.Threads.size());
      EXPECT_EQ(A.Threads[Change.Thread].Name, "main");
    }

  // --from=snapshot:1: the first interval is left out, the rest counts the
  // window's allocations only (block 2 is not in it).
  auto Windowed = analyzeSeries(Dir.path(), *parseWindowBound("snapshot:1"));
  ASSERT_ANALYZED(W, Windowed);
  ASSERT_EQ(W.Series.size(), 1u);
  std::vector<std::pair<double, double>> InWindow = intervalBytes(W.Series[0]);
  ASSERT_EQ(InWindow.size(), 2u);
  EXPECT_EQ(W.Series[0].Intervals[0].Snapshot, std::optional<uint64_t>(2));
  EXPECT_EQ(InWindow[0], std::make_pair(0.0, 0.0));
  EXPECT_EQ(InWindow[1], std::make_pair(64.0, 64.0));
}

} // namespace

namespace {

TEST(Window, AFreeTimedJustBeforeItsAllocationStaysWithItAtTheEdges) {
  // The runtime's event clock may time a cross-thread free a little before
  // its allocation; the merge keeps such a free pending until the
  // allocation comes. At --from and --to the pair must stay together: both
  // outside the window, and no free left without its allocation.
  TempDir Dir;
  std::string P = runWithTwoSnapshots(Dir);
  TestLogWriter Producer(log::FileKind::Thread, 100, 0);
  Producer.threadStart(1, 100, T0 + 1, "producer");
  Producer.alloc(1, SiteA, 1000, T0 + 51); // freed "at 50", before --from
  Producer.alloc(2, SiteA, 64, T0 + 150);  // in the window, live at its end
  Producer.alloc(3, SiteA, 500, T0 + 201); // freed "at 199", after --to
  Producer.threadEnd(1, T0 + 290);
  Producer.writeTo(P + "/t0.log");
  TestLogWriter Consumer(log::FileKind::Thread, 100, 1);
  Consumer.threadStart(2, 101, T0 + 2, "consumer");
  Consumer.free(1, T0 + 50);
  Consumer.free(3, T0 + 199);
  Consumer.threadEnd(2, T0 + 290);
  Consumer.writeTo(P + "/t1.log");

  AnalysisOptions Options = optionsFor(Dir.path());
  Options.From = *parseWindowBound("snapshot:1");
  Options.To = *parseWindowBound("snapshot:2");
  auto R = analyzeWith(Options);
  ASSERT_ANALYZED(A, R); // no warning either ("no Alloc record")
  EXPECT_EQ(A.Processes.at(0).UnmatchedFrees, 0u);
  const SiteReport *Site = findSite(A, SiteA);
  ASSERT_NE(Site, nullptr);
  EXPECT_EQ(Site->Stats.Bytes, 64);
  EXPECT_EQ(Site->Stats.LiveBytes, 64);
}

} // namespace
