//===-- Model.cpp - Names and small functions of the report model ---------===//
//
// What Analysis.h declares besides analyze(): site kind and signal names,
// the default system prefixes, and AllocationStats' sums and intervals.
//
//===----------------------------------------------------------------------===//

#include "Analysis.h"
#include "Estimates.h"

#include "memscope/LogFormat.h"
#include "memscope/abi.h"

#include "fmt/format.h"

#include <algorithm>
#include <cstring>

using namespace memscope;
using namespace memscope::merge;

std::vector<std::string> memscope::merge::defaultSystemPrefixes() {
  return {"/usr/include/", "/usr/lib/", "/usr/local/include/", "/lib/",
          "/usr/*/c++/"};
}

const char *memscope::merge::siteKindName(uint32_t Kind) {
  switch (static_cast<msc_site_kind>(Kind)) {
  case MSC_KIND_UNKNOWN:
    return "unknown";
  case MSC_KIND_MALLOC:
    return "malloc";
  case MSC_KIND_CALLOC:
    return "calloc";
  case MSC_KIND_REALLOC:
    return "realloc";
  case MSC_KIND_REALLOCARRAY:
    return "reallocarray";
  case MSC_KIND_ALIGNED_ALLOC:
    return "aligned_alloc";
  case MSC_KIND_MEMALIGN:
    return "memalign";
  case MSC_KIND_POSIX_MEMALIGN:
    return "posix_memalign";
  case MSC_KIND_VALLOC:
    return "valloc";
  case MSC_KIND_STRDUP:
    return "strdup";
  case MSC_KIND_STRNDUP:
    return "strndup";
  case MSC_KIND_NEW:
    return "new";
  case MSC_KIND_NEW_ARRAY:
    return "new[]";
  case MSC_KIND_CUSTOM:
    return "custom";
  case MSC_KIND_FREE:
    return "free";
  case MSC_KIND_DELETE:
    return "delete";
  case MSC_KIND_DELETE_ARRAY:
    return "delete[]";
  case MSC_KIND_CUSTOM_FREE:
    return "custom_free";
  case MSC_KIND_THREAD_SPAWN:
    return "thread_spawn";
  case MSC_KIND_INDIRECT:
    return "indirect";
  case MSC_KIND_POOL_CHUNK:
    return "pool_chunk";
  }
  return "unknown";
}

void AllocationStats::add(const AllocationStats &Other) {
  Allocations += Other.Allocations;
  Bytes += Other.Bytes;
  Frees += Other.Frees;
  FreedBytes += Other.FreedBytes;
  LiveAllocations += Other.LiveAllocations;
  LiveBytes += Other.LiveBytes;
  LifetimeAllocations += Other.LifetimeAllocations;
  LifetimeBytes += Other.LifetimeBytes;
  Samples += Other.Samples;
  LifetimeNs += Other.LifetimeNs;
  FreedSamples += Other.FreedSamples;
  AllocationsVariance += Other.AllocationsVariance;
  BytesVariance += Other.BytesVariance;
  LiveAllocationsVariance += Other.LiveAllocationsVariance;
  LiveBytesVariance += Other.LiveBytesVariance;
  SampledBytes += Other.SampledBytes;
  LiveSampledBytes += Other.LiveSampledBytes;
  LiveSamples += Other.LiveSamples;
  UnseenBytes = std::max(UnseenBytes, Other.UnseenBytes);
}

Interval AllocationStats::bytesInterval() const {
  if (Counted)
    return {Bytes, Bytes};
  return interval95(Bytes, BytesVariance, SampledBytes, UnseenBytes);
}

Interval AllocationStats::allocationsInterval() const {
  return interval95(Allocations, AllocationsVariance, double(Samples));
}

Interval AllocationStats::liveBytesInterval(double CountedHigh) const {
  double Allocated = bytesInterval().High;
  return liveInterval95(LiveBytes, LiveBytesVariance, LiveSampledBytes,
                        UnseenBytes, Counted ? HUGE_VAL : Allocated,
                        std::min(CountedHigh, Counted ? Allocated : HUGE_VAL));
}

std::optional<double> AllocationStats::averageLifetimeNs() const {
  if (!FreedSamples || !(Frees > 0))
    return std::nullopt;
  return LifetimeNs / Frees;
}

const char *memscope::merge::typePeakMethodName(TypePeakMethod Method) {
  switch (Method) {
  case TypePeakMethod::Exact:
    return "exact";
  case TypePeakMethod::UpperBound:
    return "upper_bound";
  case TypePeakMethod::AtProcessPeak:
    return "at_process_peak";
  }
  return "exact";
}

const char *memscope::merge::peakMethodName(PeakMethod Method) {
  switch (Method) {
  case PeakMethod::Exact:
    return "exact";
  case PeakMethod::Counted:
    return "counted";
  case PeakMethod::Sampled:
    return "sampled";
  }
  return "sampled";
}

const char *memscope::merge::processStatusName(ProcessStatus Status) {
  switch (Status) {
  case ProcessStatus::Exited:
    return "exited";
  case ProcessStatus::Crashed:
    return "crashed";
  case ProcessStatus::KilledOrRunning:
    return "killed-or-running";
  case ProcessStatus::Running:
    return "running";
  }
  return "killed-or-running";
}

std::string memscope::merge::signalName(int Signal) {
  if (const char *Abbrev = Signal > 0 ? sigabbrev_np(Signal) : nullptr)
    return std::string("SIG") + Abbrev;
  return fmt::format("signal {}", Signal);
}

bool memscope::merge::isToolThreadName(llvm::StringRef Name) {
  return Name == log::kResourceSamplerThreadName;
}
