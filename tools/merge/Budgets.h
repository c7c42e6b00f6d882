//===-- Budgets.h - Memory budgets that fail a build ------------*- C++ -*-===//
//
// memscope-merge DIR --check BUDGET.json compares the analysis with the
// limits of a budget file and exits with status 3 when any is exceeded, so
// that CI can fail a change that makes memory worse. The format is in
// docs/budgets.md:
//
//   {"totals": {"peak_live_bytes": 67108864, "live_bytes_at_exit": 0},
//    "sites": [{"file": "src/cache/*", "bytes": 10485760}],
//    "threads": [{"name": "worker-*", "allocations": 100000}],
//    "spawn_sites": [{"file": "server.cpp", "line": 45, "threads": 32}]}
//
// A sampled figure is an estimate: its budget fails only when the lower end
// of its interval is over the limit, so that sampling noise alone never
// fails a build.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_BUDGETS_H
#define MEMSCOPE_MERGE_BUDGETS_H

#include "Analysis.h"

#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <vector>

namespace memscope {
namespace merge {

/// The exit status of a run whose budgets are exceeded.
constexpr int kBudgetExceededStatus = 3;

/// One limit: a figure of a scope must not exceed Limit.
struct BudgetLimit {
  std::string Figure; // "bytes", "peak_live_bytes", ...
  double Limit = 0;
};

/// One entry of the file: what it matches and its limits.
struct BudgetEntry {
  enum class Scope { Totals, Sites, Threads, SpawnSites } Kind = Scope::Totals;
  /// Globs (llvm::GlobPattern); empty matches everything.
  std::string File, Function, Name;
  std::optional<uint32_t> Line;
  std::vector<BudgetLimit> Limits;
  /// How the entry is named in messages: `sites[0] (file "src/cache/*")`.
  std::string Label;
};

struct BudgetFile {
  std::string Path;
  std::vector<BudgetEntry> Entries;
};

/// Parses a budget file. An error names the file, the key and what is wrong
/// with it (not JSON, an unknown key, a limit that is not a number >= 0, a
/// glob that does not parse, an entry that matches on nothing).
llvm::Expected<BudgetFile> parseBudgets(llvm::StringRef Text,
                                        llvm::StringRef Path);

/// A checked limit: the figure's value over everything the entry matched,
/// and its range (both ends the value when it is exact).
struct BudgetCheck {
  std::string Entry;  // BudgetEntry::Label
  std::string Figure; // as in the file
  double Value = 0;
  Interval Range;
  bool Estimated = false;
  double Limit = 0;
  size_t Matched = 0; // sites, threads or spawn sites the entry matched
  /// Over the limit: the value when exact, the interval's lower end when
  /// estimated.
  bool Exceeded = false;
  /// Estimated, and the value is over the limit but the lower end is not.
  bool Uncertain = false;
};

/// Every limit of \p Budgets against \p A.
std::vector<BudgetCheck> checkBudgets(const BudgetFile &Budgets,
                                      const Analysis &A);

/// One line for stderr: "budget exceeded: ..." or, for an uncertain check,
/// "budget within sampling uncertainty: ...".
std::string describeBudgetCheck(const BudgetCheck &Check);

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_BUDGETS_H
