//===-- Diff.h - Two runs compared by source line ---------------*- C++ -*-===//
//
// memscope-merge NEW -o OUT --diff BASE compares two runs: totals, sites,
// thread names and spawn sites, and writes OUT/diff.json and a section of
// the text summary (docs/diff.md).
//
// Both sides are analysis.json documents (the base's read from a report, or
// made from its logs), so that any two reports compare, whichever build of
// the merge wrote them. Sites match by what survives a rebuild: their kind
// and their first frame in user code (file, line, function), not by id or
// address; a site whose line moved within the same function (same kind,
// file and function) matches with a note.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_DIFF_H
#define MEMSCOPE_MERGE_DIFF_H

#include "nlohmann/json.hpp"

#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace memscope {
namespace merge {

/// One figure of both runs.
struct DiffFigure {
  double Base = 0, New = 0;
  double BaseLow = 0, BaseHigh = 0, NewLow = 0, NewHigh = 0;
  /// The change is larger than both runs' uncertainty: the intervals do not
  /// overlap (for exact figures: the values differ).
  bool Significant = false;
  double delta() const { return New - Base; }
};

struct DiffEntry {
  /// "same" (matched), "moved" (its line changed within its function),
  /// "new" (only in the new run), "gone" (only in the base run).
  std::string Match;
  std::string Kind; // sites: "malloc", "new", ...; threads: "thread"
  std::string File, Function, Name;
  uint32_t Line = 0, BaseLine = 0;
  /// Figure names (as in analysis.json) and their values.
  std::vector<std::pair<std::string, DiffFigure>> Figures;
  const DiffFigure *figure(const std::string &Name) const;
};

struct RunDiff {
  std::string BaseInput, NewInput;
  bool BaseExact = false, NewExact = false;
  std::vector<std::pair<std::string, DiffFigure>> Totals;
  std::vector<DiffEntry> Sites;      // by |Δbytes|, largest first
  std::vector<DiffEntry> Threads;    // by thread name
  std::vector<DiffEntry> SpawnSites; // by |Δbytes|
};

/// Compares two analysis.json documents.
RunDiff diffRuns(const nlohmann::ordered_json &Base,
                 const nlohmann::ordered_json &New);

nlohmann::ordered_json diffJson(const RunDiff &Diff);

/// The text summary's section: totals, then the largest regressions and
/// improvements by bytes (\p Top of each).
void writeDiffText(const RunDiff &Diff, size_t Top, llvm::raw_ostream &OS);

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_DIFF_H
