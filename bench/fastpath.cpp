// Cost of the paths every allocation and free takes, in nanoseconds, with
// Google Benchmark. Built twice (plain and instrumented); run_bench.py runs
// both with recording on and compares.
//
//   BM_MallocFree/size   malloc + free of a block, not sampled (the inline
//                        countdown, the in-call flag, the interposer hop, and
//                        the live-filter check on free)
//   BM_NewDelete/size    the same through operator new/delete
//   BM_Malloc/size       malloc alone, not sampled (blocks freed in batches
//                        outside the timed region)
//   BM_New/size          operator new alone, the same way
//   BM_Free              free alone of a non-sampled 64-byte block (blocks
//                        allocated in batches outside the timed region)
//   BM_Delete            operator delete alone, the same way
//
// Pausing the timer costs a few hundred nanoseconds; it happens once per
// 4,096 operations, so it adds well under a nanosecond to each.
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

constexpr size_t kBatch = 4096;

// Allocations only: the blocks are freed outside the timed region.
static void BM_Malloc(benchmark::State &state) {
  size_t size = state.range(0);
  std::vector<void *> blocks(kBatch);
  size_t next = 0;
  for (auto _ : state) {
    if (next == blocks.size()) {
      state.PauseTiming();
      for (void *block : blocks)
        free(block);
      next = 0;
      state.ResumeTiming();
    }
    blocks[next] = malloc(size);
    benchmark::DoNotOptimize(blocks[next]);
    ++next;
  }
  for (size_t i = 0; i < next; ++i)
    free(blocks[i]);
}
BENCHMARK(BM_Malloc)->Arg(32)->Arg(512);

static void BM_New(benchmark::State &state) {
  size_t size = state.range(0);
  std::vector<char *> blocks(kBatch);
  size_t next = 0;
  for (auto _ : state) {
    if (next == blocks.size()) {
      state.PauseTiming();
      for (char *block : blocks)
        delete[] block;
      next = 0;
      state.ResumeTiming();
    }
    blocks[next] = new char[size];
    benchmark::DoNotOptimize(blocks[next]);
    ++next;
  }
  for (size_t i = 0; i < next; ++i)
    delete[] blocks[i];
}
BENCHMARK(BM_New)->Arg(32)->Arg(512);

// Frees only: blocks come from a pool filled outside the timed region.
static void BM_Free(benchmark::State &state) {
  std::vector<void *> blocks(kBatch);
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

static void BM_Delete(benchmark::State &state) {
  std::vector<char *> blocks(kBatch);
  size_t next = blocks.size();
  for (auto _ : state) {
    if (next == blocks.size()) {
      state.PauseTiming();
      for (char *&block : blocks)
        block = new char[64];
      next = 0;
      state.ResumeTiming();
    }
    delete[] blocks[next++];
  }
  for (; next < blocks.size(); ++next)
    delete[] blocks[next];
}
BENCHMARK(BM_Delete);

BENCHMARK_MAIN();
