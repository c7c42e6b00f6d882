//===- bench/cross-thread-free.cpp - One thread allocates, another frees --===//
//
// The allocator-stress shape of a producer/consumer service: thread pairs,
// in each one thread allocating 64-byte blocks that the other frees, handed
// over through a single-producer single-consumer ring (no locks, so the
// time is the allocator's and the profiler's). Every free is of a block
// another thread allocated: the sampled blocks' live table at the default
// setting, exact mode's frees by address, and glibc's remote frees.
//
//   cross-thread-free [pairs] [blocks-per-pair]
//
//===----------------------------------------------------------------------===//
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

constexpr size_t kRing = 1024; // a power of two

struct Ring {
  void *blocks[kRing];
  alignas(64) std::atomic<uint64_t> head{0}; // next to write
  alignas(64) std::atomic<uint64_t> tail{0}; // next to read
};

void produce(Ring &ring, long blocks) {
  for (long i = 0; i < blocks; ++i) {
    auto *block = static_cast<char *>(malloc(64));
    block[0] = static_cast<char>(i);
    uint64_t head = ring.head.load(std::memory_order_relaxed);
    while (head - ring.tail.load(std::memory_order_acquire) == kRing)
      std::this_thread::yield();
    ring.blocks[head % kRing] = block;
    ring.head.store(head + 1, std::memory_order_release);
  }
}

uint64_t consume(Ring &ring, long blocks) {
  uint64_t checksum = 0;
  for (long i = 0; i < blocks; ++i) {
    uint64_t tail = ring.tail.load(std::memory_order_relaxed);
    while (ring.head.load(std::memory_order_acquire) == tail)
      std::this_thread::yield();
    auto *block = static_cast<char *>(ring.blocks[tail % kRing]);
    ring.tail.store(tail + 1, std::memory_order_release);
    checksum += static_cast<unsigned char>(block[0]);
    free(block);
  }
  return checksum;
}

} // namespace

int main(int argc, char **argv) {
  int pairs = argc > 1 ? std::atoi(argv[1]) : 1;
  long blocks = argc > 2 ? std::atol(argv[2]) : 2000000;
  if (pairs < 1 || blocks < 1) {
    std::fprintf(stderr, "usage: cross-thread-free [pairs >= 1] "
                         "[blocks-per-pair >= 1]\n");
    return 2;
  }
  std::vector<Ring> rings(pairs);
  std::vector<uint64_t> sums(pairs);
  std::vector<std::thread> threads;
  for (int p = 0; p < pairs; ++p) {
    threads.emplace_back([&, p] { produce(rings[p], blocks); });
    threads.emplace_back([&, p] { sums[p] = consume(rings[p], blocks); });
  }
  for (std::thread &thread : threads)
    thread.join();
  uint64_t total = 0;
  for (uint64_t sum : sums)
    total += sum;
  std::printf("cross-thread-free: %d pairs x %ld blocks, checksum %llu\n",
              pairs, blocks, static_cast<unsigned long long>(total));
  return 0;
}
