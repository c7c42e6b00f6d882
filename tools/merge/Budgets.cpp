//===-- Budgets.cpp - Memory budgets that fail a build -------------------===//
//
// Parsing is strict, since a typo in a budget file ("byte" for "bytes")
// would otherwise turn a limit off without anyone noticing: every key must
// be known, every limit a number >= 0.
//
//===----------------------------------------------------------------------===//

#include "Budgets.h"

#include "fmt/format.h"
#include "nlohmann/json.hpp"

#include "llvm/Support/GlobPattern.h"

#include <cmath>

using namespace memscope;
using namespace memscope::merge;
using json = nlohmann::ordered_json;

namespace {

using Scope = BudgetEntry::Scope;

/// The figures each scope can limit, and the keys that select what it
/// matches.
struct ScopeSpec {
  const char *Key;
  Scope Kind;
  std::vector<const char *> Figures;
  std::vector<const char *> Selectors;
};

const std::vector<ScopeSpec> &scopeSpecs() {
  static const std::vector<ScopeSpec> Specs = {
      {"totals",
       Scope::Totals,
       {"bytes", "allocations", "peak_live_bytes", "live_bytes_at_exit"},
       {}},
      {"sites",
       Scope::Sites,
       {"bytes", "allocations", "live_bytes_at_exit"},
       {"file", "function"}},
      {"threads",
       Scope::Threads,
       {"bytes", "allocations", "live_bytes_at_exit"},
       {"name"}},
      {"spawn_sites",
       Scope::SpawnSites,
       {"threads", "bytes", "allocations", "live_bytes_at_exit"},
       {"file", "line", "function"}},
  };
  return Specs;
}

llvm::Error budgetError(llvm::StringRef Path, const std::string &Message) {
  return llvm::createStringError(
      std::errc::invalid_argument, "%s",
      fmt::format("budget file '{}': {}", Path.str(), Message).c_str());
}

bool contains(const std::vector<const char *> &Keys, const std::string &Key) {
  for (const char *Known : Keys)
    if (Key == Known)
      return true;
  return false;
}

std::string joined(const std::vector<const char *> &Keys) {
  std::string Text;
  for (const char *Key : Keys)
    Text += (Text.empty() ? "" : ", ") + std::string(Key);
  return Text;
}

/// One object of the file (totals, or one element of a list) into \p Entry.
llvm::Error parseEntry(const json &Object, const ScopeSpec &Spec,
                       const std::string &Where, llvm::StringRef Path,
                       BudgetEntry &Entry) {
  if (!Object.is_object())
    return budgetError(Path, Where + " must be an object");
  Entry.Kind = Spec.Kind;
  std::string Selection;
  for (const auto &[Key, Value] : Object.items()) {
    std::string At = Where + "." + Key;
    if (contains(Spec.Selectors, Key)) {
      if (Key == "line") {
        if (!Value.is_number_unsigned())
          return budgetError(Path, At + " must be a line number");
        Entry.Line = Value.get<uint32_t>();
        Selection += fmt::format("{}line {}", Selection.empty() ? "" : ", ",
                                 *Entry.Line);
        continue;
      }
      if (!Value.is_string() || Value.get<std::string>().empty())
        return budgetError(Path, At + " must be a non-empty glob");
      std::string Glob = Value.get<std::string>();
      if (llvm::Expected<llvm::GlobPattern> Pattern =
              llvm::GlobPattern::create(Glob);
          !Pattern)
        return budgetError(Path, At + ": " + toString(Pattern.takeError()));
      (Key == "file"       ? Entry.File
       : Key == "function" ? Entry.Function
                           : Entry.Name) = Glob;
      Selection +=
          fmt::format("{}{} \"{}\"", Selection.empty() ? "" : ", ", Key, Glob);
      continue;
    }
    if (!contains(Spec.Figures, Key))
      return budgetError(
          Path, fmt::format("unknown key {} (a limit of {} is one of: {}{}{})",
                            At, Spec.Key, joined(Spec.Figures),
                            Spec.Selectors.empty() ? "" : "; it selects by ",
                            joined(Spec.Selectors)));
    if (!Value.is_number() || !(Value.get<double>() >= 0) ||
        !std::isfinite(Value.get<double>()))
      return budgetError(Path, At + " must be a number >= 0");
    Entry.Limits.push_back({Key, Value.get<double>()});
  }
  if (Entry.Limits.empty())
    return budgetError(
        Path, Where + " sets no limit (one of: " + joined(Spec.Figures) + ")");
  if (!Spec.Selectors.empty() && Selection.empty())
    return budgetError(Path, Where + " selects nothing: give " +
                                 joined(Spec.Selectors));
  Entry.Label = Selection.empty() ? Where : Where + " (" + Selection + ")";
  return llvm::Error::success();
}

bool globMatches(const std::string &Glob, llvm::StringRef Text) {
  if (Glob.empty())
    return true;
  llvm::Expected<llvm::GlobPattern> Pattern = llvm::GlobPattern::create(Glob);
  if (!Pattern) { // checked when parsed
    llvm::consumeError(Pattern.takeError());
    return false;
  }
  return Pattern->match(Text);
}

/// A figure summed over the matched entries: value, range, exact or not.
struct Figure {
  double Value = 0;
  Interval Range;
  bool Estimated = false;
};

Figure exactFigure(double Value) { return {Value, {Value, Value}, false}; }

Figure statsFigure(const AllocationStats &Stats, const std::string &Name,
                   bool Exact) {
  if (Name == "bytes")
    return {Stats.Bytes,
            Exact ? Interval{Stats.Bytes, Stats.Bytes} : Stats.bytesInterval(),
            !Exact};
  if (Name == "allocations")
    return {Stats.Allocations,
            Exact ? Interval{Stats.Allocations, Stats.Allocations}
                  : Stats.allocationsInterval(),
            !Exact};
  return {Stats.LiveBytes,
          Exact ? Interval{Stats.LiveBytes, Stats.LiveBytes}
                : Stats.liveBytesInterval(),
          !Exact};
}

/// Threads and spawn sites: bytes and allocations are counted when
/// TotalsExact (an estimate without an interval otherwise: logs before format
/// 2.1), live bytes at exit an estimate with its variance.
Figure threadFigure(const std::string &Name, bool TotalsExact,
                    double Allocations, double Bytes, double Live,
                    double LiveVariance, double LiveObserved, bool Exact) {
  if (Name == "allocations" || Name == "bytes") {
    Figure F = exactFigure(Name == "bytes" ? Bytes : Allocations);
    F.Estimated = !TotalsExact && !Exact;
    return F;
  }
  if (Exact)
    return exactFigure(Live);
  return {Live, interval95(Live, LiveVariance, LiveObserved), true};
}

void addFigure(Figure &Sum, const Figure &Part) {
  Sum.Value += Part.Value;
  Sum.Range.Low += Part.Range.Low;
  Sum.Range.High += Part.Range.High;
  Sum.Estimated = Sum.Estimated || Part.Estimated;
}

} // namespace

