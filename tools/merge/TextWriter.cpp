//===- TextWriter.cpp - The text summary ----------------------------------===//
//
// Line-oriented and stable so that tests can FileCheck it; the format is
// documented in docs/analysis-schema.md ("Text summary").
//
//===----------------------------------------------------------------------===//

#include "Report.h"

#include "llvm/Support/raw_ostream.h"

#include "fmt/format.h"

#include <algorithm>
#include <cmath>

using namespace memscope::merge;

static std::string plural(uint64_t Count, const char *Singular,
                          const char *Plural) {
  return fmt::format("{} {}", Count, Count == 1 ? Singular : Plural);
}

static std::string samplingText(const SamplingInfo &Sampling) {
  if (Sampling.Mode == "bytes")
    return fmt::format("bytes (interval {})", Sampling.IntervalBytes);
  if (Sampling.Mode == "rate")
    return fmt::format("rate ({})", Sampling.Rate);
  return Sampling.Mode;
}

/// Sites are shown at their first frame in user code; what sits between
/// that frame and the allocation (an inlined std:: allocator, or the
/// uninstrumented library function) is named in [via ...].
static std::string location(const SiteReport &Site) {
  const InlineFrame &User = Site.User;
  if (User.File.empty())
    return "-";
  if (User.Line == 0)
    return User.File;
  return fmt::format("{}:{}", User.File, User.Line);
}

static std::string functionText(const SiteReport &Site) {
  std::string Text = Site.User.Function.empty() ? "-" : Site.User.Function;
  if (Site.isIndirect() && !Site.Via.empty())
    Text += " [via " + Site.Via + "]";
  else if (Site.User.File != Site.File || Site.User.Line != Site.Line)
    Text += " [via " + Site.Function + "]";
  return Text;
}

void memscope::merge::writeTextSummary(const Analysis &Result,
                                       const TextOptions &Options,
                                       llvm::raw_ostream &OS) {
  const Summary &Totals = Result.Totals;
  OS << fmt::format("memscope-merge: {}: {}, {}, sampling {}\n", Result.Input,
                    plural(Totals.ProcessCount, "process", "processes"),
                    plural(Totals.ThreadCount, "thread", "threads"),
                    samplingText(Totals.Sampling));
  OS << fmt::format(
      "total: {} allocations, {} bytes; peak live {} bytes; "
      "live at exit {} bytes in {} allocations\n",
      std::llround(Totals.Stats.Allocations), std::llround(Totals.Stats.Bytes),
      std::llround(Totals.PeakLiveBytes), std::llround(Totals.Stats.LiveBytes),
      std::llround(Totals.Stats.LiveAllocations));

  size_t Shown = std::min(Options.TopSites, Result.Sites.size());
  if (Shown == 0) {
    OS << "top sites by bytes: none\n";
  } else {
    OS << "top sites by bytes:\n";
    size_t LocationWidth = 8;
    for (size_t I = 0; I < Shown; ++I)
      LocationWidth = std::max(LocationWidth, location(Result.Sites[I]).size());
    OS << fmt::format("  {:>12}  {:>10}  {:>12}  {:<14}  {:<{}}  {}\n", "bytes",
                      "allocs", "live-at-exit", "kind", "location",
                      LocationWidth, "function");
    for (size_t I = 0; I < Shown; ++I) {
      const SiteReport &Site = Result.Sites[I];
      OS << fmt::format("  {:>12}  {:>10}  {:>12}  {:<14}  {:<{}}  {}\n",
                        std::llround(Site.Stats.Bytes),
                        std::llround(Site.Stats.Allocations),
                        std::llround(Site.Stats.LiveBytes), Site.Kind,
                        location(Site), LocationWidth, functionText(Site));
    }
    if (Result.Sites.size() > Shown)
      OS << fmt::format("  ... {} more sites\n", Result.Sites.size() - Shown);
  }

  OS << "threads:\n";
  size_t ThreadsShown = std::min(Options.TopThreads, Result.Threads.size());
  for (size_t I = 0; I < ThreadsShown; ++I) {
    const ThreadReport &Thread = Result.Threads[I];
    OS << fmt::format("  pid {} thread {} tid {} \"{}\": {} allocations, {} "
                      "bytes, {} bytes live at exit, {}\n",
                      Thread.Pid, Thread.ThreadId, Thread.Tid, Thread.Name,
                      std::llround(Thread.Allocations),
                      std::llround(Thread.Bytes),
                      std::llround(Thread.LiveBytesAtExit),
                      Thread.RunningAtExit ? "running at exit" : "exited");
  }
  if (Result.Threads.size() > ThreadsShown)
    OS << fmt::format("  ... {} more threads\n",
                      Result.Threads.size() - ThreadsShown);
  if (!Totals.Warnings.empty())
    OS << fmt::format("warnings: {}\n", Totals.Warnings.size());
  if (!Options.ReportPath.empty())
    OS << "report: " << Options.ReportPath << '\n';
}
