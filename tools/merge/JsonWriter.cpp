//===- JsonWriter.cpp - analysis.json -------------------------------------===//

#include "Estimates.h"
#include "Report.h"

#include "memscope/abi.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include "fmt/format.h"

#include <cmath>

using namespace memscope::merge;
using nlohmann::ordered_json;

std::string memscope::merge::hexId(uint64_t Id) {
  return fmt::format("0x{:016x}", Id);
}

/// Estimates are sums of weights; integers are what users count.
static int64_t rounded(double Value) { return std::llround(Value); }

static ordered_json stringOrNull(const std::string &Text) {
  if (Text.empty())
    return nullptr;
  return Text;
}

static ordered_json samplingJson(const SamplingInfo &Sampling) {
  ordered_json Json;
  Json["mode"] = Sampling.Mode;
  Json["interval_bytes"] = Sampling.IntervalBytes;
  Json["rate"] = Sampling.Rate;
  Json["min_allocation_size"] = Sampling.MinAllocationSize;
  Json["stack_depth"] = Sampling.StackDepth;
  return Json;
}

/// [low, high]: the 95% interval of an estimate (Estimates.h); both ends are
/// the value when it is exact.
static ordered_json intervalJson(Interval Range) {
  return ordered_json::array({rounded(Range.Low), rounded(Range.High)});
}

/// Blocks live at exit: leaks, then process-lifetime blocks (Lifetime.h);
/// \p HeapHigh (LiveAtExitCap), the most the heap counted in use then can
/// hold, bounds the leaks too.
static void addAtExit(ordered_json &Json, const AllocationStats &Stats,
                      double HeapHigh = HUGE_VAL) {
  Json["live_allocations_at_exit"] = rounded(Stats.LiveAllocations);
  Json["live_bytes_at_exit"] = rounded(Stats.LiveBytes);
  Json["live_bytes_at_exit_interval"] =
      intervalJson(Stats.liveBytesInterval(HeapHigh));
  Json["process_lifetime_allocations"] = rounded(Stats.LifetimeAllocations);
  Json["process_lifetime_bytes"] = rounded(Stats.LifetimeBytes);
}

/// The totals block that summary and processes[] (Summary, ProcessReport)
/// share: counts, frees, blocks live at exit, the peak with its interval,
/// and the heap counted in use at exit.
template <typename Report>
static void addTotals(ordered_json &Json, const Report &R) {
  const AllocationStats &Stats = R.Stats;
  Json["total_allocations"] = rounded(Stats.Allocations);
  Json["total_bytes"] = rounded(Stats.Bytes);
  Json["totals_exact"] = R.TotalsExact;
  Json["total_frees"] = rounded(Stats.Frees);
  Json["freed_bytes"] = rounded(Stats.FreedBytes);
  addAtExit(Json, Stats, R.LiveAtExitCap);
  Json["peak_live_bytes"] = rounded(R.PeakLiveBytes);
  Json["peak_live_bytes_interval"] = intervalJson(R.PeakLiveBytesInterval);
  Json["peak_live_bytes_method"] = peakMethodName(R.PeakLiveBytesMethod);
  if (R.HeapAtExit) {
    Json["heap_in_use_at_exit"] = rounded(R.HeapAtExit->Value);
    Json["heap_in_use_at_exit_interval"] = intervalJson(R.HeapAtExit->Range);
    Json["heap_blocks_at_exit"] = R.HeapBlocksAtExit;
  } else {
    Json["heap_in_use_at_exit"] = nullptr;
    Json["heap_in_use_at_exit_interval"] = nullptr;
    Json["heap_blocks_at_exit"] = nullptr;
  }
}

