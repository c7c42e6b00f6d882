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
// The 95% interval treats the figure as a scaled Poisson count with
// n = value^2 / variance effective samples (exactly that when every block is
// much smaller than T, where the value is T times the samples) and takes
// Garwood's interval for a Poisson mean, so that a site of one or two
// samples gets the wide, asymmetric interval it deserves rather than a
// normal one that dips below zero. Exact figures (variance 0) get
// [value, value]. bench/run_bench.py measures the intervals' coverage.
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

/// The 95% interval of an estimate with the given estimated variance.
Interval interval95(double Value, double Variance);

/// Effective samples behind an estimate: Value^2 / Variance (infinite when
/// the figure is exact).
double effectiveSamples(double Value, double Variance);

} // namespace merge
} // namespace memscope

#endif // MEMSCOPE_MERGE_ESTIMATES_H
