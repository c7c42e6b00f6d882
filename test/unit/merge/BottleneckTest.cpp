//===- BottleneckTest.cpp - Bottleneck rules, lifetimes, resources --------===//
//
// Every rule is checked exactly at its threshold (fires) and just past it
// (does not), on synthetic runs. Weights stand for many allocations, so a
// single sample can reach the count thresholds.
//
//===----------------------------------------------------------------------===//

#include "Analysis.h"
#include "Bottlenecks.h"
#include "Report.h"
#include "TestLogWriter.h"
#include "TestSupport.h"

#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <deque>
#include <map>
#include <tuple>

using namespace memscope;
using namespace memscope::merge;
using namespace memscope::merge::test;

namespace {

constexpr uint64_t MiB = 1 << 20;
constexpr uint64_t Hot = 0x10;
constexpr uint64_t Cold = 0x20;
constexpr uint64_t Grow = 0x30;
constexpr uint64_t GrowArray = 0x31;
constexpr uint64_t Spawn = 0x40;
constexpr uint64_t FreeSite = 0x50;
constexpr uint64_t LeakBase = 0x100; // LeakBase + I: leak.cpp:I

/// A finding's value, unit and threshold, to compare at once.
using Measured = std::tuple<double, std::string, double>;
Measured measured(const Bottleneck &B) {
  return {B.Value, B.Unit, B.Threshold};
}

/// One process (pid 100) with the sites above and one log per thread.
class Scenario {
public:
  explicit Scenario(uint32_t Pid = 100) : Pid(Pid) {
    Process.processInfo(Pid, log::SamplingMode::Exact);
    Process.module("/nonexistent/app", 0x0, 0x1000, 0x9000, true);
    Process.site(Hot, MSC_KIND_MALLOC, "hot.cpp", 10, "_Z3hotv", {}, 0x1100);
    Process.site(Cold, MSC_KIND_MALLOC, "cold.cpp", 20, "_Z4coldv", {}, 0x1100);
    Process.site(Grow, MSC_KIND_REALLOC, "grow.cpp", 30, "_Z4growv", {},
                 0x1100);
    Process.site(GrowArray, MSC_KIND_REALLOCARRAY, "grow.cpp", 31, "_Z4growv",
                 {}, 0x1100);
    Process.site(Spawn, MSC_KIND_THREAD_SPAWN, "pool.cpp", 40, "_Z5startv", {},
                 0x1100);
    Process.site(FreeSite, MSC_KIND_FREE, "consumer.cpp", 50, "_Z8consumerv",
                 {}, 0x1100);
    for (uint32_t I = 1; I <= 30; ++I)
      Process.site(LeakBase + I, MSC_KIND_MALLOC, "leak.cpp", I, "_Z4leakv", {},
                   0x1100);
  }

  /// A new thread log whose thread starts at T0 + 1.
  TestLogWriter &thread(uint64_t Id, llvm::StringRef Name = "main",
                        uint64_t Parent = 0, uint64_t SpawnSite = 0) {
    Threads.emplace_back(log::FileKind::Thread, Pid, Threads.size());
    Threads.back().threadStart(Id, 4000 + Id, T0 + 1, Name, Parent, SpawnSite);
    return Threads.back();
  }

  /// Returns the new sample's id.
  uint64_t alloc(TestLogWriter &T, uint64_t Site, uint64_t Size,
                 double Weight = 1, uint64_t Time = T0 + 10,
                 uint32_t Kind = MSC_KIND_MALLOC) {
    T.alloc(NextSample, Site, Size, Time, Weight, Kind);
    return NextSample++;
  }

  /// Writes the logs under Dir/<name>.<pid> and analyses Dir.
  const Analysis *run() {
    Process.processEnd(T0 + 10000000000ull); // 10 s
    std::string Folder = Dir.mkdir("app." + std::to_string(Pid));
    Process.writeTo(Folder + "/process.log");
    for (size_t I = 0; I < Threads.size(); ++I)
      Threads[I].writeTo(Folder + "/t" + std::to_string(I) + ".log");
    AnalysisOptions Options;
    Options.InputDir = Dir.path();
    Options.Symbolize = false;
    Options.SystemPrefixes = defaultSystemPrefixes();
    Result = analyze(Options, Diags);
    if (!Result) {
      ADD_FAILURE() << llvm::toString(Result.takeError());
      return nullptr;
    }
    return &*Result;
  }