static ordered_json summaryJson(const Summary &Totals,
                                const CrossThreadFrees &CrossFrees) {
  ordered_json Json;
  Json["process_count"] = Totals.ProcessCount;
  Json["thread_count"] = Totals.ThreadCount;
  addTotals(Json, Totals);
  Json["peak_live_time_ns"] = Totals.PeakLiveTimeNs;
  Json["duration_ns"] = Totals.DurationNs;
  Json["samples"] = Totals.Stats.Samples;
  Json["indirect_allocations"] = rounded(Totals.IndirectAllocations);
  Json["indirect_bytes"] = rounded(Totals.IndirectBytes);
  Json["exact"] = Totals.Exact;
  Json["sampling"] = samplingJson(Totals.Sampling);
  Json["dropped_records"] = Totals.DroppedRecords;
  Json["untracked_samples"] = Totals.UntrackedSamples;
  Json["detail_reduced"] = Totals.DetailReduced;
  Json["threads_running_at_exit"] = Totals.ThreadsRunningAtExit;
  Json["spawn_site_count"] = Totals.SpawnSiteCount;
  Json["precision_note"] = Totals.PrecisionNote.empty()
                               ? ordered_json()
                               : ordered_json(Totals.PrecisionNote);
  Json["source_root"] = Totals.SourceRoot;
  if (Totals.Window)
    Json["window"] = {{"from", stringOrNull(Totals.Window->first)},
                      {"to", stringOrNull(Totals.Window->second)}};
  else
    Json["window"] = nullptr;
  Json["cross_thread_frees"] = rounded(CrossFrees.Frees);
  Json["cross_thread_free_bytes"] = rounded(CrossFrees.Bytes);
  Json["warnings"] = Totals.Warnings;
  return Json;
}

/// Percentages to 2 decimals.
static ordered_json percentOrNull(const std::optional<double> &Value) {
  if (!Value)
    return nullptr;
  return std::round(*Value * 100) / 100;
}

static ordered_json resourcesJson(const std::optional<ResourceReport> &R) {
  if (!R)
    return nullptr;
  ordered_json Json;
  ordered_json Samples = ordered_json::array();
  for (const ResourceSample &Sample : R->Samples) {
    ordered_json SampleJson;
    SampleJson["t_ns"] = Sample.TimeNs;
    SampleJson["cpu_percent"] = percentOrNull(Sample.CpuPercent);
    SampleJson["rss_bytes"] = Sample.RssBytes;
    SampleJson["read_bytes"] = Sample.ReadBytes;
    SampleJson["write_bytes"] = Sample.WriteBytes;
    SampleJson["read_calls"] = Sample.ReadCalls;
    SampleJson["write_calls"] = Sample.WriteCalls;
    SampleJson["threads"] = Sample.Threads;
    Samples.push_back(std::move(SampleJson));
  }
  Json["samples"] = std::move(Samples);
  Json["peak_cpu_percent"] = percentOrNull(R->PeakCpuPercent);
  Json["average_cpu_percent"] = percentOrNull(R->AverageCpuPercent);
  Json["peak_rss_bytes"] = R->PeakRssBytes;
  Json["io_operations"] = R->IoOperations;
  Json["bytes_read"] = R->BytesRead;
  Json["bytes_written"] = R->BytesWritten;
  return Json;
}

