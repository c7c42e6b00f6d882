//===-- Diff.cpp - Two runs compared by source line ----------------------===//

#include "Diff.h"

#include "fmt/format.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

using namespace memscope;
using namespace memscope::merge;
using json = nlohmann::ordered_json;

namespace {

double number(const json &Object, const char *Key) {
  auto It = Object.find(Key);
  return It != Object.end() && It->is_number() ? It->get<double>() : 0;
}

std::string text(const json &Object, const char *Key) {
  auto It = Object.find(Key);
  return It != Object.end() && It->is_string() ? It->get<std::string>() : "";
}

/// A figure of one side: its value and interval ([value, value] when the
/// document has none, as for exact or counted figures).
struct Side {
  double Value = 0, Low = 0, High = 0;
  void add(const Side &Other) {
    Value += Other.Value;
    Low += Other.Low;
    High += Other.High;
  }
};

Side sideOf(const json &Object, const char *Key, const char *IntervalKey) {
  Side S;
  S.Value = S.Low = S.High = number(Object, Key);
  auto It = IntervalKey ? Object.find(IntervalKey) : Object.end();
  if (It != Object.end() && It->is_array() && It->size() == 2 &&
      (*It)[0].is_number() && (*It)[1].is_number()) {
    S.Low = (*It)[0].get<double>();
    S.High = (*It)[1].get<double>();
  }
  return S;
}

DiffFigure compare(const Side &Base, const Side &New) {
  bool Significant = std::llround(New.Value) != std::llround(Base.Value) &&
                     (New.Low > Base.High || New.High < Base.Low);
  return {Base.Value, New.Value, Base.Low,   Base.High,
          New.Low,    New.High,  Significant};
}

/// The figures a list entry carries, with their interval keys.
struct FigureSpec {
  const char *Key;
  const char *IntervalKey;
};

const std::vector<FigureSpec> SiteFigures = {
    {"bytes", "bytes_interval"},
    {"allocations", "allocations_interval"},
    {"live_bytes_at_exit", "live_bytes_at_exit_interval"},
    {"live_bytes_at_peak", nullptr},
};
const std::vector<FigureSpec> ThreadFigures = {
    {"threads", nullptr},
    {"bytes", nullptr},
    {"allocations", nullptr},
    {"live_bytes_at_exit", "live_bytes_at_exit_interval"},
};

/// One side of a list entry: its key fields and summed figures.
struct Aggregate {
  std::string Kind, File, Function, Name;
  uint32_t Line = 0;
  std::vector<Side> Figures;
};

using Key = std::tuple<std::string, std::string, uint32_t, std::string>;

/// An entry of \p Kind keyed by its first frame in user code (`user_frame`,
/// or the entry itself when it has none).
Aggregate locatedAggregate(const json &Entry, std::string Kind) {
  Aggregate A;
  A.Kind = std::move(Kind);
  auto User = Entry.find("user_frame");
  const json &Frame = User != Entry.end() && User->is_object() ? *User : Entry;
  A.File = text(Frame, "file");
  A.Line = uint32_t(number(Frame, "line"));
  A.Function = text(Frame, "function");
  if (A.File.empty())
    A.File = text(Entry, "file"); // "<unknown spawn site>"
  return A;
}

Aggregate siteAggregate(const json &Site) {
  Aggregate A = locatedAggregate(Site, text(Site, "kind"));
  for (const FigureSpec &Spec : SiteFigures)
    A.Figures.push_back(sideOf(Site, Spec.Key, Spec.IntervalKey));
  return A;
}

Aggregate spawnAggregate(const json &Spawn) {
  Aggregate A = locatedAggregate(Spawn, "thread_spawn");
  for (const FigureSpec &Spec : ThreadFigures)
    A.Figures.push_back(std::string(Spec.Key) == "threads"
                            ? sideOf(Spawn, "threads_created", nullptr)
                            : sideOf(Spawn, Spec.Key, Spec.IntervalKey));
  return A;
}

/// Sums the entries of \p List that share a key.
std::map<Key, Aggregate> aggregate(const json &List,
                                   Aggregate (*Of)(const json &)) {
  std::map<Key, Aggregate> Out;
  if (!List.is_array())
    return Out;
  for (const json &Item : List) {
    Aggregate A = Of(Item);
    Key K{A.Kind, A.File, A.Line, A.Function};
    auto [It, Inserted] = Out.try_emplace(K, A);
    if (!Inserted)
      for (size_t I = 0; I < A.Figures.size(); ++I)
        It->second.Figures[I].add(A.Figures[I]);
  }
  return Out;
}

std::map<Key, Aggregate> threadsByName(const json &List) {
  std::map<Key, Aggregate> Out;
  if (!List.is_array())
    return Out;
  for (const json &Thread : List) {
    if (Thread.value("tool_thread", false))
      continue;
    Aggregate A;
    A.Kind = "thread";
    A.Name = text(Thread, "name");
    A.Figures.push_back({1, 1, 1});
    for (size_t I = 1; I < ThreadFigures.size(); ++I)
      A.Figures.push_back(
          sideOf(Thread, ThreadFigures[I].Key, ThreadFigures[I].IntervalKey));
    Key K{A.Kind, A.Name, 0, ""};
    auto [It, Inserted] = Out.try_emplace(K, A);
    if (!Inserted)
      for (size_t I = 0; I < A.Figures.size(); ++I)
        It->second.Figures[I].add(A.Figures[I]);
  }
  return Out;
}

/// What a site missing from one run's report may have had: nothing in an
/// exact run; in a byte-sampled run, a site with no sample may still have
/// allocated up to ln(20) x the interval (the chance that a Poisson sample
/// misses B bytes is exp(-B/T), under 5% above that), and as many blocks.
struct Unseen {
  double High = 0;
};

Unseen unseenOf(const json &Summary) {
  if (Summary.value("exact", false))
    return {};
  auto Sampling = Summary.find("sampling");
  if (Sampling == Summary.end() || !Sampling->is_object())
    return {};
  double Interval = number(*Sampling, "interval_bytes");
  return {Interval > 0 ? std::log(20.0) * Interval : 0};
}

Side unseenSide(const Unseen &U) { return {0, 0, U.High}; }

/// A sampled figure of 0 has no sample behind it. Where its document's
/// interval is [0, 0] (written before such intervals bounded what the
/// samples missed, Estimates.h's unseenBytes(); or rate sampling, which has
/// no such bound), that says nothing of what was missed: as unseen.
Side seenOrUnseen(const Side &S, const FigureSpec &Spec, const Unseen &U) {
  if (!Spec.IntervalKey || S.Value != 0 || S.High != 0)
    return S;
  return unseenSide(U);
}

DiffEntry entryOf(const std::string &Match, const Aggregate *Base,
                  const Aggregate *New, const std::vector<FigureSpec> &Specs,
                  const Unseen &BaseUnseen, const Unseen &NewUnseen) {
  const Aggregate &Any = New ? *New : *Base;
  DiffEntry E;
  E.Match = Match;
  E.Kind = Any.Kind;
  E.File = Any.File;
  E.Function = Any.Function;
  E.Name = Any.Name;
  E.Line = Any.Line;
  E.BaseLine = Base ? Base->Line : 0;
  for (size_t I = 0; I < Specs.size(); ++I)
    E.Figures.push_back(
        {Specs[I].Key,
         compare(Base ? seenOrUnseen(Base->Figures[I], Specs[I], BaseUnseen)
                      : unseenSide(BaseUnseen),
                 New ? seenOrUnseen(New->Figures[I], Specs[I], NewUnseen)
                     : unseenSide(NewUnseen))});
  return E;
}

/// Matches by key, then pairs what is left whose line moved within the same
/// function (same kind, file and function; the nearest line first).
std::vector<DiffEntry> matchEntries(std::map<Key, Aggregate> Base,
                                    std::map<Key, Aggregate> New,
                                    const std::vector<FigureSpec> &Specs,
                                    Unseen BaseUnseen = {},
                                    Unseen NewUnseen = {}) {
  std::vector<DiffEntry> Out;
  for (auto It = New.begin(); It != New.end();) {
    auto Found = Base.find(It->first);
    if (Found == Base.end()) {
      ++It;
      continue;
    }
    Out.push_back(entryOf("same", &Found->second, &It->second, Specs,
                          BaseUnseen, NewUnseen));
    Base.erase(Found);
    It = New.erase(It);
  }
  for (auto It = New.begin(); It != New.end();) {
    const Aggregate &N = It->second;
    auto Best = Base.end();
    for (auto B = Base.begin(); B != Base.end(); ++B) {
      const Aggregate &Old = B->second;
      if (Old.Kind != N.Kind || Old.File != N.File ||
          Old.Function != N.Function || N.Function.empty())
        continue;
      auto Distance = [&](const Aggregate &A) {
        return A.Line > N.Line ? A.Line - N.Line : N.Line - A.Line;
      };
      if (Best == Base.end() || Distance(Old) < Distance(Best->second))
        Best = B;
    }
    if (Best == Base.end()) {
      ++It;
      continue;
    }
    Out.push_back(
        entryOf("moved", &Best->second, &N, Specs, BaseUnseen, NewUnseen));
    Base.erase(Best);
    It = New.erase(It);
  }
  for (const auto &[K, N] : New)
    Out.push_back(entryOf("new", nullptr, &N, Specs, BaseUnseen, NewUnseen));
  for (const auto &[K, B] : Base)
    Out.push_back(entryOf("gone", &B, nullptr, Specs, BaseUnseen, NewUnseen));
  return Out;
}

void sortByBytes(std::vector<DiffEntry> &Entries) {
  auto Delta = [](const DiffEntry &E) {
    const DiffFigure *F = E.figure("bytes");
    return F ? std::fabs(F->delta()) : 0.0;
  };
  std::stable_sort(Entries.begin(), Entries.end(),
                   [&](const DiffEntry &A, const DiffEntry &B) {
                     return Delta(A) > Delta(B);
                   });
}

json figureJson(const DiffFigure &F) {
  json J;
  J["base"] = std::llround(F.Base);
  J["new"] = std::llround(F.New);
  J["delta"] = std::llround(F.New) - std::llround(F.Base);
  J["base_interval"] = {std::llround(F.BaseLow), std::llround(F.BaseHigh)};
  J["new_interval"] = {std::llround(F.NewLow), std::llround(F.NewHigh)};
  J["significant"] = F.Significant;
  return J;
}

json entryJson(const DiffEntry &E) {
  json J;
  J["match"] = E.Match;
  if (E.Kind == "thread") {
    J["name"] = E.Name;
  } else {
    J["kind"] = E.Kind;
    J["file"] = E.File;
    J["line"] = E.Line;
    J["function"] = E.Function;
    if (E.Match == "moved")
      J["base_line"] = E.BaseLine;
  }
  // The flat keys other tools read (issue #16's fixed interface), then
  // every figure with both intervals.
  const DiffFigure *Bytes = E.figure("bytes");
  const DiffFigure *Allocations = E.figure("allocations");
  if (Bytes && Allocations) {
    J["base_bytes"] = std::llround(Bytes->Base);
    J["new_bytes"] = std::llround(Bytes->New);
    J["delta_bytes"] = std::llround(Bytes->New) - std::llround(Bytes->Base);
    J["base_allocations"] = std::llround(Allocations->Base);
    J["new_allocations"] = std::llround(Allocations->New);
    J["significant"] = Bytes->Significant || Allocations->Significant;
  }
  for (const auto &[Name, F] : E.Figures)
    J[Name] = figureJson(F);
  return J;
}

std::string signedText(double Value) {
  long long Rounded = std::llround(Value);
  return Rounded > 0 ? fmt::format("+{}", Rounded) : fmt::format("{}", Rounded);
}

std::string percentText(const DiffFigure &F) {
  if (std::llround(F.Base) == 0)
    return std::llround(F.New) == 0 ? "" : " (new)";
  return fmt::format(" ({:+.1f}%)", 100.0 * F.delta() / F.Base);
}

} // namespace

