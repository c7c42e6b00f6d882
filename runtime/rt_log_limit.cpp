//===-- rt_log_limit.cpp - max_log_size: logs that stay within a cap ------===//
//
// A service that runs for weeks must not fill its disk, and must not stop
// being profiled either. max_log_size caps what one process's logs take on
// disk: the bytes the writers reserve with fallocate, which is what du
// shows. Recording degrades instead of stopping. The cap less a reserve for
// process.log (a sixteenth, at least 64 KiB of a small cap: ProcessEnd,
// snapshots and these records go there) is the budget for the thread logs.
// When the logs reach 1/2 of it the sampling interval doubles, at 2/3 it
// doubles again, then at 3/4, 4/5, ... (exact mode first becomes byte
// sampling at sample_interval; rate mode halves its rate). Level k thus has
// 1/((k+1)(k+2)) of the budget at 2^k times the interval: at a steady
// allocation rate it lasts 2^(k+1)/((k+1)(k+2)) times as long as the first half
// did, so the levels cover an ever longer time and a run of weeks keeps being
// sampled, ever more coarsely, instead of ending at some hour. (Halving what is
// left at each level would give every level the same time: a run twenty times
// as long as the first half would have used them all.) The interval stops
// doubling at 64 GiB, so that a thread's countdown still ends (and the
// thread notices a new session) within minutes at any realistic rate.
//
// A change takes effect at each thread's next sample: the countdown running
// then was drawn with the old interval, and the sample's weight uses the
// interval it was drawn with (ThreadState::drawn_with), so every estimate
// stays unbiased across the change; it gets coarser, as the report says.
//
// Past the budget (full) no thread log gets more space: a thread's
// ThreadEnd then goes to process.log (ThreadEnded), or failing that its
// counts to ProcessEnd's unlogged totals, so the totals stay exact; but the
// frees of sampled blocks are lost from then on, which the merge says. Of
// process.log's reserve (a sixteenth of the cap, at least 64 KiB of a small
// one), the last half is for the records the report cannot do without
// (ProcessEnd, ThreadRunning, ThreadEnded, modules, LogLimit). Each change is a
// LogLimit record in process.log, written by the next thread that records a
// sample or appends to process.log (never from inside the window code that
// noticed it, which may hold process.log's lock), and at the latest with
// ProcessEnd.
//
//===----------------------------------------------------------------------===//
#include "rt_internal.h"

