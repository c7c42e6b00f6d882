//===- ThreadAnalysisTest.cpp - Spawns, thread tree, cross-thread frees ---===//

#include "Analysis.h"
#include "Compat.h"
#include "Report.h"
#include "Symbolization.h"
#include "TestLogWriter.h"
#include "TestSupport.h"

#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <chrono>
#include <link.h>
#include <new>

using namespace memscope;
using namespace memscope::merge;
using namespace memscope::merge::test;

namespace {

constexpr uint64_t SpawnMain = 0x5001;
constexpr uint64_t SpawnWorker = 0x5002;
constexpr uint64_t SpawnInlined = 0x5003;
constexpr uint64_t SpawnInlined2 = 0x5005; // same user frame as 0x5003
constexpr uint64_t FreeSite = 0xF1;
constexpr uint64_t PoolPc = 0x7f0000001234; // inside libpool.so

TestLogWriter processLog(uint32_t Pid) {
  TestLogWriter W(log::FileKind::Process, Pid);
  W.processInfo(Pid, log::SamplingMode::Exact);
  W.module("/nonexistent/app", 0x0, 0x1000, 0x9000, true);
  W.module("/nonexistent/libpool.so", 0x7f0000000000, 0x7f0000001000,
           0x7f0000009000, false);
  W.site(SiteA, MSC_KIND_MALLOC, "/src/a.cpp", 10, "_Z8producerv", {}, 0x1100);
  W.site(SiteB, MSC_KIND_NEW, "/src/b.cpp", 20, "main", {}, 0x1200);
  W.site(SpawnMain, MSC_KIND_THREAD_SPAWN, "/src/server.cpp", 45, "main", {},
         0x1300);
  W.site(SpawnWorker, MSC_KIND_THREAD_SPAWN, "/src/server.cpp", 80,
         "_Z6workerv", {}, 0x1400);
  // std::thread's constructor, inlined into the user's start().
  W.site(SpawnInlined, MSC_KIND_THREAD_SPAWN,
         "/usr/include/c++/12/bits/std_thread.h", 160, "_ZNSt6threadC2Ev",
         {{"_Z5startv", "/src/pool.cpp", "/src", 30, 5}}, 0x1600);
  W.site(SpawnInlined2, MSC_KIND_THREAD_SPAWN,
         "/usr/include/c++/12/bits/vector.tcc", 120,
         "_ZNSt6vectorIiE7reallocEv",
         {{"_Z5startv", "/src/pool.cpp", "/src", 30, 5}}, 0x1700);
  W.site(FreeSite, MSC_KIND_FREE, "/src/consumer.cpp", 35, "_Z8consumerv", {},
         0x1500);
  return W;
}

/// Absolute paths (--source-root /): these tests are about threads; the
/// spelling of paths has its own (SourcePathsTest).
std::unique_ptr<Run> analyzeThreads(const std::string &Dir,
                                    bool Symbolize = false) {
  return analyzeDir(Dir, Symbolize, std::nullopt, "/");
}

/// The lines of Text from the one starting with First, Count lines long.
std::string section(const std::string &Text, const std::string &First,
                    size_t Count) {
  size_t Begin = Text.find(First);
  if (Begin == std::string::npos)
    return "<" + First + " not found in:\n" + Text + ">";
  size_t End = Begin;
  for (size_t I = 0; I < Count && End != std::string::npos; ++I)
    End = Text.find('\n', End + 1);
  return Text.substr(Begin, End == std::string::npos ? End : End - Begin + 1);
}

const ThreadReport *findThread(const Analysis &A, uint64_t ThreadId,
                               uint32_t Pid = 100) {
  for (const ThreadReport &Thread : A.Threads)
    if (Thread.ThreadId == ThreadId && Thread.Pid == Pid)
      return &Thread;
  return nullptr;
}

const SpawnSiteReport *findSpawn(const Analysis &A, uint64_t Id) {
  for (const SpawnSiteReport &Site : A.SpawnSites)
    if (Site.Id == Id)
      return &Site;
  return nullptr;
}

TEST(Threads, TreeOfThreeLevelsAndSpawnSiteTotals) {
  TempDir Dir;
  std::string P = appFolder(Dir, processLog(100), "server.100");
  TestLogWriter Main(log::FileKind::Thread, 100, 0);
  Main.threadStart(1, 100, T0 + 1, "server");
  Main.alloc(1, SiteA, 100, T0 + 2);
  Main.alloc(2, SiteA, 100, T0 + 3);
  Main.threadEnd(1, T0 + 90000, 10, 20);
  Main.writeTo(P + "/t0.log");
  // Slot 1 is used by thread 2, then by its child thread 4.
  TestLogWriter Slot1(log::FileKind::Thread, 100, 1);
  Slot1.threadStart(2, 202, T0 + 5, "w1", 1, SpawnMain);
  for (int I = 0; I < 3; ++I)
    Slot1.alloc(3 + I, SiteA, 10, T0 + 6 + I);
  Slot1.alloc(6, SiteB, 1000, T0 + 9, 1.0, MSC_KIND_NEW);
  Slot1.threadEnd(2, T0 + 50, 100, 200);
  Slot1.threadStart(4, 204, T0 + 60, "w1a", 2, SpawnWorker);
  Slot1.alloc(7, SiteB, 500, T0 + 61, 1.0, MSC_KIND_NEW);
  Slot1.alloc(8, SiteB, 500, T0 + 62, 1.0, MSC_KIND_NEW);
  Slot1.threadEnd(4, T0 + 70, 1, 2);
  Slot1.writeTo(P + "/t1.log");
  TestLogWriter Slot2(log::FileKind::Thread, 100, 2);
  Slot2.threadStart(3, 203, T0 + 10, "w2", 1, SpawnMain);
  Slot2.alloc(9, SiteA, 10, T0 + 11);
  Slot2.threadEnd(3, T0 + 20, 3, 4);
  Slot2.writeTo(P + "/t2.log");

  auto R = analyzeThreads(Dir.path());
  ASSERT_ANALYZED(A, R);
  EXPECT_NO_DIAGNOSTICS(R);
  ASSERT_EQ(A.Threads.size(), 4u);
  for (size_t I = 0; I < 4; ++I)
    EXPECT_EQ(A.Threads[I].ThreadId, I + 1);

  // 1 -> {2, 3}, 2 -> {4}.
  EXPECT_EQ(A.Tree.Roots, std::vector<size_t>{0});
  ASSERT_EQ(A.Tree.Children.size(), 4u);
  EXPECT_EQ(A.Tree.Children[0], (std::vector<size_t>{1, 2}));
  EXPECT_EQ(A.Tree.Children[1], std::vector<size_t>{3});
  EXPECT_TRUE(A.Tree.Children[2].empty());
  EXPECT_TRUE(A.Tree.Children[3].empty());

  const ThreadReport &W1 = A.Threads[1];
  EXPECT_EQ(W1.ParentThreadId, 1u);
  EXPECT_EQ(W1.SpawnSite, SpawnMain);
  ASSERT_TRUE(W1.SpawnLocation.has_value());
  EXPECT_EQ(W1.SpawnLocation->File, "/src/server.cpp");
  EXPECT_EQ(W1.SpawnLocation->Line, 45u);
  EXPECT_EQ(W1.SpawnLocation->Function, "main");
  EXPECT_EQ(W1.CreatorModule, "");
  EXPECT_EQ(W1.LifetimeNs, 45u);
  EXPECT_FALSE(W1.RunningAtExit);
  EXPECT_EQ(W1.Allocations, 4);
  EXPECT_EQ(W1.Bytes, 1030);
  ASSERT_EQ(W1.TopSites.size(), 2u);
  EXPECT_EQ(W1.TopSites[0].SiteId, SiteB);
  EXPECT_EQ(W1.TopSites[0].Bytes, 1000);
  EXPECT_EQ(W1.TopSites[1].SiteId, SiteA);
  EXPECT_EQ(W1.TopSites[1].Allocations, 3);
  EXPECT_EQ(W1.TopSites[1].Location.Function, "producer()");
  EXPECT_EQ(A.Threads[3].SpawnLocation->Function, "worker()");

  // Spawn sites count the threads they created, not the main thread.
  ASSERT_EQ(A.SpawnSites.size(), 2u);
  EXPECT_EQ(A.Totals.SpawnSiteCount, 2u);
  const SpawnSiteReport &Main45 = A.SpawnSites[0];
  EXPECT_EQ(Main45.Id, SpawnMain);
  EXPECT_EQ(Main45.ThreadsCreated, 2u);
  EXPECT_EQ(Main45.ThreadsRunningAtExit, 0u);
  EXPECT_EQ(Main45.Allocations, 5); // 4 by thread 2, 1 by thread 3
  EXPECT_EQ(Main45.Bytes, 1040);
  EXPECT_EQ(Main45.CpuUserNs, 103u);
  EXPECT_EQ(Main45.CpuSystemNs, 204u);
  ASSERT_TRUE(Main45.User.has_value());
  EXPECT_EQ(Main45.User->Line, 45u);
  const SpawnSiteReport &Worker = A.SpawnSites[1];
  EXPECT_EQ(Worker.Id, SpawnWorker);
  EXPECT_EQ(Worker.ThreadsCreated, 1u);
  EXPECT_EQ(Worker.Allocations, 2);
  EXPECT_EQ(Worker.Bytes, 1000);
  EXPECT_EQ(Worker.Function, "worker()");

  // Exact mode: per-thread totals add up to the summary.
  nlohmann::ordered_json Json = toJson(A);
  int64_t Allocations = 0, Bytes = 0;
  for (const auto &Thread : Json["threads"]) {
    Allocations += Thread["allocations"].get<int64_t>();
    Bytes += Thread["bytes"].get<int64_t>();
  }
  EXPECT_EQ(Allocations, Json["summary"]["total_allocations"]);
  EXPECT_EQ(Allocations, 9);
  EXPECT_EQ(Bytes, Json["summary"]["total_bytes"]);
  EXPECT_EQ(Json["summary"]["spawn_site_count"], 2);

  const auto &Tree = Json["thread_tree"];
  ASSERT_EQ(Tree.size(), 1u);
  EXPECT_EQ(Tree[0]["thread_id"], 1);
  EXPECT_EQ(Tree[0]["name"], "server");
  EXPECT_TRUE(Tree[0]["spawn_site"].is_null());
  EXPECT_TRUE(Tree[0]["spawn_location"].is_null());
  ASSERT_EQ(Tree[0]["children"].size(), 2u);
  EXPECT_EQ(Tree[0]["children"][0]["thread_id"], 2);
  EXPECT_EQ(Tree[0]["children"][0]["spawn_site"], hexId(SpawnMain));
  EXPECT_EQ(Tree[0]["children"][1]["thread_id"], 3);
  const auto &Grandchild = Tree[0]["children"][0]["children"][0];
  EXPECT_EQ(Grandchild["thread_id"], 4);
  EXPECT_EQ(Grandchild["pid"], 100);
  EXPECT_EQ(Grandchild["spawn_location"]["line"], 80);
  EXPECT_TRUE(Grandchild["children"].empty());

  const auto &ThreadJson = Json["threads"][1];
  EXPECT_EQ(ThreadJson["parent_thread_id"], 1);
  EXPECT_EQ(ThreadJson["spawn_location"]["file"], "/src/server.cpp");
  EXPECT_TRUE(ThreadJson["creator_module"].is_null());
  EXPECT_EQ(ThreadJson["lifetime_ns"], 45);
  EXPECT_EQ(ThreadJson["top_sites"][0]["id"], hexId(SiteB));
  EXPECT_EQ(ThreadJson["top_sites"][1]["function"], "producer()");
  const auto &SpawnJson = Json["spawn_sites"][0];
  EXPECT_EQ(SpawnJson["id"], hexId(SpawnMain));
  EXPECT_EQ(SpawnJson["kind"], "thread_spawn");
  EXPECT_EQ(SpawnJson["user_frame"]["function"], "main");
  EXPECT_TRUE(SpawnJson["creator_module"].is_null());
  EXPECT_EQ(SpawnJson["threads_created"], 2);
  EXPECT_EQ(SpawnJson["bytes"], 1040);

  std::string Text = textSummary(A);
  EXPECT_EQ(section(Text, "  pid 100 thread 2 ", 1),
            "  pid 100 thread 2 tid 202 \"w1\" parent 1 spawned at "
            "/src/server.cpp:45: 4 allocations, 1030 bytes, 1030 bytes live "
            "at exit, exited\n");
  EXPECT_EQ(section(Text, "spawn sites:", 4),
            "spawn sites:\n"
            "   threads   running  allocations        bytes  location       "
            "     function\n"
            "         2         0            5         1040  "
            "/src/server.cpp:45  main\n"
            "         1         0            2         1000  "
            "/src/server.cpp:80  worker()\n");
  EXPECT_EQ(section(textSummary(A, 1), "spawn sites:", 4),
            "spawn sites:\n"
            "   threads   running  allocations        bytes  location       "
            "     function\n"
            "         2         0            5         1040  "
            "/src/server.cpp:45  main\n"
            "  ... 1 more spawn sites\n");
}

TEST(Threads, UnknownAndInlinedSpawnSites) {
  TempDir Dir;
  std::string P = appFolder(Dir, processLog(100));
  TestLogWriter Main(log::FileKind::Thread, 100, 0);
  Main.threadStart(1, 100, T0 + 1, "main");
  Main.writeTo(P + "/t0.log");
  // Two threads created by uninstrumented libpool.so.
  TestLogWriter Pool(log::FileKind::Thread, 100, 1);
  Pool.threadStart(2, 202, T0 + 5, "pool-1", 1, 0, 0, PoolPc);
  Pool.alloc(1, SiteA, 64, T0 + 6);
  Pool.threadEnd(2, T0 + 10);
  Pool.threadStart(3, 203, T0 + 20, "pool-2", 1, 0, 0, PoolPc);
  Pool.alloc(2, SiteA, 64, T0 + 21);
  Pool.alloc(3, SiteA, 64, T0 + 22);
  Pool.threadEnd(3, T0 + 30);
  Pool.writeTo(P + "/t1.log");
  // Nothing known about its creation.
  TestLogWriter Anon(log::FileKind::Thread, 100, 2);
  Anon.threadStart(4, 204, T0 + 6, "anon");
  Anon.alloc(4, SiteA, 8, T0 + 7);
  Anon.writeTo(P + "/t2.log");
  // std::thread's constructor inlined into user code, reached from two
  // sites (std::vector's fast path and its reallocation).
  TestLogWriter Inlined(log::FileKind::Thread, 100, 3);
  Inlined.threadStart(5, 205, T0 + 7, "inl", 1, SpawnInlined);
  Inlined.alloc(5, SiteB, 1000, T0 + 8, 1.0, MSC_KIND_NEW);
  Inlined.writeTo(P + "/t3.log");
  TestLogWriter Inlined2(log::FileKind::Thread, 100, 4);
  Inlined2.threadStart(6, 206, T0 + 8, "inl2", 1, SpawnInlined2);
  Inlined2.alloc(6, SiteB, 24, T0 + 9, 1.0, MSC_KIND_NEW);
  Inlined2.threadEnd(6, T0 + 10);
  Inlined2.writeTo(P + "/t4.log");

  auto R = analyzeThreads(Dir.path());
  ASSERT_ANALYZED(A, R);
  ASSERT_EQ(A.SpawnSites.size(), 3u);
  const SpawnSiteReport &Inl = A.SpawnSites[0];
  EXPECT_EQ(Inl.Id, SpawnInlined);
  EXPECT_EQ(Inl.SiteIds, (std::vector<uint64_t>{SpawnInlined, SpawnInlined2}));
  EXPECT_EQ(Inl.File, "/usr/include/c++/12/bits/std_thread.h");
  ASSERT_TRUE(Inl.User.has_value());
  EXPECT_EQ(Inl.User->File, "/src/pool.cpp");
  EXPECT_EQ(Inl.User->Line, 30u);
  EXPECT_EQ(Inl.User->Function, "start()");
  EXPECT_EQ(Inl.ThreadsCreated, 2u);
  EXPECT_EQ(Inl.ThreadsRunningAtExit, 1u);
  EXPECT_EQ(Inl.Bytes, 1024);
  const SpawnSiteReport &Pool2 = A.SpawnSites[1];
  EXPECT_FALSE(Pool2.Id.has_value());
  EXPECT_EQ(Pool2.File, "<unknown spawn site>");
  EXPECT_EQ(Pool2.CreatorModule, "/nonexistent/libpool.so");
  EXPECT_EQ(Pool2.ThreadsCreated, 2u);
  EXPECT_EQ(Pool2.Allocations, 3);
  EXPECT_EQ(Pool2.Bytes, 192);
  EXPECT_FALSE(Pool2.User.has_value());
  const SpawnSiteReport &Unknown = A.SpawnSites[2];
  EXPECT_FALSE(Unknown.Id.has_value());
  EXPECT_EQ(Unknown.CreatorModule, "");
  EXPECT_EQ(Unknown.ThreadsCreated, 1u);
  EXPECT_EQ(Unknown.ThreadsRunningAtExit, 1u);

  const ThreadReport *PoolThread = findThread(A, 2);
  ASSERT_NE(PoolThread, nullptr);
  EXPECT_EQ(PoolThread->CreatorModule, "/nonexistent/libpool.so");
  EXPECT_FALSE(PoolThread->SpawnLocation.has_value());
  const ThreadReport *InlThread = findThread(A, 6);
  ASSERT_NE(InlThread, nullptr);
  ASSERT_TRUE(InlThread->SpawnLocation.has_value());
  EXPECT_EQ(InlThread->SpawnLocation->File, "/src/pool.cpp");
  EXPECT_EQ(InlThread->CreatorModule, ""); // only for unknown spawn sites
  // Thread 4 has no parent: a second root.
  ASSERT_EQ(A.Tree.Roots.size(), 2u);
  EXPECT_EQ(A.Threads[A.Tree.Roots[0]].ThreadId, 1u);
  EXPECT_EQ(A.Threads[A.Tree.Roots[1]].ThreadId, 4u);

  nlohmann::ordered_json Json = toJson(A);
  EXPECT_EQ(Json["spawn_sites"][0]["id"], hexId(SpawnInlined));
  EXPECT_EQ(Json["spawn_sites"][0]["site_ids"][1], hexId(SpawnInlined2));
  EXPECT_TRUE(Json["spawn_sites"][1]["id"].is_null());
  EXPECT_EQ(Json["spawn_sites"][1]["creator_module"],
            "/nonexistent/libpool.so");
  EXPECT_TRUE(Json["spawn_sites"][1]["user_frame"].is_null());
  EXPECT_TRUE(Json["spawn_sites"][2]["creator_module"].is_null());
  EXPECT_EQ(Json["threads"][1]["creator_module"], "/nonexistent/libpool.so");
  EXPECT_TRUE(Json["threads"][1]["spawn_site"].is_null());
  EXPECT_TRUE(Json["threads"][1]["spawn_location"].is_null());

  EXPECT_EQ(section(textSummary(A), "spawn sites:", 5),
            "spawn sites:\n"
            "   threads   running  allocations        bytes  location         "
            "     function\n"
            "         2         1            2         1024  /src/pool.cpp:30 "
            "     start()\n"
            "         2         0            3          192  <unknown spawn "
            "site>  created in /nonexistent/libpool.so\n"
            "         1         1            1            8  <unknown spawn "
            "site>  created in <unknown module>\n");
}

TEST(Threads, RenamesBySelfAndByHandle) {
  constexpr uint64_t Reused = 0x7f00dead0000; // threads 3, 4, then 7
  constexpr uint64_t Late = 0x7f00beef0000;   // thread 5
  constexpr uint64_t Lost = 0x7f00f00d0000;   // threads 8 (no end), then 9
  TempDir Dir;
  std::string P = appFolder(Dir, processLog(100));
  TestLogWriter Main(log::FileKind::Thread, 100, 0);
  Main.threadStart(1, 100, T0 + 1, "app");
  Main.threadName(0, TestLogWriter::handleOf(2), T0 + 12, "by-main");
  Main.threadName(0, Reused, T0 + 15, "old-worker"); // thread 3's span
  Main.threadName(0, Reused, T0 + 25, "new-worker"); // between 3 and 4
  // Right after pthread_create, before thread 5 registered.
  Main.threadName(0, Late, T0 + 55, "early");
  Main.threadName(0, 0x1234, T0 + 56, "nobody");
  Main.threadName(0, Reused, T0 + 75, "newest");    // thread 7's span
  Main.threadName(0, Lost, T0 + 115, "ambiguous");  // 8 and 9: the later
  Main.threadName(0, Lost, T0 + 130, "still-open"); // only 8's span
  Main.writeTo(P + "/t0.log");
  TestLogWriter Self(log::FileKind::Thread, 100, 1);
  Self.threadStart(2, 202, T0 + 2, "app", 1);
  Self.threadName(2, TestLogWriter::handleOf(2), T0 + 11, "self-a");
  Self.threadName(2, TestLogWriter::handleOf(2), T0 + 18, "self-b");
  Self.writeTo(P + "/t1.log");
  TestLogWriter Slot2(log::FileKind::Thread, 100, 2);
  Slot2.threadStart(3, 203, T0 + 10, "app", 1, 0, 0, 0, Reused);
  Slot2.threadEnd(3, T0 + 20);
  Slot2.threadStart(4, 204, T0 + 30, "app", 1, 0, 0, 0, Reused);
  Slot2.threadEnd(4, T0 + 50);
  Slot2.threadStart(7, 207, T0 + 70, "app", 1, 0, 0, 0, Reused);
  Slot2.writeTo(P + "/t2.log");
  TestLogWriter Slot3(log::FileKind::Thread, 100, 3);
  Slot3.threadStart(5, 205, T0 + 60, "app", 1, 0, 0, 0, Late);
  Slot3.writeTo(P + "/t3.log");
  TestLogWriter Slot4(log::FileKind::Thread, 100, 4);
  Slot4.threadStart(6, 206, T0 + 61, "keeps-initial", 1);
  Slot4.writeTo(P + "/t4.log");
  TestLogWriter Slot5(log::FileKind::Thread, 100, 5);
  Slot5.threadStart(8, 208, T0 + 100, "app", 1, 0, 0, 0, Lost);
  Slot5.writeTo(P + "/t5.log"); // its ThreadEnd was lost
  TestLogWriter Slot6(log::FileKind::Thread, 100, 6);
  Slot6.threadStart(9, 209, T0 + 110, "app", 1, 0, 0, 0, Lost);
  Slot6.threadEnd(9, T0 + 120);
  Slot6.writeTo(P + "/t6.log");

  auto R = analyzeThreads(Dir.path());
  ASSERT_ANALYZED(A, R);
  ASSERT_EQ(A.Threads.size(), 9u);
  EXPECT_EQ(findThread(A, 1)->Name, "app");
  EXPECT_EQ(findThread(A, 2)->Name, "self-b"); // the latest of three
  EXPECT_EQ(findThread(A, 3)->Name, "old-worker");
  EXPECT_EQ(findThread(A, 4)->Name, "new-worker");
  EXPECT_EQ(findThread(A, 5)->Name, "early");
  EXPECT_EQ(findThread(A, 6)->Name, "keeps-initial");
  EXPECT_EQ(findThread(A, 7)->Name, "newest");
  EXPECT_EQ(findThread(A, 8)->Name, "still-open");
  EXPECT_EQ(findThread(A, 9)->Name, "ambiguous");
  std::string Text = diagText(R->Diags);
  EXPECT_NE(Text.find("pid 100: 1 ThreadName records name no known thread"),
            std::string::npos)
      << Text;
}

TEST(Threads, RunningThreadsSpansAndAliveAtExit) {
  TempDir Dir;
  std::string P = Dir.mkdir("app.100");
  TestLogWriter Process = processLog(100);
  Process.threadRunning(2, 202, T0 + 99990, 1234, 567);
  Process.processEnd(T0 + 100000);
  Process.writeTo(P + "/process.log");
  TestLogWriter Main(log::FileKind::Thread, 100, 0);
  Main.threadStart(1, 100, T0 + 1, "main");
  Main.alloc(1, SiteA, 100, T0 + 2);
  Main.threadEnd(1, T0 + 90000, 10, 20);
  Main.writeTo(P + "/t0.log");
  TestLogWriter Worker(log::FileKind::Thread, 100, 1);
  Worker.threadStart(2, 202, T0 + 10, "worker", 1, SpawnMain);
  Worker.alloc(2, SiteA, 500, T0 + 11);
  Worker.alloc(3, SiteA, 50, T0 + 12);
  Worker.free(3, T0 + 13);
  Worker.writeTo(P + "/t1.log");
  // The main thread records again after its ThreadEnd (static destructors).
  TestLogWriter Again(log::FileKind::Thread, 100, 2);
  Again.threadStart(1, 100, T0 + 95000, "main");
  Again.alloc(4, SiteB, 7, T0 + 95001, 1.0, MSC_KIND_NEW);
  Again.writeTo(P + "/t2.log");
  TestLogWriter Done(log::FileKind::Thread, 100, 3);
  Done.threadStart(3, 203, T0 + 20, "done", 1, SpawnMain);
  Done.threadEnd(3, T0 + 30, 5, 6);
  Done.writeTo(P + "/t3.log");

  auto R = analyzeThreads(Dir.path());
  ASSERT_ANALYZED(A, R);
  EXPECT_NO_DIAGNOSTICS(R);
  ASSERT_EQ(A.Threads.size(), 3u); // two spans of thread 1 are one thread
  EXPECT_EQ(A.Totals.ThreadCount, 3u);

  const ThreadReport &MainThread = A.Threads[0];
  EXPECT_EQ(MainThread.SpanCount, 2u);
  EXPECT_TRUE(MainThread.RunningAtExit); // its last span has no ThreadEnd
  EXPECT_FALSE(MainThread.EndNs.has_value());
  EXPECT_EQ(MainThread.StartNs, 1u);
  EXPECT_EQ(MainThread.LifetimeNs, 100000u - 1);
  EXPECT_EQ(MainThread.CpuUserNs, 10u);
  EXPECT_EQ(MainThread.Allocations, 2);
  EXPECT_EQ(MainThread.LiveAllocationsAtExit, 2);
  EXPECT_EQ(MainThread.LiveBytesAtExit, 107);

  const ThreadReport &Running = A.Threads[1];
  EXPECT_TRUE(Running.RunningAtExit);
  EXPECT_FALSE(Running.EndNs.has_value());
  EXPECT_EQ(Running.CpuUserNs, 1234u); // from ThreadRunning
  EXPECT_EQ(Running.CpuSystemNs, 567u);
  EXPECT_EQ(Running.LifetimeNs, 100000u - 10);
  EXPECT_EQ(Running.LiveAllocationsAtExit, 1);
  EXPECT_EQ(Running.LiveBytesAtExit, 500);

  const ThreadReport &Ended = A.Threads[2];
  EXPECT_FALSE(Ended.RunningAtExit);
  EXPECT_EQ(Ended.EndNs, std::optional<uint64_t>(30));
  EXPECT_EQ(Ended.LifetimeNs, 10u);
  EXPECT_EQ(Ended.CpuSystemNs, 6u);

  EXPECT_EQ(A.AliveAtExit, (std::vector<size_t>{1, 0})); // by live bytes
  EXPECT_EQ(A.Totals.ThreadsRunningAtExit, 2u);
  const SpawnSiteReport *Spawn = findSpawn(A, SpawnMain);
  ASSERT_NE(Spawn, nullptr);
  EXPECT_EQ(Spawn->ThreadsCreated, 2u);
  EXPECT_EQ(Spawn->ThreadsRunningAtExit, 1u);
  EXPECT_EQ(Spawn->CpuUserNs, 1234u + 5);
  EXPECT_EQ(Spawn->LiveBytesAtExit, 500);

  nlohmann::ordered_json Json = toJson(A);
  EXPECT_EQ(Json["summary"]["threads_running_at_exit"], 2);
  const auto &Alive = Json["threads_alive_at_exit"];
  ASSERT_EQ(Alive.size(), 2u);
  EXPECT_EQ(Alive[0]["thread_id"], 2);
  EXPECT_EQ(Alive[0]["name"], "worker");
  EXPECT_EQ(Alive[0]["live_allocations_at_exit"], 1);
  EXPECT_EQ(Alive[0]["live_bytes_at_exit"], 500);
  EXPECT_EQ(Alive[0]["cpu_user_ns"], 1234);
  EXPECT_EQ(Alive[0]["cpu_system_ns"], 567);
  EXPECT_EQ(Alive[1]["thread_id"], 1);
  EXPECT_EQ(Json["threads"][0]["span_count"], 2);
  EXPECT_TRUE(Json["threads"][1]["end_ns"].is_null());
  EXPECT_EQ(Json["threads"][1]["lifetime_ns"], 99990);

  EXPECT_EQ(section(textSummary(A), "threads running at exit:", 3),
            "threads running at exit: 2\n"
            "  pid 100 thread 2 tid 202 \"worker\": 500 bytes live in 1 "
            "allocations\n"
            "  pid 100 thread 1 tid 100 \"main\": 107 bytes live in 2 "
            "allocations\n");
  EXPECT_EQ(section(textSummary(A, 1), "threads running at exit:", 3),
            "threads running at exit: 2\n"
            "  pid 100 thread 2 tid 202 \"worker\": 500 bytes live in 1 "
            "allocations\n"
            "  ... 1 more threads\n");
}

TEST(Threads, CrossThreadFreesBySiteAndThreadPair) {
  TempDir Dir;
  std::string P = Dir.mkdir("app.100");
  TestLogWriter Process = processLog(100);
  Process.processEnd(T0 + 100000);
  Process.writeTo(P + "/process.log");
  TestLogWriter Main(log::FileKind::Thread, 100, 0);
  Main.threadStart(1, 100, T0 + 1, "main");
  Main.writeTo(P + "/t0.log");
  TestLogWriter Producer(log::FileKind::Thread, 100, 1);
  Producer.threadStart(2, 202, T0 + 2, "producer", 1, SpawnMain);
  for (int I = 0; I < 8; ++I)
    Producer.alloc(1 + I, SiteA, 64, T0 + 10 + I);
  Producer.free(8, T0 + 18, FreeSite); // same thread: not cross-thread
  Producer.writeTo(P + "/t1.log");
  TestLogWriter Helper(log::FileKind::Thread, 100, 2);
  Helper.threadStart(4, 204, T0 + 3, "helper", 1);
  Helper.stack(0x99, {0x7f0000001010, 0x1234});
  Helper.alloc(20, 0, 32, T0 + 19, 1.0, MSC_KIND_INDIRECT, 0x99);
  Helper.writeTo(P + "/t2.log");
  TestLogWriter Consumer(log::FileKind::Thread, 100, 3);
  Consumer.threadStart(3, 203, T0 + 4, "consumer", 1);
  for (int I = 0; I < 5; ++I)
    Consumer.free(1 + I, T0 + 30 + I, FreeSite);
  Consumer.free(6, T0 + 40); // by uninstrumented code
  Consumer.free(7, T0 + 41);
  Consumer.free(20, T0 + 42, FreeSite);
  Consumer.writeTo(P + "/t3.log");

  auto R = analyzeThreads(Dir.path());
  ASSERT_ANALYZED(A, R);
  EXPECT_EQ(A.Totals.Stats.Frees, 9);
  const CrossThreadFrees &Cross = A.CrossFrees;
  EXPECT_EQ(Cross.Frees, 8);
  EXPECT_EQ(Cross.Bytes, 5 * 64 + 2 * 64 + 32);
  uint64_t Indirect = indirectSiteId("", 0, "app+0x1234");
  ASSERT_EQ(Cross.BySitePair.size(), 3u);
  EXPECT_EQ(Cross.SitePairCount, 3u);
  EXPECT_EQ(Cross.BySitePair[0].AllocSite, SiteA);
  EXPECT_EQ(Cross.BySitePair[0].FreeSite, FreeSite);
  EXPECT_EQ(Cross.BySitePair[0].Frees, 5);
  EXPECT_EQ(Cross.BySitePair[0].Bytes, 320);
  EXPECT_EQ(Cross.BySitePair[1].AllocSite, SiteA);
  EXPECT_EQ(Cross.BySitePair[1].FreeSite, 0u);
  EXPECT_FALSE(Cross.BySitePair[1].FreeLocation.has_value());
  EXPECT_EQ(Cross.BySitePair[1].Bytes, 128);
  EXPECT_EQ(Cross.BySitePair[2].AllocSite, Indirect);
  EXPECT_EQ(Cross.BySitePair[2].AllocLocation.Function, "app+0x1234");
  ASSERT_EQ(Cross.ByThreadPair.size(), 2u);
  EXPECT_EQ(A.Threads[Cross.ByThreadPair[0].AllocThread].ThreadId, 2u);
  EXPECT_EQ(A.Threads[Cross.ByThreadPair[0].FreeThread].ThreadId, 3u);
  EXPECT_EQ(Cross.ByThreadPair[0].Frees, 7);
  EXPECT_EQ(A.Threads[Cross.ByThreadPair[1].AllocThread].ThreadId, 4u);

  nlohmann::ordered_json Json = toJson(A);
  EXPECT_EQ(Json["summary"]["cross_thread_frees"], 8);
  EXPECT_EQ(Json["summary"]["cross_thread_free_bytes"], 480);
  const auto &Pairs = Json["cross_thread_frees"]["by_site_pair"];
  EXPECT_EQ(Pairs[0]["alloc_site"], hexId(SiteA));
  EXPECT_EQ(Pairs[0]["alloc_location"]["function"], "producer()");
  EXPECT_EQ(Pairs[0]["free_site"], hexId(FreeSite));
  EXPECT_EQ(Pairs[0]["free_location"]["file"], "/src/consumer.cpp");
  EXPECT_EQ(Pairs[0]["free_location"]["line"], 35);
  EXPECT_EQ(Pairs[0]["free_location"]["function"], "consumer()");
  EXPECT_TRUE(Pairs[1]["free_site"].is_null());
  EXPECT_TRUE(Pairs[1]["free_location"].is_null());
  EXPECT_EQ(Pairs[2]["alloc_site"], hexId(Indirect));
  const auto &Threads = Json["cross_thread_frees"]["by_thread_pair"];
  EXPECT_EQ(Threads[0]["alloc_thread_id"], 2);
  EXPECT_EQ(Threads[0]["alloc_thread_name"], "producer");
  EXPECT_EQ(Threads[0]["free_thread_id"], 3);
  EXPECT_EQ(Threads[0]["free_thread_name"], "consumer");
  EXPECT_EQ(Threads[0]["pid"], 100);
  EXPECT_EQ(Threads[0]["frees"], 7);
  EXPECT_EQ(Threads[0]["bytes"], 448);

  EXPECT_EQ(section(textSummary(A), "cross-thread frees:", 8),
            "cross-thread frees: 8 blocks, 480 bytes\n"
            "   frees        bytes  allocated at -> freed at\n"
            "       5          320  /src/a.cpp:10 producer() -> "
            "/src/consumer.cpp:35 consumer()\n"
            "       2          128  /src/a.cpp:10 producer() -> "
            "<uninstrumented>\n"
            "       1           32  app+0x1234 -> /src/consumer.cpp:35 "
            "consumer()\n"
            "  thread pairs:\n"
            "       7          448  thread 2 \"producer\" -> thread 3 "
            "\"consumer\" (pid 100)\n"
            "       1           32  thread 4 \"helper\" -> thread 3 "
            "\"consumer\" (pid 100)\n");
  EXPECT_EQ(section(textSummary(A, 1), "cross-thread frees:", 7),
            "cross-thread frees: 8 blocks, 480 bytes\n"
            "   frees        bytes  allocated at -> freed at\n"
            "       5          320  /src/a.cpp:10 producer() -> "
            "/src/consumer.cpp:35 consumer()\n"
            "  ... 2 more site pairs\n"
            "  thread pairs:\n"
            "       7          448  thread 2 \"producer\" -> thread 3 "
            "\"consumer\" (pid 100)\n"
            "    ... 1 more thread pairs\n");
}

TEST(Threads, ParentCycleStillGivesATree) {
  TempDir Dir;
  std::string P = appFolder(Dir, processLog(100));
  TestLogWriter T(log::FileKind::Thread, 100, 0);
  T.threadStart(1, 100, T0 + 1, "main");
  T.threadStart(2, 202, T0 + 2, "a", 3);
  T.threadStart(3, 203, T0 + 3, "b", 2);
  T.threadStart(4, 204, T0 + 4, "c", 3);
  T.writeTo(P + "/t0.log");
  auto R = analyzeThreads(Dir.path());
  ASSERT_ANALYZED(A, R);
  // Every thread appears exactly once.
  std::vector<int> Seen(A.Threads.size(), 0);
  std::vector<size_t> Work = A.Tree.Roots;
  while (!Work.empty()) {
    size_t Node = Work.back();
    Work.pop_back();
    ++Seen[Node];
    for (size_t Child : A.Tree.Children[Node])
      Work.push_back(Child);
  }
  EXPECT_EQ(Seen, std::vector<int>(4, 1));
  EXPECT_EQ(A.Tree.Roots, (std::vector<size_t>{0, 1})); // thread 2 is cut
  EXPECT_EQ(A.Tree.Children[2], std::vector<size_t>{3});
}

TEST(Threads, TenThousandThreads) {
  constexpr uint64_t Count = 10000;
  constexpr uint32_t Slots = 16;
  TempDir Dir;
  std::string P = appFolder(Dir, processLog(100));
  std::vector<TestLogWriter> Files;
  for (uint32_t S = 0; S < Slots; ++S)
    Files.emplace_back(log::FileKind::Thread, 100, S);
  Files[0].threadStart(1, 100, T0 + 1, "main");
  Files[0].alloc(1, SiteA, 8, T0 + 2);
  // Threads 2..5001 form a chain; 5002..10001 are children of main.
  for (uint64_t Id = 2; Id <= Count + 1; ++Id) {
    TestLogWriter &W = Files[1 + Id % (Slots - 1)];
    uint64_t Time = T0 + 10 * Id;
    uint64_t Parent = Id <= 5001 ? Id - 1 : 1;
    W.threadStart(Id, 1000 + Id, Time, "worker", Parent,
                  Id % 2 ? SpawnWorker : SpawnMain, 0, 0,
                  0x7f0000a00000); // every thread reuses one handle
    W.alloc(Id, SiteA, 8, Time + 1);
    W.threadEnd(Id, Time + 5);
  }
  Files[1].threadName(0, 0x7f0000a00000, T0 + 10 * 7000 + 2, "renamed");
  for (uint32_t S = 0; S < Slots; ++S)
    Files[S].writeTo(P + "/t" + std::to_string(S) + ".log");

  auto Begin = std::chrono::steady_clock::now();
  auto R = analyzeThreads(Dir.path());
  ASSERT_ANALYZED(A, R);
  nlohmann::ordered_json Json = toJson(A);
  std::string Dumped = Json.dump();
  auto Seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - Begin)
          .count();
  RecordProperty("seconds", std::to_string(Seconds));

