//===- Bottlenecks.h - The bottleneck rules ---------------------*- C++ -*-===//
//
// The rules of docs/api.md ("Bottleneck rules"), computed over a finished
// Analysis. Every threshold is a named constant below; docs/api.md and
// docs/analysis-schema.md ("bottlenecks[]") describe the same numbers.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_BOTTLENECKS_H
#define MEMSCOPE_MERGE_BOTTLENECKS_H

#include "Analysis.h"

#include <cstddef>
#include <string>
#include <vector>

namespace memscope {
namespace merge {
namespace rules {

constexpr double MiB = 1024.0 * 1024.0;

/// hot_site_bytes: a site allocates at least this share of all bytes...
constexpr double HotSiteBytesPercent = 20;
/// ...and at least this many bytes.
constexpr double HotSiteMinBytes = 1 * MiB;

/// hot_site_count: a site makes at least this share of all allocations...
constexpr double HotSiteCountPercent = 20;
/// ...and at least this many.
constexpr double HotSiteMinAllocations = 1000;

/// temporaries: the freed blocks of a site live at most this long on
/// average (microseconds)...
constexpr double TemporaryMaxLifetimeUs = 1000;
/// ...and the site makes at least this share of all allocations...
constexpr double TemporaryMinAllocationPercent = 5;
/// ...and at least this many of its blocks were freed (samples), so that
/// the mean lifetime is a measurement, not one block.
constexpr uint64_t TemporaryMinFreedSamples = 20;

/// leak: a site still holds at least this many bytes at exit. Sites whose
/// file is <uninstrumented> are not reported (libstdc++'s emergency
/// exception pool is allocated at startup and never freed).
constexpr double LeakMinBytes = 1 * MiB;

/// realloc_churn: a realloc/reallocarray site reallocates at least this
/// many times.
constexpr double ReallocChurnMinReallocations = 1000;

/// cross_thread_frees: at least this share of all frees free a block another
/// thread allocated...
constexpr double CrossThreadFreePercent = 10;
/// ...and at least this many.
constexpr double CrossThreadMinFrees = 1000;

/// thread_imbalance: a spawn site created at least this many threads
/// (Memscope's own threads not counted)...
constexpr size_t ImbalanceMinThreads = 4;
/// ...and the busiest allocates at least this multiple of their mean bytes...
constexpr double ImbalanceMaxToMean = 2;
/// ...and every one of them has at least this many samples: under sampling
/// a thread's bytes are an estimate, and a handful of samples is noise.
constexpr uint64_t ImbalanceMinSamplesPerThread = 20;

/// Bottlenecks reported per kind, at most.
constexpr size_t MaxPerKind = 20;

} // namespace rules

/// Every rule that fires, sorted by kind, then value descending, at most
/// rules::MaxPerKind per kind.
std::vector<Bottleneck> findBottlenecks(const Analysis &Result);

/// "512 bytes", "6.4 MiB", ...: for sentences, not for numbers in columns.
std::string humanBytes(double Bytes);

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_BOTTLENECKS_H