namespace memscope {
namespace rt {

std::atomic<uint64_t> g_sample_interval_now{0};
std::atomic<double> g_sample_rate_now{0};
std::atomic<bool> g_exact_now{false};
std::atomic<uint32_t> g_log_limit_changes{0};
std::atomic<uint32_t> g_log_limit_written{0};

namespace {

constexpr uint32_t kMaxLevel = 40;
constexpr uint32_t kMaxChanges = kMaxLevel + 2;
constexpr uint64_t kLongestInterval = 64ull << 30;

std::atomic<uint64_t> g_log_bytes{0};
std::atomic<uint32_t> g_level{0};
std::atomic<bool> g_full{false};
std::atomic<bool> g_full_warned{false};
// This thread appends a record the report cannot do without.
__thread bool t_final_record __attribute__((tls_model("initial-exec")));

struct Change {
  std::atomic<bool> ready;
  log::LogLimitRecord record;
};
Change g_changes[kMaxChanges];

uint64_t cap() { return g_flags.max_log_size; }
/// process.log's share: a sixteenth, and at least 64 KiB of a small cap
/// (half of it at most), which a thousand ThreadEnded records and the
/// module map at exit fit in.
uint64_t processReserve() {
  uint64_t floor = cap() / 2 < 64 * 1024 ? cap() / 2 : 64 * 1024;
  return cap() / 16 > floor ? cap() / 16 : floor;
}
uint64_t eventBudget() { return cap() - processReserve(); }
/// The last of it: for the records the report cannot do without.
uint64_t finalReserve() { return processReserve() / 2; }

/// The level the logs are at with \p used bytes: k once what is left of the
/// budget is at most 1/(k+1) of it.
uint32_t levelFor(uint64_t used) {
  uint64_t budget = eventBudget();
  if (used >= budget)
    return kMaxLevel;
  uint64_t level = budget / (budget - used) - 1;
  return level < kMaxLevel ? static_cast<uint32_t>(level) : kMaxLevel;
}

uint64_t intervalAt(uint32_t level);

/// Queues the record of a change; false when the queue is full (cannot
/// happen: one per level and one for the end).
void announce(uint32_t level, uint32_t flags, uint64_t used) {
  uint32_t index = g_log_limit_changes.load(std::memory_order_relaxed);
  do {
    if (index >= kMaxChanges)
      return;
  } while (!g_log_limit_changes.compare_exchange_weak(
      index, index + 1, std::memory_order_acq_rel));
  log::LogLimitRecord &record = g_changes[index].record;
  record.monotonic_ns = monotonicNs();
  record.max_log_size = cap();
  record.log_bytes = used;
  record.level = level;
  record.flags = flags;
  record.sample_interval_bytes = intervalAt(level);
  record.sample_rate = g_flags.sample_rate / double(1ull << level);
  g_changes[index].ready.store(true, std::memory_order_release);
}

/// sample_interval doubled \p times, short of overflowing.
uint64_t doubled(uint64_t interval, uint32_t times) {
  return interval > (UINT64_MAX >> 2 >> times) ? (UINT64_MAX >> 2)
                                               : interval << times;
}

/// The byte interval at \p level.
uint64_t intervalAt(uint32_t level) {
  if (level == 0)
    return g_flags.sample_interval;
  uint64_t interval =
      doubled(g_flags.sample_interval, g_flags.exact ? level - 1 : level);
  uint64_t longest = g_flags.sample_interval > kLongestInterval
                         ? g_flags.sample_interval
                         : kLongestInterval;
  return interval < longest ? interval : longest;
}

/// Makes the sampling in force that of the current level. Two raises may
/// race: each stores until it stored for a level that did not change
/// meanwhile, and the level only grows, so the last store is the highest.
void applyLevel() {
  for (;;) {
    uint32_t level = g_level.load(std::memory_order_acquire);
    g_sample_interval_now.store(intervalAt(level), std::memory_order_relaxed);
    g_sample_rate_now.store(g_flags.sample_rate / double(1ull << level),
                            std::memory_order_relaxed);
    if (level > 0)
      g_exact_now.store(false, std::memory_order_release);
    if (g_level.load(std::memory_order_acquire) == level)
      return;
  }
}

/// Raises the level to at least \p level: the sampling from now on.
void raiseTo(uint32_t level, uint64_t used) {
  uint32_t current = g_level.load(std::memory_order_relaxed);
  do {
    if (level <= current)
      return;
  } while (!g_level.compare_exchange_weak(current, level,
                                          std::memory_order_acq_rel));
  applyLevel();
  // Level 1 of exact mode leaves it for byte sampling at sample_interval.
  announce(level, g_flags.exact && current == 0 ? log::LogLimitLeftExact : 0,
           used);
}

void markFull(uint64_t used) {
  if (g_full.exchange(true, std::memory_order_acq_rel))
    return;
  raiseTo(kMaxLevel, used);
  announce(g_level.load(std::memory_order_relaxed), log::LogLimitFull, used);
  warnOnce(g_full_warned,
           "the logs reached max_log_size (%llu bytes): no more samples are "
           "recorded, and threads without log space count into the totals "
           "only; the program continues",
           static_cast<unsigned long long>(cap()));
}

} // namespace

FinalRecordScope::FinalRecordScope(bool final) : previous(t_final_record) {
  t_final_record = final || previous;
}
FinalRecordScope::~FinalRecordScope() { t_final_record = previous; }

void resetLogLimit() {
  g_full_warned.store(false, std::memory_order_relaxed);
  g_log_bytes.store(0, std::memory_order_relaxed);
  g_level.store(0, std::memory_order_relaxed);
  g_full.store(false, std::memory_order_relaxed);
  for (Change &change : g_changes)
    change.ready.store(false, std::memory_order_relaxed);
  g_log_limit_changes.store(0, std::memory_order_relaxed);
  g_log_limit_written.store(0, std::memory_order_relaxed);
  samplingFlagsChanged();
}

void samplingFlagsChanged() {
  g_exact_now.store(g_flags.exact, std::memory_order_release);
  applyLevel();
}

bool reserveLogSpace(uint64_t bytes, bool process_log) {
  if (!cap()) {
    g_log_bytes.fetch_add(bytes, std::memory_order_relaxed);
    return true;
  }
  uint64_t limit = !process_log     ? eventBudget()
                   : t_final_record ? cap()
                                    : cap() - finalReserve();
  uint64_t used = g_log_bytes.load(std::memory_order_relaxed);
  do {
    if (used + bytes > limit) {
      if (!process_log)
        markFull(used);
      return false;
    }
  } while (!g_log_bytes.compare_exchange_weak(used, used + bytes,
                                              std::memory_order_relaxed));
  used += bytes;
  if (!process_log) {
    uint32_t level = levelFor(used);
    if (MSC_UNLIKELY(level > g_level.load(std::memory_order_relaxed)))
      raiseTo(level, used);
  }
  return true;
}

uint64_t logWindowLimit(uint64_t wanted, bool process_log) {
  if (!cap())
    return wanted;
  // Near the cap, windows shrink with the levels (about an eighth of the
  // current level's share), so that a level is not reserved whole by a
  // thread that may never fill it.
  uint64_t limit = process_log ? cap() : eventBudget();
  uint64_t used = g_log_bytes.load(std::memory_order_relaxed);
  uint64_t levels = g_level.load(std::memory_order_relaxed) + 2;
  uint64_t share = used < limit ? (limit - used) / 8 / levels / 4096 * 4096 : 0;
  if (share < 4096)
    share = 4096;
  return wanted < share ? wanted : share;
}

void writeLogLimitRecords() {
  for (;;) {
    uint32_t next = g_log_limit_written.load(std::memory_order_acquire);
    if (next >= g_log_limit_changes.load(std::memory_order_acquire) ||
        next >= kMaxChanges ||
        !g_changes[next].ready.load(std::memory_order_acquire))
      return;
    if (!g_log_limit_written.compare_exchange_weak(next, next + 1,
                                                   std::memory_order_acq_rel))
      continue;
    log::LogLimitRecord record = g_changes[next].record;
    appendProcessRecord(log::RecordType::LogLimit, &record, sizeof(record));
  }
}

} // namespace rt
} // namespace memscope