  ASSERT_EQ(A.Threads.size(), Count + 1);
  EXPECT_EQ(A.Totals.Stats.Allocations, double(Count + 1));
  EXPECT_EQ(A.Tree.Roots, std::vector<size_t>{0});
  EXPECT_EQ(A.Tree.Children[0].size(), 1u + 5000);
  size_t Depth = 0;
  for (size_t Node = 0; !A.Tree.Children[Node].empty();
       Node = A.Tree.Children[Node].front())
    ++Depth;
  EXPECT_EQ(Depth, 5000u);
  ASSERT_EQ(A.SpawnSites.size(), 2u);
  EXPECT_EQ(A.SpawnSites[0].ThreadsCreated, Count / 2);
  EXPECT_EQ(A.SpawnSites[1].ThreadsCreated, Count / 2);
  EXPECT_EQ(A.SpawnSites[0].Allocations + A.SpawnSites[1].Allocations,
            double(Count));
  EXPECT_EQ(findThread(A, 7000)->Name, "renamed");
  EXPECT_EQ(findThread(A, 7001)->Name, "worker");
  EXPECT_EQ(Json["thread_tree"][0]["children"].size(), 5001u);
  EXPECT_GT(Dumped.size(), Count * 50);
}

TEST(Threads, SpawnFromSystemHeaderIsAttributedThroughTheStack) {
  std::vector<ModuleInfo> Loaded;
  dl_iterate_phdr(collectModules, &Loaded);
  ASSERT_FALSE(Loaded.empty());
  int CallLine = __LINE__ + 1;
  uint64_t Address = returnAddressOfCaller();
  int CallLine2 = __LINE__ + 1;
  uint64_t Address2 = returnAddressOfCaller();
  // The creating call inside libstdc++ (std::thread::_M_start_thread).
  uint64_t Library = reinterpret_cast<uint64_t>(&std::__throw_bad_alloc) + 1;
  constexpr uint64_t SpawnAsync = 0x5004;

  TempDir Dir;
  std::string P = Dir.mkdir("app.100");
  TestLogWriter Process(log::FileKind::Process, 100);
  Process.processInfo(100, log::SamplingMode::Exact);
  Process.modules(Loaded);
  // std::async's out-of-line code in <future> is the instrumented site.
  Process.site(SpawnAsync, MSC_KIND_THREAD_SPAWN, "/usr/include/c++/12/future",
               1700, "_ZSt5asyncv", {}, Loaded[0].Fixed.text_begin);
  Process.writeTo(P + "/process.log");
  TestLogWriter Main(log::FileKind::Thread, 100, 0);
  Main.threadStart(1, 100, T0 + 1, "main");
  Main.stack(0x77, {Library, Address}); // in the parent's log
  Main.stack(0x78, {Library, Address2});
  Main.writeTo(P + "/t0.log");
  TestLogWriter Children(log::FileKind::Thread, 100, 1);
  Children.threadStart(2, 202, T0 + 5, "async", 1, SpawnAsync, 0x77, Library);
  Children.threadEnd(2, T0 + 6);
  Children.threadStart(3, 203, T0 + 7, "raw", 1, 0, 0x77, Library);
  Children.threadEnd(3, T0 + 8);
  // The same std::async site, called from another line.
  Children.threadStart(4, 204, T0 + 9, "async2", 1, SpawnAsync, 0x78, Library);
  Children.writeTo(P + "/t1.log");

  // Without symbols the stack leads nowhere: no location, and the spawn
  // site shows its own (system) frame.
  auto Plain = analyzeThreads(Dir.path(), /*Symbolize=*/false);
  ASSERT_TRUE(bool(Plain->Result));
  EXPECT_FALSE(findThread(*Plain->Result, 2)->SpawnLocation.has_value());
  EXPECT_FALSE(findThread(*Plain->Result, 3)->SpawnLocation.has_value());
  const SpawnSiteReport *PlainSite = findSpawn(*Plain->Result, SpawnAsync);
  ASSERT_NE(PlainSite, nullptr);
  EXPECT_EQ(PlainSite->ThreadsCreated, 2u); // no user frames: by id
  ASSERT_TRUE(PlainSite->User.has_value());
  EXPECT_EQ(PlainSite->User->File, "/usr/include/c++/12/future");
  EXPECT_NE(findThread(*Plain->Result, 3)->CreatorModule.find("libstdc++"),
            std::string::npos)
      << findThread(*Plain->Result, 3)->CreatorModule;

  auto R = analyzeThreads(Dir.path(), /*Symbolize=*/true);
  ASSERT_ANALYZED(A, R);
  const ThreadReport *Async = findThread(A, 2);
  const ThreadReport *Raw = findThread(A, 3);
  ASSERT_TRUE(Async && Raw);
  if (!Async->SpawnLocation)
    GTEST_SKIP() << "the test binary has no debug info";
  EXPECT_TRUE(endsWith(Async->SpawnLocation->File, "ThreadAnalysisTest.cpp"))
      << Async->SpawnLocation->File;
  EXPECT_EQ(Async->SpawnLocation->Line, uint32_t(CallLine));
  EXPECT_NE(Async->SpawnLocation->Function.find("SpawnFromSystemHeader"),
            std::string::npos);
  ASSERT_TRUE(Raw->SpawnLocation.has_value());
  EXPECT_EQ(Raw->SpawnLocation->Line, uint32_t(CallLine));
  EXPECT_EQ(findThread(A, 4)->SpawnLocation->Line, uint32_t(CallLine2));
  // One entry per line of user code, both with the site's id.
  ASSERT_EQ(A.SpawnSites.size(), 3u);
  std::vector<uint32_t> Lines;
  for (const SpawnSiteReport &Site : A.SpawnSites) {
    if (!Site.Id)
      continue;
    EXPECT_EQ(Site.Id, SpawnAsync);
    EXPECT_EQ(Site.File, "/usr/include/c++/12/future");
    EXPECT_EQ(Site.ThreadsCreated, 1u);
    ASSERT_TRUE(Site.User.has_value());
    Lines.push_back(Site.User->Line);
  }
  EXPECT_EQ(Lines,
            (std::vector<uint32_t>{uint32_t(CallLine), uint32_t(CallLine2)}));
}

} // namespace
