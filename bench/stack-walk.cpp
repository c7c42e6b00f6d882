// The cost of a sampled allocation's stack through four frames of code
// without frame pointers (bench/stack-walk-frames.cpp), then through the
// frames of Google Benchmark and libc below them: the runtime's walk
// (cached unwind rules, rt_unwind.cpp) against _Unwind_Backtrace, which the
// runtime used for such stacks before. Both walk to the default depth
// (stack_depth=32) or the end of the stack. The third is exact mode's memo
// (rt_stack.cpp): the same stack again, proven unchanged by rereading the
// words its walk read. Run by bench/run_bench.py.
#include "stack-walk.h"
#include "rt_unwind.h"

#include <benchmark/benchmark.h>

using namespace memscope::rt;

namespace {

constexpr uint32_t kDepth = 32;

/// The caller's frame record, as the runtime's entry points pass it.
__attribute__((noinline)) uint32_t cachedRules(uint64_t *frames) {
  uint32_t depth = collectStack(MSC_CALLER_FRAME(), frames, kDepth);
  MSC_KEEP_FRAME();
  return depth;
}

__attribute__((noinline)) uint32_t fullUnwinder(uint64_t *frames) {
  auto caller = reinterpret_cast<uintptr_t>(__builtin_return_address(0));
  uint32_t depth = walkFullUnwinder(caller, frames, kDepth);
  asm volatile("" ::: "memory");
  return depth;
}

/// What exact mode pays when a frame allocates again with the same stack:
/// readsUnchanged() over the first walk's reads, in place of a walk.
__attribute__((noinline)) uint32_t memo(uint64_t *frames) {
  static WalkReads reads;
  static uint32_t depth = 0;
  if (!depth || !readsUnchanged(reads))
    depth = collectStack(MSC_CALLER_FRAME(), frames, kDepth, &reads);
  MSC_KEEP_FRAME();
  return depth;
}

void run(benchmark::State &state, StackWalker walk) {
  uint64_t frames[kDepth];
  uint32_t depth = 0;
  for (auto _ : state) {
    depth = throughFourFrames(walk, frames);
    benchmark::DoNotOptimize(frames);
  }
  state.counters["frames"] = depth;
}

void BM_StackFullUnwinder(benchmark::State &state) { run(state, fullUnwinder); }
void BM_StackCachedRules(benchmark::State &state) { run(state, cachedRules); }
void BM_StackMemo(benchmark::State &state) { run(state, memo); }

BENCHMARK(BM_StackFullUnwinder);
BENCHMARK(BM_StackCachedRules);
BENCHMARK(BM_StackMemo);

} // namespace

BENCHMARK_MAIN();
