//===-- Window.cpp - --from/--to: a window of a run ----------------------===//
//
// A report of a window covers the allocations made in it: their counts and
// sites, their frees inside it, and which of them are live at its end
// ("live at exit"). Each end is seconds since the process started, or one of
// its snapshots (Snapshot records, written on a signal or a
// memscope_snapshot() call), so that "what changed between snapshot 3 and
// 5" is --from=snapshot:3 --to=snapshot:5.
//
//===----------------------------------------------------------------------===//

#include "ProcessModel.h"

#include "llvm/ADT/StringExtras.h"

#include <cmath>

using namespace memscope;
using namespace memscope::merge;

llvm::Expected<WindowBound>
memscope::merge::parseWindowBound(llvm::StringRef Text) {
  WindowBound Bound;
  Bound.Text = Text.str();
  llvm::StringRef Rest = Text.trim();
  if (Rest.consume_front("snapshot:") || Rest.consume_front("#")) {
    if (Rest.getAsInteger(10, Bound.Snapshot) || Bound.Snapshot == 0)
      return llvm::createStringError(
          std::errc::invalid_argument,
          "'%s' is not a snapshot: snapshots are numbered from 1 "
          "(snapshot:1)",
          Bound.Text.c_str());
    Bound.IsSnapshot = true;
    return Bound;
  }
  double Scale = 1e9;
  for (auto [Suffix, Factor] : {std::pair<const char *, double>{"ms", 1e6},
                                {"s", 1e9},
                                {"m", 60e9},
                                {"h", 3600e9}})
    if (Rest.consume_back(Suffix)) {
      Scale = Factor;
      break;
    }
  double Value = 0;
  if (Rest.empty() || Rest.getAsDouble(Value) || !std::isfinite(Value) ||
      Value < 0 || Value * Scale > 1.8e19)
    return llvm::createStringError(
        std::errc::invalid_argument,
        "'%s' is neither a time since the process started (30, 1.5s, 500ms, "
        "2m, 1h) nor a snapshot (snapshot:3)",
        Bound.Text.c_str());
  Bound.Ns = static_cast<uint64_t>(std::llround(Value * Scale));
  return Bound;
}

void memscope::merge::resolveWindow(ProcessData &P,
                                    const std::optional<WindowBound> &From,
                                    const std::optional<WindowBound> &To) {
  if (!From && !To)
    return;
  P.Windowed = true;
  // The runtime's count of the peak covers the whole run.
  P.Heap.reset();
  auto Resolve = [&](const WindowBound &Bound, const char *Option,
                     uint64_t &Out) {
    if (!Bound.IsSnapshot) {
      Out = P.StartMonotonicNs + Bound.Ns;
      return;
    }
    for (const log::SnapshotRecord &Snapshot : P.Snapshots)
      if (Snapshot.number == Bound.Snapshot) {
        Out = Snapshot.monotonic_ns;
        return;
      }
    uint64_t Last = 0;
    for (const log::SnapshotRecord &Snapshot : P.Snapshots)
      Last = std::max(Last, Snapshot.number);
    P.WindowError = fmt::format(
        "{}={}: pid {} has no snapshot {} ({})", Option, Bound.Text, P.Pid,
        Bound.Snapshot,
        Last ? fmt::format("its snapshots are 1 to {}", Last)
             : std::string("it took none: send it the snapshot signal, or "
                           "call memscope_snapshot()"));
  };
  if (From)
    Resolve(*From, "--from", P.WindowFromNs);
  if (To && P.WindowError.empty())
    Resolve(*To, "--to", P.WindowToNs);
  if (P.WindowError.empty() && P.WindowFromNs > P.WindowToNs)
    P.WindowError = fmt::format("--from={} is after --to={} in pid {}",
                                From->Text, To->Text, P.Pid);
}
