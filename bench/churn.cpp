// Allocation churn: several threads, no sleeps, mixed sizes through malloc,
// new[], realloc and std::string (whose buffers come from uninstrumented
// libstdc++ code). Each thread keeps a ring of live blocks so that frees
// interleave with allocations as in a real service.
//
//   churn [threads] [iterations-per-thread]
//
// Prints a checksum so that the optimiser cannot drop the work. The same
// source is built plain and instrumented by bench/CMakeLists.txt.
#include "workload-main.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kRing = 256;

uint64_t churn(int thread, long iterations) {
  Rng rng{0x9E3779B97F4A7C15ull * (thread + 1)};
  void *small_ring[kRing] = {};
  char *array_ring[kRing] = {};
  void *grow_ring[kRing] = {};
  std::string text_ring[kRing];
  uint64_t checksum = 0;
  for (long i = 0; i < iterations; ++i) {
    int at = static_cast<int>(i % kRing);
    uint64_t r = rng.next();
    switch (r % 8) {
    case 0:
    case 1:
    case 2: { // small malloc blocks, 16..271 bytes
      size_t size = 16 + (r >> 8) % 256;
      free(small_ring[at]);
      small_ring[at] = malloc(size);
      static_cast<char *>(small_ring[at])[0] = static_cast<char>(i);
      break;
    }
    case 3:
    case 4: { // medium new[] arrays, 256..4351 bytes
      size_t size = 256 + (r >> 8) % 4096;
      delete[] array_ring[at];
      array_ring[at] = new char[size];
      array_ring[at][0] = static_cast<char>(i);
      break;
    }
    case 5: { // realloc growth
      size_t size = 64 + (r >> 8) % 8192;
      grow_ring[at] = realloc(grow_ring[at], size);
      static_cast<char *>(grow_ring[at])[0] = static_cast<char>(i);
      break;
    }
    default: { // std::string growth inside libstdc++
      std::string &text = text_ring[at];
      text = "request-";
      text += std::to_string(r);
      text.append(16 + (r >> 8) % 200, 'x');
      checksum += text.size();
      break;
    }
    }
    checksum += r & 0xFF;
  }
  for (int s = 0; s < kRing; ++s) {
    free(small_ring[s]);
    delete[] array_ring[s];
    free(grow_ring[s]);
  }
  return checksum;
}

} // namespace

int main(int argc, char **argv) {
  return runWorkload("churn", "iterations", argc, argv, 2000000, churn);
}
