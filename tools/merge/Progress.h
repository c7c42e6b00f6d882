//===-- Progress.h - Progress of a long merge on a terminal -----*- C++ -*-===//
//
// A merge that takes more than a second says how far it is, on stderr when
// stderr is a terminal: one line, rewritten every second, with the bytes of
// log read and the processes done. Quiet otherwise (pipes, CI logs, -q).
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_PROGRESS_H
#define MEMSCOPE_MERGE_PROGRESS_H

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace memscope {
namespace merge {

class Progress {
public:
  /// Starts the ticker when \p Enabled: its first line after \p Delay.
  Progress(bool Enabled, std::chrono::milliseconds Delay);
  /// Stops it and ends its line.
  ~Progress();
  Progress(const Progress &) = delete;
  Progress &operator=(const Progress &) = delete;

  /// What the merge has ahead: every log is read twice (validated, then
  /// streamed).
  void setWork(uint64_t LogBytes, uint64_t Processes) {
    TotalBytes.store(2 * LogBytes, std::memory_order_relaxed);
    TotalProcesses.store(Processes, std::memory_order_relaxed);
  }
  void addBytes(uint64_t Bytes) {
    BytesRead.fetch_add(Bytes, std::memory_order_relaxed);
  }
  void processDone() { ProcessesDone.fetch_add(1, std::memory_order_relaxed); }
  /// The counter the streamer adds each record's bytes to.
  std::atomic<uint64_t> *bytesCounter() { return &BytesRead; }

private:
  void run(std::chrono::milliseconds Delay);
  void print();

  std::atomic<uint64_t> TotalBytes{0}, BytesRead{0};
  std::atomic<uint64_t> TotalProcesses{0}, ProcessesDone{0};
  std::mutex Lock;
  std::condition_variable Stop;
  bool Stopping = false;
  bool Printed = false;
  std::thread Ticker;
};

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_PROGRESS_H
