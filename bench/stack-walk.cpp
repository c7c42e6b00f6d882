// The cost of a sampled allocation's stack through four frames of code
// without frame pointers (bench/stack-walk-frames.cpp), then through the
// frames of Google Benchmark and libc below them: the runtime's walk
// (cached unwind rules, rt_unwind.cpp) against _Unwind_Backtrace, which the
// runtime used for such stacks before. Both walk to the default depth
// (stack_depth=32) or the end of the stack. Run by bench/run_bench.py.
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

BENCHMARK(BM_StackFullUnwinder);
BENCHMARK(BM_StackCachedRules);

} // namespace

BENCHMARK_MAIN();