static ordered_json processJson(const ProcessReport &P) {
  ordered_json Json;
  Json["pid"] = P.Pid;
  Json["ppid"] = P.Ppid;
  Json["executable"] = P.Executable;
  Json["folder"] = P.Folder;
  Json["start_realtime_ns"] = P.StartRealtimeNs;
  Json["duration_ns"] = P.DurationNs;
  Json["state"] = P.Exited ? "exited" : "running";
  Json["exit_kind"] = P.ExitKind;
  Json["status"] = processStatusName(P.Status);
  if (P.Status == ProcessStatus::Crashed) {
    Json["signal"] = P.Signal;
    Json["signal_name"] = signalName(P.Signal);
  } else {
    Json["signal"] = nullptr;
    Json["signal_name"] = nullptr;
  }
  Json["thread_count"] = P.ThreadCount;
  addTotals(Json, P);
  if (P.CountedPeakLiveBytes)
    Json["counted_peak_live_bytes"] = rounded(*P.CountedPeakLiveBytes);
  Json["peak_live_time_ns"] = P.PeakLiveTimeNs;
  Json["samples"] = P.Stats.Samples;
  Json["dropped_records"] = P.DroppedRecords;
  Json["untracked_samples"] = P.UntrackedSamples;
  Json["unmatched_frees"] = P.UnmatchedFrees;
  Json["sampling"] = samplingJson(P.Sampling);
  Json["resources"] = resourcesJson(P.Resources);
  ordered_json Timeline;
  Timeline["bucket_ns"] = P.LiveBucketNs;
  Timeline["points"] = ordered_json::array();
  for (const LivePoint &Point : P.LiveTimeline)
    Timeline["points"].push_back(
        {Point.TimeNs, rounded(Point.MaxBytes), rounded(Point.LastBytes)});
  Json["live_timeline"] = std::move(Timeline);
  ordered_json Snapshots = ordered_json::array();
  for (const SnapshotReport &Snapshot : P.Snapshots) {
    ordered_json Entry;
    Entry["number"] = Snapshot.Number;
    Entry["time_ns"] = Snapshot.TimeNs;
    Entry["cause"] = Snapshot.Cause;
    Entry["live_bytes"] = rounded(Snapshot.LiveBytes);
    Entry["live_bytes_interval"] = intervalJson(Snapshot.LiveBytesInterval);
    Entry["live_allocations"] = rounded(Snapshot.LiveAllocations);
    Entry["heap_bytes"] =
        Snapshot.HeapBytes ? ordered_json(*Snapshot.HeapBytes) : ordered_json();
    Entry["heap_blocks"] = Snapshot.HeapBlocks
                               ? ordered_json(*Snapshot.HeapBlocks)
                               : ordered_json();
    Entry["heap_uncertainty"] = Snapshot.HeapUncertainty;
    Snapshots.push_back(std::move(Entry));
  }
  Json["live_now"] = Snapshots.empty() ? ordered_json() : Snapshots.back();
  Json["snapshots"] = std::move(Snapshots);
  if (P.LogLimit) {
    ordered_json Steps = ordered_json::array();
    for (const LogLimitStep &Step : P.LogLimit->Steps)
      Steps.push_back({{"time_ns", Step.TimeNs},
                       {"level", Step.Level},
                       {"log_bytes", Step.LogBytes},
                       {"sample_interval_bytes", Step.SampleIntervalBytes},
                       {"sample_rate", Step.SampleRate},
                       {"left_exact", Step.LeftExact},
                       {"full", Step.Full}});
    Json["log_limit"] = {{"max_log_size", P.LogLimit->MaxLogSize},
                         {"steps", std::move(Steps)}};
  } else {
    Json["log_limit"] = nullptr;
  }
  if (P.WindowNs)
    Json["window_ns"] = {P.WindowNs->first, P.WindowNs->second};
  else
    Json["window_ns"] = nullptr;
  return Json;
}

