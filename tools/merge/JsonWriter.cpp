//===- JsonWriter.cpp - analysis.json -------------------------------------===//

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

static ordered_json samplingJson(const SamplingInfo &Sampling) {
  ordered_json Json;
  Json["mode"] = Sampling.Mode;
  Json["interval_bytes"] = Sampling.IntervalBytes;
  Json["rate"] = Sampling.Rate;
  Json["min_allocation_size"] = Sampling.MinAllocationSize;
  Json["stack_depth"] = Sampling.StackDepth;
  return Json;
}

static ordered_json summaryJson(const Summary &Totals) {
  ordered_json Json;
  Json["process_count"] = Totals.ProcessCount;
  Json["thread_count"] = Totals.ThreadCount;
  Json["total_allocations"] = rounded(Totals.Stats.Allocations);
  Json["total_bytes"] = rounded(Totals.Stats.Bytes);
  Json["total_frees"] = rounded(Totals.Stats.Frees);
  Json["freed_bytes"] = rounded(Totals.Stats.FreedBytes);
  Json["live_allocations_at_exit"] = rounded(Totals.Stats.LiveAllocations);
  Json["live_bytes_at_exit"] = rounded(Totals.Stats.LiveBytes);
  Json["peak_live_bytes"] = rounded(Totals.PeakLiveBytes);
  Json["peak_live_time_ns"] = Totals.PeakLiveTimeNs;
  Json["duration_ns"] = Totals.DurationNs;
  Json["samples"] = Totals.Stats.Samples;
  Json["indirect_allocations"] = rounded(Totals.IndirectAllocations);
  Json["indirect_bytes"] = rounded(Totals.IndirectBytes);
  Json["exact"] = Totals.Exact;
  Json["sampling"] = samplingJson(Totals.Sampling);
  Json["dropped_records"] = Totals.DroppedRecords;
  Json["untracked_samples"] = Totals.UntrackedSamples;
  Json["warnings"] = Totals.Warnings;
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
  Json["thread_count"] = P.ThreadCount;
  Json["total_allocations"] = rounded(P.Stats.Allocations);
  Json["total_bytes"] = rounded(P.Stats.Bytes);
  Json["total_frees"] = rounded(P.Stats.Frees);
  Json["freed_bytes"] = rounded(P.Stats.FreedBytes);
  Json["live_allocations_at_exit"] = rounded(P.Stats.LiveAllocations);
  Json["live_bytes_at_exit"] = rounded(P.Stats.LiveBytes);
  Json["peak_live_bytes"] = rounded(P.PeakLiveBytes);
  Json["peak_live_time_ns"] = P.PeakLiveTimeNs;
  Json["samples"] = P.Stats.Samples;
  Json["dropped_records"] = P.DroppedRecords;
  Json["untracked_samples"] = P.UntrackedSamples;
  Json["unmatched_frees"] = P.UnmatchedFrees;
  Json["sampling"] = samplingJson(P.Sampling);
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
  Json["allocations"] = rounded(Site.Stats.Allocations);
  Json["bytes"] = rounded(Site.Stats.Bytes);
  Json["frees"] = rounded(Site.Stats.Frees);
  Json["freed_bytes"] = rounded(Site.Stats.FreedBytes);
  Json["live_allocations_at_exit"] = rounded(Site.Stats.LiveAllocations);
  Json["live_bytes_at_exit"] = rounded(Site.Stats.LiveBytes);
  Json["samples"] = Site.Stats.Samples;
  Json["threads"] = Site.ThreadCount;
  if (Site.Pids.size() == 1)
    Json["pid"] = Site.Pids.front();
  else
    Json["pid"] = nullptr;
  Json["pids"] = Site.Pids;
  if (Site.isIndirect())
    Json["via"] = Site.Via;
  return Json;
}

static ordered_json threadJson(const ThreadReport &Thread) {
  ordered_json Json;
  Json["pid"] = Thread.Pid;
  Json["thread_id"] = Thread.ThreadId;
  Json["tid"] = Thread.Tid;
  Json["name"] = Thread.Name;
  Json["parent_thread_id"] = Thread.ParentThreadId;
  if (Thread.SpawnSite)
    Json["spawn_site"] = hexId(Thread.SpawnSite);
  else
    Json["spawn_site"] = nullptr;
  Json["start_ns"] = Thread.StartNs;
  if (Thread.EndNs)
    Json["end_ns"] = *Thread.EndNs;
  else
    Json["end_ns"] = nullptr;
  Json["running_at_exit"] = Thread.RunningAtExit;
  Json["cpu_user_ns"] = Thread.CpuUserNs;
  Json["cpu_system_ns"] = Thread.CpuSystemNs;
  Json["allocations"] = rounded(Thread.Allocations);
  Json["bytes"] = rounded(Thread.Bytes);
  Json["live_bytes_at_exit"] = rounded(Thread.LiveBytesAtExit);
  return Json;
}

ordered_json memscope::merge::toJson(const Analysis &Result) {
  ordered_json Json;
  Json["schema_version"] = 1;
  Json["generator"] = "memscope-merge " MEMSCOPE_VERSION_STRING;
  Json["input"] = Result.Input;
  Json["summary"] = summaryJson(Result.Totals);
  Json["processes"] = ordered_json::array();
  for (const ProcessReport &P : Result.Processes)
    Json["processes"].push_back(processJson(P));
  Json["sites"] = ordered_json::array();
  for (const SiteReport &Site : Result.Sites)
    Json["sites"].push_back(siteJson(Site));
  Json["threads"] = ordered_json::array();
  for (const ThreadReport &Thread : Result.Threads)
    Json["threads"].push_back(threadJson(Thread));
  return Json;
}

llvm::Error memscope::merge::writeJsonReport(const Analysis &Result,
                                             llvm::StringRef Path) {
  // Names and paths come from the logs and may hold invalid UTF-8; replace
  // it rather than fail.
  std::string Text = toJson(Result).dump(
      1, ' ', /*ensure_ascii=*/false, ordered_json::error_handler_t::replace);
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
