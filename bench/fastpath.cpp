// Cost of the paths every allocation and free takes, in nanoseconds, with
// Google Benchmark. Built twice (plain and instrumented); run_bench.py runs
// both with recording on and compares.
//
//   BM_MallocFree/size   malloc + free of a block, not sampled (the inline
//                        countdown, the in-call flag, the interposer hop, and
//                        the live-filter check on free)
//   BM_NewDelete/size    the same through operator new/delete
//   BM_UninstrumentedFree  free of a block allocated elsewhere: what a free
//                        of a non-sampled pointer costs (filter load + compare)
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <vector>

static void BM_MallocFree(benchmark::State &state) {
  size_t size = state.range(0);
  for (auto _ : state) {
    void *block = malloc(size);
    benchmark::DoNotOptimize(block);
    free(block);
  }
}
BENCHMARK(BM_MallocFree)->Arg(32)->Arg(512);

static void BM_NewDelete(benchmark::State &state) {
  size_t size = state.range(0);
  for (auto _ : state) {
    char *block = new char[size];
    benchmark::DoNotOptimize(block);
    delete[] block;
  }
}
BENCHMARK(BM_NewDelete)->Arg(32)->Arg(512);

// Frees only: blocks come from a pool filled outside the timed region.
static void BM_Free(benchmark::State &state) {
  std::vector<void *> blocks(4096);
  size_t next = blocks.size();
  for (auto _ : state) {
    if (next == blocks.size()) {
      state.PauseTiming();
      for (void *&block : blocks)
        block = malloc(64);
      next = 0;
      state.ResumeTiming();
    }
    free(blocks[next++]);
  }
  for (; next < blocks.size(); ++next)
    free(blocks[next]);
}
BENCHMARK(BM_Free);

BENCHMARK_MAIN();
