//===- TestSupport.h - Helpers the merge's unit tests share ----*- C++ -*-===//
//
// Running analyze() on a folder of synthetic logs (TestLogWriter.h), looking
// up its results, and this process's own modules and return addresses for
// tests of real symbolization.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_UNITTESTS_TESTSUPPORT_H
#define MEMSCOPE_MERGE_UNITTESTS_TESTSUPPORT_H

#include "Analysis.h"
#include "Report.h"
#include "SourcePaths.h"
#include "Symbolization.h"
#include "TestLogWriter.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <link.h>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace memscope {
namespace merge {
namespace test {

/// The monotonic time at which TestLogWriter's logs start.
constexpr uint64_t T0 = TestLogWriter::StartMonotonic;
/// Two site ids, in this order.
constexpr uint64_t SiteA = 0x1111111111111111ull;
constexpr uint64_t SiteB = 0x2222222222222222ull;

/// Makes \p Folder under \p Dir with \p ProcessLog as its process.log;
/// returns its path, where the test writes the thread logs.
inline std::string appFolder(TempDir &Dir, const TestLogWriter &ProcessLog,
                             const std::string &Folder = "app.100") {
  std::string Path = Dir.mkdir(Folder);
  ProcessLog.writeTo(Path + "/process.log");
  return Path;
}

/// analyze()'s result and what it reported.
struct Run {
  Diagnostics Diags;
  llvm::Expected<Analysis> Result =
      llvm::createStringError(std::errc::invalid_argument, "not run");
};

/// The options of a merge of \p Dir without symbols, as the tests start
/// from.
inline AnalysisOptions optionsFor(const std::string &Dir) {
  AnalysisOptions Options;
  Options.InputDir = Dir;
  Options.Symbolize = false;
  Options.SystemPrefixes = defaultSystemPrefixes();
  return Options;
}

/// analyze() with \p Options.
inline std::unique_ptr<Run> analyzeWith(const AnalysisOptions &Options) {
  auto R = std::make_unique<Run>();
  R->Result = analyze(Options, R->Diags);
  return R;
}

/// analyze() on \p Dir; \p SourceRoot as --source-root ("" = the default).
inline std::unique_ptr<Run>
analyzeDir(const std::string &Dir, bool Symbolize = false,
           std::optional<uint32_t> Pid = std::nullopt,
           const std::string &SourceRoot = "") {
  AnalysisOptions Options = optionsFor(Dir);
  Options.Symbolize = Symbolize;
  Options.Pid = Pid;
  if (!SourceRoot.empty())
    Options.SourceRoot = SourceRoot;
  return analyzeWith(Options);
}

/// Binds \p A to the Analysis that the Run \p R holds, or fails the test
/// with analyze()'s error.
#define ASSERT_ANALYZED(A, R)                                                  \
  ASSERT_TRUE(bool((R)->Result)) << llvm::toString((R)->Result.takeError());   \
  const Analysis &A = *(R)->Result

/// The Run \p R reported nothing, or the test fails listing what it did.
#define EXPECT_NO_DIAGNOSTICS(R)                                               \
  EXPECT_TRUE((R)->Diags.all().empty()) << diagText((R)->Diags)

inline const SiteReport *findSite(const Analysis &A, uint64_t Id) {
  for (const SiteReport &Site : A.Sites)
    if (Site.Id == Id)
      return &Site;
  return nullptr;
}

/// Every diagnostic, one per line, for failure messages.
inline std::string diagText(const Diagnostics &Diags) {
  std::string Text;
  for (const Diagnostic &D : Diags.all())
    Text += formatDiagnostic(D) + "\n";
  return Text;
}

/// The text summary with the \p Top largest sites and threads.
inline std::string textSummary(const Analysis &A, size_t Top = 20) {
  std::string Text;
  llvm::raw_string_ostream OS(Text);
  TextOptions Options;
  Options.TopSites = Options.TopThreads = Top;
  writeTextSummary(A, Options, OS);
  return Text;
}

/// A return address inside this test binary, for real symbolization. The
/// asm keeps the optimizer from merging two calls (the function would
/// otherwise read no memory).
__attribute__((noinline)) inline uint64_t returnAddressOfCaller() {
  asm volatile("" ::: "memory");
  return reinterpret_cast<uint64_t>(__builtin_return_address(0));
}

/// dl_iterate_phdr's callback: the loaded modules of this process, as the
/// runtime would log them, into the std::vector<ModuleInfo> at \p Data. The
/// test binary comes first and plays the instrumented app.
inline int collectModules(dl_phdr_info *Info, size_t, void *Data) {
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
    Module.Fixed.flags = log::ModuleHasSites;
  } else {
    Module.Path = Info->dlpi_name;
  }
  if (!Module.Path.empty() && Module.Fixed.text_end)
    Modules->push_back(Module);
  return 0;
}

} // namespace test
} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_UNITTESTS_TESTSUPPORT_H
