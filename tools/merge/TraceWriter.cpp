//===- TraceWriter.cpp - trace.json (Chrome trace event format) -----------===//
//
// One process per profiled process (named after its executable), one track
// per thread (thread_name metadata, a complete event spanning its life and
// instant events at its start and end), and counter tracks: estimated live
// heap, and RSS / CPU when the process wrote resource samples. Times are in
// microseconds from the earliest process start, so several processes line
// up on the wall clock. Perfetto UI and chrome://tracing load it.
//
//===----------------------------------------------------------------------===//

#include "Report.h"

#include "llvm/Support/Path.h"

#include "fmt/format.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

using namespace memscope::merge;
using nlohmann::ordered_json;

static double micros(uint64_t Ns) { return double(Ns) / 1000.0; }

llvm::Error memscope::merge::writeChromeTrace(const Analysis &Result,
                                              llvm::StringRef Path) {
  uint64_t Earliest = UINT64_MAX;
  for (const ProcessReport &P : Result.Processes)
    Earliest = std::min(Earliest, P.StartRealtimeNs);
  std::unordered_map<uint32_t, uint64_t> Offset; // pid -> ns after Earliest
  for (const ProcessReport &P : Result.Processes)
    Offset[P.Pid] = P.StartRealtimeNs - Earliest;

  ordered_json Events = ordered_json::array();
  auto Meta = [&](const char *Name, uint32_t Pid, std::optional<uint64_t> Tid,
                  ordered_json Args) {
    ordered_json E{{"ph", "M"}, {"name", Name}, {"pid", Pid}};
    if (Tid)
      E["tid"] = *Tid;
    E["args"] = std::move(Args);
    Events.push_back(std::move(E));
  };
  // Counter tracks, and instant events of a process (Tid 0: "s": "p") or
  // of one of its threads ("s": "t").
  auto Counter = [&](const char *Name, uint32_t Pid, uint64_t Ns,
                     ordered_json Args) {
    Events.push_back({{"ph", "C"},
                      {"name", Name},
                      {"pid", Pid},
                      {"ts", micros(Ns)},
                      {"args", std::move(Args)}});
  };
  auto Instant = [&](const std::string &Name, uint32_t Pid, uint64_t Tid,
                     uint64_t Ns, ordered_json Args = nullptr) {
    ordered_json E{{"ph", "i"}, {"s", Tid ? "t" : "p"}, {"name", Name}};
    if (Tid)
      E["cat"] = "thread";
    E["pid"] = Pid;
    E["tid"] = Tid;
    E["ts"] = micros(Ns);
    if (!Args.is_null())
      E["args"] = std::move(Args);
    Events.push_back(std::move(E));
  };
  for (const ProcessReport &P : Result.Processes) {
    std::string Exe = P.Executable.empty()
                          ? std::string("<unknown>")
                          : llvm::sys::path::filename(P.Executable).str();
    Meta("process_name", P.Pid, std::nullopt,
         {{"name", Exe + " (" + processStatusName(P.Status) + ")"}});
    uint64_t Base = Offset[P.Pid];
    // Counter tracks live at the process level.
    for (const LivePoint &Point : P.LiveTimeline)
      Counter("live heap (estimated bytes)", P.Pid, Base + Point.TimeNs,
              {{"bytes", std::llround(Point.MaxBytes)}});
    if (P.PeakLiveBytes > 0)
      Instant("peak live heap", P.Pid, 0, Base + P.PeakLiveTimeNs,
              {{"bytes", std::llround(P.PeakLiveBytes)}});
    if (P.Resources)
      for (const ResourceSample &Sample : P.Resources->Samples) {
        Counter("RSS (bytes)", P.Pid, Base + Sample.TimeNs,
                {{"rss", Sample.RssBytes}});
        if (Sample.CpuPercent)
          Counter("CPU (% of one core)", P.Pid, Base + Sample.TimeNs,
                  {{"cpu", *Sample.CpuPercent}});
      }
    if (P.Status == ProcessStatus::Crashed)
      Instant("crashed: " + signalName(P.Signal), P.Pid, 0,
              Base + P.DurationNs);
  }

  for (size_t I = 0; I < Result.Threads.size(); ++I) {
    const ThreadReport &T = Result.Threads[I];
    uint64_t Base = Offset.count(T.Pid) ? Offset[T.Pid] : 0;
    // OS thread ids can be reused; the process-unique id cannot.
    uint64_t Tid = T.ThreadId ? T.ThreadId : 1000000 + I;
    std::string Name =
        T.Name.empty() ? "thread " + std::to_string(T.ThreadId) : T.Name;
    Meta("thread_name", T.Pid, Tid,
         {{"name", fmt::format("{} [tid {}]", Name, T.Tid)}});
    Meta("thread_sort_index", T.Pid, Tid, {{"sort_index", T.ThreadId}});
    ordered_json Args{{"thread_id", T.ThreadId},
                      {"os_tid", T.Tid},
                      {"parent_thread_id", T.ParentThreadId},
                      {"allocations", std::llround(T.Allocations)},
                      {"bytes", std::llround(T.Bytes)},
                      {"live_bytes_at_exit", std::llround(T.LiveBytesAtExit)},
                      {"running_at_exit", T.RunningAtExit}};
    if (T.SpawnLocation)
      Args["spawned_at"] =
          fmt::format("{}:{}", T.SpawnLocation->File, T.SpawnLocation->Line);
    Events.push_back({{"ph", "X"},
                      {"name", Name},
                      {"cat", "thread"},
                      {"pid", T.Pid},
                      {"tid", Tid},
                      {"ts", micros(Base + T.StartNs)},
                      {"dur", micros(T.LifetimeNs)},
                      {"args", std::move(Args)}});
    Instant("thread start", T.Pid, Tid, Base + T.StartNs);
    if (T.EndNs && !T.RunningAtExit)
      Instant("thread end", T.Pid, Tid, Base + *T.EndNs);
  }

  ordered_json Trace;
  Trace["traceEvents"] = std::move(Events);
  Trace["displayTimeUnit"] = "ms";
  Trace["otherData"] = {{"generator", "memscope-merge"},
                        {"input", Result.Input}};
  return writeTextFile(
      Path,
      Trace.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}
