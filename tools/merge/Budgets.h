//===-- Budgets.h - Memory budgets that fail a build ------------*- C++ -*-===//
//
// memscope-merge DIR --check BUDGET.json compares the analysis with the
// limits of a budget file and exits with status 3 when any is exceeded, so
// that CI can fail a change that makes memory worse. The format is in
// docs/budgets.md:
//
//   {"peak_live_bytes": 67108864, "live_bytes_at_exit": 0,
//    "sites": [{"match": "src/cache/*", "bytes": 10485760},
//              {"match": "*", "max_growth_percent": 10,
//               "max_growth_bytes": 1048576}],
//    "threads": [{"match": "worker-*", "allocations": 100000}],
//    "spawn_sites": [{"match": "server.cpp:45", "threads": 32}]}
//
// Every site, thread name and spawn site an entry matches is checked on its
// own. A sampled figure is an estimate: its budget fails only when the lower
// end of its interval is over the limit, so that sampling noise alone never
// fails a build. Growth limits compare with the --diff base.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_BUDGETS_H
#define MEMSCOPE_MERGE_BUDGETS_H

#include "Analysis.h"
#include "Diff.h"

#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <vector>

namespace memscope {
namespace merge {

/// The exit status of a run whose budgets are exceeded.
constexpr int kBudgetExceededStatus = 3;

/// One limit: a figure must not exceed Limit.
struct BudgetLimit {
  std::string Figure; // "bytes", "peak_live_bytes", "max_growth_bytes", ...
  double Limit = 0;
};

/// One entry of the file: what it matches and its limits.
struct BudgetEntry {
  enum class Scope { Totals, Sites, Threads, SpawnSites } Kind = Scope::Totals;
  /// A glob (llvm::GlobPattern) on "file:line" or the function (sites and
  /// spawn sites), or on the thread name.
  std::string Match;
  std::vector<BudgetLimit> Limits;
  /// How the entry is named in messages: `sites[0] "src/cache/*"`.
  std::string Label;
  bool needsDiff() const;
};

struct BudgetFile {
  std::string Path;
  std::vector<BudgetEntry> Entries;
  /// Some entry limits growth, which needs --diff.
  bool needsDiff() const;
};

/// Parses a budget file. An error names the file, the key and what is wrong
/// with it (not JSON, an unknown key, a limit that is not a number >= 0, a
/// glob that does not parse, an entry without "match").
llvm::Expected<BudgetFile> parseBudgets(llvm::StringRef Text,
                                        llvm::StringRef Path);

/// A checked limit of one matched site, thread name or spawn site (or of the
/// totals), and its value and range (both ends the value when exact).
struct BudgetCheck {
  std::string Entry;  // BudgetEntry::Label
  std::string Target; // "site src/a.cpp:12 fill()", "thread name \"w\""...
  std::string Figure; // as in the file
  double Value = 0;
  Interval Range;
  bool Estimated = false;
  /// The runtime's count of the heap (the peak): its range allows for the
  /// count's error rather than being a sampling interval.
  bool Counted = false;
  double Limit = 0;
  /// Over the limit: the value when exact, the interval's lower end when
  /// estimated.
  bool Exceeded = false;
  /// Estimated, and the value is over the limit but the lower end is not.
  bool Uncertain = false;
};

struct BudgetResult {
  std::vector<BudgetCheck> Checks;
  /// Labels of entries that matched nothing in this run.
  std::vector<std::string> Unmatched;
};

/// Every limit of \p Budgets against \p A; growth limits against \p Diff
/// (required when Budgets.needsDiff()).
BudgetResult checkBudgets(const BudgetFile &Budgets, const Analysis &A,
                          const RunDiff *Diff = nullptr);

/// One line for stderr: "budget exceeded: ..." or, for an uncertain check,
/// "budget within sampling uncertainty: ...".
std::string describeBudgetCheck(const BudgetCheck &Check);

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_BUDGETS_H
