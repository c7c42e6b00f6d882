//===- Bottlenecks.cpp - The bottleneck rules -----------------------------===//
//
// Each rule reads the finished model only. Comparisons against shares are
// made by cross-multiplication (Part * 100 >= Whole * Percent) so that a
// value exactly at its threshold fires whatever the floating-point rounding
// of the division.
//
//===----------------------------------------------------------------------===//

#include "Bottlenecks.h"

#include "llvm/ADT/STLExtras.h"

#include "fmt/format.h"

#include <cmath>
#include <map>
#include <tuple>

using namespace memscope::merge;

std::string memscope::merge::humanBytes(double Bytes) {
  if (Bytes < 1024)
    return fmt::format("{} bytes", std::llround(Bytes));
  static const char *const Units[] = {"KiB", "MiB", "GiB", "TiB"};
  double Value = Bytes / 1024;
  size_t Unit = 0;
  while (Value >= 1024 && Unit + 1 < std::size(Units)) {
    Value /= 1024;
    ++Unit;
  }
  return fmt::format("{:.1f} {}", Value, Units[Unit]);
}

namespace {

std::string humanDuration(double Ns) {
  if (Ns < 1000)
    return fmt::format("{} ns", std::llround(Ns));
  if (Ns < 1e6)
    return fmt::format("{:.1f} µs", Ns / 1e3);
  if (Ns < 1e9)
    return fmt::format("{:.1f} ms", Ns / 1e6);
  return fmt::format("{:.1f} s", Ns / 1e9);
}

std::string count(double Value) {
  return fmt::format("{}", std::llround(Value));
}

/// "function at file:line", or what is known of it.
std::string who(const InlineFrame &Frame) {
  std::string Location;
  if (!Frame.File.empty())
    Location =
        Frame.Line ? fmt::format("{}:{}", Frame.File, Frame.Line) : Frame.File;
  if (Frame.Function.empty())
    return Location.empty() ? "<unknown location>" : Location;
  if (Location.empty())
    return Frame.Function;
  return Frame.Function + " at " + Location;
}

/// Percentages and ratios are kept to 2 decimals, microseconds to 3 (whole
/// nanoseconds); counts and bytes are whole numbers.
double twoDecimals(double Value) { return std::round(Value * 100) / 100; }
double threeDecimals(double Value) { return std::round(Value * 1000) / 1000; }

/// A rule that fired at \p At (the site's first frame in user code), with
/// its measured value and threshold; the caller words it.
Bottleneck found(const char *Kind, std::optional<uint64_t> SiteId,
                 const InlineFrame &At, double Value, const char *Unit,
                 double Threshold) {
  Bottleneck B;
  B.Kind = Kind;
  B.SiteId = SiteId;
  B.File = At.File;
  B.Line = At.Line;
  B.Function = At.Function;
  B.Value = Value;
  B.Unit = Unit;
  B.Threshold = Threshold;
  return B;
}

Bottleneck atSite(const char *Kind, const SiteReport &Site, double Value,
                  const char *Unit, double Threshold) {
  return found(Kind, Site.Id, Site.User, Value, Unit, Threshold);
}

double meanSize(const SiteReport &Site) {
  return Site.Stats.Allocations > 0 ? Site.Stats.Bytes / Site.Stats.Allocations
                                    : 0;
}

/// The sites of the program's allocations: a pool's chunks are the real heap
/// behind its custom objects, which the rules see at their callers.
auto programSites(const Analysis &Result) {
  return llvm::make_filter_range(
      Result.Sites, [](const SiteReport &Site) { return !Site.isPoolChunk(); });
}

/// The denominator of a site's share: the sum over the sites, an estimate
/// made of the same samples as the site's own figure (the counted total
/// could be smaller than one over-estimated site, giving shares above 100%).
double sitesTotal(const Analysis &Result, double AllocationStats::*Figure) {
  double Total = 0;
  for (const SiteReport &Site : programSites(Result))
    Total += Site.Stats.*Figure;
  return Total;
}

void hotSiteBytes(const Analysis &Result, std::vector<Bottleneck> &Out) {
  double Total = sitesTotal(Result, &AllocationStats::Bytes);
  if (!(Total > 0))
    return;
  for (const SiteReport &Site : programSites(Result)) {
    double Bytes = Site.Stats.Bytes;
    if (Bytes < rules::HotSiteMinBytes ||
        Bytes * 100 < Total * rules::HotSiteBytesPercent)
      continue;
    double Share = Bytes / Total * 100;
    Bottleneck B = atSite("hot_site_bytes", Site, twoDecimals(Share), "%",
                          rules::HotSiteBytesPercent);
    B.Description =
        fmt::format("{} allocates {:.1f}% of all bytes ({} in {} allocations)",
                    who(Site.User), Share, humanBytes(Bytes),
                    count(Site.Stats.Allocations));
    double Mean = meanSize(Site);
    if (Site.Stats.LiveBytes * 2 >= Bytes)
      B.Suggestion = fmt::format(
          "Most of these bytes ({}) are still allocated at exit: free them "
          "once they are no longer needed, or allocate less up front",
          humanBytes(Site.Stats.LiveBytes));
    else if (Mean >= 64 * 1024)
      B.Suggestion = fmt::format(
          "Allocate these large blocks ({} on average) once and reuse them "
          "across iterations instead of allocating them again each time",
          humanBytes(Mean));
    else
      B.Suggestion = fmt::format(
          "Reuse the buffer across iterations or reserve capacity up front "
          "({} allocations of {} on average)",
          count(Site.Stats.Allocations), humanBytes(Mean));
    Out.push_back(std::move(B));
  }
}

void hotSiteCount(const Analysis &Result, std::vector<Bottleneck> &Out) {
  double Total = sitesTotal(Result, &AllocationStats::Allocations);
  if (!(Total > 0))
    return;
  for (const SiteReport &Site : programSites(Result)) {
    double Allocations = Site.Stats.Allocations;
    if (Allocations < rules::HotSiteMinAllocations ||
        Allocations * 100 < Total * rules::HotSiteCountPercent)
      continue;
    double Share = Allocations / Total * 100;
    double Mean = meanSize(Site);
    Bottleneck B = atSite("hot_site_count", Site, twoDecimals(Share), "%",
                          rules::HotSiteCountPercent);
    B.Description = fmt::format(
        "{} makes {:.1f}% of all allocations ({} allocations of {} on "
        "average)",
        who(Site.User), Share, count(Allocations), humanBytes(Mean));
    if (Mean <= 256)
      B.Suggestion = fmt::format(
          "Pool these small objects ({} each on average) in an arena or free "
          "list, or batch them into fewer, larger allocations",
          humanBytes(Mean));
    else
      B.Suggestion = fmt::format(
          "Reuse objects across operations instead of allocating a new one "
          "each time ({} allocations), or reserve capacity up front",
          count(Allocations));
    Out.push_back(std::move(B));
  }
}

void temporaries(const Analysis &Result, std::vector<Bottleneck> &Out) {
  double Total = sitesTotal(Result, &AllocationStats::Allocations);
  if (!(Total > 0))
    return;
  for (const SiteReport &Site : programSites(Result)) {
    const AllocationStats &Stats = Site.Stats;
    std::optional<double> Lifetime = Stats.averageLifetimeNs();
    if (!Lifetime || Stats.FreedSamples < rules::TemporaryMinFreedSamples ||
        Stats.LifetimeNs > rules::TemporaryMaxLifetimeUs * 1000 * Stats.Frees ||
        Stats.Allocations * 100 < Total * rules::TemporaryMinAllocationPercent)
      continue;
    double Share = Stats.Allocations / Total * 100;
    double Mean = meanSize(Site);
    Bottleneck B = atSite("temporaries", Site, threeDecimals(*Lifetime / 1000),
                          "µs", rules::TemporaryMaxLifetimeUs);
    B.Description = fmt::format(
        "Blocks allocated by {} live {} on average; the site makes {:.1f}% "
        "of all allocations ({} allocations of {} on average)",
        who(Site.User), humanDuration(*Lifetime), Share,
        count(Stats.Allocations), humanBytes(Mean));
    if (Mean <= 4096)
      B.Suggestion = fmt::format(
          "Keep these short-lived {} blocks on the stack or in a "
          "small-buffer object, or reuse one block across calls, instead of "
          "allocating each time",
          humanBytes(Mean));
    else
      B.Suggestion = fmt::format(
          "Allocate this {} scratch buffer once and reuse it across calls "
          "instead of allocating and freeing it each time",
          humanBytes(Mean));
    Out.push_back(std::move(B));
  }
}

void leaks(const Analysis &Result, std::vector<Bottleneck> &Out) {
  for (const SiteReport &Site : programSites(Result)) {
    const AllocationStats &Stats = Site.Stats;
    // libstdc++'s emergency exception pool: allocated once, never freed.
    if (Site.File == "<uninstrumented>" ||
        Stats.LiveBytes < rules::LeakMinBytes)
      continue;
    Bottleneck B = atSite("leak", Site, std::round(Stats.LiveBytes), "bytes",
                          rules::LeakMinBytes);
    B.Description =
        fmt::format("{} still holds {} at exit in {} blocks", who(Site.User),
                    humanBytes(Stats.LiveBytes), count(Stats.LiveAllocations));
    if (Stats.Frees > 0)
      B.Suggestion = fmt::format(
          "{} of its {} blocks are freed but {} are not: look for a path that "
          "skips the free, or give the blocks an owner (std::unique_ptr, a "
          "container) that frees them",
          count(Stats.Frees), count(Stats.Allocations),
          count(Stats.LiveAllocations));
    else
      B.Suggestion = fmt::format(
          "None of its {} blocks is ever freed: free them once they are no "
          "longer needed, or give them an owner (std::unique_ptr, a "
          "container) that does",
          count(Stats.Allocations));
    Out.push_back(std::move(B));
  }
}

void reallocChurn(const Analysis &Result, std::vector<Bottleneck> &Out) {
  for (const SiteReport &Site : Result.Sites) {
    if (Site.Kind != "realloc" && Site.Kind != "reallocarray")
      continue;
    double Reallocations = Site.Stats.Allocations;
    if (Reallocations < rules::ReallocChurnMinReallocations)
      continue;
    Bottleneck B = atSite("realloc_churn", Site, std::round(Reallocations),
                          "reallocations", rules::ReallocChurnMinReallocations);
    B.Description = fmt::format(
        "{} reallocates {} times ({} in total, {} per call on average)",
        who(Site.User), count(Reallocations), humanBytes(Site.Stats.Bytes),
        humanBytes(meanSize(Site)));
    B.Suggestion = fmt::format(
        "Reserve the final size up front, or grow the block geometrically "
        "(doubling its capacity), so that it is reallocated a few times "
        "instead of {}",
        count(Reallocations));
    Out.push_back(std::move(B));
  }
}

void crossThreadFrees(const Analysis &Result, std::vector<Bottleneck> &Out) {
  const CrossThreadFrees &Cross = Result.CrossFrees;
  double TotalFrees = Result.Totals.Stats.Frees;
  if (!(TotalFrees > 0) || !Cross.BusiestPair ||
      Cross.Frees < rules::CrossThreadMinFrees ||
      Cross.Frees * 100 < TotalFrees * rules::CrossThreadFreePercent)
    return;
  const CrossFreeSitePair &Pair = *Cross.BusiestPair;
  double Share = Cross.Frees / TotalFrees * 100;
  Bottleneck B = found("cross_thread_frees", Pair.AllocSite, Pair.AllocLocation,
                       twoDecimals(Share), "%", rules::CrossThreadFreePercent);
  std::string FreedAt =
      !Pair.FreeSite ? "uninstrumented code"
      : Pair.FreeLocation
          ? who(*Pair.FreeLocation)
          : "free site " + fmt::format("0x{:016x}", Pair.FreeSite);
  B.Description = fmt::format(
      "{:.1f}% of all frees ({} blocks, {}) free a block another thread "
      "allocated; most of them ({} blocks) are allocated by {} and freed by "
      "{}",
      Share, count(Cross.Frees), humanBytes(Cross.Bytes), count(Pair.Frees),
      who(Pair.AllocLocation), FreedAt);
  B.Suggestion =
      "Free blocks in the thread that allocated them (hand them back to "
      "their owner, or use a per-thread pool): a free from another thread "
      "goes through the allocator's shared, locked paths";
  Out.push_back(std::move(B));
}

void threadImbalance(const Analysis &Result, std::vector<Bottleneck> &Out) {
  for (const SpawnSiteReport &Site : Result.SpawnSites) {
    double Sum = 0;
    size_t Threads = 0;
    const ThreadReport *Busiest = nullptr;
    bool Measured = true;
    for (size_t Index : Site.Threads) {
      const ThreadReport &Thread = Result.Threads[Index];
      if (Thread.ToolThread)
        continue;
      ++Threads;
      Measured &= Thread.Samples >= rules::ImbalanceMinSamplesPerThread;
      Sum += Thread.Bytes;
      if (!Busiest || Thread.Bytes > Busiest->Bytes)
        Busiest = &Thread;
    }
    // max >= Ratio * mean, i.e. max * n >= Ratio * sum.
    if (Threads < rules::ImbalanceMinThreads || !Measured || !(Sum > 0) ||
        Busiest->Bytes * double(Threads) < rules::ImbalanceMaxToMean * Sum)
      continue;
    double Mean = Sum / double(Threads);
    double Ratio = Busiest->Bytes / Mean;
    InlineFrame At =
        !Site.Id    ? InlineFrame{"", "<unknown spawn site>", "", 0, 0}
        : Site.User ? *Site.User
                    : InlineFrame{Site.Function, Site.File, "", Site.Line, 0};
    std::string Where =
        Site.Id ? who(At)
                : "an unknown spawn site in " + (Site.CreatorModule.empty()
                                                     ? "an unknown module"
                                                     : Site.CreatorModule);
    Bottleneck B = found("thread_imbalance", Site.Id, At, twoDecimals(Ratio),
                         "x", rules::ImbalanceMaxToMean);
    B.Description = fmt::format(
        "Of the {} threads created by {}, thread {} \"{}\" allocates {}, "
        "{:.1f}x their mean of {}",
        Threads, Where, Busiest->ThreadId, Busiest->Name,
        humanBytes(Busiest->Bytes), Ratio, humanBytes(Mean));
    B.Suggestion = fmt::format(
        "Split the work evenly among these {} threads (smaller chunks, a "
        "shared queue or work stealing), or find out why thread {} allocates "
        "more than the others",
        Threads, Busiest->ThreadId);
    Out.push_back(std::move(B));
  }
}

} // namespace

std::vector<Bottleneck>
memscope::merge::findBottlenecks(const Analysis &Result) {
  std::vector<Bottleneck> All;
  hotSiteBytes(Result, All);
  hotSiteCount(Result, All);
  temporaries(Result, All);
  leaks(Result, All);
  reallocChurn(Result, All);
  crossThreadFrees(Result, All);
  threadImbalance(Result, All);
  llvm::sort(All, [](const Bottleneck &A, const Bottleneck &B) {
    if (A.Kind != B.Kind)
      return A.Kind < B.Kind;
    if (A.Value != B.Value)
      return A.Value > B.Value;
    return std::tie(A.SiteId, A.File, A.Line, A.Function) <
           std::tie(B.SiteId, B.File, B.Line, B.Function);
  });
  std::vector<Bottleneck> Kept;
  std::map<std::string, size_t> PerKind;
  for (Bottleneck &B : All)
    if (++PerKind[B.Kind] <= rules::MaxPerKind)
      Kept.push_back(std::move(B));
  return Kept;
}
