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

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace memscope {
namespace merge {

/// analysis.json, schema_version 1 (docs/analysis-schema.md).
nlohmann::ordered_json toJson(const Analysis &Result);

/// Writes toJson(Result) to Path; the error names the path.
llvm::Error writeJsonReport(const Analysis &Result, llvm::StringRef Path);

struct TextOptions {
  size_t TopSites = 20;
  size_t TopThreads = 20;
  /// Printed as "report: <path>" when not empty.
  std::string ReportPath;
};

/// The human-readable summary (format documented in
/// docs/analysis-schema.md, "Text summary").
void writeTextSummary(const Analysis &Result, const TextOptions &Options,
                      llvm::raw_ostream &OS);

/// "0x" + 16 hex digits.
std::string hexId(uint64_t Id);

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_REPORT_H
