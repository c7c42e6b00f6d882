//===-- ProcessLog.cpp - Decoding process.log -----------------------------===//
//
// process.log holds what concerns the whole process: ProcessInfo, the module
// map, Site records, ProcessEnd (with the totals of threads that ended
// without a log), ThreadRunning and ResourceSample records.
//
//===----------------------------------------------------------------------===//

#include "ProcessModel.h"

using namespace memscope;
using namespace memscope::merge;

void memscope::merge::decodeProcessLog(ProcessData &P) {
  if (!P.ProcessLog || !P.ProcessLog->Usable) {
    P.warn(fmt::format("{}: no usable process.log; process information, "
                       "sites and modules are missing",
                       P.Folder.Path));
    return;
  }
  const LogFile &File = *P.ProcessLog;
  uint64_t Malformed = 0, Misplaced = 0;
  RecordCursor Cursor(File);
  RecordView Record;
  ProcessRecord Decoded;
  while (Cursor.next(Record)) {
    switch (decodeProcessRecord(Record, Decoded)) {
    case RecordFit::Malformed:
      ++Malformed;
      continue;
    case RecordFit::Misplaced:
      ++Misplaced;
      continue;
    case RecordFit::Decoded:
      break;
    }
    std::visit(
        Overloaded{
            [&](ProcessInfo &Info) { P.Info = std::move(Info); },
            [&](ModuleInfo &Module) { P.Modules.add(Module); },
            [&](SiteInfo &Site) {
              // Spelled in stage 3.
              P.Sites.try_emplace(Site.Id, std::move(Site));
            },
            [&](ProcessEndInfo &End) {
              P.End = End.Fixed;
              P.UnloggedTotals = End.Unlogged;
              P.Heap = End.Heap;
              P.HeapAtExit = End.HeapAtExit;
            },
            [&](WarningInfo &Warning) {
              P.warn(fmt::format("{}: runtime warning: {}", File.Path,
                                 Warning.Message));
            },
            [&](ThreadRunningInfo &Running) {
              // The latest record of a thread wins.
              auto [It, Inserted] =
                  P.Running.try_emplace(Running.Fixed.thread_id, Running.Fixed);
              if (!Inserted &&
                  Running.Fixed.monotonic_ns < It->second.monotonic_ns)
                return;
              It->second = Running.Fixed;
              if (Running.Totals)
                P.RunningTotals[Running.Fixed.thread_id] = *Running.Totals;
              else
                P.RunningTotals.erase(Running.Fixed.thread_id);
            },
            [&](log::ResourceSampleRecord &Sample) {
              P.ResourceSamples.push_back(Sample);
            },
            [&](log::SnapshotRecord &Snapshot) {
              P.Snapshots.push_back(Snapshot);
            },
            [&](log::LogLimitRecord &Limit) { P.LogLimits.push_back(Limit); },
            [&](ThreadEndedInfo &End) { P.ThreadsEnded.push_back(End); },
            [](PaddingInfo &) {},
        },
        Decoded);
  }
  llvm::sort(P.LogLimits,
             [](const log::LogLimitRecord &A, const log::LogLimitRecord &B) {
               return std::tie(A.monotonic_ns, A.level, A.flags) <
                      std::tie(B.monotonic_ns, B.level, B.flags);
             });
  auto Full = llvm::find_if(P.LogLimits, [](const log::LogLimitRecord &R) {
    return R.flags & log::LogLimitFull;
  });
  if (Full != P.LogLimits.end())
    P.warn(fmt::format(
        "{}: the logs reached max_log_size at {:.3f} s: no samples after it, "
        "and frees of earlier samples may be lost, so the blocks live at "
        "exit, leaks and in-use figures from then on are upper bounds",
        File.Path, double(P.relative(Full->monotonic_ns)) / 1e9));
  if (!P.LogLimits.empty())
    P.warn(fmt::format(
        "{}: the logs neared max_log_size ({} bytes) and recording was "
        "reduced {} time(s){}; figures from then on are coarser estimates "
        "(processes[].log_limit)",
        File.Path, P.LogLimits.back().max_log_size, P.LogLimits.size(),
        llvm::any_of(P.LogLimits,
                     [](const log::LogLimitRecord &R) {
                       return R.flags & log::LogLimitFull;
                     })
            ? ", up to the cap"
            : ""));
  if (Malformed)
    P.warn(
        fmt::format("{}: ignored {} malformed records", File.Path, Malformed));
  if (Misplaced)
    P.warn(fmt::format("{}: ignored {} thread records in a process log",
                       File.Path, Misplaced));
  if (!P.Info)
    P.warn(fmt::format("{}: no ProcessInfo record", File.Path));
  // A module that defines sites is instrumented, whatever its flags say.
  for (const auto &[Id, Site] : P.Sites)
    P.Modules.markHasSites(Site.ModuleTextAddr);
}