static ordered_json siteJson(const SiteReport &Site) {
  ordered_json Json;
  Json["id"] = hexId(Site.Id);
  Json["kind"] = Site.Kind;
  Json["file"] = Site.File;
  Json["dir"] = Site.Dir;
  Json["line"] = Site.Line;
  Json["column"] = Site.Column;
  Json["function"] = Site.Function;
  Json["module"] = Site.Module;
  Json["type"] = stringOrNull(Site.Type);
  ordered_json Inlined = ordered_json::array();
  for (const InlineFrame &Frame : Site.InlinedAt) {
    ordered_json FrameJson;
    FrameJson["function"] = Frame.Function;
    FrameJson["file"] = Frame.File;
    FrameJson["dir"] = Frame.Dir;
    FrameJson["line"] = Frame.Line;
    FrameJson["column"] = Frame.Column;
    Inlined.push_back(std::move(FrameJson));
  }
  Json["inlined_at"] = std::move(Inlined);
  ordered_json User;
  User["function"] = Site.User.Function;
  User["file"] = Site.User.File;
  User["line"] = Site.User.Line;
  User["column"] = Site.User.Column;
  Json["user_frame"] = std::move(User);
  Json["attributed_by"] = Site.AttributedBy;
  Json["allocations"] = rounded(Site.Stats.Allocations);
  Json["bytes"] = rounded(Site.Stats.Bytes);
  Json["allocations_interval"] = intervalJson(Site.Stats.allocationsInterval());
  Json["bytes_interval"] = intervalJson(Site.Stats.bytesInterval());
  Json["frees"] = rounded(Site.Stats.Frees);
  Json["freed_bytes"] = rounded(Site.Stats.FreedBytes);
  addAtExit(Json, Site.Stats);
  Json["live_bytes_at_peak"] = rounded(Site.LiveBytesAtPeak);
  Json["process_lifetime"] = Site.Stats.LifetimeAllocations > 0;
  Json["samples"] = Site.Stats.Samples;
  Json["freed_samples"] = Site.Stats.FreedSamples;
  std::optional<double> Lifetime = Site.Stats.averageLifetimeNs();
  Json["average_lifetime_ns"] =
      Lifetime ? ordered_json(rounded(*Lifetime)) : ordered_json();
  Json["threads"] = Site.ThreadCount;
  if (Site.Pids.size() == 1)
    Json["pid"] = Site.Pids.front();
  else
    Json["pid"] = nullptr;
  Json["pids"] = Site.Pids;
  if (Site.isIndirect() || Site.AttributedBy == "stack")
    Json["via"] = Site.Via;
  return Json;
}

static ordered_json typeJson(const TypeReport &Type) {
  ordered_json Json;
  Json["type"] = stringOrNull(Type.Type);
  if (!Type.known()) {
    ordered_json At;
    At["file"] = Type.UnknownAt.File;
    At["line"] = Type.UnknownAt.Line;
    At["function"] = Type.UnknownAt.Function;
    Json["user_frame"] = std::move(At);
  }
  Json["allocations"] = rounded(Type.Stats.Allocations);
  Json["bytes"] = rounded(Type.Stats.Bytes);
  Json["allocations_interval"] = intervalJson(Type.Stats.allocationsInterval());
  Json["bytes_interval"] = intervalJson(Type.Stats.bytesInterval());
  addAtExit(Json, Type.Stats);
  Json["peak_live_bytes"] = rounded(Type.PeakLiveBytes);
  Json["peak_method"] = typePeakMethodName(Type.PeakMethod);
  ordered_json Sites = ordered_json::array();
  for (uint64_t Id : Type.Sites)
    Sites.push_back(hexId(Id));
  Json["sites"] = std::move(Sites);
  return Json;
}

/// {"file", "line", "function"}, or null.
static ordered_json locationJson(const std::optional<InlineFrame> &Frame) {
  if (!Frame)
    return nullptr;
  ordered_json Json;
  Json["file"] = Frame->File;
  Json["line"] = Frame->Line;
  Json["function"] = Frame->Function;
  return Json;
}

static ordered_json idOrNull(uint64_t Id) {
  if (!Id)
    return nullptr;
  return hexId(Id);
}

