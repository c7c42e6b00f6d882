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
#include <map>
#include <tuple>

using namespace memscope;
using namespace memscope::merge;
using json = nlohmann::ordered_json;

namespace {

using Scope = BudgetEntry::Scope;

constexpr const char *kTotalFigures[] = {"total_bytes", "total_allocations",
                                         "peak_live_bytes",
                                         "live_bytes_at_exit"};
constexpr const char *kGrowthFigures[] = {"max_growth_bytes",
                                          "max_growth_percent"};

/// The figures each list can limit.
struct ListSpec {
  const char *Key;
  Scope Kind;
  std::vector<const char *> Figures;
  const char *Matches; // what "match" is a glob on
};

const std::vector<ListSpec> &listSpecs() {
  static const std::vector<ListSpec> Specs = {
      {"sites",
       Scope::Sites,
       {"bytes", "allocations", "live_bytes_at_exit", "max_growth_bytes",
        "max_growth_percent"},
       "file:line or function"},
      {"threads",
       Scope::Threads,
       {"bytes", "allocations", "live_bytes_at_exit"},
       "thread name"},
      {"spawn_sites",
       Scope::SpawnSites,
       {"threads", "bytes", "allocations", "live_bytes_at_exit"},
       "file:line or function"},
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

llvm::Expected<double> limitOf(const json &Value, const std::string &At,
                               llvm::StringRef Path) {
  if (!Value.is_number() || !(Value.get<double>() >= 0) ||
      !std::isfinite(Value.get<double>()))
    return budgetError(Path, At + " must be a number >= 0");
  return Value.get<double>();
}

/// One element of a list into \p Entry.
llvm::Error parseEntry(const json &Object, const ListSpec &Spec,
                       const std::string &Where, llvm::StringRef Path,
                       BudgetEntry &Entry) {
  if (!Object.is_object())
    return budgetError(Path, Where + " must be an object");
  Entry.Kind = Spec.Kind;
  for (const auto &[Key, Value] : Object.items()) {
    std::string At = Where + "." + Key;
    if (Key == "match") {
      if (!Value.is_string() || Value.get<std::string>().empty())
        return budgetError(Path, At + " must be a non-empty glob");
      Entry.Match = Value.get<std::string>();
      llvm::Expected<llvm::GlobPattern> Pattern =
          llvm::GlobPattern::create(Entry.Match);
      if (!Pattern)
        return budgetError(Path, At + ": " + toString(Pattern.takeError()));
      continue;
    }
    if (!contains(Spec.Figures, Key))
      return budgetError(
          Path, fmt::format("unknown key {} (an entry of {} has \"match\", a "
                            "glob on its {}, and limits: {})",
                            At, Spec.Key, Spec.Matches, joined(Spec.Figures)));
    llvm::Expected<double> Limit = limitOf(Value, At, Path);
    if (!Limit)
      return Limit.takeError();
    Entry.Limits.push_back({Key, *Limit});
  }
  if (Entry.Match.empty())
    return budgetError(Path, Where + " has no \"match\" (a glob on its " +
                                 Spec.Matches + ")");
  if (Entry.Limits.empty())
    return budgetError(
        Path, Where + " sets no limit (one of: " + joined(Spec.Figures) + ")");
  Entry.Label = fmt::format("{} \"{}\"", Where, Entry.Match);
  return llvm::Error::success();
}

/// An entry's Match, compiled once per check (a GlobPattern refers to the
/// text it was made from, so it is not kept in the movable entry).
struct Glob {
  std::optional<llvm::GlobPattern> Pattern;
  explicit Glob(const std::string &Match) {
    llvm::Expected<llvm::GlobPattern> Made = llvm::GlobPattern::create(Match);
    if (Made)
      Pattern = std::move(*Made);
    else // checked when parsed
      llvm::consumeError(Made.takeError());
  }
  bool matches(llvm::StringRef Text) const {
    return Pattern && Pattern->match(Text);
  }
  /// "file:line" or the function.
  bool matchesLocation(const std::string &File, uint32_t Line,
                       const std::string &Function) const {
    return matches(fmt::format("{}:{}", File, Line)) || matches(Function);
  }
};

/// A figure: value, range, exact or not.
struct Figure {
  double Value = 0;
  Interval Range;
  bool Estimated = false;
  bool Counted = false;
};

Figure exactFigure(double Value) { return {Value, {Value, Value}, false}; }

/// \p LiveHigh caps live bytes' range as the report does (JsonWriter's
/// addAtExit): the most the heap counted in use at exit can hold.
Figure statsFigure(const AllocationStats &Stats, const std::string &Name,
                   bool Exact, double LiveHigh = HUGE_VAL) {
  if (Name == "bytes" || Name == "total_bytes")
    return {Stats.Bytes,
            Exact ? Interval{Stats.Bytes, Stats.Bytes} : Stats.bytesInterval(),
            !Exact};
  if (Name == "allocations" || Name == "total_allocations")
    return {Stats.Allocations,
            Exact ? Interval{Stats.Allocations, Stats.Allocations}
                  : Stats.allocationsInterval(),
            !Exact};
  return {Stats.LiveBytes,
          Exact ? Interval{Stats.LiveBytes, Stats.LiveBytes}
                : Stats.liveBytesInterval(LiveHigh),
          !Exact};
}

/// Threads and spawn sites (ThreadReport, SpawnSiteReport): bytes and
/// allocations are counted when TotalsExact (an estimate without an interval
/// otherwise: logs before format 2.1), live bytes at exit an estimate with
/// its variance.
template <typename Report>
Figure threadFigure(const std::string &Name, const Report &R, bool Exact) {
  if (Name == "allocations" || Name == "bytes") {
    Figure F = exactFigure(Name == "bytes" ? R.Bytes : R.Allocations);
    F.Estimated = !R.TotalsExact && !Exact;
    return F;
  }
  if (Exact)
    return exactFigure(R.LiveBytesAtExit);
  return {R.LiveBytesAtExit,
          liveInterval95(R.LiveBytesAtExit, R.LiveBytesAtExitVariance,
                         R.LiveBytesAtExitObserved, R.UnseenBytes, HUGE_VAL,
                         R.TotalsExact ? R.Bytes : HUGE_VAL),
          true};
}

void addFigure(Figure &Sum, const Figure &Part) {
  Sum.Value += Part.Value;
  Sum.Range.Low += Part.Range.Low;
  Sum.Range.High += Part.Range.High;
  Sum.Estimated = Sum.Estimated || Part.Estimated;
}

BudgetCheck makeCheck(const BudgetEntry &Entry, std::string Target,
                      const std::string &Name, const Figure &F, double Limit) {
  BudgetCheck Check;
  Check.Entry = Entry.Label;
  Check.Target = std::move(Target);
  Check.Figure = Name;
  Check.Value = F.Value;
  Check.Range = F.Range;
  Check.Estimated = F.Estimated;
  Check.Counted = F.Counted;
  Check.Limit = Limit;
  double Tested = Check.Estimated ? Check.Range.Low : Check.Value;
  Check.Exceeded = std::llround(Tested) > Limit;
  Check.Uncertain =
      !Check.Exceeded && Check.Estimated && std::llround(Check.Value) > Limit;
  return Check;
}

/// A site's growth since the --diff base, and the growth it may have: the
/// larger of max_growth_bytes and max_growth_percent of its base bytes.
std::optional<BudgetCheck> growthCheck(const BudgetEntry &Entry,
                                       const std::string &Target,
                                       const DiffEntry *Change) {
  std::optional<double> Bytes, Percent;
  for (const BudgetLimit &Limit : Entry.Limits) {
    if (Limit.Figure == "max_growth_bytes")
      Bytes = Limit.Limit;
    if (Limit.Figure == "max_growth_percent")
      Percent = Limit.Limit;
  }
  if (!Bytes && !Percent)
    return std::nullopt;
  const DiffFigure *F = Change ? Change->figure("bytes") : nullptr;
  DiffFigure None;
  if (!F)
    F = &None;
  double Allowed =
      std::max(Bytes.value_or(0), F->Base * Percent.value_or(0) / 100);
  bool Exact = F->BaseLow == F->BaseHigh && F->NewLow == F->NewHigh;
  Figure Growth{
      F->delta(), {F->NewLow - F->BaseHigh, F->NewHigh - F->BaseLow}, !Exact};
  std::string Name = Bytes && Percent ? "growth (max_growth_bytes, "
                                        "max_growth_percent)"
                     : Bytes          ? "growth (max_growth_bytes)"
                                      : "growth (max_growth_percent)";
  return makeCheck(Entry, Target, Name, Growth, Allowed);
}

bool isGrowth(const std::string &Figure) {
  for (const char *Growth : kGrowthFigures)
    if (Figure == Growth)
      return true;
  return false;
}

} // namespace

bool BudgetEntry::needsDiff() const {
  for (const BudgetLimit &Limit : Limits)
    if (isGrowth(Limit.Figure))
      return true;
  return false;
}

bool BudgetFile::needsDiff() const {
  for (const BudgetEntry &Entry : Entries)
    if (Entry.needsDiff())
      return true;
  return false;
}

llvm::Expected<BudgetFile> memscope::merge::parseBudgets(llvm::StringRef Text,
                                                         llvm::StringRef Path) {
  json Root;
  try {
    Root = json::parse(Text.begin(), Text.end());
  } catch (const json::parse_error &Error) {
    return budgetError(Path, std::string("not JSON: ") + Error.what());
  }
  if (!Root.is_object())
    return budgetError(Path, "the top level must be an object");
  BudgetFile File;
  File.Path = Path.str();
  BudgetEntry Totals;
  Totals.Kind = Scope::Totals;
  Totals.Label = "totals";
  for (const auto &[Key, Value] : Root.items()) {
    bool Total = false;
    for (const char *Figure : kTotalFigures)
      Total = Total || Key == Figure;
    if (Total) {
      llvm::Expected<double> Limit = limitOf(Value, Key, Path);
      if (!Limit)
        return Limit.takeError();
      Totals.Limits.push_back({Key, *Limit});
      continue;
    }
    const ListSpec *Spec = nullptr;
    for (const ListSpec &Candidate : listSpecs())
      if (Key == Candidate.Key)
        Spec = &Candidate;
    if (!Spec)
      return budgetError(Path, "unknown key " + Key +
                                   " (known: total_bytes, total_allocations, "
                                   "peak_live_bytes, live_bytes_at_exit, "
                                   "sites, threads, spawn_sites)");
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
  if (!Totals.Limits.empty())
    File.Entries.insert(File.Entries.begin(), std::move(Totals));
  if (File.Entries.empty())
    return budgetError(Path, "sets no budget");
  return File;
}

BudgetResult memscope::merge::checkBudgets(const BudgetFile &Budgets,
                                           const Analysis &A,
                                           const RunDiff *Diff) {
  bool Exact = A.Totals.Exact;
  BudgetResult Result;
  // A site's change since the base, by its key (Diff.h).
  std::map<std::tuple<std::string, std::string, uint32_t, std::string>,
           const DiffEntry *>
      Changes;
  if (Diff)
    for (const DiffEntry &E : Diff->Sites)
      if (E.Match != "gone")
        Changes[{E.Kind, E.File, E.Line, E.Function}] = &E;

  for (const BudgetEntry &Entry : Budgets.Entries) {
    Glob Match(Entry.Match);
    size_t Matched = 0;
    auto CheckLimits = [&](const std::string &Target, auto FigureOf) {
      ++Matched;
      for (const BudgetLimit &Limit : Entry.Limits)
        if (!isGrowth(Limit.Figure))
          Result.Checks.push_back(makeCheck(Entry, Target, Limit.Figure,
                                            FigureOf(Limit.Figure),
                                            Limit.Limit));
    };
    switch (Entry.Kind) {
    case Scope::Totals:
      CheckLimits("the run", [&](const std::string &Name) {
        if (Name == "peak_live_bytes")
          return Figure{A.Totals.PeakLiveBytes, A.Totals.PeakLiveBytesInterval,
                        A.Totals.PeakLiveBytesMethod != PeakMethod::Exact,
                        A.Totals.PeakLiveBytesMethod == PeakMethod::Counted};
        return statsFigure(
            A.Totals.Stats, Name,
            Exact || (Name != "live_bytes_at_exit" && A.Totals.TotalsExact),
            A.Totals.LiveAtExitCap);
      });
      break;
    case Scope::Sites:
      for (const SiteReport &Site : A.Sites) {
        const InlineFrame &User = Site.User;
        if (!Match.matchesLocation(User.File, User.Line, User.Function))
          continue;
        std::string Target =
            fmt::format("site {}:{} {}", User.File, User.Line, User.Function);
        CheckLimits(Target, [&](const std::string &Name) {
          return statsFigure(Site.Stats, Name, Exact);
        });
        if (Diff) {
          auto Change =
              Changes.find({Site.Kind, User.File, User.Line, User.Function});
          if (std::optional<BudgetCheck> Growth = growthCheck(
                  Entry, Target,
                  Change == Changes.end() ? nullptr : Change->second))
            Result.Checks.push_back(std::move(*Growth));
        }
      }
      break;
    case Scope::Threads: {
      // Per thread name: the threads that share one are summed.
      std::map<std::string, std::vector<const ThreadReport *>> ByName;
      for (const ThreadReport &Thread : A.Threads)
        if (!Thread.ToolThread && Match.matches(Thread.Name))
          ByName[Thread.Name].push_back(&Thread);
      for (const auto &Group : ByName) {
        // Named, not bound: C++17 lambdas cannot capture structured bindings.
        const std::vector<const ThreadReport *> &Threads = Group.second;
        CheckLimits(fmt::format("thread name \"{}\" ({} thread{})", Group.first,
                                Threads.size(), Threads.size() == 1 ? "" : "s"),
                    [&](const std::string &Name) {
                      Figure Sum;
                      for (const ThreadReport *Thread : Threads)
                        addFigure(Sum, threadFigure(Name, *Thread, Exact));
                      return Sum;
                    });
      }
      break;
    }
    case Scope::SpawnSites:
      for (const SpawnSiteReport &Spawn : A.SpawnSites) {
        const std::string &File = Spawn.User ? Spawn.User->File : Spawn.File;
        const std::string &Function =
            Spawn.User ? Spawn.User->Function : Spawn.Function;
        uint32_t Line = Spawn.User ? Spawn.User->Line : Spawn.Line;
        if (!Match.matchesLocation(File, Line, Function))
          continue;
        CheckLimits(fmt::format("spawn site {}:{} {}", File, Line, Function),
                    [&](const std::string &Name) {
                      if (Name == "threads")
                        return exactFigure(double(Spawn.ThreadsCreated));
                      return threadFigure(Name, Spawn, Exact);
                    });
      }
      break;
    }
    if (!Matched)
      Result.Unmatched.push_back(Entry.Label);
  }
  return Result;
}

std::string memscope::merge::describeBudgetCheck(const BudgetCheck &Check) {
  std::string Figure =
      fmt::format("{} of {} ({})", Check.Figure, Check.Target, Check.Entry);
  std::string Value =
      Check.Estimated
          ? fmt::format(
                "{} ({} {}-{})", std::llround(Check.Value),
                Check.Counted ? "counted; range" : "estimated; interval",
                std::llround(Check.Range.Low), std::llround(Check.Range.High))
          : fmt::format("{}", std::llround(Check.Value));
  std::string Limit = fmt::format("{}", std::llround(Check.Limit));
  if (Check.Exceeded)
    return fmt::format(
        "budget exceeded: {} is {}, over the limit of {}{}", Figure, Value,
        Limit,
        Check.Counted ? " even at the range's lower end"
        : Check.Estimated
            ? " even at the interval's lower end (with sampling a "
              "budget fails only then)"
            : "");
  if (Check.Uncertain)
    return fmt::format(
        "budget within sampling uncertainty: {} is {}, over the limit of {} "
        "only above the interval's lower end; with sampling a budget fails "
        "only when the lower end is over the limit (MEMSCOPE_OPTIONS=exact=1 "
        "decides)",
        Figure, Value, Limit);
  return fmt::format("budget met: {} is {}, limit {}", Figure, Value, Limit);
}
