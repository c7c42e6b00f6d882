//===- OutputsTest.cpp - The profile model and the writers built on it ----===//

#include "Analysis.h"
#include "Report.h"
#include "TestLogWriter.h"
#include "TestSupport.h"

#include "profile.pb.h"

#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

#include <zlib.h>

#include <cmath>
#include <map>

using namespace memscope;
using namespace memscope::merge;
using namespace memscope::merge::test;

namespace {

constexpr uint64_t SiteC = 0x3333333333333333ull;
constexpr uint64_t StackId = 0x5555;

/// process.log with three sites in /nonexistent/app, which has a build-id.
TestLogWriter processLog(uint32_t Pid, std::optional<int32_t> ExitKind = 0,
                         log::SamplingMode Mode = log::SamplingMode::Exact) {
  TestLogWriter W(log::FileKind::Process, Pid);
  W.processInfo(Pid, Mode, "/nonexistent/app",
                Mode == log::SamplingMode::Bytes ? 4096 : 0);
  log::ModuleRecord Module{};
  Module.load_bias = 0;
  Module.text_begin = 0x1000;
  Module.text_end = 0x9000;
  Module.flags = log::ModuleHasSites;
  Module.build_id_size = 4;
  Module.build_id[0] = 0xde;
  Module.build_id[1] = 0xad;
  Module.build_id[2] = 0xbe;
  Module.build_id[3] = 0xef;
  W.record(log::RecordType::Module,
           Payload().pod(Module).str("/nonexistent/app"));
  W.site(SiteA, MSC_KIND_MALLOC, "a.cpp", 10, "_Z6workeri",
         {{"main", "main.cpp", "/src", 30, 3}}, 0x1100);
  W.site(SiteB, MSC_KIND_NEW, "b.cpp", 20, "main", {}, 0x1200);
  W.site(SiteC, MSC_KIND_MALLOC, "c.cpp", 5, "helper", {}, 0x1300);
  if (ExitKind) {
    log::ProcessEndRecord End{};
    End.monotonic_ns = T0 + 100000;
    End.exit_kind = *ExitKind;
    W.fixed(log::RecordType::ProcessEnd, End);
  }
  return W;
}

/// Main thread: A 100 bytes (t=10), B 50 (t=20, with a stack), free A
/// (t=30), C 10 (t=40). The peak is 150 bytes at t=20, when A and B were
/// live; A is freed, B and C live at exit.
void writeRun(const std::string &Folder, uint32_t Pid,
              std::optional<int32_t> ExitKind = 0) {
  processLog(Pid, ExitKind).writeTo(Folder + "/process.log");
  TestLogWriter T(log::FileKind::Thread, Pid);
  T.threadStart(1, Pid, T0 + 1, "main");
  T.alloc(1, SiteA, 100, T0 + 10);
  T.stack(StackId, {0x1250, 0x1400});
  T.alloc(2, SiteB, 50, T0 + 20, 1.0, MSC_KIND_NEW, StackId);
  T.free(1, T0 + 30);
  T.alloc(3, SiteC, 10, T0 + 40);
  T.threadEnd(1, T0 + 50);
  T.writeTo(Folder + "/t0.log");
}

Analysis analyzeOrDie(const std::string &Dir) {
  auto R = analyzeDir(Dir);
  if (!R->Result) {
    ADD_FAILURE() << llvm::toString(R->Result.takeError());
    return Analysis();
  }
  return std::move(*R->Result);
}

std::string readFile(const std::string &Path) {
  auto Buffer = llvm::MemoryBuffer::getFile(Path);
  return Buffer ? (*Buffer)->getBuffer().str() : std::string();
}

const ProfileSample *sampleOf(const Analysis &A, uint64_t Site) {
  for (const ProfileSample &S : A.Stacks.Samples)
    if (S.SiteId == Site)
      return &S;
  return nullptr;
}

TEST(Profile, LiveBytesAtThePeakPerSample) {
  TempDir Dir;
  writeRun(Dir.mkdir("app.100"), 100);
  Analysis A = analyzeOrDie(Dir.path());
  ASSERT_EQ(A.Processes.size(), 1u);
  EXPECT_EQ(A.Processes[0].PeakLiveBytes, 150);
  EXPECT_EQ(A.Processes[0].PeakLiveTimeNs, 20u);
  const ProfileSample *SA = sampleOf(A, SiteA), *SB = sampleOf(A, SiteB),
                      *SC = sampleOf(A, SiteC);
  ASSERT_TRUE(SA && SB && SC);
  EXPECT_EQ(SA->LiveBytesAtPeak, 100);
  EXPECT_EQ(SB->LiveBytesAtPeak, 50);
  EXPECT_EQ(SC->LiveBytesAtPeak, 0); // allocated after the peak
  EXPECT_EQ(SA->LiveBytesAtExit, 0);
  EXPECT_EQ(SB->LiveBytesAtExit, 50);
  EXPECT_EQ(SC->Bytes, 10);
}

TEST(Profile, SitesWithoutStacksAreTheirInliningChain) {
  TempDir Dir;
  writeRun(Dir.mkdir("app.100"), 100);
  Analysis A = analyzeOrDie(Dir.path());
  const ProfileSample *SA = sampleOf(A, SiteA);
  ASSERT_TRUE(SA);
  ASSERT_EQ(SA->Locations.size(), 1u);
  const ProfileLocation &Leaf = A.Stacks.Locations[SA->Locations[0]];
  ASSERT_EQ(Leaf.Lines.size(), 2u);
  EXPECT_EQ(Leaf.Lines[0].Function, "worker(int)"); // demangled
  EXPECT_EQ(Leaf.Lines[0].File, "a.cpp");
  EXPECT_EQ(Leaf.Lines[1].Function, "main"); // inlined into main
  EXPECT_EQ(Leaf.Lines[1].Line, 30u);
  ASSERT_GE(Leaf.Mapping, 0);
  EXPECT_EQ(A.Stacks.Mappings[Leaf.Mapping].BuildId, "deadbeef");

  // A sample with a stack: the Site record in place of the first frame (the
  // function holding the site), then one location per caller,
  // module+offset without the symbolizer.
  const ProfileSample *SB = sampleOf(A, SiteB);
  ASSERT_TRUE(SB);
  ASSERT_EQ(SB->Locations.size(), 2u);
  const ProfileLocation &SiteLeaf = A.Stacks.Locations[SB->Locations[0]];
  EXPECT_EQ(SiteLeaf.Lines[0].Function, "main");
  EXPECT_EQ(SiteLeaf.Lines[0].File, "b.cpp");
  EXPECT_EQ(SiteLeaf.Lines[0].Line, 20u);
  const ProfileLocation &Caller = A.Stacks.Locations[SB->Locations[1]];
  EXPECT_EQ(Caller.Address, 0x1400u);
  EXPECT_EQ(Caller.Lines[0].Function, "app+0x1400");
}

TEST(Profile, RunsOfOneBinaryShareLocations) {
  TempDir Dir;
  writeRun(Dir.mkdir("app.100"), 100);
  writeRun(Dir.mkdir("app.200"), 200);
  Analysis A = analyzeOrDie(Dir.path());
  ASSERT_EQ(A.Processes.size(), 2u);
  EXPECT_EQ(A.Stacks.Mappings.size(), 1u);
  // Per process one sample per site, over the same locations.
  std::map<uint64_t, std::vector<const ProfileSample *>> BySite;
  for (const ProfileSample &S : A.Stacks.Samples)
    BySite[S.SiteId].push_back(&S);
  ASSERT_EQ(BySite[SiteB].size(), 2u);
  EXPECT_EQ(BySite[SiteB][0]->Locations, BySite[SiteB][1]->Locations);
  EXPECT_NE(BySite[SiteB][0]->Pid, BySite[SiteB][1]->Pid);

  // The folded stacks add the two runs up.
  std::string Path = Dir.sub("stacks.folded");
  ASSERT_FALSE(bool(writeFoldedStacks(A, Path)));
  EXPECT_EQ(readFile(Path), "app+0x1400;main (b.cpp:20) 100\n"
                            "helper (c.cpp:5) 20\n"
                            "main;worker(int) (a.cpp:10) 200\n");
}

TEST(Profile, LiveTimelineKeepsThePeak) {
  TempDir Dir;
  writeRun(Dir.mkdir("app.100"), 100);
  Analysis A = analyzeOrDie(Dir.path());
  const ProcessReport &P = A.Processes[0];
  ASSERT_FALSE(P.LiveTimeline.empty());
  double Max = 0;
  for (const LivePoint &Point : P.LiveTimeline)
    Max = std::max(Max, Point.MaxBytes);
  EXPECT_EQ(Max, 150);
  EXPECT_EQ(P.LiveTimeline.back().LastBytes, 60);
  EXPECT_LE(P.LiveTimeline.size(), ProcessReport::kMaxLivePoints);
}

TEST(Profile, LongRunsAreBucketed) {
  TempDir Dir;
  std::string Folder = appFolder(Dir, processLog(100));
  TestLogWriter T(log::FileKind::Thread, 100);
  T.threadStart(1, 100, T0 + 1, "main");
  // 5000 alloc/free pairs 1 µs apart; one 1 MB block in the middle.
  for (uint64_t I = 1; I <= 5000; ++I) {
    T.alloc(I, SiteA, 16, T0 + I * 1000);
    T.free(I, T0 + I * 1000 + 500);
  }
  T.alloc(9999, SiteB, 1 << 20, T0 + 2500 * 1000 + 700);
  T.free(9999, T0 + 2500 * 1000 + 800);
  T.threadEnd(1, T0 + 6000 * 1000);
  T.writeTo(Folder + "/t0.log");
  Analysis A = analyzeOrDie(Dir.path());
  const ProcessReport &P = A.Processes[0];
  EXPECT_LE(P.LiveTimeline.size(), ProcessReport::kMaxLivePoints);
  EXPECT_GT(P.LiveBucketNs, 1000u);
  double Max = 0;
  for (const LivePoint &Point : P.LiveTimeline)
    Max = std::max(Max, Point.MaxBytes);
  EXPECT_EQ(Max, (1 << 20) + 0.0);
  EXPECT_EQ(P.PeakLiveBytes, (1 << 20) + 0.0);
  EXPECT_EQ(P.LiveTimeline.back().LastBytes, 0);
}

TEST(Processes, Status) {
  TempDir Dir;
  writeRun(Dir.mkdir("app.100"), 100, 0);
  writeRun(Dir.mkdir("app.200"), 200, 11);
  writeRun(Dir.mkdir("app.300"), 300, std::nullopt);
  Analysis A = analyzeOrDie(Dir.path());
  ASSERT_EQ(A.Processes.size(), 3u);
  std::map<uint32_t, const ProcessReport *> ByPid;
  for (const ProcessReport &P : A.Processes)
    ByPid[P.Pid] = &P;
  EXPECT_EQ(ByPid[100]->Status, ProcessStatus::Exited);
  EXPECT_EQ(ByPid[200]->Status, ProcessStatus::Crashed);
  EXPECT_EQ(ByPid[200]->Signal, 11);
  EXPECT_EQ(signalName(11), "SIGSEGV");
  EXPECT_EQ(signalName(200), "signal 200");
  EXPECT_EQ(ByPid[300]->Status, ProcessStatus::KilledOrRunning);
  nlohmann::ordered_json Json = toJson(A);
  for (const auto &P : Json["processes"]) {
    if (P["pid"] == 200) {
      EXPECT_EQ(P["status"], "crashed");
      EXPECT_EQ(P["signal"], 11);
      EXPECT_EQ(P["signal_name"], "SIGSEGV");
    } else if (P["pid"] == 300) {
      EXPECT_EQ(P["status"], "killed-or-running");
      EXPECT_TRUE(P["signal"].is_null());
    }
  }
}

std::string gunzip(const std::string &Path) {
  gzFile File = gzopen(Path.c_str(), "rb");
  std::string Out;
  if (!File)
    return Out;
  char Buffer[4096];
  int Got;
  while ((Got = gzread(File, Buffer, sizeof(Buffer))) > 0)
    Out.append(Buffer, Got);
  gzclose(File);
  return Out;
}

/// profile.pb.gz of the logs in \p Dir, as pprof reads it.
perftools::profiles::Profile pprofOf(TempDir &Dir) {
  Analysis A = analyzeOrDie(Dir.path());
  std::string Path = Dir.sub("profile.pb.gz");
  perftools::profiles::Profile P;
  EXPECT_FALSE(bool(writePprofProfile(A, Path)));
  EXPECT_TRUE(P.ParseFromString(gunzip(Path)));
  return P;
}

TEST(Pprof, SampleTypesPeriodMappingsAndValues) {
  TempDir Dir;
  std::string Folder = Dir.mkdir("app.100");
  writeRun(Folder, 100);
  processLog(100, 0, log::SamplingMode::Bytes).writeTo(Folder + "/process.log");
  perftools::profiles::Profile P = pprofOf(Dir);
  auto Str = [&](int64_t Index) { return P.string_table(Index); };
  ASSERT_EQ(P.sample_type_size(), 4);
  EXPECT_EQ(Str(P.sample_type(0).type()), "alloc_objects");
  EXPECT_EQ(Str(P.sample_type(0).unit()), "count");
  EXPECT_EQ(Str(P.sample_type(1).type()), "alloc_space");
  EXPECT_EQ(Str(P.sample_type(1).unit()), "bytes");
  EXPECT_EQ(Str(P.sample_type(2).type()), "inuse_objects");
  EXPECT_EQ(Str(P.sample_type(3).type()), "inuse_space");
  EXPECT_EQ(Str(P.period_type().type()), "space");
  EXPECT_EQ(Str(P.period_type().unit()), "bytes");
  EXPECT_EQ(P.period(), 4096);
  ASSERT_EQ(P.mapping_size(), 1);
  EXPECT_EQ(Str(P.mapping(0).filename()), "/nonexistent/app");
  EXPECT_EQ(Str(P.mapping(0).build_id()), "deadbeef");

  // Each sample's values, and its leaf function.
  std::map<uint64_t, const perftools::profiles::Location *> Locations;
  for (const auto &L : P.location())
    Locations[L.id()] = &L;
  std::map<uint64_t, std::string> Functions;
  for (const auto &F : P.function())
    Functions[F.id()] = Str(F.name());
  std::map<std::string, std::vector<int64_t>> ByLeaf;
  for (const auto &S : P.sample()) {
    const auto *Leaf = Locations.at(S.location_id(0));
    std::string Name = Functions.at(Leaf->line(0).function_id());
    ByLeaf[Name] = {S.value().begin(), S.value().end()};
    // pid, then the thread's name and id (the main thread has no spawn
    // site); SamplesAreSplitByThread checks them.
    ASSERT_EQ(S.label_size(), 3);
    EXPECT_EQ(Str(S.label(0).key()), "pid");
    EXPECT_EQ(S.label(0).num(), 100);
  }
  EXPECT_EQ(ByLeaf["worker(int)"], (std::vector<int64_t>{1, 100, 0, 0}));
  EXPECT_EQ(ByLeaf["helper"], (std::vector<int64_t>{1, 10, 1, 10}));
  EXPECT_EQ(ByLeaf["main"], (std::vector<int64_t>{1, 50, 1, 50}));
  // The inlined frame is a second line of the same location.
  for (const auto &L : P.location())
    if (L.line_size() == 2) {
      EXPECT_EQ(Functions.at(L.line(0).function_id()), "worker(int)");
      EXPECT_EQ(Functions.at(L.line(1).function_id()), "main");
      EXPECT_EQ(L.line(1).line(), 30);
    }
}

TEST(Pprof, SamplesAreSplitByThread) {
  // Site A allocates in the main thread and in two workers spawned at
  // s.cpp:7, at weight 2.5: 7.5 allocations each from the workers and 2.5
  // from main, 17.5 in all. Each thread's part is a sample labelled with the
  // thread, and the parts add up to the whole's rounding: 18, where rounding
  // each alone would give 3 + 8 + 8 = 19.
  constexpr uint64_t Spawn = 0x5001;
  TempDir Dir;
  std::string Folder = Dir.mkdir("app.100");
  TestLogWriter Process = processLog(100, 0, log::SamplingMode::Bytes);
  Process.site(Spawn, MSC_KIND_THREAD_SPAWN, "s.cpp", 7, "main");
  Process.writeTo(Folder + "/process.log");
  TestLogWriter Main(log::FileKind::Thread, 100, 0);
  Main.threadStart(1, 100, T0 + 1, "main");
  Main.alloc(1, SiteA, 40, T0 + 2, 2.5);
  Main.threadEnd(1, T0 + 90);
  Main.writeTo(Folder + "/t0.log");
  for (uint64_t Worker = 2; Worker <= 3; ++Worker) {
    TestLogWriter T(log::FileKind::Thread, 100, uint32_t(Worker));
    T.threadStart(Worker, 100 + Worker, T0 + 10, "pool", 1, Spawn);
    for (uint64_t I = 0; I < 3; ++I)
      T.alloc(Worker * 10 + I, SiteA, 40, T0 + 20 + I, 2.5);
    T.threadEnd(Worker, T0 + 80);
    T.writeTo(Folder + "/t" + std::to_string(Worker) + ".log");
  }
  perftools::profiles::Profile P = pprofOf(Dir);
  auto Str = [&](int64_t Index) { return P.string_table(Index); };

  std::map<int64_t, std::map<std::string, std::string>> ByThread;
  int64_t Allocations = 0, Bytes = 0;
  for (const auto &S : P.sample()) {
    std::map<std::string, std::string> Labels;
    int64_t ThreadId = -1;
    for (const auto &L : S.label()) {
      Labels[Str(L.key())] = L.str() ? Str(L.str()) : std::to_string(L.num());
      if (Str(L.key()) == "thread_id")
        ThreadId = L.num();
    }
    Labels["alloc_objects"] = std::to_string(S.value(0));
    ByThread[ThreadId] = Labels;
    Allocations += S.value(0);
    Bytes += S.value(1);
  }
  ASSERT_EQ(ByThread.size(), 3u);
  EXPECT_EQ(ByThread[1],
            (std::map<std::string, std::string>{{"alloc_objects", "3"},
                                                {"pid", "100"},
                                                {"thread", "main"},
                                                {"thread_id", "1"}}));
  EXPECT_EQ(ByThread[2]["thread"], "pool");
  EXPECT_EQ(ByThread[2]["spawn_site"], "s.cpp:7");
  EXPECT_EQ(ByThread[3]["spawn_site"], "s.cpp:7");
  // 2 + 7 + 7 leaves two units of the 18; the remainders tie (.5 each), so
  // they go to the first two threads in report order: main and thread 2.
  EXPECT_EQ(ByThread[2]["alloc_objects"], "8");
  EXPECT_EQ(ByThread[3]["alloc_objects"], "7");
  EXPECT_EQ(Allocations, 18);
  EXPECT_EQ(Bytes, 700);
}

TEST(Trace, ThreadsAndCounters) {
  TempDir Dir;
  writeRun(Dir.mkdir("app.100"), 100);
  Analysis A = analyzeOrDie(Dir.path());
  std::string Path = Dir.sub("trace.json");
  ASSERT_FALSE(bool(writeChromeTrace(A, Path)));
  nlohmann::json Trace = nlohmann::json::parse(readFile(Path));
  int ThreadNames = 0, Spans = 0, Counters = 0, ProcessNames = 0;
  double MaxCounter = 0;
  for (const auto &E : Trace["traceEvents"]) {
    if (E["ph"] == "M" && E["name"] == "thread_name")
      ++ThreadNames;
    if (E["ph"] == "M" && E["name"] == "process_name") {
      ++ProcessNames;
      EXPECT_EQ(E["args"]["name"], "app (exited)");
    }
    if (E["ph"] == "X") {
      ++Spans;
      EXPECT_EQ(E["ts"], 0.001); // started 1 ns after the process
      EXPECT_EQ(E["dur"], 0.049);
    }
    if (E["ph"] == "C") {
      ++Counters;
      MaxCounter = std::max(MaxCounter, E["args"]["bytes"].get<double>());
    }
  }
  EXPECT_EQ(ProcessNames, 1);
  EXPECT_EQ(ThreadNames, 1);
  EXPECT_EQ(Spans, 1);
  EXPECT_GT(Counters, 0);
  EXPECT_EQ(MaxCounter, 150);
}

TEST(Html, EmbedsTheDataSafely) {
  TempDir Dir;
  std::string Folder = Dir.mkdir("app.100");
  writeRun(Folder, 100);
  Analysis A = analyzeOrDie(Dir.path());
  // A name that would end the <script> element if written as is.
  A.Sites[0].User.Function = "evil</script><script>alert(1)</script>";
  std::string Path = Dir.sub("report.html");
  ASSERT_FALSE(bool(writeHtmlReport(A, Path)));
  std::string Html = readFile(Path);
  EXPECT_EQ(Html.find("evil</script>"), std::string::npos);
  EXPECT_NE(Html.find("evil<\\/script>"), std::string::npos);
  EXPECT_EQ(Html.find("/*MEMSCOPE_DATA*/"), std::string::npos);
  // Self-contained: nothing is fetched.
  EXPECT_EQ(Html.find("src=\"http"), std::string::npos);
  EXPECT_EQ(Html.find("href=\"http"), std::string::npos);
  size_t Begin = Html.find("type=\"application/json\">");
  ASSERT_NE(Begin, std::string::npos);
  Begin += strlen("type=\"application/json\">");
  size_t End = Html.find("</script>", Begin);
  nlohmann::json Data = nlohmann::json::parse(Html.substr(Begin, End - Begin));
  EXPECT_EQ(Data["summary"]["total_bytes"], 160);
  EXPECT_EQ(Data["sites"]["rows"].size(), 3u);
  EXPECT_EQ(Data["flame"]["allocated"][1], 160);
  EXPECT_EQ(Data["flame"]["peak"][1], 150);
}

} // namespace
