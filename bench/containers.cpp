// Standard-container workload: several threads each build an index of
// std::map<std::string, std::vector<uint32_t>> from generated keys, look
// entries up, grow and shrink the vectors, and rebuild the index every few
// hundred operations. Allocations come from three places: the map's nodes and
// the vectors' buffers (templates instantiated here, so instrumented), and
// std::string's buffers (libstdc++'s out-of-line code, so interposed). No
// sleeps.
//
//   containers [threads] [operations-per-thread]
//
// Deterministic for given arguments (fixed per-thread seeds), so an exact-mode
// run gives the true bytes of every site. Prints a checksum so that the
// optimiser cannot drop the work.
#include "workload-main.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

// Keys of 6 to 69 characters: short ones fit the small-string buffer, long
// ones allocate.
std::string makeKey(uint64_t r) {
  std::string key = "user/" + std::to_string(r % 5000);
  key.append((r >> 20) % 64, static_cast<char>('a' + (r >> 8) % 26));
  return key;
}

uint64_t work(int thread, long operations) {
  Rng rng{0xD1B54A32D192ED03ull * (thread + 1)};
  std::map<std::string, std::vector<uint32_t>> index;
  std::vector<std::string> log;
  uint64_t checksum = 0;
  for (long i = 0; i < operations; ++i) {
    uint64_t r = rng.next();
    switch (r % 6) {
    case 0:
    case 1: { // insert or extend an entry: a node, a key, a growing vector
      std::vector<uint32_t> &values = index[makeKey(r)];
      size_t extra = 1 + (r >> 12) % 48;
      for (size_t v = 0; v < extra; ++v)
        values.push_back(static_cast<uint32_t>(r >> (v % 32)));
      checksum += values.size();
      break;
    }
    case 2: { // look up; a temporary key string per lookup
      auto found = index.find(makeKey(r));
      if (found != index.end())
        checksum += found->second.front();
      break;
    }
    case 3: { // erase an entry, freeing its node, key and vector
      auto found = index.lower_bound(makeKey(r));
      if (found != index.end())
        index.erase(found);
      break;
    }
    case 4: { // an access-log line, kept in a bounded ring
      std::string line = "GET /" + makeKey(r) + " " + std::to_string(i);
      if (log.size() < 512)
        log.push_back(std::move(line));
      else
        log[i % 512] = std::move(line);
      checksum += log.size();
      break;
    }
    default: { // copy a snapshot of a slice of the index
      std::vector<std::pair<std::string, size_t>> snapshot;
      auto entry = index.lower_bound(makeKey(r));
      for (int n = 0; n < 16 && entry != index.end(); ++n, ++entry)
        snapshot.emplace_back(entry->first, entry->second.size());
      checksum += snapshot.size();
      break;
    }
    }
    if (i % 20000 == 19999) // rebuild: the whole index is freed
      index.clear();
  }
  return checksum + index.size();
}

} // namespace

int main(int argc, char **argv) {
  return runWorkload("containers", "operations", argc, argv, 500000, work);
}
