//===- DiffTest.cpp - Two runs compared by source line -------------------===//

#include "Diff.h"

#include "gtest/gtest.h"

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
