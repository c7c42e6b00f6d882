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
  while (Cursor.next(Record)) {
    bool Ok = true;
    switch (Record.Type) {
    case log::RecordType::ProcessInfo: {
      ProcessInfo Info;
      if ((Ok = decodeProcessInfo(Record.Payload, Info)))
        P.Info = std::move(Info);
      break;
    }
    case log::RecordType::Module: {
      ModuleInfo Module;
      if ((Ok = decodeModule(Record.Payload, Module)))
        P.Modules.add(Module);
      break;
    }
    case log::RecordType::Site: {
      SiteInfo Site;
      if ((Ok = decodeSite(Record.Payload, Site)))
        P.Sites.try_emplace(Site.Id, std::move(Site)); // spelled in stage 3
      break;
    }
    case log::RecordType::ProcessEnd: {
      log::ProcessEndRecord End;
      std::optional<log::ThreadTotals> Unlogged;
      std::optional<log::HeapCounts> Heap;
      if ((Ok = decodeProcessEnd(Record.Payload, End, &Unlogged, &Heap))) {
        P.End = End;
        P.UnloggedTotals = Unlogged;
        P.Heap = Heap;
      }
      break;
    }
    case log::RecordType::Warning: {
      std::string Message;
      decodeWarning(Record.Payload, Message);
      P.warn(fmt::format("{}: runtime warning: {}", File.Path, Message));
      break;
    }
    case log::RecordType::ThreadRunning: {
      log::ThreadRunningRecord Running;
      std::optional<log::ThreadTotals> Totals;
      if ((Ok = decodeThreadRunning(Record.Payload, Running, &Totals))) {
        auto [It, Inserted] = P.Running.try_emplace(Running.thread_id, Running);
        if (Inserted || Running.monotonic_ns >= It->second.monotonic_ns) {
          It->second = Running;
          if (Totals)
            P.RunningTotals[Running.thread_id] = *Totals;
          else
            P.RunningTotals.erase(Running.thread_id);
        }
      }
      break;
    }
    case log::RecordType::ResourceSample: {
      log::ResourceSampleRecord Sample;
      if ((Ok = decodeResourceSample(Record.Payload, Sample)))
        P.ResourceSamples.push_back(Sample);
      break;
    }
    case log::RecordType::Padding:
      break;
    default:
      ++Misplaced;
      break;
    }
    Malformed += !Ok;
  }
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