static ordered_json threadJson(const ThreadReport &Thread) {
  ordered_json Json;
  Json["pid"] = Thread.Pid;
  Json["thread_id"] = Thread.ThreadId;
  Json["tid"] = Thread.Tid;
  Json["name"] = Thread.Name;
  Json["parent_thread_id"] = Thread.ParentThreadId;
  Json["spawn_site"] = idOrNull(Thread.SpawnSite);
  Json["spawn_location"] = locationJson(Thread.SpawnLocation);
  Json["creator_module"] = stringOrNull(Thread.CreatorModule);
  Json["start_ns"] = Thread.StartNs;
  if (Thread.EndNs)
    Json["end_ns"] = *Thread.EndNs;
  else
    Json["end_ns"] = nullptr;
  Json["lifetime_ns"] = Thread.LifetimeNs;
  Json["span_count"] = Thread.SpanCount;
  Json["running_at_exit"] = Thread.RunningAtExit;
  Json["cpu_user_ns"] = Thread.CpuUserNs;
  Json["cpu_system_ns"] = Thread.CpuSystemNs;
  Json["tool_thread"] = Thread.ToolThread;
  Json["allocations"] = rounded(Thread.Allocations);
  Json["bytes"] = rounded(Thread.Bytes);
  Json["totals_exact"] = Thread.TotalsExact;
  Json["samples"] = Thread.Samples;
  Json["live_allocations_at_exit"] = rounded(Thread.LiveAllocationsAtExit);
  Json["live_bytes_at_exit"] = rounded(Thread.LiveBytesAtExit);
  Json["live_bytes_at_exit_interval"] = intervalJson(
      liveInterval95(Thread.LiveBytesAtExit, Thread.LiveBytesAtExitVariance,
                     Thread.LiveBytesAtExitObserved, Thread.UnseenBytes,
                     HUGE_VAL, Thread.TotalsExact ? Thread.Bytes : HUGE_VAL));
  Json["process_lifetime_allocations"] =
      rounded(Thread.LifetimeAllocationsAtExit);
  Json["process_lifetime_bytes"] = rounded(Thread.LifetimeBytesAtExit);
  ordered_json Top = ordered_json::array();
  for (const ThreadSiteReport &Site : Thread.TopSites) {
    ordered_json SiteJson;
    SiteJson["id"] = hexId(Site.SiteId);
    SiteJson["file"] = Site.Location.File;
    SiteJson["line"] = Site.Location.Line;
    SiteJson["function"] = Site.Location.Function;
    SiteJson["allocations"] = rounded(Site.Allocations);
    SiteJson["bytes"] = rounded(Site.Bytes);
    SiteJson["allocations_interval"] = intervalJson(interval95(
        Site.Allocations, Site.AllocationsVariance, double(Site.Samples)));
    SiteJson["bytes_interval"] = intervalJson(interval95(
        Site.Bytes, Site.BytesVariance, Site.SampledBytes, Thread.UnseenBytes));
    Top.push_back(std::move(SiteJson));
  }
  Json["top_sites"] = std::move(Top);
  return Json;
}

/// Nested nodes, built bottom-up without recursion.
static ordered_json threadTreeJson(const Analysis &Result) {
  const ThreadTree &Tree = Result.Tree;
  // Pre-order: a node before all its descendants; built in reverse.
  std::vector<size_t> Order;
  std::vector<size_t> Work(Tree.Roots.rbegin(), Tree.Roots.rend());
  while (!Work.empty()) {
    size_t Node = Work.back();
    Work.pop_back();
    Order.push_back(Node);
    if (Node < Tree.Children.size())
      Work.insert(Work.end(), Tree.Children[Node].rbegin(),
                  Tree.Children[Node].rend());
  }
  std::vector<ordered_json> Built(Result.Threads.size());
  for (size_t I = Order.size(); I-- > 0;) {
    size_t Node = Order[I];
    const ThreadReport &Thread = Result.Threads[Node];
    ordered_json Json;
    Json["thread_id"] = Thread.ThreadId;
    Json["pid"] = Thread.Pid;
    Json["name"] = Thread.Name;
    Json["spawn_site"] = idOrNull(Thread.SpawnSite);
    Json["spawn_location"] = locationJson(Thread.SpawnLocation);
    ordered_json Children = ordered_json::array();
    if (Node < Tree.Children.size())
      for (size_t Child : Tree.Children[Node])
        Children.push_back(std::move(Built[Child]));
    Json["children"] = std::move(Children);
    Built[Node] = std::move(Json);
  }
  ordered_json Roots = ordered_json::array();
  for (size_t Root : Tree.Roots)
    Roots.push_back(std::move(Built[Root]));
  return Roots;
}

