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
// tools/merge/unittests/EstimatesTest.cpp checks the coverage on simulated
// sampling, bench/run_bench.py on real runs against exact mode.
//
//===----------------------------------------------------------------------===//
#ifndef MEMSCOPE_MERGE_ESTIMATES_H
#define MEMSCOPE_MERGE_ESTIMATES_H

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

/// The 95% interval of an estimate with the given estimated variance, of
/// which \p Observed (the sum of y over the samples) is certain.
Interval interval95(double Value, double Variance, double Observed);

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_ESTIMATES_H
