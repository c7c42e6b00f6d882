//===-- Estimates.cpp - How good a sampled figure is ----------------------===//
#include "Estimates.h"

#include <algorithm>
#include <cmath>
#include <limits>

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

double memscope::merge::effectiveSamples(double Value, double Variance) {
  if (!(Variance > 0))
    return std::numeric_limits<double>::infinity();
  return Value * Value / Variance;
}

Interval memscope::merge::interval95(double Value, double Variance) {
  if (!(Value > 0) || !(Variance > 0) || !std::isfinite(Variance))
    return {Value, Value};
  double N = effectiveSamples(Value, Variance);
  // Garwood: a Poisson count of N has the 95% interval
  // [Gamma(N).q(2.5%), Gamma(N + 1).q(97.5%)] for its mean.
  double Scale = Value / N;
  double Low = gammaQuantile(N, -kZ975) * Scale;
  double High = gammaQuantile(N + 1, kZ975) * Scale;
  return {std::min(Low, Value), std::max(High, Value)};
}
