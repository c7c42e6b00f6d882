//===-- rt_clock.cpp - The events' clock: the TSC between real reads ------===//
//
// Every allocation and free of exact mode carries a CLOCK_MONOTONIC time, and
// a clock_gettime call, in the vDSO, costs 25 ns on a VM such as this
// project's, a quarter of what an exact-mode event adds. Where the kernel
// itself keeps CLOCK_MONOTONIC by the TSC (its clocksource is "tsc", which it
// picks only when the counters of all CPUs are in step and run at a constant
// rate), the TSC is that clock up to a linear map, and reading it costs
// 10 ns.
//
// So each thread reads CLOCK_MONOTONIC and the TSC together (its anchor) and
// times its next events from the ticks since, for at most 50 us; the next
// event after that reads the real clock again. A pair counts only if its two
// TSC reads are about as close as the closest seen: an interrupt or a VM exit
// between them would leave the clock's moment unknown by microseconds. The
// map's slope is measured against the pair taken at start-up, first after
// 1 ms and again each time the run has doubled in length, so its error falls
// below a few parts per million, under 1 ns over a window. What else can move
// the two clocks apart is the kernel slewing CLOCK_MONOTONIC for NTP (at
// most 500 ppm, 25 ns over a window). A CPU whose counter reads behind the
// anchor (a migrated thread) takes the real clock; a slope that moves by more
// than 0.1% between two measures, or a kernel that has left the TSC (its
// watchdog found it unstable), turns the TSC off for the rest of the run.
//
// The TSC read is not fenced (readTsc says why), so two threads' events
// within about 100 ns of each other may be timed in either order.
//
//===----------------------------------------------------------------------===//
#include "rt_internal.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

