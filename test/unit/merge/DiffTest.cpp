//===- DiffTest.cpp - Two runs compared by source line -------------------===//

#include "Diff.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace memscope::merge;
using json = nlohmann::ordered_json;

namespace {

/// An analysis.json with one site of \p Bytes (interval [Low, High]).
json run(double Bytes, double Low, double High, uint32_t Line = 10,
         bool Exact = false) {
  json Site = {{"kind", "malloc"},
               {"user_frame",
                {{"function", "load"}, {"file", "db.cpp"}, {"line", Line}}},
               {"bytes", Bytes},
               {"bytes_interval", {Low, High}},
               {"allocations", 10},
               {"allocations_interval", {10, 10}}};
  return {{"input", "logs"},
          {"summary",
           {{"exact", Exact}, {"total_bytes", Bytes}, {"peak_live_bytes", 0}}},
          {"sites", json::array({Site})}};
}

const DiffEntry &onlySite(const RunDiff &D) {
  EXPECT_EQ(D.Sites.size(), 1u);
  return D.Sites.front();
}

} // namespace

TEST(Diff, SampledChangeIsSignificantOnlyWhenTheIntervalsDoNotOverlap) {
  // 1,000 -> 1,300 bytes with overlapping intervals: within uncertainty.
  RunDiff Close = diffRuns(run(1000, 800, 1200), run(1300, 1100, 1500));
  EXPECT_DOUBLE_EQ(onlySite(Close).figure("bytes")->delta(), 300);
  EXPECT_FALSE(onlySite(Close).figure("bytes")->Significant);
  // 1,000 -> 2,000 with disjoint intervals: significant.
  RunDiff Far = diffRuns(run(1000, 800, 1200), run(2000, 1700, 2300));
  EXPECT_TRUE(onlySite(Far).figure("bytes")->Significant);
  // Exact figures (point intervals): any change is.
  RunDiff Exact = diffRuns(run(1000, 1000, 1000, 10, true),
                           run(1001, 1001, 1001, 10, true));
  EXPECT_TRUE(onlySite(Exact).figure("bytes")->Significant);
  EXPECT_FALSE(onlySite(Exact).figure("allocations")->Significant);
}

TEST(Diff, ALineThatMovedWithinItsFunctionMatchesWithANote) {
  RunDiff D = diffRuns(run(1000, 1000, 1000, 10), run(1000, 1000, 1000, 14));
  const DiffEntry &Site = onlySite(D);
  EXPECT_EQ(Site.Match, "moved");
  EXPECT_EQ(Site.Line, 14u);
  EXPECT_EQ(Site.BaseLine, 10u);
  json J = diffJson(D);
  EXPECT_EQ(J["sites"][0]["base_line"], 10);
  EXPECT_EQ(J["sites"][0]["bytes"]["delta"], 0);
}

TEST(Diff, SitesOfOneKeyAreSummedAndUnmatchedOnesAreNewOrGone) {
  json Base = run(1000, 1000, 1000);
  // Two entries of one user line (say, two stacks into it) add up.
  Base["sites"].push_back(Base["sites"][0]);
  json New = run(500, 500, 500);
  New["sites"][0]["user_frame"]["function"] = "store";
  RunDiff D = diffRuns(Base, New);
  ASSERT_EQ(D.Sites.size(), 2u);
  EXPECT_EQ(D.Sites[0].Match, "gone"); // -2,000 bytes: the larger change
  EXPECT_DOUBLE_EQ(D.Sites[0].figure("bytes")->Base, 2000);
  EXPECT_EQ(D.Sites[1].Match, "new");
  EXPECT_DOUBLE_EQ(D.Sites[1].figure("bytes")->New, 500);
}

TEST(Diff, ASampledZeroIsAsUnseenNotACertainZero) {
  // Live bytes at exit of 0 in a byte-sampled run (interval 256 KiB) means
  // no live block was sampled, not none was live: up to ln(20) x 256 KiB
  // may have been. Against one sample (262,394 [6,600, 1.46 M]) in the
  // other run, that is no significant change, for a site nor the totals.
  auto Sampled = [](double Live, double Low, double High) {
    json R = run(1000, 1000, 1000);
    R["summary"]["sampling"] = {{"interval_bytes", 262144}};
    R["summary"]["live_bytes_at_exit"] = Live;
    R["summary"]["live_bytes_at_exit_interval"] = {Low, High};
    R["sites"][0]["live_bytes_at_exit"] = Live;
    R["sites"][0]["live_bytes_at_exit_interval"] = {Low, High};
    return R;
  };
  RunDiff D = diffRuns(Sampled(262394, 6600, 1460000), Sampled(0, 0, 0));
  EXPECT_FALSE(onlySite(D).figure("live_bytes_at_exit")->Significant);
  const DiffFigure *Total = nullptr;
  for (const auto &[Key, Figure] : D.Totals)
    if (Key == "live_bytes_at_exit")
      Total = &Figure;
  ASSERT_NE(Total, nullptr);
  EXPECT_FALSE(Total->Significant);
  EXPECT_NEAR(Total->NewHigh, std::log(20.0) * 262144, 1);
  // Beyond what a sampler could have missed, it is.
  RunDiff Far = diffRuns(Sampled(2e6, 1.5e6, 2.5e6), Sampled(0, 0, 0));
  EXPECT_TRUE(onlySite(Far).figure("live_bytes_at_exit")->Significant);
  // An exact run's zero is a zero.
  json ExactBase = run(1000, 1000, 1000, 10, true);
  json ExactNew = ExactBase;
  ExactBase["sites"][0]["live_bytes_at_exit"] = 64;
  ExactBase["sites"][0]["live_bytes_at_exit_interval"] = {64, 64};
  ExactNew["sites"][0]["live_bytes_at_exit"] = 0;
  ExactNew["sites"][0]["live_bytes_at_exit_interval"] = {0, 0};
  EXPECT_TRUE(onlySite(diffRuns(ExactBase, ExactNew))
                  .figure("live_bytes_at_exit")
                  ->Significant);
}
