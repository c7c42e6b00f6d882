//===- BudgetsTest.cpp - Budget files and their checks -------------------===//

#include "Budgets.h"
#include "TestLogWriter.h"
#include "TestSupport.h"

#include "gtest/gtest.h"

using namespace memscope;
using namespace memscope::merge;
using namespace memscope::merge::test;

namespace {

/// One process that sampled one 1000-byte block of site A at weight W
/// (byte sampling, 4096-byte interval), and counted 10 allocations of
/// 5000 bytes in its only thread.
std::unique_ptr<Run> sampledRun(TempDir &Dir, double Weight) {
  std::string P = Dir.mkdir("app.100");
  TestLogWriter Process(log::FileKind::Process, 100);
  Process.processInfo(100, log::SamplingMode::Bytes, "/bin/app", 4096);
  Process.site(SiteA, MSC_KIND_MALLOC, "/src/cache.cpp", 10, "fill", {},
               0x1100);
  Process.processEnd(T0 + 100, 0, 0, log::ThreadTotals{0, 0});
  Process.writeTo(P + "/process.log");
  TestLogWriter T(log::FileKind::Thread, 100, 0);
  T.threadStart(1, 100, T0 + 1, "main");
  T.alloc(1, SiteA, 1000, T0 + 10, Weight);
  T.threadEnd(1, T0 + 50, 0, 0, log::ThreadTotals{10, 5000});
  T.writeTo(P + "/t0.log");
  return analyzeDir(Dir.path(), false, std::nullopt, "/");
}

BudgetFile parse(const std::string &Text) {
  llvm::Expected<BudgetFile> File = parseBudgets(Text, "b.json");
  EXPECT_TRUE(bool(File)) << llvm::toString(File.takeError());
  return File ? std::move(*File) : BudgetFile{};
}

std::string parseError(const std::string &Text) {
  llvm::Expected<BudgetFile> File = parseBudgets(Text, "b.json");
  if (File)
    return "<parsed>";
  return llvm::toString(File.takeError());
}

} // namespace

TEST(Budgets, SampledFiguresFailOnlyAboveTheirIntervalsLowerEnd) {
  TempDir Dir;
  auto R = sampledRun(Dir, 4.6);
  ASSERT_TRUE(bool(R->Result)) << diagText(R->Diags);
  // The site's estimate is 4,600 bytes from one sample of 1,000: its
  // interval reaches down to about the sampled block itself.
  BudgetResult Sites = checkBudgets(
      parse(R"({"sites": [{"match": "*cache.cpp:10", "bytes": 3000},
                          {"match": "fill", "bytes": 900}]})"),
      *R->Result);
  const std::vector<BudgetCheck> &Checks = Sites.Checks;
  ASSERT_EQ(Checks.size(), 2u);
  EXPECT_TRUE(Checks[0].Estimated);
  EXPECT_DOUBLE_EQ(Checks[0].Value, 4600);
  EXPECT_LT(Checks[0].Range.Low, 3000);
  EXPECT_FALSE(Checks[0].Exceeded);
  EXPECT_TRUE(Checks[0].Uncertain);
  EXPECT_NE(describeBudgetCheck(Checks[0]).find("within sampling uncertainty"),
            std::string::npos);
  EXPECT_GE(Checks[1].Range.Low, 900);
  EXPECT_TRUE(Checks[1].Exceeded);
  EXPECT_NE(describeBudgetCheck(Checks[1]).find(
                "budget exceeded: bytes of site /src/cache.cpp:10 fill "
                "(sites[1] \"fill\") is 4600 (estimated; interval "),
            std::string::npos)
      << describeBudgetCheck(Checks[1]);
  EXPECT_NE(describeBudgetCheck(Checks[1]).find("with sampling a budget fails "
                                                "only then"),
            std::string::npos);
  // Totals are counted in every mode: exact, so the value itself decides.
  BudgetResult Totals = checkBudgets(
      parse(R"({"total_bytes": 4999, "total_allocations": 10})"), *R->Result);
  ASSERT_EQ(Totals.Checks.size(), 2u);
  EXPECT_FALSE(Totals.Checks[0].Estimated);
  EXPECT_TRUE(Totals.Checks[0].Exceeded);
  EXPECT_FALSE(Totals.Checks[1].Exceeded); // equal to the limit
}

