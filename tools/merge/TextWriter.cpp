//===- TextWriter.cpp - The text summary ----------------------------------===//
//
// Line-oriented and stable so that tests can FileCheck it; the format is
// documented in docs/analysis-schema.md ("Text summary").
//
//===----------------------------------------------------------------------===//

#include "Estimates.h"
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
static std::string functionText(const SiteReport &Site) {
  std::string Text = Site.User.Function.empty() ? "-" : Site.User.Function;
  if (Site.isIndirect() && !Site.Via.empty())
    Text += " [via " + Site.Via + "]";
  else if (Site.User.File != Site.File || Site.User.Line != Site.Line)
    Text += " [via " + Site.Function + "]";
  return Text;
}

/// "file:line" of a frame in user code ("file" when the line is unknown).
static std::string frameLocation(const InlineFrame &Frame) {
  if (Frame.File.empty())
    return "-";
  if (Frame.Line == 0)
    return Frame.File;
  return fmt::format("{}:{}", Frame.File, Frame.Line);
}

/// "file:line function"; just the function when there is no file
/// (module+offset without symbols).
static std::string frameText(const InlineFrame &Frame) {
  if (Frame.File.empty())
    return Frame.Function.empty() ? "-" : Frame.Function;
  std::string Text = frameLocation(Frame);
  if (!Frame.Function.empty())
    Text += " " + Frame.Function;
  return Text;
}

static std::string spawnLocation(const SpawnSiteReport &Site) {
  if (!Site.Id)
    return "<unknown spawn site>";
  if (Site.User)
    return frameLocation(*Site.User);
  return Site.File;
}

static std::string spawnFunction(const SpawnSiteReport &Site) {
  if (!Site.Id)
    return "created in " + (Site.CreatorModule.empty() ? "<unknown module>"
                                                       : Site.CreatorModule);
  if (Site.User && !Site.User->Function.empty())
    return Site.User->Function;
  return "-";
}

static void writeSpawnSites(const Analysis &Result, size_t Top,
                            llvm::raw_ostream &OS) {
  const std::vector<SpawnSiteReport> &Sites = Result.SpawnSites;
  size_t Shown = std::min(Top, Sites.size());
  if (Shown == 0) {
    OS << "spawn sites: none\n";
    return;
  }
  OS << "spawn sites:\n";
  size_t Width = 8;
  for (size_t I = 0; I < Shown; ++I)
    Width = std::max(Width, spawnLocation(Sites[I]).size());
  OS << fmt::format("{:>10}{:>10}{:>13}{:>13}  {:<{}}  {}\n", "threads",
                    "running", "allocations", "bytes", "location", Width,
                    "function");
  for (size_t I = 0; I < Shown; ++I) {
    const SpawnSiteReport &Site = Sites[I];
    OS << fmt::format("{:>10}{:>10}{:>13}{:>13}  {:<{}}  {}\n",
                      Site.ThreadsCreated, Site.ThreadsRunningAtExit,
                      std::llround(Site.Allocations), std::llround(Site.Bytes),
                      spawnLocation(Site), Width, spawnFunction(Site));
  }
  if (Sites.size() > Shown)
    OS << fmt::format("  ... {} more spawn sites\n", Sites.size() - Shown);
}

static std::string threadLabel(const ThreadReport &Thread) {
  return fmt::format("thread {} \"{}\"", Thread.ThreadId, Thread.Name);
}

static std::string freedAt(const CrossFreeSitePair &Pair) {
  if (!Pair.FreeSite)
    return "<uninstrumented>";
  if (!Pair.FreeLocation)
    return "<unknown site " + hexId(Pair.FreeSite) + ">";
  return frameText(*Pair.FreeLocation);
}

static void writeCrossFrees(const Analysis &Result, size_t Top,
                            llvm::raw_ostream &OS) {
  const CrossThreadFrees &Cross = Result.CrossFrees;
  OS << fmt::format("cross-thread frees: {} blocks, {} bytes\n",
                    std::llround(Cross.Frees), std::llround(Cross.Bytes));
  size_t Shown = std::min(Top, Cross.BySitePair.size());
  if (Shown > 0) {
    OS << fmt::format("{:>8}{:>13}  {}\n", "frees", "bytes",
                      "allocated at -> freed at");
    for (size_t I = 0; I < Shown; ++I) {
      const CrossFreeSitePair &Pair = Cross.BySitePair[I];
      OS << fmt::format("{:>8}{:>13}  {} -> {}\n", std::llround(Pair.Frees),
                        std::llround(Pair.Bytes), frameText(Pair.AllocLocation),
                        freedAt(Pair));
    }
    if (Cross.SitePairCount > Shown)
      OS << fmt::format("  ... {} more site pairs\n",
                        Cross.SitePairCount - Shown);
  }
  Shown = std::min(Top, Cross.ByThreadPair.size());
  if (Shown > 0) {
    OS << "  thread pairs:\n";
    for (size_t I = 0; I < Shown; ++I) {
      const CrossFreeThreadPair &Pair = Cross.ByThreadPair[I];
      OS << fmt::format("{:>8}{:>13}  {} -> {} (pid {})\n",
                        std::llround(Pair.Frees), std::llround(Pair.Bytes),
                        threadLabel(Result.Threads[Pair.AllocThread]),
                        threadLabel(Result.Threads[Pair.FreeThread]), Pair.Pid);
    }
    if (Cross.ThreadPairCount > Shown)
      OS << fmt::format("    ... {} more thread pairs\n",
                        Cross.ThreadPairCount - Shown);
  }
}

