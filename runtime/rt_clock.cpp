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
// TSC reads are about as close as the closest seen lately: an interrupt or a
// VM exit between them would leave the clock's moment unknown by
// microseconds. (The bound follows the machine up when no pair meets it, as
// on a core at a lower frequency.)
//
// The slope is measured over the last 16 ms or so (1 ms after start-up), so
// it follows the kernel's own rate when NTP slews CLOCK_MONOTONIC. Pairs
// within ~50 ns over 16 ms put it within a few ppm: under 1 ns over a
// window. A slew that starts between two measures is followed at the next;
// until then events are off by up to the window times the change (25 ns at
// ntpd's 500 ppm, microseconds at chrony's largest slew rate). A CPU whose
// counter reads behind the anchor (a migrated thread) takes the real clock. A
// slope off by more than 10% from the last, or a kernel that has left the
// TSC (its watchdog found it unstable; read at most once a second), turns the
// TSC off for the rest of the run.
//
// The TSC read is not fenced (readTsc says why), so two threads' events
// within about 100 ns of each other may be timed in either order.
//
//===----------------------------------------------------------------------===//
#include "rt_internal.h"

#include <algorithm>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

namespace memscope {
namespace rt {

EventClock g_event_clock;

namespace {

constexpr uint64_t kWindowNs = 50 * 1000;
constexpr uint64_t kFirstCalibrationNs = 1000 * 1000;
constexpr uint64_t kCalibrationPeriodNs = 16 * 1000 * 1000;
// Bounds of the closest pair's width, in ticks: below the floor a pair is
// too close to be real; above the ceiling none is taken.
constexpr uint64_t kNarrowestFloorTicks = 16;
constexpr uint64_t kWidestPairTicks = 2000;

// The kernel keeps CLOCK_MONOTONIC by the TSC, tsc_clock=1, and the
// start-up pair is taken (release: the calibration pair is set).
std::atomic<bool> g_tsc_wanted{false};
// The TSC was found wanting (turnOff): not used again in this process.
std::atomic<bool> g_tsc_failed{false};
bool g_has_base = false; // the start-up pair was taken (initEventClock only)
// The two TSC reads around a clock_gettime call closest together lately.
std::atomic<uint64_t> g_narrowest_pair{kWidestPairTicks};
// One thread measures the slope at a time (try-lock); the pair it measures
// from, and when the next measure is due.
std::atomic<bool> g_calibrating{false};
uint64_t g_last_tsc = 0;
uint64_t g_last_ns = 0;
std::atomic<uint64_t> g_next_calibration_ns{0};
// The clocksource is read again at most this often (three syscalls, in the
// allocating thread that measures): the watchdog's verdicts are rare.
constexpr uint64_t kSourceCheckPeriodNs = 1000 * 1000 * 1000;
uint64_t g_next_source_check_ns = 0; // under g_calibrating

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

/// Takes a measured slope, unless it is no clock's.
void setSlope(double ns_per_tick) {
  if (!(ns_per_tick > 0.01 && ns_per_tick < 100.0))
    return turnOff(true); // under 10 MHz or over 100 GHz
  auto scale = static_cast<uint64_t>(ns_per_tick * 4294967296.0);
  uint64_t previous = g_event_clock.scale.load(std::memory_order_relaxed);
  if (previous) {
    double change = static_cast<double>(scale) / static_cast<double>(previous);
    if (change < 0.9 || change > 1.1)
      return turnOff(true); // the TSC does not keep pace with the clock
  }
  // The window first, so that a thread which sees the new slope never
  // interpolates further than the window this slope allows.
  g_event_clock.window.store(
      static_cast<uint64_t>(static_cast<double>(kWindowNs) / ns_per_tick),
      std::memory_order_relaxed);
  g_event_clock.scale.store(scale, std::memory_order_relaxed);
}

/// A CLOCK_MONOTONIC read and the TSC at its moment: the middle of two
/// reads around it. False if none of \p attempts came about as close as
/// the closest pair seen (twice that, and a little); the bound then widens,
/// so that a machine that got slower is followed.
bool readPair(uint64_t &tsc, uint64_t &ns, int attempts) {
  uint64_t narrowest = g_narrowest_pair.load(std::memory_order_relaxed);
  for (int attempt = 0; attempt < attempts; ++attempt) {
    uint64_t before = readTsc();
    ns = monotonicNs();
    uint64_t after = readTsc();
    if (after < before)
      continue;
    uint64_t width = after - before;
    if (width < narrowest && width >= kNarrowestFloorTicks) {
      narrowest = width;
      g_narrowest_pair.store(width, std::memory_order_relaxed);
    }
    if (width <= 2 * narrowest + 64) {
      tsc = before + width / 2;
      return true;
    }
  }
  g_narrowest_pair.store(std::min(2 * narrowest, kWidestPairTicks),
                         std::memory_order_relaxed);
  return false;
}

/// Measures the slope from the last measure's pair to this one, when due.
void calibrate(uint64_t tsc, uint64_t ns) {
  if (ns < g_next_calibration_ns.load(std::memory_order_relaxed) ||
      g_calibrating.exchange(true, std::memory_order_acquire))
    return;
  if (ns >= g_next_calibration_ns.load(std::memory_order_relaxed)) {
    if (ns <= g_last_ns || tsc <= g_last_tsc)
      turnOff(true); // a counter that went back: not the clock we took
    else if (ns >= g_next_source_check_ns && !kernelClockIsTsc())
      turnOff(true); // its watchdog found the TSC unstable
    else
      setSlope(static_cast<double>(ns - g_last_ns) /
               static_cast<double>(tsc - g_last_tsc));
    if (ns >= g_next_source_check_ns)
      g_next_source_check_ns = ns + kSourceCheckPeriodNs;
    g_last_tsc = tsc;
    g_last_ns = ns;
    g_next_calibration_ns.store(ns + kCalibrationPeriodNs,
                                std::memory_order_relaxed);
  }
  g_calibrating.store(false, std::memory_order_release);
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
    // come on this machine; the first slope is measured from the next one.
    uint64_t tsc, ns;
    for (int attempt = 0; attempt < 8; ++attempt)
      readPair(tsc, ns, 1);
    if (!readPair(tsc, ns, 8))
      return;
    g_last_tsc = tsc;
    g_last_ns = ns;
    g_next_calibration_ns.store(ns + kFirstCalibrationNs,
                                std::memory_order_relaxed);
    g_has_base = true;
  } else {
    // Measured again at the next event: a session after one that had the
    // TSC off starts without a slope.
    g_next_calibration_ns.store(0, std::memory_order_relaxed);
  }
  g_tsc_wanted.store(true, std::memory_order_release);
#endif
}

uint64_t eventNsSlow() {
  if (!g_tsc_wanted.load(std::memory_order_acquire))
    return monotonicNs();
  uint64_t tsc, ns;
  if (!readPair(tsc, ns, 2)) {
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
