//===-- Progress.cpp - Progress of a long merge on a terminal -------------===//
//
// See Progress.h.
//
//===----------------------------------------------------------------------===//

#include "Progress.h"

#include <cstdio>

using namespace memscope::merge;

Progress::Progress(bool Enabled, std::chrono::milliseconds Delay) {
  if (Enabled)
    Ticker = std::thread([this, Delay] { run(Delay); });
}

Progress::~Progress() {
  if (!Ticker.joinable())
    return;
  {
    std::lock_guard<std::mutex> Guard(Lock);
    Stopping = true;
  }
  Stop.notify_all();
  Ticker.join();
  if (Printed) {
    print();
    std::fputc('\n', stderr);
  }
}

void Progress::run(std::chrono::milliseconds Delay) {
  std::unique_lock<std::mutex> Guard(Lock);
  if (Stop.wait_for(Guard, Delay, [this] { return Stopping; }))
    return;
  while (true) {
    print();
    Printed = true;
    if (Stop.wait_for(Guard, std::chrono::seconds(1),
                      [this] { return Stopping; }))
      return;
  }
}

void Progress::print() {
  uint64_t Total = TotalBytes.load(std::memory_order_relaxed);
  uint64_t Read = BytesRead.load(std::memory_order_relaxed);
  if (Read > Total)
    Read = Total;
  // One write, so that the line is not torn by another writer of stderr.
  char Line[160];
  int Length = std::snprintf(
      Line, sizeof(Line),
      "\rmemscope-merge: %3d%%: %llu of %llu MB of logs read, %llu of %llu "
      "processes streamed ",
      Total ? int(100 * Read / Total) : 0,
      static_cast<unsigned long long>(Read >> 20),
      static_cast<unsigned long long>(Total >> 20),
      static_cast<unsigned long long>(
          ProcessesDone.load(std::memory_order_relaxed)),
      static_cast<unsigned long long>(
          TotalProcesses.load(std::memory_order_relaxed)));
  if (Length > 0)
    std::fwrite(Line, 1,
                size_t(Length) < sizeof(Line) ? size_t(Length)
                                              : sizeof(Line) - 1,
                stderr);
  std::fflush(stderr);
}
