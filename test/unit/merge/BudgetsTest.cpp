//===- BudgetsTest.cpp - Budget files and their checks -------------------===//

#include "Budgets.h"
#include "TestLogWriter.h"
#include "TestSupport.h"

#include "gtest/gtest.h"

using namespace memscope;
using namespace memscope::merge;
using namespace memscope::merge::test;

namespace {

constexpr uint64_t T0 = TestLogWriter::StartMonotonic;
constexpr uint64_t SiteA = 0xA1;

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
  std::vector<BudgetCheck> Checks =
      checkBudgets(parse(R"({"sites": [{"file": "*cache.cpp", "bytes": 3000},
                          {"function": "fill", "bytes": 900}]})"),
                   *R->Result);
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
                "budget exceeded: bytes of sites[1] (function \"fill\") is "
                "4600 (estimated; interval "),
            std::string::npos)
      << describeBudgetCheck(Checks[1]);
  // Totals are counted in every mode: exact, so the value itself decides.
  std::vector<BudgetCheck> Totals = checkBudgets(
      parse(R"({"totals": {"bytes": 4999, "allocations": 10}})"), *R->Result);
  ASSERT_EQ(Totals.size(), 2u);
  EXPECT_FALSE(Totals[0].Estimated);
  EXPECT_TRUE(Totals[0].Exceeded);
  EXPECT_FALSE(Totals[1].Exceeded); // equal to the limit
}

TEST(Budgets, ThreadsAndUnmatchedEntries) {
  TempDir Dir;
  auto R = sampledRun(Dir, 4.6);
  ASSERT_TRUE(bool(R->Result));
  std::vector<BudgetCheck> Checks =
      checkBudgets(parse(R"({"threads": [{"name": "ma*", "allocations": 9},
                            {"name": "nobody", "bytes": 0}]})"),
                   *R->Result);
  ASSERT_EQ(Checks.size(), 2u);
  EXPECT_EQ(Checks[0].Matched, 1u);
  EXPECT_TRUE(Checks[0].Exceeded);
  EXPECT_DOUBLE_EQ(Checks[0].Value, 10);
  EXPECT_EQ(Checks[1].Matched, 0u);
  EXPECT_FALSE(Checks[1].Exceeded);
}

TEST(Budgets, InvalidFilesNameTheProblem) {
  EXPECT_NE(parseError("[1]").find("the top level must be an object"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"total": {}})").find("unknown key total"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"totals": {}})").find("totals sets no limit"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"totals": {"bytes": "10"}})")
                .find("totals.bytes must be a number >= 0"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"spawn_sites": [{"line": -3, "threads": 1}]})")
                .find("spawn_sites[0].line must be a line number"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"sites": [{"file": "", "bytes": 1}]})")
                .find("sites[0].file must be a non-empty glob"),
            std::string::npos);
  EXPECT_NE(parseError("{}").find("sets no budget"), std::string::npos);
  EXPECT_EQ(parseError(R"({"spawn_sites": [{"line": 3, "threads": 1}]})"),
            "<parsed>");
}