llvm::Expected<BudgetFile> memscope::merge::parseBudgets(llvm::StringRef Text,
                                                         llvm::StringRef Path) {
  json Root;
  try {
    Root = json::parse(Text.begin(), Text.end());
  } catch (const json::parse_error &Error) {
    return budgetError(Path, std::string("not JSON: ") + Error.what());
  }
  if (!Root.is_object())
    return budgetError(Path, "the top level must be an object with totals, "
                             "sites, threads or spawn_sites");
  BudgetFile File;
  File.Path = Path.str();
  for (const auto &[Key, Value] : Root.items()) {
    const ScopeSpec *Spec = nullptr;
    for (const ScopeSpec &Candidate : scopeSpecs())
      if (Key == Candidate.Key)
        Spec = &Candidate;
    if (!Spec)
      return budgetError(Path, "unknown key " + Key +
                                   " (known: totals, sites, threads, "
                                   "spawn_sites)");
    if (Spec->Kind == Scope::Totals) {
      BudgetEntry Entry;
      if (llvm::Error E = parseEntry(Value, *Spec, Key, Path, Entry))
        return std::move(E);
      File.Entries.push_back(std::move(Entry));
      continue;
    }
    if (!Value.is_array())
      return budgetError(Path, Key + " must be a list of objects");
    for (size_t I = 0; I < Value.size(); ++I) {
      BudgetEntry Entry;
      if (llvm::Error E = parseEntry(
              Value[I], *Spec, fmt::format("{}[{}]", Key, I), Path, Entry))
        return std::move(E);
      File.Entries.push_back(std::move(Entry));
    }
  }
  if (File.Entries.empty())
    return budgetError(Path, "sets no budget");
  return File;
}

