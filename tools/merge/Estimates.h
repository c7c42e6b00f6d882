//===-- Estimates.h - How good a sampled figure is ------------*- C++ -*-===//
//
// A sampled block was kept with probability p (byte sampling at interval T:
// p = 1 - exp(-size/T); rate sampling: p = rate), independently of every
// other block, because the runtime's countdown is a Poisson process over the
// bytes allocated. It carries the weight w = 1/p. A figure is a sum of
// w * y over its samples (y = the size for bytes, 1 for counts): the
// Horvitz-Thompson estimator, which is unbiased, and whose variance is
// estimated without bias by the sum of (w^2 - w) * y^2 over the same
// samples. AllocationStats keeps those sums next to the figures.
//
// The sampled blocks themselves (their y summed: the observed part) are
// certain; only the rest, sum of (w - 1) * y, is estimated, and all of the
// variance is its. The 95% interval treats that rest as a scaled Poisson
// count with n = rest^2 / variance effective samples (exactly that when every
// block is much smaller than T, where the rest is about T per sample) and
// takes Garwood's interval for a Poisson mean, so that a site of one or two
// samples gets the wide, asymmetric interval it deserves rather than a
// normal one that dips below zero, and a site that mixes a few large blocks
// (sampled with p near 1) with rare small ones is not given the large
// blocks' certainty. Exact figures (variance 0) get [value, value].
//
// A figure with no estimated rest (no sample at all, or only samples kept
// with certainty) is not thereby certain in a byte-sampled run: blocks that
// no sample revealed may still hold up to unseenBytes() more. A site with
// samples but none live at exit does not prove that it leaked nothing.
// test/unit/merge/EstimatesTest.cpp checks the coverage on simulated
// sampling, bench/run_bench.py on real runs against exact mode.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_ESTIMATES_H
#define MEMSCOPE_MERGE_ESTIMATES_H

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace memscope {
namespace merge {

/// The variance term one sample of weight \p Weight adds to a figure that
/// counts \p Value per block.
inline double sampleVariance(double Weight, double Value) {
  return (Weight * Weight - Weight) * Value * Value;
}

struct Interval {
  double Low = 0;
  double High = 0;
};

/// What blocks that no sample revealed may hold, at 97.5%, in a run
/// byte-sampled at a mean interval of \p IntervalBytes: blocks of B bytes in
/// all, whatever their sizes, escape the countdown with probability
/// exp(-B/T), so B <= ln(40) T. It is Garwood's upper end for a Poisson count
/// of 0 (the interval below with n = 0), in units of T.
inline double unseenBytes(double IntervalBytes) {
  return std::log(40.0) * IntervalBytes;
}

/// The 95% interval of an estimate with the given estimated variance, of
/// which \p Observed (the sum of y over the samples) is certain. When the
/// samples leave no rest to estimate, the interval is [Value, Value +
/// \p Unseen]: unseenBytes() for a figure in bytes of a byte-sampled run, 0
/// where no bound exists or none is needed (exact mode; rate sampling, which
/// may miss a block of any size; counts).
Interval interval95(double Value, double Variance, double Observed,
                    double Unseen = 0);

/// interval95 of bytes live at some moment, which cannot be more than what
/// was allocated, nor more than the heap in use then: \p CountedHigh, a count
/// of either, caps it; \p EstimatedHigh, an estimate's upper end of the
/// bytes allocated, caps only what no sample revealed (where the samples
/// leave no rest). Infinity where there is none.
Interval liveInterval95(double Live, double Variance, double Observed,
                        double Unseen, double EstimatedHigh,
                        double CountedHigh = HUGE_VAL);

/// The runtime counts the heap in use in glibc's chunk sizes (log::HeapCounts):
/// a block's request plus glibc's header and rounding, its overhead.
/// glibcOverhead is that overhead for a request: the chunk is the request
/// plus an 8-byte header rounded up to 16, at least 32 bytes; from glibc's
/// mmap threshold (128 KiB of chunk at first) the chunk is mapped: that size
/// plus 8 more, rounded up to a 4 KiB page. glibc raises the threshold when
/// a program frees a mapped chunk, and a program may move it: the merge
/// cannot tell, and assumes it stays.
///
/// Inline, as OverheadTally::add: the merge takes them for every event.
constexpr uint64_t kMmapThreshold = 128 * 1024, kGlibcPage = 4096;
inline uint64_t glibcHeapChunk(uint64_t Requested) {
  return std::max<uint64_t>((Requested + 8 + 15) & ~uint64_t(15), 32);
}
inline bool glibcMappedChunk(uint64_t Requested) {
  return glibcHeapChunk(Requested) >= kMmapThreshold;
}
inline double glibcOverhead(uint64_t Requested) {
  uint64_t Chunk = glibcHeapChunk(Requested);
  if (Chunk >= kMmapThreshold)
    Chunk = (Chunk + 8 + kGlibcPage - 1) & ~(kGlibcPage - 1);
  return double(Chunk - Requested);
}
/// The overhead of sampled blocks, weighted by the blocks each stands for
/// (negative weights take blocks away). Mapped chunks (up to 4 KiB of
/// overhead each, about 2 KiB on average) are kept apart from the rest (8 to
/// 32 bytes each, more for aligned allocations): mixed into one mean, one
/// sampled mapped block would set the overhead of thousands of small ones.
struct OverheadTally {
  double SmallSum = 0, SmallBlocks = 0;
  double MappedSum = 0, MappedBlocks = 0;
  void add(uint64_t Requested, double Weight) {
    double Overhead = glibcOverhead(Requested);
    if (glibcMappedChunk(Requested)) {
      MappedSum += Weight * Overhead;
      MappedBlocks += Weight;
    } else {
      SmallSum += Weight * Overhead;
      SmallBlocks += Weight;
    }
  }
};
/// The mean overhead of a block under the mmap threshold when no sampled
/// block gives one: that of requests spread evenly over those sizes.
constexpr double kTypicalOverhead = 15.5;
/// Requested bytes are the chunk bytes less the blocks' overhead: the
/// sampled mapped blocks' (\p Live; no more of them than \p Blocks), and for
/// the rest their mean overhead, from \p Live's small blocks (failing those,
/// \p Fallback's; failing any, kTypicalOverhead), kept within 8 to 32 bytes.
///
/// Range is not a bound of that conversion: it allows kOverheadSpread bytes
/// a block not counted as mapped for the estimated mean (the mean of the
/// blocks in use can differ from the sampled blocks' by more, and aligned
/// allocations have more), the mapped blocks' overhead upwards (glibc may
/// have kept them in its heap), and the count's own uncertainty (threads'
/// pending changes). Ceiling is certain: no request is larger than its
/// chunk, so the requested bytes are at most the chunk bytes plus that
/// uncertainty.
constexpr double kOverheadSpread = 8;
struct CountedBytes {
  double Value = 0;
  Interval Range;
  double Ceiling = HUGE_VAL;
};
CountedBytes requestedFromChunks(int64_t ChunkBytes, int64_t Blocks,
                                 uint64_t Uncertainty,
                                 const OverheadTally &Live,
                                 const OverheadTally &Fallback = {});

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_ESTIMATES_H