static void writeAliveAtExit(const Analysis &Result, size_t Top,
                             llvm::raw_ostream &OS) {
  OS << fmt::format("threads running at exit: {}\n", Result.AliveAtExit.size());
  size_t Shown = std::min(Top, Result.AliveAtExit.size());
  for (size_t I = 0; I < Shown; ++I) {
    const ThreadReport &Thread = Result.Threads[Result.AliveAtExit[I]];
    OS << fmt::format("  pid {} thread {} tid {} \"{}\": {} bytes live in {} "
                      "allocations\n",
                      Thread.Pid, Thread.ThreadId, Thread.Tid, Thread.Name,
                      std::llround(Thread.LiveBytesAtExit),
                      std::llround(Thread.LiveAllocationsAtExit));
  }
  if (Result.AliveAtExit.size() > Shown)
    OS << fmt::format("  ... {} more threads\n",
                      Result.AliveAtExit.size() - Shown);
}

/// "77.04%", "0.35µs", "3.2x" (the value as in the JSON, shortest form);
/// word units after a space: "1048576 bytes".
static std::string valueText(const Bottleneck &B) {
  bool Word = B.Unit.size() > 1 &&
              std::all_of(B.Unit.begin(), B.Unit.end(),
                          [](char C) { return C >= 'a' && C <= 'z'; });
  std::string Number = std::trunc(B.Value) == B.Value
                           ? fmt::format("{}", std::llround(B.Value))
                           : fmt::format("{}", B.Value);
  return Number + (Word ? " " : "") + B.Unit;
}

/// Display width of UTF-8 text (units such as "µs" are two bytes wide).
static size_t displayWidth(const std::string &Text) {
  return std::count_if(Text.begin(), Text.end(),
                       [](char C) { return (C & 0xC0) != 0x80; });
}

static void writeBottlenecks(const Analysis &Result, llvm::raw_ostream &OS) {
  const std::vector<Bottleneck> &All = Result.Bottlenecks;
  if (All.empty()) {
    OS << "bottlenecks: none\n";
    return;
  }
  OS << "bottlenecks:\n";
  auto Location = [](const Bottleneck &B) {
    InlineFrame Frame;
    Frame.File = B.File;
    Frame.Line = B.Line;
    return frameLocation(Frame);
  };
  size_t KindWidth = 0, LocationWidth = 0, ValueWidth = 0;
  for (const Bottleneck &B : All) {
    KindWidth = std::max(KindWidth, B.Kind.size());
    LocationWidth = std::max(LocationWidth, Location(B).size());
    ValueWidth = std::max(ValueWidth, displayWidth(valueText(B)));
  }
  for (const Bottleneck &B : All)
    OS << fmt::format("  {:<{}}  {:<{}}  {:>{}}  {}\n", B.Kind, KindWidth,
                      Location(B), LocationWidth, valueText(B), ValueWidth,
                      B.Description);
}

static std::string statusText(const ProcessReport &P) {
  switch (P.Status) {
  case ProcessStatus::Exited:
    return "exited";
  case ProcessStatus::Crashed:
    return "crashed (" + signalName(P.Signal) + ")";
  case ProcessStatus::Running:
    return "running";
  case ProcessStatus::KilledOrRunning:
    break;
  }
  return "killed or still running (no exit record)";
}

static std::string percentText(const std::optional<double> &Percent) {
  return Percent ? fmt::format("{:.1f}%", *Percent) : "n/a";
}

