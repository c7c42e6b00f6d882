//===- Report.h - Renders an Analysis ---------------------------*- C++ -*-===//
//
// Writers only read the Analysis model; adding a format (html, pprof,
// folded, trace) means adding a writer here, not touching the analysis.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_REPORT_H
#define MEMSCOPE_MERGE_REPORT_H

#include "Analysis.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include "nlohmann/json.hpp"

#include <string>
#include <utility>
#include <vector>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace memscope {
namespace merge {

/// analysis.json, schema_version 1 (docs/analysis-schema.md).
nlohmann::ordered_json toJson(const Analysis &Result);

/// Writes a toJson(Result) to Path; the error names the path.
llvm::Error writeJsonReport(const nlohmann::ordered_json &Json,
                            llvm::StringRef Path);

struct TextOptions {
  size_t TopSites = 20;
  size_t TopThreads = 20;
  /// Printed as "report: <path>" when not empty.
  std::string ReportPath;
  /// Printed as "<label>: <path>" after it (html, pprof, ...).
  std::vector<std::pair<std::string, std::string>> OtherOutputs;
};

/// The human-readable summary (format documented in
/// docs/analysis-schema.md, "Text summary").
void writeTextSummary(const Analysis &Result, const TextOptions &Options,
                      llvm::raw_ostream &OS);

/// stacks.folded: one line per distinct stack, `frame;frame;... bytes`,
/// root first (flamegraph.pl, speedscope, inferno).
llvm::Error writeFoldedStacks(const Analysis &Result, llvm::StringRef Path);

/// profile.pb.gz: a gzipped pprof profile (perftools.profiles.Profile).
llvm::Error writePprofProfile(const Analysis &Result, llvm::StringRef Path);

/// --pprof-series DIR: one profile per interval between a process's
/// snapshots (and from the last to its end), alloc_* allocated in the
/// interval and inuse_* live at its end, as <pid>-<NNNN>.pb.gz, listed in
/// DIR/index.json (docs/continuous-profiling.md).
llvm::Error writePprofSeries(const Analysis &Result, llvm::StringRef Dir);

/// trace.json: Chrome trace event format (chrome://tracing, Perfetto UI).
llvm::Error writeChromeTrace(const Analysis &Result, llvm::StringRef Path);

/// report.html: one self-contained page (no network access).
llvm::Error writeHtmlReport(const Analysis &Result, llvm::StringRef Path);
/// The same from toJson(Result), which it consumes. With \p Base (the run
/// --diff compares with, when analysed from its logs) the page also gets a
/// differential flame graph of allocated bytes.
llvm::Error writeHtmlReport(const Analysis &Result, nlohmann::ordered_json Full,
                            llvm::StringRef Path,
                            const Analysis *Base = nullptr);

/// Frames of a profile sample from the root to the leaf, one entry per
/// (inlined) function, for flame graphs: the function name, and for the
/// leaf its file:line when known.
std::vector<std::string> flameFrames(const Profile &Stacks,
                                     const ProfileSample &Sample);

/// Writes Text to Path; the error names the path.
llvm::Error writeTextFile(llvm::StringRef Path, llvm::StringRef Text);

/// "0x" + 16 hex digits.
std::string hexId(uint64_t Id);

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_REPORT_H
