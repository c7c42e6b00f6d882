//===- AnalysisTest.cpp - Merging and estimation on synthetic runs --------===//

#include "Analysis.h"
#include "Report.h"
#include "Symbolization.h"
#include "TestLogWriter.h"

#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <cmath>
#include <link.h>
#include <new>

using namespace memscope;
using namespace memscope::merge;
using namespace memscope::merge::test;

namespace {

constexpr uint64_t T0 = TestLogWriter::StartMonotonic;
constexpr uint64_t SiteA = 0x1111111111111111ull;
constexpr uint64_t SiteB = 0x2222222222222222ull;

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

struct Run {
  Diagnostics Diags;
  llvm::Expected<Analysis> Result =
      llvm::createStringError(std::errc::invalid_argument, "not run");
};

std::unique_ptr<Run> analyzeDir(const std::string &Dir, bool Symbolize = false,
                                std::optional<uint32_t> Pid = std::nullopt) {
  auto R = std::make_unique<Run>();
  AnalysisOptions Options;
  Options.InputDir = Dir;
  Options.Symbolize = Symbolize;
  Options.SystemPrefixes = defaultSystemPrefixes();
  Options.Pid = Pid;
  R->Result = analyze(Options, R->Diags);
  return R;
}

const SiteReport *findSite(const Analysis &A, uint64_t Id) {
  for (const SiteReport &Site : A.Sites)
    if (Site.Id == Id)
      return &Site;
  return nullptr;
}

std::string diagText(const Diagnostics &Diags) {
  std::string Text;
  for (const Diagnostic &D : Diags.all())
    Text += formatDiagnostic(D) + "\n";
  return Text;
}

TEST(Analysis, ExactCountsAndFrees) {
  TempDir Dir;
  std::string P = Dir.mkdir("app.100");
  processLog(100).writeTo(P + "/process.log");
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
  ASSERT_TRUE(bool(R->Result)) << llvm::toString(R->Result.takeError());
  const Analysis &A = *R->Result;
  EXPECT_TRUE(R->Diags.all().empty()) << diagText(R->Diags);
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
  std::string P = Dir.mkdir("app.100");
  processLog(100, true, log::SamplingMode::Bytes).writeTo(P + "/process.log");
  TestLogWriter T(log::FileKind::Thread, 100);
  T.threadStart(1, 100, T0 + 1);
  T.alloc(1, SiteA, 10, T0 + 10, 409.6);
  T.alloc(2, SiteA, 5000, T0 + 11, 1.5);
  T.alloc(3, SiteA, 8, T0 + 12, 512.2);
  T.free(1, T0 + 20);
  T.writeTo(P + "/t0.log");

  auto R = analyzeDir(Dir.path());
  ASSERT_TRUE(bool(R->Result));
  const Analysis &A = *R->Result;
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

TEST(Analysis, CrossThreadFreeIsMatchedBySampleId) {
  TempDir Dir;
  std::string P = Dir.mkdir("app.100");
  processLog(100).writeTo(P + "/process.log");
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

TEST(Analysis, PeakIsComputedInTimeOrderAcrossFiles) {
  // In file order the peak would be 400 (100 + 300 in t0); in time order
  // the first block is freed (by t1) before the second is allocated.
  TempDir Dir;
  std::string P = Dir.mkdir("app.100");
  processLog(100).writeTo(P + "/process.log");
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
  std::string P = Dir.mkdir("app.100");
  processLog(100, /*Ended=*/false).writeTo(P + "/process.log");
  TestLogWriter T(log::FileKind::Thread, 100, 0);
  T.threadStart(2, 200, T0 + 5, "first");
  T.alloc(1, SiteA, 10, T0 + 6);
  T.threadEnd(2, T0 + 7);
  T.threadStart(3, 201, T0 + 8, "second");
  T.alloc(2, SiteA, 20, T0 + 9);
  T.alloc(3, SiteA, 30, T0 + 10);
  T.writeTo(P + "/t0.log");

  auto R = analyzeDir(Dir.path());
  ASSERT_TRUE(bool(R->Result));
  const Analysis &A = *R->Result;
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
  std::string P = Dir.mkdir("app.100");
  processLog(100).writeTo(P + "/process.log");
  TestLogWriter T(log::FileKind::Thread, 100);
  T.threadStart(1, 100, T0 + 1);
  for (int I = 0; I < 8; ++I)
    T.alloc(I + 1, SiteA, 10, T0 + 10 + I);
  T.Bytes[T.Offsets[2] + 30] ^= 1;
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

TEST(Analysis, UntrackedSamplesAreNotLiveAtExit) {
  TempDir Dir;
  std::string P = Dir.mkdir("app.100");
  processLog(100).writeTo(P + "/process.log");
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
  ASSERT_TRUE(bool(R->Result));
  const Analysis &A = *R->Result;
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
  std::string P = Dir.mkdir("app.100");
  processLog(100).writeTo(P + "/process.log");
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
  ASSERT_TRUE(bool(R->Result));
  const Analysis &A = *R->Result;
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
  std::string P = Dir.mkdir("app.100");
  processLog(100).writeTo(P + "/process.log");
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

/// A return address inside this test binary, for real symbolization.
__attribute__((noinline)) uint64_t returnAddressOfCaller() {
  return reinterpret_cast<uint64_t>(__builtin_return_address(0));
}

/// The loaded modules of this process, as the runtime would log them.
int collectModules(dl_phdr_info *Info, size_t, void *Data) {
  auto *Modules = static_cast<std::vector<ModuleInfo> *>(Data);
  ModuleInfo Module;
  Module.Fixed.load_bias = Info->dlpi_addr;
  Module.Fixed.text_begin = UINT64_MAX;
  for (int I = 0; I < Info->dlpi_phnum; ++I) {
    const ElfW(Phdr) &Phdr = Info->dlpi_phdr[I];
    if (Phdr.p_type != PT_LOAD || !(Phdr.p_flags & PF_X))
      continue;
    uint64_t Begin = Info->dlpi_addr + Phdr.p_vaddr;
    Module.Fixed.text_begin = std::min(Module.Fixed.text_begin, Begin);
    Module.Fixed.text_end =
        std::max<uint64_t>(Module.Fixed.text_end, Begin + Phdr.p_memsz);
  }
  if (Modules->empty()) {
    llvm::SmallString<256> Exe;
    llvm::sys::fs::real_path("/proc/self/exe", Exe);
    Module.Path = std::string(Exe);
    Module.Fixed.flags = log::ModuleHasSites; // the test plays the app
  } else {
    Module.Path = Info->dlpi_name;
  }
  if (!Module.Path.empty() && Module.Fixed.text_end)
    Modules->push_back(Module);
  return 0;
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
  EXPECT_TRUE(llvm::StringRef(Site.File).ends_with("AnalysisTest.cpp"))
      << Site.File << " " << Site.Function;
  EXPECT_EQ(Site.Line, uint32_t(CallLine));
  EXPECT_NE(Site.Function.find("AttributesToTheInstrumentedCallerLine"),
            std::string::npos)
      << Site.Function;
  EXPECT_EQ(Site.Id, indirectSiteId(Site.File, Site.Line, Site.Function));
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
  std::string P = Dir.mkdir("app.100");
  processLog(100).writeTo(P + "/process.log");
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
      "100 bytes in 1 allocations\n"
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
      // Site B's one block lives 1 ns and is half of all allocations.
      "bottlenecks:\n"
      "  temporaries  b.cpp:20  0.001µs  Blocks allocated by main at "
      "b.cpp:20 live 1 ns on average; the site makes 50.0% of all "
      "allocations (1 allocations of 50 bytes on average)\n"
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
  W.header().version_major = 2;
  W.writeTo(P + "/process.log");
  auto Newer = analyzeDir(Dir.sub("newer"));
  ASSERT_FALSE(bool(Newer->Result));
  EXPECT_NE(llvm::toString(Newer->Result.takeError()).find("no usable"),
            std::string::npos);
  EXPECT_EQ(Newer->Diags.errorCount(), 1u);
}

} // namespace