const DiffFigure *DiffEntry::figure(const std::string &Wanted) const {
  for (const auto &[Name, F] : Figures)
    if (Name == Wanted)
      return &F;
  return nullptr;
}

RunDiff memscope::merge::diffRuns(const json &Base, const json &New) {
  RunDiff D;
  D.BaseInput = text(Base, "input");
  D.NewInput = text(New, "input");
  const json Empty = json::object();
  const json &BS = Base.contains("summary") ? Base["summary"] : Empty;
  const json &NS = New.contains("summary") ? New["summary"] : Empty;
  D.BaseExact = BS.value("exact", false);
  D.NewExact = NS.value("exact", false);
  for (FigureSpec Spec : std::vector<FigureSpec>{
           {"total_bytes", nullptr},
           {"total_allocations", nullptr},
           {"peak_live_bytes", "peak_live_bytes_interval"},
           {"live_bytes_at_exit", "live_bytes_at_exit_interval"}})
    D.Totals.push_back(
        {Spec.Key, compare(seenOrUnseen(sideOf(BS, Spec.Key, Spec.IntervalKey),
                                        Spec, unseenOf(BS)),
                           seenOrUnseen(sideOf(NS, Spec.Key, Spec.IntervalKey),
                                        Spec, unseenOf(NS)))});
  D.Sites =
      matchEntries(aggregate(Base.value("sites", json::array()), siteAggregate),
                   aggregate(New.value("sites", json::array()), siteAggregate),
                   SiteFigures, unseenOf(BS), unseenOf(NS));
  sortByBytes(D.Sites);
  D.Threads = matchEntries(threadsByName(Base.value("threads", json::array())),
                           threadsByName(New.value("threads", json::array())),
                           ThreadFigures);
  D.SpawnSites = matchEntries(
      aggregate(Base.value("spawn_sites", json::array()), spawnAggregate),
      aggregate(New.value("spawn_sites", json::array()), spawnAggregate),
      ThreadFigures);
  sortByBytes(D.SpawnSites);
  return D;
}