/// "heap by type": the types that allocated the most bytes, and groups of
/// unknown type at their first user frame. Only when the pass recorded a
/// type at all (compiled with -g): otherwise it would repeat the sites.
static void writeTypes(const Analysis &Result, size_t Top,
                       llvm::raw_ostream &OS) {
  if (llvm::none_of(Result.Types,
                    [](const TypeReport &Type) { return Type.known(); }))
    return;
  bool Exact = Result.Totals.Exact;
  OS << "heap by type:\n";
  OS << fmt::format("  {:>12}  {:>10}  {:>12}  {:>12}  {}\n", "bytes", "allocs",
                    "live-at-exit", Exact ? "peak-live" : "live-at-peak",
                    "type");
  size_t Shown = std::min(Top, Result.Types.size());
  for (size_t I = 0; I < Shown; ++I) {
    const TypeReport &Type = Result.Types[I];
    std::string Peak = std::to_string(std::llround(Type.PeakLiveBytes));
    if (Type.PeakMethod == TypePeakMethod::UpperBound)
      Peak = "<=" + Peak;
    OS << fmt::format(
        "  {:>12}  {:>10}  {:>12}  {:>12}  {}\n",
        std::llround(Type.Stats.Bytes), std::llround(Type.Stats.Allocations),
        std::llround(Type.Stats.LiveBytes), Peak,
        Type.known() ? Type.Type : "(unknown) at " + frameText(Type.UnknownAt));
  }
  if (Result.Types.size() > Shown)
    OS << fmt::format("  ... {} more types\n", Result.Types.size() - Shown);
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
      "live at exit {} bytes in {} allocations; process-lifetime {} bytes in "
      "{} allocations\n",
      std::llround(Totals.Stats.Allocations), std::llround(Totals.Stats.Bytes),
      std::llround(Totals.PeakLiveBytes), std::llround(Totals.Stats.LiveBytes),
      std::llround(Totals.Stats.LiveAllocations),
      std::llround(Totals.Stats.LifetimeBytes),
      std::llround(Totals.Stats.LifetimeAllocations));
  if (const std::optional<CountedBytes> &Heap = Totals.HeapAtExit)
    OS << fmt::format(
        "heap in use at exit: {} bytes in {} blocks (counted; {}-{} bytes)\n",
        std::llround(Heap->Value), Totals.HeapBlocksAtExit,
        std::llround(Heap->Range.Low), std::llround(Heap->Range.High));
  if (!Totals.Exact) {
    Interval Peak = Totals.PeakLiveBytesInterval;
    OS << fmt::format(
        "estimates: {} samples; totals {}; per-site figures "
        "and live bytes estimated (95% intervals: sites' "
        "bytes below); peak live {} ({}-{} bytes)\n",
        Totals.Stats.Samples, Totals.TotalsExact ? "counted" : "estimated",
        Totals.PeakLiveBytesMethod == PeakMethod::Counted ? "counted"
                                                          : "estimated",
        std::llround(Peak.Low), std::llround(Peak.High));
    if (!Totals.PrecisionNote.empty())
      OS << "note: " << Totals.PrecisionNote << "\n";
  }
  if (const std::optional<ResourceReport> &R = Result.Resources)
    OS << fmt::format("resources: peak CPU {}, average CPU {}, peak RSS {} "
                      "bytes, {} I/O operations over {} samples\n",
                      percentText(R->PeakCpuPercent),
                      percentText(R->AverageCpuPercent), R->PeakRssBytes,
                      R->IoOperations, R->Samples.size());

  if (Totals.Window)
    OS << fmt::format(
        "window: allocations made from {} to {}; \"live at "
        "exit\" is live at its end\n",
        Totals.Window->first.empty() ? "the start" : Totals.Window->first,
        Totals.Window->second.empty() ? "the end" : Totals.Window->second);
  OS << "processes:\n";
  for (const ProcessReport &P : Result.Processes) {
    OS << fmt::format("  pid {} {}: {}; {}, {} allocations, {} bytes, peak "
                      "live {} bytes\n",
                      P.Pid, P.Executable.empty() ? "<unknown>" : P.Executable,
                      statusText(P), plural(P.ThreadCount, "thread", "threads"),
                      std::llround(P.Stats.Allocations),
                      std::llround(P.Stats.Bytes),
                      std::llround(P.PeakLiveBytes));
    // The latest snapshot: what is live now, for a running service.
    if (!P.Snapshots.empty()) {
      const SnapshotReport &Now = P.Snapshots.back();
      OS << fmt::format(
          "    snapshot {} of {} at {:.3f} s ({}): live {} "
          "bytes in {} allocations{}\n",
          Now.Number, P.Snapshots.size(), double(Now.TimeNs) / 1e9, Now.Cause,
          std::llround(Now.LiveBytes), std::llround(Now.LiveAllocations),
          Now.HeapBytes ? fmt::format("; heap in use {} bytes "
                                      "(counted)",
                                      *Now.HeapBytes)
                        : "");
    }
    if (P.LogLimit && !P.LogLimit->Steps.empty()) {
      const LogLimitStep &First = P.LogLimit->Steps.front();
      const LogLimitStep &Last = P.LogLimit->Steps.back();
      OS << fmt::format(
          "    detail reduced: the logs neared max_log_size ({} bytes) at "
          "{:.3f} s; {}{}\n",
          P.LogLimit->MaxLogSize, double(First.TimeNs) / 1e9,
          First.LeftExact ? "exact mode became byte sampling, "
                          : "sampling became sparser, ",
          Last.Full ? fmt::format("and the cap was reached at {:.3f} s (no "
                                  "samples after it)",
                                  double(Last.TimeNs) / 1e9)
          : P.Sampling.Mode == "rate"
              ? fmt::format("{} times, to a rate of {:g}",
                            P.LogLimit->Steps.size(), Last.SampleRate)
              : fmt::format("{} times, to an interval of {} bytes",
                            P.LogLimit->Steps.size(),
                            Last.SampleIntervalBytes));
    }
  }

  size_t Shown = std::min(Options.TopSites, Result.Sites.size());
  if (Shown == 0) {
    OS << "top sites by bytes: none\n";
  } else {
    OS << "top sites by bytes:\n";
    size_t LocationWidth = 8;
    for (size_t I = 0; I < Shown; ++I)
      LocationWidth =
          std::max(LocationWidth, frameLocation(Result.Sites[I].User).size());
    // Sampled runs get the bytes' 95% interval, as ±(its larger side).
    auto PlusMinus = [&](const SiteReport &Site) -> std::string {
      if (Totals.Exact)
        return "";
      Interval Range = Site.Stats.bytesInterval();
      double Half =
          std::max(Site.Stats.Bytes - Range.Low, Range.High - Site.Stats.Bytes);
      return fmt::format("  {:>10}",
                         fmt::format("\u00b1{}", std::llround(Half)));
    };
    OS << fmt::format(
        "  {:>12}{}  {:>10}  {:>12}  {:<14}  {:<{}}  {}\n", "bytes",
        Totals.Exact ? "" : fmt::format("  {:>10}", "95%"), "allocs",
        "live-at-exit", "kind", "location", LocationWidth, "function");
    for (size_t I = 0; I < Shown; ++I) {
      const SiteReport &Site = Result.Sites[I];
      OS << fmt::format("  {:>12}{}  {:>10}  {:>12}  {:<14}  {:<{}}  {}\n",
                        std::llround(Site.Stats.Bytes), PlusMinus(Site),
                        std::llround(Site.Stats.Allocations),
                        std::llround(Site.Stats.LiveBytes), Site.Kind,
                        frameLocation(Site.User), LocationWidth,
                        functionText(Site) + (Site.Stats.LifetimeAllocations > 0
                                                  ? " [process-lifetime]"
                                                  : ""));
    }
    if (Result.Sites.size() > Shown)
      OS << fmt::format("  ... {} more sites\n", Result.Sites.size() - Shown);
  }
  writeTypes(Result, Options.TopSites, OS);

  OS << "threads:\n";
  size_t ThreadsShown = std::min(Options.TopThreads, Result.Threads.size());
  for (size_t I = 0; I < ThreadsShown; ++I) {
    const ThreadReport &Thread = Result.Threads[I];
    std::string Origin;
    if (Thread.ParentThreadId)
      Origin += fmt::format(" parent {}", Thread.ParentThreadId);
    if (Thread.SpawnLocation)
      Origin += " spawned at " + frameLocation(*Thread.SpawnLocation);
    OS << fmt::format("  pid {} thread {} tid {} \"{}\"{}: {} allocations, {} "
                      "bytes, {} bytes live at exit, {}\n",
                      Thread.Pid, Thread.ThreadId, Thread.Tid, Thread.Name,
                      Origin, std::llround(Thread.Allocations),
                      std::llround(Thread.Bytes),
                      std::llround(Thread.LiveBytesAtExit),
                      Thread.RunningAtExit ? "running at exit" : "exited");
  }
  if (Result.Threads.size() > ThreadsShown)
    OS << fmt::format("  ... {} more threads\n",
                      Result.Threads.size() - ThreadsShown);
  writeSpawnSites(Result, Options.TopThreads, OS);
  writeCrossFrees(Result, Options.TopSites, OS);
  writeAliveAtExit(Result, Options.TopThreads, OS);
  writeBottlenecks(Result, OS);
  if (!Totals.Warnings.empty())
    OS << fmt::format("warnings: {}\n", Totals.Warnings.size());
  if (!Options.ReportPath.empty())
    OS << "report: " << Options.ReportPath << '\n';
  for (const auto &[Label, Path] : Options.OtherOutputs)
    OS << Label << ": " << Path << '\n';
}