  TempDir Dir;
  uint32_t Pid;
  TestLogWriter Process{log::FileKind::Process, Pid};
  std::deque<TestLogWriter> Threads;
  uint64_t NextSample = 1;
  Diagnostics Diags;
  llvm::Expected<Analysis> Result =
      llvm::createStringError(std::errc::invalid_argument, "not run");
};

std::vector<Bottleneck> ofKind(const Analysis &A, const std::string &Kind) {
  std::vector<Bottleneck> Found;
  for (const Bottleneck &B : A.Bottlenecks)
    if (B.Kind == Kind)
      Found.push_back(B);
  return Found;
}

//===-- hot_site_bytes --------------------------------------------------===//

TEST(Bottlenecks, HotSiteBytesFiresAtTwentyPercent) {
  Scenario S;
  TestLogWriter &Main = S.thread(1);
  S.alloc(Main, Hot, 2 * MiB);  // exactly 20% of 10 MiB
  S.alloc(Main, Cold, 8 * MiB); // 80%
  const Analysis *A = S.run();
  ASSERT_TRUE(A);
  std::vector<Bottleneck> Hits = ofKind(*A, "hot_site_bytes");
  ASSERT_EQ(Hits.size(), 2u);
  // By value, descending.
  EXPECT_EQ(Hits[0].SiteId, std::optional<uint64_t>(Cold));
  EXPECT_EQ(Hits[0].Value, 80);
  const Bottleneck &B = Hits[1];
  EXPECT_EQ(B.SiteId, std::optional<uint64_t>(Hot));
  EXPECT_EQ(B.File, "hot.cpp");
  EXPECT_EQ(B.Line, 10u);
  EXPECT_EQ(B.Function, "hot()");
  EXPECT_EQ(measured(B), Measured(20, "%", rules::HotSiteBytesPercent));
  EXPECT_EQ(B.Description, "hot() at hot.cpp:10 allocates 20.0% of all bytes "
                           "(2.0 MiB in 1 allocations)");
  // Never freed, so most bytes are live at exit.
  EXPECT_NE(B.Suggestion.find("still allocated at exit"), std::string::npos)
      << B.Suggestion;

  nlohmann::ordered_json Json = toJson(*A);
  const nlohmann::ordered_json *Entry = nullptr;
  for (const auto &Item : Json["bottlenecks"])
    if (Item["kind"] == "hot_site_bytes" && Item["line"] == 10)
      Entry = &Item;
  ASSERT_TRUE(Entry);
  EXPECT_EQ((*Entry)["site_id"], "0x0000000000000010");
  EXPECT_EQ((*Entry)["value"], 20);
  EXPECT_EQ((*Entry)["threshold"], 20);
  EXPECT_EQ((*Entry)["function"], "hot()");

  // Columns: kind, location (padded to cold.cpp:20), value (right-aligned
  // to the leaks' "8388608 bytes"), description.
  std::string Text = textSummary(*A);
  EXPECT_NE(
      Text.find("\nbottlenecks:\n  hot_site_bytes  cold.cpp:20            "
                "80%  cold() at cold.cpp:20 allocates 80.0%"),
      std::string::npos)
      << Text;
  EXPECT_NE(Text.find("\n  hot_site_bytes  hot.cpp:10             20%  hot() "
                      "at hot.cpp:10 allocates 20.0% of all bytes"),
            std::string::npos)
      << Text;
  EXPECT_NE(Text.find("\n  leak            cold.cpp:20  8388608 bytes  "),
            std::string::npos)
      << Text;
}

TEST(Bottlenecks, HotSiteBytesBelowShareOrSize) {
  {
    Scenario S;
    TestLogWriter &Main = S.thread(1);
    S.alloc(Main, Hot, 2 * MiB - 1); // just under 20%
    S.alloc(Main, Cold, 8 * MiB + 1);
    const Analysis *A = S.run();
    ASSERT_TRUE(A);
    std::vector<Bottleneck> Hits = ofKind(*A, "hot_site_bytes");
    ASSERT_EQ(Hits.size(), 1u);
    EXPECT_EQ(Hits[0].SiteId, std::optional<uint64_t>(Cold));
  }
  {
    // 100% of the bytes, one byte short of 1 MiB.
    Scenario S;
    S.alloc(S.thread(1), Hot, MiB - 1);
    const Analysis *A = S.run();
    ASSERT_TRUE(A);
    EXPECT_TRUE(ofKind(*A, "hot_site_bytes").empty());
  }
  {
    Scenario S;
    S.alloc(S.thread(1), Hot, MiB);
    const Analysis *A = S.run();
    ASSERT_TRUE(A);
    EXPECT_EQ(ofKind(*A, "hot_site_bytes").size(), 1u);
  }
}

//===-- hot_site_count --------------------------------------------------===//

TEST(Bottlenecks, HotSiteCountAtItsEdges) {
  auto Hits = [](double HotWeight, double ColdWeight) {
    Scenario S;
    TestLogWriter &Main = S.thread(1);
    S.alloc(Main, Hot, 16, HotWeight);
    S.alloc(Main, Cold, 16, ColdWeight);
    const Analysis *A = S.run();
    std::vector<Bottleneck> Found;
    if (A)
      for (const Bottleneck &B : ofKind(*A, "hot_site_count"))
        if (B.SiteId == Hot)
          Found.push_back(B);
    return Found;
  };
  std::vector<Bottleneck> AtEdge = Hits(1000, 4000); // 1000 = 20%
  ASSERT_EQ(AtEdge.size(), 1u);
  EXPECT_EQ(measured(AtEdge[0]), Measured(20, "%", 20));
  EXPECT_EQ(AtEdge[0].Description,
            "hot() at hot.cpp:10 makes 20.0% of all allocations (1000 "
            "allocations of 16 bytes on average)");
  EXPECT_NE(AtEdge[0].Suggestion.find("Pool these small objects (16 bytes"),
            std::string::npos)
      << AtEdge[0].Suggestion;
  EXPECT_TRUE(Hits(1000, 4001).empty()); // 19.996%
  EXPECT_TRUE(Hits(999, 3996).empty());  // 20%, but fewer than 1000
}

//===-- temporaries -----------------------------------------------------===//

TEST(Bottlenecks, TemporariesAtItsEdges) {
  // Hot: Freed blocks of weight 1, each living Lifetime ns; Cold: blocks
  // never freed.
  auto Hits = [](uint64_t Lifetime, double ColdWeight, uint64_t Freed = 20) {
    Scenario S;
    TestLogWriter &Main = S.thread(1);
    std::vector<uint64_t> Ids;
    for (uint64_t I = 0; I < Freed; ++I)
      Ids.push_back(S.alloc(Main, Hot, 64, 1, T0 + 10 + I));
    S.alloc(Main, Cold, 64, ColdWeight, T0 + 10 + Freed);
    for (uint64_t I = 0; I < Freed; ++I)
      Main.free(Ids[I], T0 + 10 + I + Lifetime);
    const Analysis *A = S.run();
    return A ? ofKind(*A, "temporaries") : std::vector<Bottleneck>();
  };
  std::vector<Bottleneck> AtEdge = Hits(1000000, 380); // 1 ms, 5%
  ASSERT_EQ(AtEdge.size(), 1u);
  EXPECT_EQ(AtEdge[0].SiteId, std::optional<uint64_t>(Hot));
  EXPECT_EQ(measured(AtEdge[0]), Measured(1000, "µs", 1000));
  EXPECT_EQ(AtEdge[0].Description,
            "Blocks allocated by hot() at hot.cpp:10 live 1.0 ms on average; "
            "the site makes 5.0% of all allocations (20 allocations of 64 "
            "bytes on average)");
  EXPECT_TRUE(Hits(1000001, 380).empty()); // 1 ns too long
  EXPECT_TRUE(Hits(10, 381).empty());      // 4.99% of the allocations
}

TEST(Bottlenecks, TemporariesNeedTwentyFreedSamples) {
  static_assert(rules::TemporaryMinFreedSamples == 20);
  auto Hits = [](uint64_t Freed, double Weight) {
    Scenario S;
    TestLogWriter &Main = S.thread(1);
    std::vector<uint64_t> Ids;
    for (uint64_t I = 0; I < Freed; ++I)
      Ids.push_back(S.alloc(Main, Hot, 64, Weight, T0 + 10 + I));
    // Hot is exactly 5% of all allocations.
    S.alloc(Main, Cold, 64, 19 * Weight * double(Freed), T0 + 10 + Freed);
    for (uint64_t I = 0; I < Freed; ++I)
      Main.free(Ids[I], T0 + 20 + I);
    const Analysis *A = S.run();
    return A ? ofKind(*A, "temporaries") : std::vector<Bottleneck>();
  };
  EXPECT_EQ(Hits(20, 1).size(), 1u);
  EXPECT_TRUE(Hits(19, 1).empty());
  // Weights do not count: 19 samples standing for 1900 blocks are still 19
  // measurements of a lifetime.
  EXPECT_TRUE(Hits(19, 100).empty());
  EXPECT_EQ(Hits(20, 100).size(), 1u);
}

//===-- leak ------------------------------------------------------------===//

TEST(Bottlenecks, LeakAtOneMiBIgnoringUninstrumented) {
  Scenario S;
  TestLogWriter &Main = S.thread(1);
  S.alloc(Main, Hot, MiB);      // fires
  S.alloc(Main, Cold, MiB - 1); // one byte short
  // libstdc++'s emergency pool: uninstrumented, no stack.
  S.alloc(Main, 0, 4 * MiB, 1, T0 + 12, MSC_KIND_INDIRECT);
  // Freed blocks are not leaks.
  uint64_t Freed = S.alloc(Main, LeakBase + 1, 2 * MiB, 1, T0 + 13);
  Main.free(Freed, T0 + 14);
  const Analysis *A = S.run();
  ASSERT_TRUE(A);
  const SiteReport *Pool = nullptr;
  for (const SiteReport &Site : A->Sites)
    if (Site.File == "<uninstrumented>")
      Pool = &Site;
  ASSERT_TRUE(Pool);
  EXPECT_EQ(Pool->Stats.LiveBytes, 4.0 * MiB);
  std::vector<Bottleneck> Hits = ofKind(*A, "leak");
  ASSERT_EQ(Hits.size(), 1u);
  EXPECT_EQ(Hits[0].SiteId, std::optional<uint64_t>(Hot));
  EXPECT_EQ(measured(Hits[0]), Measured(double(MiB), "bytes", double(MiB)));
  EXPECT_EQ(Hits[0].Description,
            "hot() at hot.cpp:10 still holds 1.0 MiB at exit in 1 blocks");
  EXPECT_NE(Hits[0].Suggestion.find("None of its 1 blocks is ever freed"),
            std::string::npos);
  EXPECT_NE(textSummary(*A).find("  leak"), std::string::npos);
  EXPECT_NE(textSummary(*A).find("1048576 bytes  hot() at hot.cpp:10 still "
                                 "holds"),
            std::string::npos)
      << textSummary(*A);
}

//===-- realloc_churn ---------------------------------------------------===//

TEST(Bottlenecks, ReallocChurnOnlyForReallocSites) {
  Scenario S;
  TestLogWriter &Main = S.thread(1);
  S.alloc(Main, Grow, 64, 999, T0 + 10, MSC_KIND_REALLOC); // one short
  S.alloc(Main, GrowArray, 64, 1000, T0 + 11, MSC_KIND_REALLOCARRAY);
  S.alloc(Main, Hot, 64, 5000); // malloc: never churn
  const Analysis *A = S.run();
  ASSERT_TRUE(A);
  std::vector<Bottleneck> Hits = ofKind(*A, "realloc_churn");
  ASSERT_EQ(Hits.size(), 1u);
  EXPECT_EQ(Hits[0].SiteId, std::optional<uint64_t>(GrowArray));
  EXPECT_EQ(Hits[0].Line, 31u);
  EXPECT_EQ(measured(Hits[0]), Measured(1000, "reallocations", 1000));
  EXPECT_EQ(Hits[0].Description, "grow() at grow.cpp:31 reallocates 1000 "
                                 "times (62.5 KiB in total, 64 bytes per "
                                 "call on average)");

  Scenario Edge;
  Edge.alloc(Edge.thread(1), Grow, 64, 1000, T0 + 10, MSC_KIND_REALLOC);
  const Analysis *B = Edge.run();
  ASSERT_TRUE(B);
  ASSERT_EQ(ofKind(*B, "realloc_churn").size(), 1u);
  EXPECT_EQ(ofKind(*B, "realloc_churn")[0].SiteId,
            std::optional<uint64_t>(Grow));
}

//===-- cross_thread_frees ----------------------------------------------===//

/// Thread 1 allocates; thread 2 frees CrossHot blocks of Hot and CrossCold
/// (larger) blocks of Cold; thread 1 frees Local blocks itself.
std::vector<Bottleneck> crossFrees(double CrossHot, double CrossCold,
                                   double Local, Analysis *Out = nullptr) {
  Scenario S;
  TestLogWriter &Main = S.thread(1);
  TestLogWriter &Consumer = S.thread(2, "consumer", 1, Spawn);
  uint64_t A = S.alloc(Main, Hot, 16, CrossHot, T0 + 10);
  uint64_t B = CrossCold ? S.alloc(Main, Cold, 4096, CrossCold, T0 + 11) : 0;
  uint64_t C = Local ? S.alloc(Main, LeakBase + 1, 16, Local, T0 + 12) : 0;
  Consumer.free(A, T0 + 20, FreeSite);
  if (B)
    Consumer.free(B, T0 + 21, FreeSite);
  if (C)
    Main.free(C, T0 + 22);
  const Analysis *Result = S.run();
  if (!Result)
    return {};
  if (Out)
    *Out = std::move(*S.Result);
  return ofKind(Out ? *Out : *Result, "cross_thread_frees");
}

TEST(Bottlenecks, CrossThreadFreesAtTheBusiestPair) {
  Analysis A;
  // 1000 of 10000 frees: exactly 10%.
  std::vector<Bottleneck> Hits = crossFrees(600, 400, 9000, &A);
  ASSERT_EQ(Hits.size(), 1u);
  // Cold's pair has more bytes, Hot's more frees: the busiest is Hot's.
  ASSERT_GE(A.CrossFrees.BySitePair.size(), 2u);
  EXPECT_EQ(A.CrossFrees.BySitePair[0].AllocSite, Cold);
  EXPECT_EQ(Hits[0].SiteId, std::optional<uint64_t>(Hot));
  EXPECT_EQ(Hits[0].File, "hot.cpp");
  EXPECT_EQ(measured(Hits[0]), Measured(10, "%", 10));
  EXPECT_NE(Hits[0].Description.find("10.0% of all frees (1000 blocks"),
            std::string::npos)
      << Hits[0].Description;
  EXPECT_NE(Hits[0].Description.find("(600 blocks) are allocated by hot() at "
                                     "hot.cpp:10 and freed by consumer() at "
                                     "consumer.cpp:50"),
            std::string::npos)
      << Hits[0].Description;

  EXPECT_TRUE(crossFrees(600, 400, 9001).empty()); // 9.999%
  EXPECT_TRUE(crossFrees(999, 0, 0).empty());      // 100%, but 999
  EXPECT_EQ(crossFrees(1000, 0, 0).size(), 1u);
}

//===-- thread_imbalance ------------------------------------------------===//

/// Threads 2.. created at Spawn allocating Bytes each, in 20 samples (the
/// last worker in LastSamples); a sampler thread at the same site allocating
/// SamplerBytes when given, in one sample.
std::vector<Bottleneck> imbalance(const std::vector<uint64_t> &Bytes,
                                  std::optional<uint64_t> SamplerBytes = {},
                                  uint64_t LastSamples = 20) {
  Scenario S;
  S.alloc(S.thread(1), Cold, 8);
  uint64_t Id = 2;
  for (size_t I = 0; I < Bytes.size(); ++I) {
    TestLogWriter &T = S.thread(Id, "worker", 1, Spawn);
    // Bytes[I] split into Samples sizes that differ by at most one.
    uint64_t Samples = I + 1 == Bytes.size() ? LastSamples : 20;
    for (uint64_t K = 0; K < Samples; ++K)
      S.alloc(T, Hot, Bytes[I] / Samples + (K < Bytes[I] % Samples), 1,
              T0 + 10 + K);
    T.threadEnd(Id, T0 + 100);
    ++Id;
  }
  if (SamplerBytes) {
    TestLogWriter &T = S.thread(Id, "memscope-rsrc", 1, Spawn);
    if (*SamplerBytes)
      S.alloc(T, Cold, *SamplerBytes);
  }
  const Analysis *A = S.run();
  return A ? ofKind(*A, "thread_imbalance") : std::vector<Bottleneck>();
}

TEST(Bottlenecks, ThreadImbalanceAtItsEdges) {
  // Mean 200, busiest 400: exactly 2x.
  std::vector<Bottleneck> Hits = imbalance({400, 100, 100, 200});
  ASSERT_EQ(Hits.size(), 1u);
  EXPECT_EQ(Hits[0].SiteId, std::optional<uint64_t>(Spawn));
  EXPECT_EQ(Hits[0].File, "pool.cpp");
  EXPECT_EQ(Hits[0].Line, 40u);
  EXPECT_EQ(Hits[0].Function, "start()");
  EXPECT_EQ(measured(Hits[0]), Measured(2, "x", 2));
  EXPECT_EQ(Hits[0].Description,
            "Of the 4 threads created by start() at pool.cpp:40, thread 2 "
            "\"worker\" allocates 400 bytes, 2.0x their mean of 200 bytes");
  EXPECT_TRUE(imbalance({399, 100, 100, 201}).empty()); // 1.995x
  EXPECT_TRUE(imbalance({1000, 1, 1}).empty());         // only 3 threads
}

TEST(Bottlenecks, ThreadImbalanceNeedsTwentySamplesPerThread) {
  static_assert(rules::ImbalanceMinSamplesPerThread == 20);
  EXPECT_EQ(imbalance({400, 100, 100, 200}, {}, 20).size(), 1u);
  // One thread with 19 samples: its bytes are noise, so no finding at all.
  EXPECT_TRUE(imbalance({400, 100, 100, 200}, {}, 19).empty());
  EXPECT_TRUE(imbalance({100, 100, 100, 4000}, {}, 19).empty());
  // Memscope's sampler is not counted, whatever its samples (here none).
  EXPECT_EQ(imbalance({400, 100, 100, 200}, 0).size(), 1u);

  // The threads' samples are in the JSON.
  Scenario S;
  TestLogWriter &Main = S.thread(1);
  for (int I = 0; I < 3; ++I)
    S.alloc(Main, Hot, 8);
  const Analysis *A = S.run();
  ASSERT_TRUE(A);
  ASSERT_EQ(A->Threads.size(), 1u);
  EXPECT_EQ(A->Threads[0].Samples, 3u);
  nlohmann::ordered_json Json = toJson(*A);
  EXPECT_EQ(Json["threads"][0]["samples"], 3);
}

TEST(Bottlenecks, ThreadImbalanceIgnoresTheSampler) {
  // Counting the sampler, 4 threads and 400 / 150 = 2.7x; without it, 3.
  EXPECT_TRUE(imbalance({400, 100, 100}, 0).empty());
  // Counting the sampler, 10000 bytes dwarf the workers' 100 each.
  EXPECT_TRUE(imbalance({100, 100, 100, 100}, 10000).empty());
  // Control: the same shape with a fourth worker instead does fire.
  EXPECT_EQ(imbalance({400, 100, 100, 0}).size(), 1u);
}

//===-- Ordering and limits ---------------------------------------------===//

TEST(Bottlenecks, SortedByKindThenValueAndCappedPerKind) {
  Scenario S;
  TestLogWriter &Main = S.thread(1);
  for (uint32_t I = 1; I <= 25; ++I)
    S.alloc(Main, LeakBase + I, MiB + I, 1, T0 + 10 + I);
  const Analysis *A = S.run();
  ASSERT_TRUE(A);
  std::vector<Bottleneck> Leaks = ofKind(*A, "leak");
  ASSERT_EQ(Leaks.size(), rules::MaxPerKind);
  EXPECT_EQ(Leaks.front().Value, double(MiB + 25));
  EXPECT_EQ(Leaks.back().Value, double(MiB + 6));
  for (size_t I = 1; I < A->Bottlenecks.size(); ++I) {
    const Bottleneck &Prev = A->Bottlenecks[I - 1], &Cur = A->Bottlenecks[I];
    EXPECT_TRUE(Prev.Kind < Cur.Kind ||
                (Prev.Kind == Cur.Kind && Prev.Value >= Cur.Value))
        << I;
  }
  // No site has 20% of the bytes (each about 4%), so leaks come alone.
  EXPECT_TRUE(ofKind(*A, "hot_site_bytes").empty());
}

TEST(Bottlenecks, NoneInTextAndJson) {
  Scenario S;
  S.alloc(S.thread(1), Hot, 100); // small, never freed
  const Analysis *A = S.run();
  ASSERT_TRUE(A);
  EXPECT_TRUE(A->Bottlenecks.empty());
  EXPECT_NE(textSummary(*A).find("\nbottlenecks: none\n"), std::string::npos);
  nlohmann::ordered_json Json = toJson(*A);
  ASSERT_TRUE(Json["bottlenecks"].is_array());
  EXPECT_TRUE(Json["bottlenecks"].empty());
}

//===-- Lifetimes -------------------------------------------------------===//

TEST(Lifetimes, WeightAveragedOverFreedSamples) {
  Scenario S;
  TestLogWriter &Main = S.thread(1);
  TestLogWriter &Other = S.thread(2, "other", 1, Spawn);
  uint64_t A = S.alloc(Main, Hot, 8, 1, T0 + 100);
  uint64_t B = S.alloc(Main, Hot, 8, 2, T0 + 200);
  uint64_t C = S.alloc(Main, Hot, 8, 1, T0 + 300);
  S.alloc(Main, Hot, 8, 5, T0 + 400); // never freed
  Main.free(A, T0 + 200);             // 100 ns, weight 1
  Other.free(B, T0 + 600);            // 400 ns, weight 2, another thread
  Main.free(C, T0 + 1300);            // 1000 ns, weight 1
  // A Free stamped before its Alloc (clocks of two CPUs): lifetime 0.
  uint64_t D = S.alloc(Main, Cold, 8, 1, T0 + 2000);
  Other.free(D, T0 + 1900);
  const Analysis *Result = S.run();
  ASSERT_TRUE(Result);
  const SiteReport *HotSite = findSite(*Result, Hot);
  ASSERT_TRUE(HotSite);
  EXPECT_EQ(HotSite->Stats.FreedSamples, 3u);
  // (1 * 100 + 2 * 400 + 1 * 1000) / 4
  ASSERT_TRUE(HotSite->Stats.averageLifetimeNs());
  EXPECT_DOUBLE_EQ(*HotSite->Stats.averageLifetimeNs(), 475);
  const SiteReport *ColdSite = findSite(*Result, Cold);
  ASSERT_TRUE(ColdSite);
  EXPECT_EQ(ColdSite->Stats.FreedSamples, 1u);
  EXPECT_EQ(ColdSite->Stats.averageLifetimeNs(), std::optional<double>(0));

  nlohmann::ordered_json Json = toJson(*Result);
  for (const auto &Site : Json["sites"]) {
    if (Site["id"] == hexId(Hot)) {
      EXPECT_EQ(Site["average_lifetime_ns"], 475);
      EXPECT_EQ(Site["freed_samples"], 3);
    }
    if (Site["id"] == hexId(Cold))
      EXPECT_EQ(Site["average_lifetime_ns"], 0);
  }
}

TEST(Lifetimes, NullWithoutFrees) {
  Scenario S;
  S.alloc(S.thread(1), Hot, 8);
  const Analysis *A = S.run();
  ASSERT_TRUE(A);
  EXPECT_FALSE(A->Sites[0].Stats.averageLifetimeNs());
  nlohmann::ordered_json Json = toJson(*A);
  EXPECT_TRUE(Json["sites"][0]["average_lifetime_ns"].is_null());
  EXPECT_EQ(Json["sites"][0]["freed_samples"], 0);
}

//===-- Resource samples ------------------------------------------------===//

TEST(Resources, CpuPercentFromDeltas) {
  Scenario S;
  constexpr uint64_t Ms = 1000000;
  // Written out of order: samples are sorted by time.
  S.Process.resourceSample(T0 + 200 * Ms, 100 * Ms, 40 * Ms, 30 * MiB, 3000,
                           1500, 20, 10, 5);
  S.Process.resourceSample(T0 + 100 * Ms, 50 * Ms, 10 * Ms, 10 * MiB, 1000, 500,
                           10, 5, 3);
  S.Process.resourceSample(T0 + 300 * Ms, 200 * Ms, 90 * Ms, 20 * MiB, 9000,
                           2500, 40, 25, 4);
  S.alloc(S.thread(1), Hot, 8);
  const Analysis *A = S.run();
  ASSERT_TRUE(A);
  ASSERT_TRUE(A->Processes[0].Resources);
  const ResourceReport &R = *A->Processes[0].Resources;
  ASSERT_EQ(R.Samples.size(), 3u);
  EXPECT_EQ(R.Samples[0].TimeNs, 100 * Ms);
  EXPECT_FALSE(R.Samples[0].CpuPercent);
  ASSERT_TRUE(R.Samples[1].CpuPercent);
  EXPECT_DOUBLE_EQ(*R.Samples[1].CpuPercent, 80); // 80 ms CPU in 100 ms
  EXPECT_DOUBLE_EQ(*R.Samples[2].CpuPercent, 150);
  EXPECT_DOUBLE_EQ(*R.PeakCpuPercent, 150);
  EXPECT_DOUBLE_EQ(*R.AverageCpuPercent, 115); // 230 ms in 200 ms
  EXPECT_EQ(R.PeakRssBytes, 30 * MiB);
  EXPECT_EQ(R.IoOperations, 50u);
  EXPECT_EQ(R.BytesRead, 8000u);
  EXPECT_EQ(R.BytesWritten, 2000u);
  ASSERT_TRUE(A->Resources); // one process
  EXPECT_EQ(A->Resources->Samples.size(), 3u);

  nlohmann::ordered_json Json = toJson(*A);
  const auto &Top = Json["resources"];
  ASSERT_TRUE(Top.is_object());
  EXPECT_EQ(Top, Json["processes"][0]["resources"]);
  EXPECT_TRUE(Top["samples"][0]["cpu_percent"].is_null());
  EXPECT_EQ(Top["samples"][1]["cpu_percent"], 80.0);
  EXPECT_EQ(Top["samples"][1]["t_ns"], 200 * Ms);
  EXPECT_EQ(Top["samples"][1]["rss_bytes"], 30 * MiB);
  EXPECT_EQ(Top["samples"][1]["read_calls"], 20);
  EXPECT_EQ(Top["samples"][1]["threads"], 5);
  EXPECT_EQ(Top["peak_cpu_percent"], 150.0);
  EXPECT_EQ(Top["average_cpu_percent"], 115.0);
  EXPECT_EQ(Top["peak_rss_bytes"], 30 * MiB);
  EXPECT_EQ(Top["io_operations"], 50);
  EXPECT_EQ(Top["bytes_read"], 8000);
  EXPECT_EQ(Top["bytes_written"], 2000);
  EXPECT_NE(textSummary(*A).find(
                "\nresources: peak CPU 150.0%, average CPU 115.0%, peak RSS "
                "31457280 bytes, 50 I/O operations over 3 samples\n"),
            std::string::npos)
      << textSummary(*A);
}

TEST(Resources, NullWithoutSamplesAndForSeveralProcesses) {
  {
    Scenario S;
    S.alloc(S.thread(1), Hot, 8);
    const Analysis *A = S.run();
    ASSERT_TRUE(A);
    EXPECT_FALSE(A->Resources);
    nlohmann::ordered_json Json = toJson(*A);
    EXPECT_TRUE(Json["resources"].is_null());
    EXPECT_TRUE(Json["processes"][0]["resources"].is_null());
    EXPECT_EQ(textSummary(*A).find("resources:"), std::string::npos);
  }
  {
    // A single sample: no interval, so no CPU percentages.
    Scenario S;
    S.Process.resourceSample(T0 + 5, 10, 10, 4096, 0, 0, 0, 0, 1);
    S.alloc(S.thread(1), Hot, 8);
    const Analysis *A = S.run();
    ASSERT_TRUE(A && A->Resources);
    EXPECT_FALSE(A->Resources->PeakCpuPercent);
    EXPECT_FALSE(A->Resources->AverageCpuPercent);
    EXPECT_NE(textSummary(*A).find("resources: peak CPU n/a, average CPU n/a, "
                                   "peak RSS 4096 bytes, 0 I/O operations "
                                   "over 1 samples"),
              std::string::npos);
  }
  {
    // Two processes in one run: per process only.
    TempDir Dir;
    for (uint32_t Pid : {100u, 200u}) {
      std::string Folder = Dir.mkdir("app." + std::to_string(Pid));
      TestLogWriter Process(log::FileKind::Process, Pid);
      Process.processInfo(Pid, log::SamplingMode::Exact);
      Process.resourceSample(T0 + 5, 10, 10, 4096 * Pid, 0, 0, 0, 0, 1);
      Process.processEnd(T0 + 100);
      Process.writeTo(Folder + "/process.log");
      TestLogWriter Thread(log::FileKind::Thread, Pid);
      Thread.threadStart(1, Pid, T0 + 1, "main");
      Thread.writeTo(Folder + "/t0.log");
    }
    Diagnostics Diags;
    AnalysisOptions Options;
    Options.InputDir = Dir.path();
    Options.Symbolize = false;
    llvm::Expected<Analysis> A = analyze(Options, Diags);
    ASSERT_TRUE(bool(A)) << llvm::toString(A.takeError());
    ASSERT_EQ(A->Processes.size(), 2u);
    EXPECT_FALSE(A->Resources);
    ASSERT_TRUE(A->Processes[1].Resources);
    EXPECT_EQ(A->Processes[1].Resources->PeakRssBytes, 4096u * 200);
    nlohmann::ordered_json Json = toJson(*A);
    EXPECT_TRUE(Json["resources"].is_null());
    EXPECT_TRUE(Json["processes"][0]["resources"].is_object());
  }
}

//===-- Tool threads ----------------------------------------------------===//

TEST(ToolThreads, SamplerIsFlaggedAndCounted) {
  Scenario S;
  TestLogWriter &Main = S.thread(1);
  S.thread(2, "memscope-rsrc", 1);
  S.thread(3, "worker", 1);
  // Renamed to the sampler's name later: the latest name decides.
  TestLogWriter &Renamed = S.thread(4, "thread", 1);
  Renamed.threadName(4, TestLogWriter::handleOf(4), T0 + 50, "memscope-rsrc");
  S.alloc(Main, Hot, 8);
  const Analysis *A = S.run();
  ASSERT_TRUE(A);
  EXPECT_EQ(A->Totals.ThreadCount, 4u); // the sampler is counted
  std::map<uint64_t, bool> Tool;
  for (const ThreadReport &Thread : A->Threads)
    Tool[Thread.ThreadId] = Thread.ToolThread;
  EXPECT_EQ(Tool, (std::map<uint64_t, bool>{
                      {1, false}, {2, true}, {3, false}, {4, true}}));
  nlohmann::ordered_json Json = toJson(*A);
  ASSERT_EQ(Json["threads"].size(), 4u);
  EXPECT_EQ(Json["threads"][0]["tool_thread"], false);
  EXPECT_EQ(Json["threads"][1]["tool_thread"], true);
  EXPECT_EQ(Json["summary"]["thread_count"], 4);
}

} // namespace