json memscope::merge::diffJson(const RunDiff &D) {
  json J;
  J["schema_version"] = 1;
  J["base"] = {{"input", D.BaseInput}, {"exact", D.BaseExact}};
  J["new"] = {{"input", D.NewInput}, {"exact", D.NewExact}};
  json Totals;
  for (const auto &[Name, F] : D.Totals)
    Totals[Name] = figureJson(F);
  J["totals"] = std::move(Totals);
  for (auto [Name, List] :
       {std::pair<const char *, const std::vector<DiffEntry> *>{"sites",
                                                                &D.Sites},
        {"threads", &D.Threads},
        {"spawn_sites", &D.SpawnSites}}) {
    json Entries = json::array();
    for (const DiffEntry &E : *List)
      Entries.push_back(entryJson(E));
    J[Name] = std::move(Entries);
  }
  return J;
}

void memscope::merge::writeDiffText(const RunDiff &D, size_t Top,
                                    llvm::raw_ostream &OS) {
  OS << "diff against " << D.BaseInput << ":";
  const char *Separator = " ";
  for (const auto &[Name, F] : D.Totals) {
    OS << Separator << Name << " ";
    if (std::llround(F.New) == std::llround(F.Base))
      OS << "unchanged";
    else
      OS << signedText(F.delta()) << percentText(F)
         << (F.Significant ? "" : " (within uncertainty)");
    Separator = "; ";
  }
  OS << "\n";
  auto List = [&](const char *Title, bool Regressions) {
    std::vector<const DiffEntry *> Picked;
    for (const DiffEntry &E : D.Sites) {
      const DiffFigure *F = E.figure("bytes");
      if (F && (Regressions ? F->delta() > 0 : F->delta() < 0))
        Picked.push_back(&E);
    }
    if (Picked.empty())
      return;
    OS << Title << "\n";
    OS << fmt::format("  {:>12}  {:>12}  {:>12}  {:<6} {:<14} {}\n", "delta",
                      "base", "new", "match", "kind", "location  function");
    for (size_t I = 0; I < Picked.size() && I < Top; ++I) {
      const DiffEntry &E = *Picked[I];
      const DiffFigure &F = *E.figure("bytes");
      std::string Where = fmt::format("{}:{}", E.File, E.Line);
      if (E.Match == "moved")
        Where += fmt::format(" (was line {})", E.BaseLine);
      OS << fmt::format("  {:>12}  {:>12}  {:>12}  {:<6} {:<14} {}  {}{}\n",
                        signedText(F.delta()), std::llround(F.Base),
                        std::llround(F.New), E.Match, E.Kind, Where, E.Function,
                        F.Significant ? "" : " (within uncertainty)");
    }
    if (Picked.size() > Top)
      OS << "  ... " << Picked.size() - Top << " more\n";
  };
  List("largest regressions (bytes):", true);
  List("largest improvements (bytes):", false);
}