static ordered_json spawnSiteJson(const SpawnSiteReport &Site) {
  ordered_json Json;
  Json["id"] = Site.Id ? ordered_json(hexId(*Site.Id)) : ordered_json();
  ordered_json Ids = ordered_json::array();
  for (uint64_t Id : Site.SiteIds)
    Ids.push_back(hexId(Id));
  Json["site_ids"] = std::move(Ids);
  Json["kind"] = "thread_spawn";
  Json["file"] = Site.File;
  Json["line"] = Site.Line;
  Json["function"] = Site.Function;
  Json["module"] = Site.Module;
  Json["user_frame"] = locationJson(Site.User);
  Json["creator_module"] =
      Site.Id ? ordered_json() : stringOrNull(Site.CreatorModule);
  Json["pids"] = Site.Pids;
  Json["threads_created"] = Site.ThreadsCreated;
  Json["threads_running_at_exit"] = Site.ThreadsRunningAtExit;
  Json["allocations"] = rounded(Site.Allocations);
  Json["bytes"] = rounded(Site.Bytes);
  Json["totals_exact"] = Site.TotalsExact;
  Json["live_bytes_at_exit"] = rounded(Site.LiveBytesAtExit);
  Json["live_bytes_at_exit_interval"] = intervalJson(
      liveInterval95(Site.LiveBytesAtExit, Site.LiveBytesAtExitVariance,
                     Site.LiveBytesAtExitObserved, Site.UnseenBytes, HUGE_VAL,
                     Site.TotalsExact ? Site.Bytes : HUGE_VAL));
  Json["cpu_user_ns"] = Site.CpuUserNs;
  Json["cpu_system_ns"] = Site.CpuSystemNs;
  return Json;
}

static ordered_json crossFreesJson(const Analysis &Result) {
  const CrossThreadFrees &Cross = Result.CrossFrees;
  ordered_json Json;
  Json["frees"] = rounded(Cross.Frees);
  Json["bytes"] = rounded(Cross.Bytes);
  Json["site_pairs"] = Cross.SitePairCount;
  Json["thread_pairs"] = Cross.ThreadPairCount;
  ordered_json Sites = ordered_json::array();
  for (const CrossFreeSitePair &Pair : Cross.BySitePair) {
    ordered_json PairJson;
    PairJson["alloc_site"] = hexId(Pair.AllocSite);
    PairJson["alloc_location"] = locationJson(Pair.AllocLocation);
    PairJson["free_site"] = idOrNull(Pair.FreeSite);
    PairJson["free_location"] = locationJson(Pair.FreeLocation);
    PairJson["frees"] = rounded(Pair.Frees);
    PairJson["bytes"] = rounded(Pair.Bytes);
    Sites.push_back(std::move(PairJson));
  }
  Json["by_site_pair"] = std::move(Sites);
  ordered_json Threads = ordered_json::array();
  for (const CrossFreeThreadPair &Pair : Cross.ByThreadPair) {
    const ThreadReport &Alloc = Result.Threads[Pair.AllocThread];
    const ThreadReport &Free = Result.Threads[Pair.FreeThread];
    ordered_json PairJson;
    PairJson["alloc_thread_id"] = Alloc.ThreadId;
    PairJson["alloc_thread_name"] = Alloc.Name;
    PairJson["free_thread_id"] = Free.ThreadId;
    PairJson["free_thread_name"] = Free.Name;
    PairJson["pid"] = Pair.Pid;
    PairJson["frees"] = rounded(Pair.Frees);
    PairJson["bytes"] = rounded(Pair.Bytes);
    Threads.push_back(std::move(PairJson));
  }
  Json["by_thread_pair"] = std::move(Threads);
  return Json;
}

