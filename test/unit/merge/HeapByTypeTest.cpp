//===- HeapByTypeTest.cpp - analysis.json's types[] on synthetic runs -----===//

#include "Analysis.h"
#include "LogReader.h"
#include "Report.h"
#include "TestLogWriter.h"
#include "TestSupport.h"

#include "gtest/gtest.h"

using namespace memscope;
using namespace memscope::merge;
using namespace memscope::merge::test;

namespace {

constexpr uint64_t SiteC = 0x3333333333333333ull;
constexpr uint64_t SiteD = 0x4444444444444444ull;

/// Sites A and B allocate Order; C and D (one line, two columns' worth of
/// calls) have no type.
TestLogWriter typedProcessLog(log::SamplingMode Mode) {
  TestLogWriter W(log::FileKind::Process, 100);
  W.processInfo(100, Mode, "/bin/app",
                Mode == log::SamplingMode::Bytes ? 64 : 0);
  W.module("/nonexistent/app", 0x0, 0x1000, 0x9000, true);
  W.site(SiteA, MSC_KIND_NEW, "a.cpp", 10, "_Z1av", {}, 0x1100, "/src",
         "Order");
  W.site(SiteB, MSC_KIND_NEW, "b.cpp", 20, "_Z1bv", {}, 0x1200, "/src",
         "Order");
  W.site(SiteC, MSC_KIND_MALLOC, "c.cpp", 30, "_Z1cv", {}, 0x1300);
  W.site(SiteD, MSC_KIND_MALLOC, "c.cpp", 30, "_Z1cv", {}, 0x1300);
  W.processEnd(T0 + 1000);
  return W;
}

const TypeReport *findType(const Analysis &A, const std::string &Type) {
  for (const TypeReport &Entry : A.Types)
    if (Entry.Type == Type)
      return &Entry;
  return nullptr;
}

TEST(HeapByType, ExactPeakIsFollowedAcrossTheTypesSites) {
  TempDir Dir;
  std::string P = appFolder(Dir, typedProcessLog(log::SamplingMode::Exact));
  TestLogWriter T(log::FileKind::Thread, 100);
  T.threadStart(1, 100, T0 + 1, "main");
  // Order: 100 (A) + 200 (B) live at once, both freed, then 150 (A): its
  // peak is 300, not the sum of its sites' peaks (150 + 200).
  T.alloc(1, SiteA, 100, T0 + 10, 1.0, MSC_KIND_NEW);
  T.alloc(2, SiteB, 200, T0 + 11, 1.0, MSC_KIND_NEW);
  T.free(1, T0 + 12);
  T.free(2, T0 + 13);
  T.alloc(3, SiteA, 150, T0 + 14, 1.0, MSC_KIND_NEW);
  // No type: C and D, at one line, peak apart (50, then 70).
  T.alloc(4, SiteC, 50, T0 + 20);
  T.free(4, T0 + 21);
  T.alloc(5, SiteD, 70, T0 + 22);
  T.threadEnd(1, T0 + 90);
  T.writeTo(P + "/t0.log");

  auto R = analyzeDir(Dir.path());
  ASSERT_ANALYZED(A, R);
  EXPECT_NO_DIAGNOSTICS(R);
  ASSERT_EQ(A.Types.size(), 2u);
  const TypeReport *Order = findType(A, "Order");
  ASSERT_NE(Order, nullptr);
  EXPECT_EQ(Order->Stats.Allocations, 3);
  EXPECT_EQ(Order->Stats.Bytes, 450);
  EXPECT_EQ(Order->Stats.LiveBytes, 150);
  EXPECT_EQ(Order->PeakLiveBytes, 300);
  EXPECT_EQ(Order->PeakMethod, TypePeakMethod::Exact);
  EXPECT_EQ(Order->Sites, (std::vector<uint64_t>{SiteA, SiteB}));
  EXPECT_EQ(findSite(A, SiteA)->Type, "Order");

  const TypeReport *Unknown = findType(A, "");
  ASSERT_NE(Unknown, nullptr);
  EXPECT_FALSE(Unknown->known());
  EXPECT_EQ(Unknown->UnknownAt.File, "c.cpp");
  EXPECT_EQ(Unknown->UnknownAt.Line, 30u);
  EXPECT_EQ(Unknown->Stats.Bytes, 120);
  // Two sites that peaked apart: the sum of their peaks bounds the group's.
  EXPECT_EQ(Unknown->PeakLiveBytes, 120);
  EXPECT_EQ(Unknown->PeakMethod, TypePeakMethod::UpperBound);
  EXPECT_EQ(findSite(A, SiteC)->Type, "");

  nlohmann::ordered_json Json = toJson(A);
  EXPECT_EQ(Json["types"][0]["type"], "Order"); // by bytes
  EXPECT_EQ(Json["types"][0]["peak_live_bytes"], 300);
  EXPECT_EQ(Json["types"][0]["peak_method"], "exact");
  EXPECT_EQ(Json["types"][0]["sites"][0], "0x1111111111111111");
  EXPECT_TRUE(Json["types"][1]["type"].is_null());
  EXPECT_EQ(Json["types"][1]["user_frame"]["file"], "c.cpp");
  EXPECT_EQ(Json["types"][1]["peak_method"], "upper_bound");
  for (const auto &Site : Json["sites"])
    if (Site["id"] == "0x1111111111111111")
      EXPECT_EQ(Site["type"], "Order");
    else if (Site["id"] == "0x3333333333333333")
      EXPECT_TRUE(Site["type"].is_null());
}

TEST(HeapByType, SampledPeakIsTheLiveBytesAtTheProcessPeak) {
  TempDir Dir;
  std::string P = appFolder(Dir, typedProcessLog(log::SamplingMode::Bytes));
  TestLogWriter T(log::FileKind::Thread, 100);
  T.threadStart(1, 100, T0 + 1, "main");
  // Weighted samples: the process peaks at T0+11 (Order 640 + 320).
  T.alloc(1, SiteA, 64, T0 + 10, 10.0, MSC_KIND_NEW);
  T.alloc(2, SiteC, 32, T0 + 11, 10.0);
  T.free(1, T0 + 12);
  T.free(2, T0 + 13);
  T.threadEnd(1, T0 + 90);
  T.writeTo(P + "/t0.log");

  auto R = analyzeDir(Dir.path());
  ASSERT_ANALYZED(A, R);
  const TypeReport *Order = findType(A, "Order");
  ASSERT_NE(Order, nullptr);
  EXPECT_EQ(Order->PeakMethod, TypePeakMethod::AtProcessPeak);
  EXPECT_EQ(Order->PeakLiveBytes, 640);
  EXPECT_EQ(Order->Stats.Bytes, 640);
  EXPECT_EQ(toJson(A)["types"][0]["peak_method"], "at_process_peak");
}

TEST(HeapByType, SiteRecordsOfVersion22HaveNoType) {
  // Version 2.3 appended the type: an empty one is its two length bytes,
  // and a record without them is a 2.2 record.
  TestLogWriter W(log::FileKind::Process, 100);
  std::vector<std::vector<uint8_t>> Payloads = {
      W.payloadAt(W.site(SiteA, MSC_KIND_NEW, "a.cpp", 10, "main", {}, 0,
                         "/src", "Order")),
      W.payloadAt(W.site(SiteB, MSC_KIND_NEW, "a.cpp", 11, "main"))};
  SiteInfo Typed, Untyped, Old;
  ASSERT_TRUE(decodePayload(Payloads[0], Typed));
  EXPECT_EQ(Typed.Type, "Order");
  EXPECT_EQ(Typed.Line, 10u);
  ASSERT_TRUE(decodePayload(Payloads[1], Untyped));
  EXPECT_EQ(Untyped.Type, "");
  std::vector<uint8_t> V22(Payloads[1].begin(), Payloads[1].end() - 2);
  ASSERT_TRUE(decodePayload(V22, Old));
  EXPECT_EQ(Old.Type, "");
  EXPECT_EQ(Old.Line, 11u);
  EXPECT_EQ(Old.Function, "main");
  // A type whose length runs past the record is an error.
  std::vector<uint8_t> Torn(Payloads[0].begin(), Payloads[0].end() - 1);
  EXPECT_FALSE(decodePayload(Torn, Old));
}

} // namespace

