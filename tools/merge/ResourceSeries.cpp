//===-- ResourceSeries.cpp - A process's resource samples as a series -----===//
//
// ResourceSample records (cumulative /proc counters, written by
// PlatformResourceCollector) as a time series of CPU percent, RSS and I/O,
// with the run's peaks and averages.
//
//===----------------------------------------------------------------------===//

#include "ProcessModel.h"

#include "llvm/ADT/STLExtras.h"

#include <tuple>

using namespace memscope;
using namespace memscope::merge;

std::optional<ResourceReport>
memscope::merge::resourceReport(std::vector<log::ResourceSampleRecord> Records,
                                uint64_t StartMonotonicNs) {
  if (Records.empty())
    return std::nullopt;
  llvm::sort(Records, [](const log::ResourceSampleRecord &A,
                         const log::ResourceSampleRecord &B) {
    return std::tie(A.monotonic_ns, A.cpu_user_ns, A.cpu_system_ns) <
           std::tie(B.monotonic_ns, B.cpu_user_ns, B.cpu_system_ns);
  });
  auto Cpu = [](const log::ResourceSampleRecord &R) {
    return R.cpu_user_ns + R.cpu_system_ns;
  };
  // Counters are cumulative, so differences are never negative; clamp in
  // case a damaged record says otherwise.
  auto Delta = [](uint64_t Later, uint64_t Earlier) {
    return Later > Earlier ? Later - Earlier : 0;
  };
  ResourceReport Report;
  for (size_t I = 0; I < Records.size(); ++I) {
    const log::ResourceSampleRecord &R = Records[I];
    ResourceSample Sample{Delta(R.monotonic_ns, StartMonotonicNs),
                          std::nullopt,
                          R.rss_bytes,
                          R.read_bytes,
                          R.write_bytes,
                          R.read_calls,
                          R.write_calls,
                          R.threads};
    if (I > 0) {
      const log::ResourceSampleRecord &Previous = Records[I - 1];
      uint64_t Wall = Delta(R.monotonic_ns, Previous.monotonic_ns);
      if (Wall > 0)
        Sample.CpuPercent =
            double(Delta(Cpu(R), Cpu(Previous))) * 100.0 / double(Wall);
    }
    if (Sample.CpuPercent &&
        (!Report.PeakCpuPercent || *Sample.CpuPercent > *Report.PeakCpuPercent))
      Report.PeakCpuPercent = Sample.CpuPercent;
    Report.PeakRssBytes = std::max(Report.PeakRssBytes, R.rss_bytes);
    Report.Samples.push_back(Sample);
  }
  const log::ResourceSampleRecord &First = Records.front();
  const log::ResourceSampleRecord &Last = Records.back();
  if (uint64_t Wall = Delta(Last.monotonic_ns, First.monotonic_ns))
    Report.AverageCpuPercent =
        double(Delta(Cpu(Last), Cpu(First))) * 100.0 / double(Wall);
  Report.IoOperations = Delta(Last.read_calls + Last.write_calls,
                              First.read_calls + First.write_calls);
  Report.BytesRead = Delta(Last.read_bytes, First.read_bytes);
  Report.BytesWritten = Delta(Last.write_bytes, First.write_bytes);
  return Report;
}
