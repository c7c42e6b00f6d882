//===-- Estimates.cpp - How good a sampled figure is ----------------------===//
#include "Estimates.h"

#include <algorithm>
#include <cmath>

using namespace memscope::merge;

namespace {

constexpr double kZ975 = 1.959963984540054; // the normal's 97.5% point

/// The quantile at normal deviate \p Z of a Gamma(Shape, 1) distribution,
/// by Wilson and Hilferty's cube-root approximation (relative error below
/// 1% from shape 2 on; at shape 1 its 2.5% point is 0.013 against 0.025,
/// which only widens the interval).
double gammaQuantile(double Shape, double Z) {
  if (Shape <= 0)
    return 0;
  double Root = 1 - 1 / (9 * Shape) + Z / (3 * std::sqrt(Shape));
  return Root <= 0 ? 0 : Shape * Root * Root * Root;
}

// A heap chunk's overhead is 8 to 32 bytes (more for an aligned allocation).
constexpr double kMinOverhead = 8, kMaxSmallOverhead = 32;

} // namespace

CountedBytes memscope::merge::requestedFromChunks(
    int64_t ChunkBytes, int64_t Blocks, uint64_t Uncertainty,
    const OverheadTally &Live, const OverheadTally &Fallback) {
  double SmallMean = Live.SmallBlocks >= 1 ? Live.SmallSum / Live.SmallBlocks
                     : Fallback.SmallBlocks >= 1
                         ? Fallback.SmallSum / Fallback.SmallBlocks
                         : kTypicalOverhead;
  // A crafted log's weights can make the sums infinite or NaN.
  SmallMean = std::isfinite(SmallMean)
                  ? std::clamp(SmallMean, kMinOverhead, kMaxSmallOverhead)
                  : kTypicalOverhead;
  double InUse = double(std::max<int64_t>(Blocks, 0));
  double Mapped = 0, MappedOverhead = 0;
  if (Live.MappedBlocks > 0 && std::isfinite(Live.MappedBlocks) &&
      std::isfinite(Live.MappedSum)) {
    // No more mapped blocks than blocks in use, each at its estimated mean.
    Mapped = std::min(Live.MappedBlocks, InUse);
    MappedOverhead =
        std::max(Live.MappedSum, 0.0) * (Mapped / Live.MappedBlocks);
  }
  double Small = InUse - Mapped;
  double Chunks = double(ChunkBytes);
  double Value = std::max(Chunks - MappedOverhead - Small * SmallMean, 0.0);
  double Spread = Small * kOverheadSpread + double(Uncertainty);
  double Ceiling = std::max(Chunks + double(Uncertainty), 0.0);
  // glibc may have served a large request from its heap (its threshold
  // rises): the high end allows that none of them was mapped.
  return {Value,
          {std::max(Value - Spread, 0.0),
           std::min(Value + Spread + MappedOverhead, Ceiling)},
          Ceiling};
}

Interval memscope::merge::interval95(double Value, double Variance,
                                     double Observed, double Unseen) {
  double Rest = Value - std::clamp(Observed, 0.0, Value);
  if (!(Rest > 0) || !(Variance > 0) || !std::isfinite(Variance))
    return {Value, Value + std::max(Unseen, 0.0)};
  double N = Rest * Rest / Variance; // effective samples of the rest
  // Garwood: a Poisson count of N has the 95% interval
  // [Gamma(N).q(2.5%), Gamma(N + 1).q(97.5%)] for its mean.
  double Scale = Rest / N;
  double Low = Value - Rest + gammaQuantile(N, -kZ975) * Scale;
  double High = Value - Rest + gammaQuantile(N + 1, kZ975) * Scale;
  return {std::min(Low, Value), std::max(High, Value)};
}

Interval memscope::merge::liveInterval95(double Live, double Variance,
                                         double Observed, double Unseen,
                                         double EstimatedHigh,
                                         double CountedHigh) {
  Interval Range = interval95(Live, Variance, Observed);
  // Where the samples leave a rest, their own interval; else what no sample
  // revealed, within what an estimate says was allocated.
  if (!(Range.High > Live))
    Range.High = std::min(Live + std::max(Unseen, 0.0), EstimatedHigh);
  Range.High = std::max(Live, std::min(Range.High, CountedHigh));
  return Range;
}