namespace {

// Custom allocators (docs/analysis-schema.md): the objects are the
// program's allocations, in the totals but not in the live heap (they live
// inside the chunks); the chunks are the real heap, in the live heap and
// its peak but outside the totals. Nothing is counted twice.
TEST(CustomAllocators, ObjectsAndPoolChunksAreEachCountedOnce) {
  TempDir Dir;
  TestLogWriter W(log::FileKind::Process, 100);
  W.processInfo(100, log::SamplingMode::Exact, "/bin/app", 0);
  W.module("/nonexistent/app", 0x0, 0x1000, 0x9000, true);
  W.site(SiteA, MSC_KIND_CUSTOM, "a.cpp", 10, "_Z4userv", {}, 0x1100, "/src",
         "Session");
  W.site(SiteB, MSC_KIND_MALLOC, "b.cpp", 20, "main", {}, 0x1200);
  W.processEnd(T0 + 1000);
  std::string P = appFolder(Dir, W);
  TestLogWriter T(log::FileKind::Thread, 100);
  T.threadStart(1, 100, T0 + 1, "main");
  // The pool takes a 4096-byte chunk while the first object's call runs,
  // then hands out three 64-byte objects; the program also mallocs 100.
  T.stack(0x99, {0x1300, 0x1400});
  T.alloc(1, 0, 4096, T0 + 10, 1.0, MSC_KIND_POOL_CHUNK, 0x99);
  for (int I = 0; I < 3; ++I)
    T.alloc(2 + I, SiteA, 64, T0 + 11 + I, 1.0, MSC_KIND_UNKNOWN);
  T.free(2, T0 + 20, SiteA);
  T.alloc(5, SiteB, 100, T0 + 21);
  T.threadEnd(1, T0 + 90);
  T.writeTo(P + "/t0.log");

  auto R = analyzeDir(Dir.path());
  ASSERT_ANALYZED(A, R);
  EXPECT_NO_DIAGNOSTICS(R);
  // Totals: the objects and the malloc; live at exit: two objects and it.
  EXPECT_EQ(A.Totals.Stats.Allocations, 4);
  EXPECT_EQ(A.Totals.Stats.Bytes, 292);
  EXPECT_EQ(A.Totals.Stats.Frees, 1);
  EXPECT_EQ(A.Totals.Stats.LiveBytes, 228);
  EXPECT_EQ(A.Totals.IndirectAllocations, 0);
  // The heap in use: the chunk and the malloc, not the objects inside.
  EXPECT_EQ(A.Totals.PeakLiveBytes, 4196);
  const SiteReport *Objects = findSite(A, SiteA);
  ASSERT_NE(Objects, nullptr);
  EXPECT_EQ(Objects->Kind, "custom");
  EXPECT_EQ(Objects->Stats.Allocations, 3);
  EXPECT_EQ(Objects->Stats.LiveBytes, 128);
  const SiteReport *Chunk = nullptr;
  for (const SiteReport &Site : A.Sites)
    if (Site.isPoolChunk())
      Chunk = &Site;
  ASSERT_NE(Chunk, nullptr);
  EXPECT_EQ(Chunk->Stats.Allocations, 1);
  EXPECT_EQ(Chunk->Stats.Bytes, 4096);
  EXPECT_EQ(Chunk->Stats.LiveBytes, 4096);
  // The type of the objects: their own peak, inside the chunk.
  const TypeReport *Session = findType(A, "Session");
  ASSERT_NE(Session, nullptr);
  EXPECT_EQ(Session->PeakLiveBytes, 192);
  // No rule reads the chunk as the program's: it is 93% of the bytes.
  for (const Bottleneck &Rule : A.Bottlenecks)
    EXPECT_NE(Rule.SiteId, std::optional<uint64_t>(Chunk->Id)) << Rule.Kind;
}

} // namespace