TEST(Budgets, ThreadNamesAndUnmatchedEntries) {
  TempDir Dir;
  auto R = sampledRun(Dir, 4.6);
  ASSERT_TRUE(bool(R->Result));
  BudgetResult Result =
      checkBudgets(parse(R"({"threads": [{"match": "ma*", "allocations": 9},
                                         {"match": "nobody", "bytes": 0}]})"),
                   *R->Result);
  ASSERT_EQ(Result.Checks.size(), 1u);
  EXPECT_EQ(Result.Checks[0].Target, "thread name \"main\" (1 thread)");
  EXPECT_TRUE(Result.Checks[0].Exceeded);
  EXPECT_DOUBLE_EQ(Result.Checks[0].Value, 10);
  ASSERT_EQ(Result.Unmatched.size(), 1u);
  EXPECT_EQ(Result.Unmatched[0], "threads[1] \"nobody\"");
}

TEST(Budgets, GrowthIsLimitedAgainstTheDiffBase) {
  TempDir Dir;
  auto R = sampledRun(Dir, 1); // exact figures: a weight of 1
  ASSERT_TRUE(bool(R->Result));
  BudgetFile File = parse(
      R"({"sites": [{"match": "*", "max_growth_percent": 10,
                     "max_growth_bytes": 200}]})");
  EXPECT_TRUE(File.needsDiff());
  auto Base = [](double Bytes) {
    RunDiff D;
    DiffEntry E;
    E.Match = "same";
    E.Kind = "malloc";
    E.File = "/src/cache.cpp";
    E.Line = 10;
    E.Function = "fill";
    DiffFigure F;
    F.Base = F.BaseLow = F.BaseHigh = Bytes;
    F.New = F.NewLow = F.NewHigh = 1000;
    E.Figures.push_back({"bytes", F});
    D.Sites.push_back(E);
    return D;
  };
  // From 700 to 1,000: +300, over both 200 bytes and 10% (70).
  RunDiff Grew = Base(700);
  BudgetResult Over = checkBudgets(File, *R->Result, &Grew);
  ASSERT_EQ(Over.Checks.size(), 1u);
  EXPECT_TRUE(Over.Checks[0].Exceeded);
  EXPECT_DOUBLE_EQ(Over.Checks[0].Limit, 200);
  // From 2,900... to 1,000 is no growth; from 850 to 1,000 is +150, within
  // the larger of 200 bytes and 85.
  RunDiff Small = Base(850);
  EXPECT_FALSE(checkBudgets(File, *R->Result, &Small).Checks[0].Exceeded);
}

TEST(Budgets, InvalidFilesNameTheProblem) {
  EXPECT_NE(parseError("[1]").find("the top level must be an object"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"totals": {}})").find("unknown key totals"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"total_bytes": "10"})")
                .find("total_bytes must be a number >= 0"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"sites": [{"bytes": 10}]})")
                .find("sites[0] has no \"match\""),
            std::string::npos);
  EXPECT_NE(parseError(R"({"sites": [{"match": "", "bytes": 1}]})")
                .find("sites[0].match must be a non-empty glob"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"threads": [{"match": "w"}]})")
                .find("threads[0] sets no limit"),
            std::string::npos);
  EXPECT_NE(
      parseError(R"({"threads": [{"match": "w", "max_growth_bytes": 1}]})")
          .find("unknown key threads[0].max_growth_bytes"),
      std::string::npos);
  EXPECT_NE(parseError("{}").find("sets no budget"), std::string::npos);
  EXPECT_EQ(
      parseError(R"({"spawn_sites": [{"match": "a.cpp:3", "threads": 1}]})"),
      "<parsed>");
}
