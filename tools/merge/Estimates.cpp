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

} // namespace

Interval memscope::merge::interval95(double Value, double Variance,
                                     double Observed) {
  double Rest = Value - std::clamp(Observed, 0.0, Value);
  if (!(Rest > 0) || !(Variance > 0) || !std::isfinite(Variance))
    return {Value, Value};
  double N = Rest * Rest / Variance; // effective samples of the rest
  // Garwood: a Poisson count of N has the 95% interval
  // [Gamma(N).q(2.5%), Gamma(N + 1).q(97.5%)] for its mean.
  double Scale = Rest / N;
  double Low = Value - Rest + gammaQuantile(N, -kZ975) * Scale;
  double High = Value - Rest + gammaQuantile(N + 1, kZ975) * Scale;
  return {std::min(Low, Value), std::max(High, Value)};
}