static ordered_json aliveJson(const Analysis &Result) {
  ordered_json Json = ordered_json::array();
  for (size_t Index : Result.AliveAtExit) {
    const ThreadReport &Thread = Result.Threads[Index];
    ordered_json Entry;
    Entry["pid"] = Thread.Pid;
    Entry["thread_id"] = Thread.ThreadId;
    Entry["tid"] = Thread.Tid;
    Entry["name"] = Thread.Name;
    Entry["live_allocations_at_exit"] = rounded(Thread.LiveAllocationsAtExit);
    Entry["live_bytes_at_exit"] = rounded(Thread.LiveBytesAtExit);
    Entry["cpu_user_ns"] = Thread.CpuUserNs;
    Entry["cpu_system_ns"] = Thread.CpuSystemNs;
    Json.push_back(std::move(Entry));
  }
  return Json;
}

/// Whole values as integers, others as they are.
static ordered_json valueJson(double Value) {
  if (std::isfinite(Value) && std::trunc(Value) == Value &&
      std::fabs(Value) < 9007199254740992.0)
    return static_cast<int64_t>(Value);
  return Value;
}

static ordered_json bottlenecksJson(const Analysis &Result) {
  ordered_json Json = ordered_json::array();
  for (const Bottleneck &B : Result.Bottlenecks) {
    ordered_json Entry;
    Entry["kind"] = B.Kind;
    Entry["site_id"] = B.SiteId ? ordered_json(hexId(*B.SiteId)) : nullptr;
    Entry["file"] = B.File;
    Entry["line"] = B.Line;
    Entry["function"] = B.Function;
    Entry["value"] = valueJson(B.Value);
    Entry["unit"] = B.Unit;
    Entry["threshold"] = valueJson(B.Threshold);
    Entry["description"] = B.Description;
    Entry["suggestion"] = B.Suggestion;
    Json.push_back(std::move(Entry));
  }
  return Json;
}

ordered_json memscope::merge::toJson(const Analysis &Result) {
  ordered_json Json;
  Json["schema_version"] = 1;
  Json["generator"] = "memscope-merge " MEMSCOPE_VERSION_STRING;
  Json["input"] = Result.Input;
  Json["summary"] = summaryJson(Result.Totals, Result.CrossFrees);
  Json["processes"] = ordered_json::array();
  for (const ProcessReport &P : Result.Processes)
    Json["processes"].push_back(processJson(P));
  Json["sites"] = ordered_json::array();
  for (const SiteReport &Site : Result.Sites)
    Json["sites"].push_back(siteJson(Site));
  Json["types"] = ordered_json::array();
  for (const TypeReport &Type : Result.Types)
    Json["types"].push_back(typeJson(Type));
  Json["threads"] = ordered_json::array();
  for (const ThreadReport &Thread : Result.Threads)
    Json["threads"].push_back(threadJson(Thread));
  Json["thread_tree"] = threadTreeJson(Result);
  Json["spawn_sites"] = ordered_json::array();
  for (const SpawnSiteReport &Site : Result.SpawnSites)
    Json["spawn_sites"].push_back(spawnSiteJson(Site));
  Json["cross_thread_frees"] = crossFreesJson(Result);
  Json["threads_alive_at_exit"] = aliveJson(Result);
  Json["resources"] = resourcesJson(Result.Resources);
  Json["bottlenecks"] = bottlenecksJson(Result);
  return Json;
}

llvm::Error memscope::merge::writeJsonReport(const ordered_json &Json,
                                             llvm::StringRef Path) {
  // Names and paths come from the logs and may hold invalid UTF-8; replace
  // it rather than fail.
  std::string Text = Json.dump(1, ' ', /*ensure_ascii=*/false,
                               ordered_json::error_handler_t::replace);
  std::error_code EC;
  llvm::raw_fd_ostream OS(Path, EC, llvm::sys::fs::OF_None);
  if (EC)
    return llvm::createStringError(EC, "cannot write %s: %s",
                                   Path.str().c_str(), EC.message().c_str());
  OS << Text << '\n';
  OS.close();
  if (OS.has_error()) {
    EC = OS.error();
    OS.clear_error();
    return llvm::createStringError(EC, "cannot write %s: %s",
                                   Path.str().c_str(), EC.message().c_str());
  }
  return llvm::Error::success();
}
