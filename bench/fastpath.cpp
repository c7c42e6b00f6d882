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

// The two ways to allocate, each called at its own site in the benchmark
// bodies below (the pass instruments them there, once inlined).
struct Malloc {
  static void *allocate(size_t size) { return malloc(size); }
  static void release(void *block) { free(block); }
};
struct NewArray {
  static void *allocate(size_t size) { return new char[size]; }
  static void release(void *block) { delete[] static_cast<char *>(block); }
};

template <typename Allocator>
static void allocateAndRelease(benchmark::State &state) {
  size_t size = state.range(0);
  for (auto _ : state) {
    void *block = Allocator::allocate(size);
    benchmark::DoNotOptimize(block);
    Allocator::release(block);
  }
}

constexpr size_t kBatch = 4096;

// Allocations only: the blocks are released outside the timed region.
template <typename Allocator>
static void allocateOnly(benchmark::State &state) {
  size_t size = state.range(0);
  std::vector<void *> blocks(kBatch);
  size_t next = 0;
  for (auto _ : state) {
    if (next == blocks.size()) {
      state.PauseTiming();
      for (void *block : blocks)
        Allocator::release(block);
      next = 0;
      state.ResumeTiming();
    }
    blocks[next] = Allocator::allocate(size);
    benchmark::DoNotOptimize(blocks[next]);
    ++next;
  }
  for (size_t i = 0; i < next; ++i)
    Allocator::release(blocks[i]);
}

// Releases only: 64-byte blocks from a pool filled outside the timed region.
template <typename Allocator> static void releaseOnly(benchmark::State &state) {
  std::vector<void *> blocks(kBatch);
  size_t next = blocks.size();
  for (auto _ : state) {
    if (next == blocks.size()) {
      state.PauseTiming();
      for (void *&block : blocks)
        block = Allocator::allocate(64);
      next = 0;
      state.ResumeTiming();
    }
    Allocator::release(blocks[next++]);
  }
  for (; next < blocks.size(); ++next)
    Allocator::release(blocks[next]);
}

static void BM_MallocFree(benchmark::State &state) {
  allocateAndRelease<Malloc>(state);
}
BENCHMARK(BM_MallocFree)->Arg(32)->Arg(512);
static void BM_NewDelete(benchmark::State &state) {
  allocateAndRelease<NewArray>(state);
}
BENCHMARK(BM_NewDelete)->Arg(32)->Arg(512);
static void BM_Malloc(benchmark::State &state) { allocateOnly<Malloc>(state); }
BENCHMARK(BM_Malloc)->Arg(32)->Arg(512);
static void BM_New(benchmark::State &state) { allocateOnly<NewArray>(state); }
BENCHMARK(BM_New)->Arg(32)->Arg(512);
static void BM_Free(benchmark::State &state) { releaseOnly<Malloc>(state); }
BENCHMARK(BM_Free);
static void BM_Delete(benchmark::State &state) { releaseOnly<NewArray>(state); }
BENCHMARK(BM_Delete);

BENCHMARK_MAIN();
