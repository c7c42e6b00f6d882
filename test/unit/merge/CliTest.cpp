//===- CliTest.cpp - The memscope-merge executable ------------------------===//

#include "Compat.h"
#include "TestLogWriter.h"

#include "fmt/format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"

#include "nlohmann/json.hpp"
#include "gtest/gtest.h"

#include <unistd.h>

using namespace memscope;
using namespace memscope::merge::test;

namespace {

struct Outcome {
  int ExitCode = -1;
  std::string Stdout, Stderr;
};

std::string slurp(const std::string &Path) {
  auto Buffer = llvm::MemoryBuffer::getFile(Path);
  return Buffer ? (*Buffer)->getBuffer().str() : std::string();
}

Outcome runMerge(const TempDir &Scratch, std::vector<std::string> Args) {
  std::vector<llvm::StringRef> Argv = {MEMSCOPE_MERGE_EXE};
  for (const std::string &Arg : Args)
    Argv.push_back(Arg);
  // Fresh files per run: the redirection does not truncate.
  static int Runs = 0;
  ++Runs;
  std::string OutPath = Scratch.sub("stdout" + std::to_string(Runs) + ".txt");
  std::string ErrPath = Scratch.sub("stderr" + std::to_string(Runs) + ".txt");
  using merge::Redirect;
  Redirect Redirects[] = {Redirect(), llvm::StringRef(OutPath),
                          llvm::StringRef(ErrPath)};
  Outcome Result;
  Result.ExitCode = llvm::sys::ExecuteAndWait(MEMSCOPE_MERGE_EXE, Argv,
                                              /*Env=*/{}, Redirects,
                                              /*SecondsToWait=*/60);
  Result.Stdout = slurp(OutPath);
  Result.Stderr = slurp(ErrPath);
  return Result;
}

/// memscope-merge \p Args exits with 1, writes nothing to stdout and says
/// exactly "memscope-merge: error: <Message>" on stderr.
void expectError(const TempDir &Scratch, std::vector<std::string> Args,
                 const std::string &Message) {
  Outcome R = runMerge(Scratch, std::move(Args));
  EXPECT_EQ(R.ExitCode, 1);
  EXPECT_EQ(R.Stderr, "memscope-merge: error: " + Message + "\n");
  EXPECT_EQ(R.Stdout, "");
}

/// A one-process run with one thread and one allocation.
std::string writeRun(const TempDir &Dir, uint16_t Major = log::kVersionMajor) {
  std::string P = Dir.mkdir("run/app.77");
  TestLogWriter Process(log::FileKind::Process, 77, 0, Major);
  Process.processInfo(77, log::SamplingMode::Exact);
  Process.site(0x42, MSC_KIND_MALLOC, "main.cpp", 3, "main");
  Process.processEnd(TestLogWriter::StartMonotonic + 50);
  Process.header().version_major = Major;
  if (Major != log::kVersionMajor)
    Process.header().version_minor = 0;
  Process.writeTo(P + "/process.log");
  TestLogWriter Thread(log::FileKind::Thread, 77, 0, Major);
  Thread.threadStart(1, 77, TestLogWriter::StartMonotonic + 1, "main");
  Thread.alloc(1, 0x42, 24, TestLogWriter::StartMonotonic + 2);
  Thread.header().version_major = Major;
  if (Major != log::kVersionMajor)
    Thread.header().version_minor = 0;
  Thread.writeTo(P + "/t0.log");
  return Dir.sub("run");
}

TEST(Cli, WritesJsonAndSummary) {
  TempDir Dir;
  std::string Run = writeRun(Dir);
  Outcome R = runMerge(Dir, {Run, "-o", Dir.sub("out/nested"), "-q"});
  EXPECT_EQ(R.ExitCode, 0) << R.Stderr;
  EXPECT_EQ(R.Stderr, "");
  EXPECT_NE(R.Stdout.find("total: 1 allocations, 24 bytes"), std::string::npos)
      << R.Stdout;
  EXPECT_NE(
      R.Stdout.find("report: " + Dir.sub("out/nested") + "/analysis.json"),
      std::string::npos);
  nlohmann::json Json = nlohmann::json::parse(
      slurp(Dir.sub("out/nested/analysis.json")), nullptr, false);
  ASSERT_FALSE(Json.is_discarded());
  EXPECT_EQ(Json["generator"], "memscope-merge 0.1.0");
  EXPECT_EQ(Json["sites"][0]["id"], "0x0000000000000042");
  EXPECT_EQ(Json["summary"]["total_bytes"], 24);
}

TEST(Cli, DefaultOutputAndTextOnly) {
  TempDir Dir;
  std::string Run = writeRun(Dir);
  Outcome Text = runMerge(Dir, {Run, "--format=text"});
  EXPECT_EQ(Text.ExitCode, 0);
  EXPECT_FALSE(llvm::sys::fs::exists(Run + "/report/analysis.json"));
  EXPECT_EQ(Text.Stdout.find("report:"), std::string::npos);

  Outcome Json = runMerge(Dir, {Run, "--format=json"});
  EXPECT_EQ(Json.ExitCode, 0);
  EXPECT_TRUE(llvm::sys::fs::exists(Run + "/report/analysis.json"));
  EXPECT_EQ(Json.Stdout, "");
}

TEST(Cli, VersionAndBadOptions) {
  TempDir Dir;
  Outcome Version = runMerge(Dir, {"--version"});
  EXPECT_EQ(Version.ExitCode, 0);
  EXPECT_NE(Version.Stdout.find("memscope-merge 0.1.0"), std::string::npos);
  EXPECT_NE(Version.Stdout.find("LLVM"), std::string::npos);

  Outcome Unknown = runMerge(Dir, {Dir.path(), "--no-such-option"});
  EXPECT_NE(Unknown.ExitCode, 0);
  Outcome BadFormat = runMerge(Dir, {Dir.path(), "--format=xml"});
  EXPECT_EQ(BadFormat.ExitCode, 1);
  EXPECT_NE(BadFormat.Stderr.find("memscope-merge: error: unknown output "
                                  "format 'xml'"),
            std::string::npos);
}

TEST(Cli, MissingAndNonDirectoryInput) {
  TempDir Dir;
  expectError(Dir, {Dir.sub("absent")},
              "cannot open input directory '" + Dir.sub("absent") +
                  "': No such file or directory");

  std::string File = Dir.sub("plain");
  TestLogWriter(log::FileKind::Thread, 1).writeTo(File);
  expectError(Dir, {File}, "input '" + File + "' is not a directory");
}

TEST(Cli, EmptyDirectory) {
  TempDir Dir;
  std::string Empty = Dir.mkdir("empty");
  expectError(Dir, {Empty}, "no memscope logs found in " + Empty);
}

TEST(Cli, UnwritableOutputDirectory) {
  // A path below a regular file cannot be created, even by root.
  TempDir Dir;
  std::string Run = writeRun(Dir);
  std::string Blocker = Dir.sub("blocker");
  TestLogWriter(log::FileKind::Thread, 1).writeTo(Blocker);
  Outcome R = runMerge(Dir, {Run, "-o", Blocker + "/out"});
  EXPECT_EQ(R.ExitCode, 1);
  EXPECT_NE(R.Stderr.find("memscope-merge: error: cannot create output "
                          "directory '" +
                          Blocker + "/out': Not a directory"),
            std::string::npos)
      << R.Stderr;
  EXPECT_EQ(R.Stdout, "");
}

TEST(Cli, Version1LogsStillRead) {
  // Version 1 wrote one Alloc record per allocation and its CRC began with
  // the header.
  TempDir Dir;
  std::string Run = writeRun(Dir, /*Major=*/1);
  Outcome R = runMerge(Dir, {Run, "-o", Dir.sub("out"), "-q"});
  EXPECT_EQ(R.ExitCode, 0) << R.Stderr;
  EXPECT_EQ(R.Stderr, "");
  EXPECT_NE(R.Stdout.find("total: 1 allocations, 24 bytes"), std::string::npos)
      << R.Stdout;
}

TEST(Cli, NewerVersionOnlyFails) {
  TempDir Dir;
  std::string Run = writeRun(Dir, /*Major=*/log::kVersionMajor + 1);
  Outcome R = runMerge(Dir, {Run});
  EXPECT_EQ(R.ExitCode, 1);
  EXPECT_NE(R.Stderr.find(fmt::format(
                "process.log: log format version {}.0 is newer than "
                "this memscope-merge supports ({}.x)",
                log::kVersionMajor + 1, log::kVersionMajor)),
            std::string::npos)
      << R.Stderr;
  EXPECT_NE(R.Stderr.find("memscope-merge: error: no usable memscope logs"),
            std::string::npos);
}

TEST(Cli, TruncatedLogStillProducesAReport) {
  TempDir Dir;
  std::string Run = writeRun(Dir);
  std::string Thread = Run + "/app.77/t0.log";
  ASSERT_EQ(::truncate(Thread.c_str(), slurp(Thread).size() - 30), 0);
  Outcome R = runMerge(Dir, {Run, "-q"});
  EXPECT_EQ(R.ExitCode, 0);
  EXPECT_NE(
      R.Stderr.find("memscope-merge: warning: " + Thread + ": truncated log"),
      std::string::npos)
      << R.Stderr;
  EXPECT_NE(R.Stdout.find("total: 0 allocations"), std::string::npos);
}

} // namespace