std::vector<BudgetCheck>
memscope::merge::checkBudgets(const BudgetFile &Budgets, const Analysis &A) {
  bool Exact = A.Totals.Exact;
  std::vector<BudgetCheck> Checks;
  for (const BudgetEntry &Entry : Budgets.Entries) {
    for (const BudgetLimit &Limit : Entry.Limits) {
      Figure Sum;
      size_t Matched = 0;
      const std::string &Name = Limit.Figure;
      switch (Entry.Kind) {
      case Scope::Totals:
        Matched = 1;
        if (Name == "peak_live_bytes")
          Sum = {A.Totals.PeakLiveBytes, A.Totals.PeakLiveBytesInterval,
                 A.Totals.PeakLiveBytesMethod != PeakMethod::Exact};
        else
          Sum = statsFigure(
              A.Totals.Stats, Name,
              Exact || (Name != "live_bytes_at_exit" && A.Totals.TotalsExact));
        break;
      case Scope::Sites: {
        // Their sum has its own interval (Estimates.h), narrower than the
        // sum of theirs.
        AllocationStats Total;
        for (const SiteReport &Site : A.Sites) {
          if (!globMatches(Entry.File, Site.User.File.empty()
                                           ? Site.File
                                           : Site.User.File) ||
              !globMatches(Entry.Function, Site.User.Function.empty()
                                               ? Site.Function
                                               : Site.User.Function))
            continue;
          ++Matched;
          Total.add(Site.Stats);
        }
        Sum = statsFigure(Total, Name, Exact);
        break;
      }
      case Scope::Threads:
        for (const ThreadReport &Thread : A.Threads) {
          if (Thread.ToolThread || !globMatches(Entry.Name, Thread.Name))
            continue;
          ++Matched;
          addFigure(Sum,
                    threadFigure(Name, Thread.TotalsExact, Thread.Allocations,
                                 Thread.Bytes, Thread.LiveBytesAtExit,
                                 Thread.LiveBytesAtExitVariance,
                                 Thread.LiveBytesAtExitObserved, Exact));
        }
        break;
      case Scope::SpawnSites:
        for (const SpawnSiteReport &Spawn : A.SpawnSites) {
          const std::string &File = Spawn.User ? Spawn.User->File : Spawn.File;
          const std::string &Function =
              Spawn.User ? Spawn.User->Function : Spawn.Function;
          uint32_t Line = Spawn.User ? Spawn.User->Line : Spawn.Line;
          if (!globMatches(Entry.File, File) ||
              !globMatches(Entry.Function, Function) ||
              (Entry.Line && *Entry.Line != Line))
            continue;
          ++Matched;
          if (Name == "threads")
            addFigure(Sum, exactFigure(double(Spawn.ThreadsCreated)));
          else
            addFigure(Sum,
                      threadFigure(Name, Spawn.TotalsExact, Spawn.Allocations,
                                   Spawn.Bytes, Spawn.LiveBytesAtExit,
                                   Spawn.LiveBytesAtExitVariance,
                                   Spawn.LiveBytesAtExitObserved, Exact));
        }
        break;
      }
      BudgetCheck Check;
      Check.Entry = Entry.Label;
      Check.Figure = Name;
      Check.Value = Sum.Value;
      Check.Range = Sum.Range;
      Check.Estimated = Sum.Estimated;
      Check.Limit = Limit.Limit;
      Check.Matched = Matched;
      double Tested = Check.Estimated ? Check.Range.Low : Check.Value;
      Check.Exceeded = std::llround(Tested) > Limit.Limit;
      Check.Uncertain = !Check.Exceeded && Check.Estimated &&
                        std::llround(Check.Value) > Limit.Limit;
      Checks.push_back(std::move(Check));
    }
  }
  return Checks;
}

std::string memscope::merge::describeBudgetCheck(const BudgetCheck &Check) {
  std::string Figure = fmt::format("{} of {}", Check.Figure, Check.Entry);
  std::string Value = Check.Estimated
                          ? fmt::format("{} (estimated; interval {}-{})",
                                        std::llround(Check.Value),
                                        std::llround(Check.Range.Low),
                                        std::llround(Check.Range.High))
                          : fmt::format("{}", std::llround(Check.Value));
  std::string Limit = fmt::format("{}", std::llround(Check.Limit));
  if (Check.Exceeded)
    return fmt::format(
        "budget exceeded: {} is {}, over the limit of {}{}", Figure, Value,
        Limit, Check.Estimated ? " even at the interval's lower end" : "");
  if (Check.Uncertain)
    return fmt::format(
        "budget within sampling uncertainty: {} is {}, over the limit of {} "
        "only above the interval's lower end; with sampling a budget fails "
        "only when the lower end is over the limit (MEMSCOPE_OPTIONS=exact=1 "
        "decides)",
        Figure, Value, Limit);
  return fmt::format("budget met: {} is {}, limit {}", Figure, Value, Limit);
}
