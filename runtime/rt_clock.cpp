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
// event after that reads the real clock again. The map's slope is measured
// against the pair taken at start-up, first after 1 ms and again each time
// the run has doubled in length, so its error falls below a few parts per
// million. Over 50 us that is well under 1 ns; what else can move the two
// apart is the kernel slewing CLOCK_MONOTONIC for NTP (at most 500 ppm, 25 ns
// over a window), which a window this short keeps small. A CPU whose counter
// reads behind the anchor (a migrated thread) takes the real clock.
//
// Order across threads is what the merge needs from these times: a free
// after the allocation it frees, the live heap's peak at the right event.
// The TSC read is fenced (readTsc) as the vDSO fences its own.
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

std::atomic<bool> g_tsc_usable{false};
uint64_t g_base_tsc = 0;
uint64_t g_base_ns = 0;
// The run's length at the last calibration: the next waits until it doubled.
std::atomic<uint64_t> g_calibrated_over{0};

/// Whether CLOCK_MONOTONIC is the kernel's TSC clock, from sysfs; read once,
/// at start-up.
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

// A pair whose two TSC reads are further apart than this was interrupted
// (a preempted vCPU): where in between the clock was read is not known.
constexpr uint64_t kTightPairTicks = 20000;

/// A CLOCK_MONOTONIC read and the TSC at its moment: the middle of two
/// reads around it. False if they were not close together, twice.
bool readPair(uint64_t &tsc, uint64_t &ns) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    uint64_t before = readTsc();
    ns = monotonicNs();
    uint64_t after = readTsc();
    if (after >= before && after - before < kTightPairTicks) {
      tsc = before + (after - before) / 2;
      return true;
    }
  }
  return false;
}

/// Measures the slope against the start-up pair once the run is long
/// enough, or twice as long as at the last measure.
void calibrate(uint64_t tsc, uint64_t ns) {
  if (ns <= g_base_ns || tsc <= g_base_tsc) {
    // A counter that went back: not the clock we took it for.
    g_event_clock.scale.store(0, std::memory_order_relaxed);
    g_tsc_usable.store(false, std::memory_order_relaxed);
    return;
  }
  uint64_t elapsed = ns - g_base_ns;
  uint64_t last = g_calibrated_over.load(std::memory_order_relaxed);
  if (elapsed < kFirstCalibrationNs || elapsed < 2 * last ||
      !g_calibrated_over.compare_exchange_strong(last, elapsed,
                                                 std::memory_order_relaxed))
    return;
  double ns_per_tick =
      static_cast<double>(elapsed) / static_cast<double>(tsc - g_base_tsc);
  if (!(ns_per_tick > 0.01 && ns_per_tick < 100.0))
    return; // under 10 MHz or over 100 GHz: something else is wrong
  // The window first, so that a thread which sees the new slope never
  // interpolates further than the window this slope allows.
  g_event_clock.window.store(
      static_cast<uint64_t>(static_cast<double>(kWindowNs) / ns_per_tick),
      std::memory_order_relaxed);
  g_event_clock.scale.store(static_cast<uint64_t>(ns_per_tick * 4294967296.0),
                            std::memory_order_relaxed);
}

} // namespace

void initEventClock() {
#if defined(__x86_64__)
  if (g_tsc_usable.load(std::memory_order_relaxed) || !g_flags.tsc_clock)
    return;
  if (!kernelClockIsTsc())
    return;
  if (readPair(g_base_tsc, g_base_ns))
    g_tsc_usable.store(true, std::memory_order_relaxed);
#endif
}

uint64_t eventNsSlow() {
  if (!g_tsc_usable.load(std::memory_order_relaxed))
    return monotonicNs();
  uint64_t tsc, ns;
  if (!readPair(tsc, ns)) {
    t_state.clock_tsc = 0; // the next event reads the real clock again
    return ns;
  }
  t_state.clock_tsc = tsc;
  t_state.clock_ns = ns;
  calibrate(tsc, ns);
  return ns;
}

} // namespace rt
} // namespace memscope