namespace {

TEST(Cli, NameChoosesTheReportFile) {
  TempDir Dir;
  std::string Run = writeRun(Dir);
  Outcome R = runMerge(Dir, {Run, "-o", Dir.sub("out"), "--name", "run1"});
  EXPECT_EQ(R.ExitCode, 0) << R.Stderr;
  EXPECT_TRUE(llvm::sys::fs::exists(Dir.sub("out/run1.json")));
  EXPECT_FALSE(llvm::sys::fs::exists(Dir.sub("out/analysis.json")));
  EXPECT_NE(R.Stdout.find("report: " + Dir.sub("out") + "/run1.json\n"),
            std::string::npos)
      << R.Stdout;
  nlohmann::json Json =
      nlohmann::json::parse(slurp(Dir.sub("out/run1.json")), nullptr, false);
  ASSERT_FALSE(Json.is_discarded());
  EXPECT_EQ(Json["summary"]["total_bytes"], 24);
  EXPECT_TRUE(Json["bottlenecks"].is_array());

  // The '=' form, and a name with dots.
  Outcome Eq = runMerge(Dir, {Run, "-o", Dir.sub("out"), "--name=a.b", "-q"});
  EXPECT_EQ(Eq.ExitCode, 0) << Eq.Stderr;
  EXPECT_TRUE(llvm::sys::fs::exists(Dir.sub("out/a.b.json")));
}

TEST(Cli, BadNamesAreRejected) {
  TempDir Dir;
  std::string Run = writeRun(Dir);
  expectError(Dir, {Run, "-o", Dir.sub("out"), "--name", "../escape"},
              "invalid report name '../escape': it must not contain '/' (the "
              "report is written to <out>/<name>.json)");
  expectError(Dir, {Run, "-o", Dir.sub("out"), "--name="},
              "the report name (--name) is empty");
  // Rejected before anything is written.
  EXPECT_FALSE(llvm::sys::fs::exists(Dir.sub("out")));
  EXPECT_FALSE(llvm::sys::fs::exists(Dir.sub("escape.json")));
}

TEST(Cli, ReportInsideTheInputFolderIsIgnoredNextTime) {
  // As export_comprehensive_analysis does: memscope-merge <dir> -o <dir>.
  TempDir Dir;
  std::string Run = writeRun(Dir);
  for (int Pass = 0; Pass < 2; ++Pass) {
    Outcome R = runMerge(Dir, {Run, "-o", Run, "--name", "report", "-q"});
    EXPECT_EQ(R.ExitCode, 0) << R.Stderr;
    EXPECT_EQ(R.Stderr, "") << "pass " << Pass;
    EXPECT_NE(R.Stdout.find("1 process, 1 thread"), std::string::npos)
        << R.Stdout;
    EXPECT_NE(R.Stdout.find("total: 1 allocations, 24 bytes"),
              std::string::npos);
  }
  nlohmann::json Json =
      nlohmann::json::parse(slurp(Run + "/report.json"), nullptr, false);
  ASSERT_FALSE(Json.is_discarded());
  EXPECT_EQ(Json["summary"]["process_count"], 1);
  EXPECT_EQ(Json["summary"]["warnings"].size(), 0u);

  // A process folder as input, with the report written next to its logs.
  std::string Process = Run + "/app.77";
  for (int Pass = 0; Pass < 2; ++Pass) {
    Outcome R = runMerge(Dir, {Process, "-o", Process, "-q"});
    EXPECT_EQ(R.ExitCode, 0) << R.Stderr;
    EXPECT_EQ(R.Stderr, "") << "pass " << Pass;
    EXPECT_NE(R.Stdout.find("total: 1 allocations, 24 bytes"),
              std::string::npos);
  }
  EXPECT_TRUE(llvm::sys::fs::exists(Process + "/analysis.json"));
}

} // namespace