namespace memscope {
namespace rt {

EventClock g_event_clock;

namespace {

constexpr uint64_t kWindowNs = 50 * 1000;
constexpr uint64_t kFirstCalibrationNs = 1000 * 1000;
// A pair wider than this is never taken, however wide the closest seen.
constexpr uint64_t kWidestPairTicks = 2000;

// The kernel keeps CLOCK_MONOTONIC by the TSC, tsc_clock=1, and the
// start-up pair is taken (release: g_base_tsc and g_base_ns are set).
std::atomic<bool> g_tsc_wanted{false};
// The TSC was found wanting (turnOff): not used again in this process.
std::atomic<bool> g_tsc_failed{false};
// The start-up pair, taken once per process.
bool g_has_base = false;
uint64_t g_base_tsc = 0;
uint64_t g_base_ns = 0;
// The two TSC reads around a clock_gettime call closest together so far.
std::atomic<uint64_t> g_narrowest_pair{kWidestPairTicks};
// The run's length at the last calibration: the next waits until it doubled.
std::atomic<uint64_t> g_calibrated_over{0};

/// Whether CLOCK_MONOTONIC is the kernel's TSC clock, from sysfs.
bool kernelClockIsTsc() {
  int fd = open("/sys/devices/system/clocksource/clocksource0/"
                "current_clocksource",
                O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  char text[16] = {0};
  ssize_t length = read(fd, text, sizeof(text) - 1);
  close(fd);
  return length >= 3 && memcmp(text, "tsc", 3) == 0 &&
         (length == 3 || text[3] == '\n');
}

/// Every event reads the real clock from now on; for the rest of the
/// process if \p failed, else until a session asks for the TSC again.
void turnOff(bool failed) {
  if (failed)
    g_tsc_failed.store(true, std::memory_order_relaxed);
  g_tsc_wanted.store(false, std::memory_order_relaxed);
  g_event_clock.scale.store(0, std::memory_order_relaxed);
}

/// A CLOCK_MONOTONIC read and the TSC at its moment: the middle of two
/// reads around it. False if they were never about as close as the closest
/// pair seen (twice that, and a little), in \p attempts.
bool readPair(uint64_t &tsc, uint64_t &ns, int attempts) {
  for (int attempt = 0; attempt < attempts; ++attempt) {
    uint64_t before = readTsc();
    ns = monotonicNs();
    uint64_t after = readTsc();
    if (after < before)
      continue;
    uint64_t width = after - before;
    uint64_t narrowest = g_narrowest_pair.load(std::memory_order_relaxed);
    if (width < narrowest)
      g_narrowest_pair.store(width, std::memory_order_relaxed);
    if (width <= 2 * narrowest + 32 && width < kWidestPairTicks) {
      tsc = before + width / 2;
      return true;
    }
  }
  return false;
}

/// Measures the slope against the start-up pair once the run is long
/// enough, or twice as long as at the last measure.
void calibrate(uint64_t tsc, uint64_t ns) {
  if (ns <= g_base_ns || tsc <= g_base_tsc)
    return turnOff(true); // a counter that went back: not the clock we took
  uint64_t elapsed = ns - g_base_ns;
  uint64_t last = g_calibrated_over.load(std::memory_order_relaxed);
  if (elapsed < kFirstCalibrationNs || elapsed < 2 * last ||
      !g_calibrated_over.compare_exchange_strong(last, elapsed,
                                                 std::memory_order_relaxed))
    return;
  if (!kernelClockIsTsc())
    return turnOff(true); // its watchdog found the TSC unstable
  double ns_per_tick =
      static_cast<double>(elapsed) / static_cast<double>(tsc - g_base_tsc);
  if (!(ns_per_tick > 0.01 && ns_per_tick < 100.0))
    return turnOff(true); // under 10 MHz or over 100 GHz
  auto scale = static_cast<uint64_t>(ns_per_tick * 4294967296.0);
  uint64_t previous = g_event_clock.scale.load(std::memory_order_relaxed);
  if (previous) {
    double change = static_cast<double>(scale) / static_cast<double>(previous);
    if (change < 0.999 || change > 1.001)
      return turnOff(true); // the TSC does not keep pace with the clock
  }
  // The window first, so that a thread which sees the new slope never
  // interpolates further than the window this slope allows.
  g_event_clock.window.store(
      static_cast<uint64_t>(static_cast<double>(kWindowNs) / ns_per_tick),
      std::memory_order_relaxed);
  g_event_clock.scale.store(scale, std::memory_order_relaxed);
}

} // namespace

void initEventClock() {
#if defined(__x86_64__)
  // Each session parses its options afresh: tsc_clock=0 turns the TSC off
  // even if an earlier session used it, and tsc_clock=1 on again.
  if (!g_flags.tsc_clock || g_tsc_failed.load(std::memory_order_relaxed))
    return turnOff(false);
  if (!g_has_base) {
    if (!kernelClockIsTsc())
      return;
    // A few pairs first, to learn how close two reads around the clock
    // come on this machine; the slope is measured against the next one.
    uint64_t tsc, ns;
    for (int attempt = 0; attempt < 8; ++attempt)
      readPair(tsc, ns, 1);
    if (!readPair(g_base_tsc, g_base_ns, 8))
      return;
    g_has_base = true;
  }
  // Measured again at the next event: a session after one that had the TSC
  // off starts without a slope.
  g_calibrated_over.store(0, std::memory_order_relaxed);
  g_tsc_wanted.store(true, std::memory_order_release);
#endif
}

uint64_t eventNsSlow() {
  if (!g_tsc_wanted.load(std::memory_order_acquire))
    return monotonicNs();
  uint64_t tsc, ns;
  if (!readPair(tsc, ns, 4)) {
    t_state.clock_tsc = 0; // the next event reads the real clock again
    return ns;             // the last attempt's, real
  }
  t_state.clock_tsc = tsc;
  t_state.clock_ns = ns;
  calibrate(tsc, ns);
  return ns;
}

} // namespace rt
} // namespace memscope
