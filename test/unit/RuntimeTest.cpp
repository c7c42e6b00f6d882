//===-- RuntimeTest.cpp - Units for libmemscope_rt ------------------------===//
//
// The runtime is one process-wide state, so the tests share one recording
// session (a temporary folder) and adjust g_flags between tests. Logs are
// read back with a reader written here from docs/log-format.md, independent
// of memscope-merge's.
//
//===----------------------------------------------------------------------===//
#include "rt_internal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

using namespace memscope;
using namespace memscope::rt;

namespace {

/// Memory the runtime does not see: in exact mode every free is logged by
/// address, and a read log's records freed through free() would add to the
/// log a multiple of what was read.
template <typename T> struct UnseenAllocator {
  using value_type = T;
  UnseenAllocator() = default;
  template <typename U> UnseenAllocator(const UnseenAllocator<U> &) {}
  T *allocate(size_t n) {
    void *memory = __libc_malloc(n * sizeof(T));
    if (!memory)
      throw std::bad_alloc();
    return static_cast<T *>(memory);
  }
  void deallocate(T *p, size_t) { __libc_free(p); }
  template <typename U> bool operator==(const UnseenAllocator<U> &) const {
    return true;
  }
  template <typename U> bool operator!=(const UnseenAllocator<U> &) const {
    return false;
  }
};

struct Record {
  log::RecordType type;
  std::vector<uint8_t, UnseenAllocator<uint8_t>> payload;
};
using Records = std::vector<Record, UnseenAllocator<Record>>;

template <typename T> Record recordOf(log::RecordType type, const T &value) {
  const auto *bytes = reinterpret_cast<const uint8_t *>(&value);
  return {type, {bytes, bytes + sizeof(T)}};
}

/// Reads every record of a log file, checking framing and CRCs. The events
/// of Events records come back as version 1's Alloc and Free records, one
/// per event (with the address that version 3 gives exact mode's); the
/// bytes of their payloads add up into \p events_bytes when given.
Records readLog(const std::string &path, size_t *events_bytes = nullptr) {
  // Not recorded: in exact mode the reader's own allocations would add to
  // the log a multiple of what it read, and take the tests' blocks'
  // addresses in it.
  RecursionGuard quiet;
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)),
                            std::istreambuf_iterator<char>());
  Records records;
  EXPECT_GE(data.size(), log::kFileHeaderSize) << path;
  if (data.size() < log::kFileHeaderSize)
    return records;
  EXPECT_EQ(0, memcmp(data.data(), log::kMagic, sizeof(log::kMagic)));
  std::map<uint64_t, log::DecodedEvent> keys;
  std::vector<log::KeySize> key_sizes(log::kMaxEventKeys);
  uint64_t blocks = 0;
  size_t offset = log::kFileHeaderSize;
  while (offset + sizeof(log::RecordHeader) <= data.size()) {
    log::RecordHeader header;
    memcpy(&header, data.data() + offset, sizeof(header));
    if (header.type == 0 && header.payload_size == 0 && header.crc == 0)
      break;
    size_t end = offset + sizeof(header) + header.payload_size;
    EXPECT_LE(end, data.size()) << "record at " << offset << " overruns";
    if (end > data.size())
      break;
    const uint8_t *payload = data.data() + offset + sizeof(header);
    EXPECT_EQ(header.crc, log::recordCrc(header, payload))
        << "bad CRC at offset " << offset;
    offset += log::alignedRecordSize(header.payload_size);
    if (static_cast<log::RecordType>(header.type) != log::RecordType::Events) {
      records.push_back({static_cast<log::RecordType>(header.type),
                         {payload, payload + header.payload_size}});
      continue;
    }
    if (events_bytes)
      *events_bytes += header.payload_size;
    log::EventsDecoder decoder(payload, header.payload_size, ++blocks);
    log::DecodedEvent event;
    log::EventsDecoder::Status status;
    while ((status = decoder.next(event, key_sizes.data(), key_sizes.size())) ==
           log::EventsDecoder::Status::Event) {
      if (event.type == log::kEventKey) {
        keys[event.key] = event;
        continue;
      }
      EXPECT_TRUE(keys.count(event.key)) << "undefined key " << event.key;
      const log::DecodedEvent &key = keys[event.key];
      if (event.type == log::kEventFree || event.type == log::kEventFreeAddress)
        records.push_back(
            recordOf(log::RecordType::Free, log::freeRecordOf(event, key)));
      else
        records.push_back(
            recordOf(log::RecordType::Alloc, log::allocRecordOf(event, key)));
    }
    EXPECT_EQ(status, log::EventsDecoder::Status::End)
        << "malformed events at offset " << offset;
  }
  return records;
}

/// The bytes of a log file's Events payloads.
size_t eventsBytes(const std::string &path) {
  size_t total = 0;
  readLog(path, &total);
  return total;
}

template <typename T> T payloadAs(const Record &record) {
  T value;
  memcpy(&value, record.payload.data(), sizeof(T));
  return value;
}

std::string threadLogPath() {
  return std::string(processDirectory()) + "/t" +
         std::to_string(t_state.log->slot) + ".log";
}

/// Alloc records of this thread's log with the given size, after \p skip.
std::vector<log::AllocRecord> allocsOfSize(uint64_t size, size_t skip = 0) {
  std::vector<log::AllocRecord> result;
  Records records = readLog(threadLogPath());
  for (size_t i = skip; i < records.size(); ++i)
    if (records[i].type == log::RecordType::Alloc) {
      auto alloc = payloadAs<log::AllocRecord>(records[i]);
      if (alloc.size == size)
        result.push_back(alloc);
    }
  return result;
}

#ifdef MEMSCOPE_RT_NO_INTERPOSE
// Sanitizer builds leave the runtime's malloc interposers out (ASan and TSan
// own malloc there; see runtime/CMakeLists.txt). These do what the
// interposer does around the sanitizer's malloc, so that the same tests
// check the runtime's sampling, live table and logs.
__attribute__((noinline)) void *testMalloc(size_t size) {
  void *ptr = malloc(size);
  __memscope_tls.bytes_until_sample -= static_cast<int64_t>(size);
  if (__memscope_tls.bytes_until_sample < 0 && ptr)
    allocSampled(0, ptr, size, MSC_KIND_INDIRECT, MSC_CALLER_FRAME());
  return ptr;
}
void testFree(void *ptr) {
  if (ptr && maybeLive(ptr))
    freeSampled(0, ptr);
  free(ptr);
}
#else
void *testMalloc(size_t size) { return malloc(size); }
void testFree(void *ptr) { free(ptr); }
#endif

class RuntimeTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/memscope-rt-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    Folder = pattern;
    ASSERT_EQ(0, startRecording(Folder.c_str(), "exact=1:buffer_size=4096"));
    ASSERT_TRUE(isRecording());
  }
  static void TearDownTestSuite() {
    stopRecording();
    std::string command = "rm -rf '" + Folder + "'";
    ASSERT_EQ(0, system(command.c_str()));
  }
  void SetUp() override {
    Saved = g_flags;
    // Make sure this thread has a log.
    void *volatile warmup = testMalloc(1);
    testFree(warmup);
    ASSERT_NE(t_state.log, nullptr);
  }
  void TearDown() override {
    g_flags = Saved;
    samplingFlagsChanged();
  }
  /// Frees go through the live table, as in a session that began sampling,
  /// while every allocation is still recorded (exactNow() stays true).
  static void useLiveTable() { g_flags.exact = false; }

  static std::string Folder;
  Flags Saved;
};
std::string RuntimeTest::Folder;

} // namespace

TEST(FlagsTest, ParsesValuesSuffixesAndKeepsDefaultsOnErrors) {
  Flags saved = g_flags;
  parseFlags("exact=1:sample_interval=4k:min_allocation_size=1M:stack_depth=7");
  EXPECT_TRUE(g_flags.exact);
  EXPECT_EQ(g_flags.sample_interval, 4096u);
  parseFlags("sample_interval=1T:max_log_size=2g");
  EXPECT_EQ(g_flags.sample_interval, uint64_t(1) << 40);
  EXPECT_EQ(g_flags.max_log_size, uint64_t(2) << 30);
  parseFlags("exact=1:sample_interval=4k:min_allocation_size=1M:stack_depth=7");
  EXPECT_EQ(g_flags.min_allocation_size, 1024u * 1024);
  EXPECT_EQ(g_flags.stack_depth, 7u);

  // Each bad entry is reported and leaves that flag at its default.
  testing::internal::CaptureStderr();
  parseFlags("sample_rate=1.5:stack_depth=0:nonsense=3:buffer_size=5000:exact");
  std::string errors = testing::internal::GetCapturedStderr();
  EXPECT_EQ(g_flags.sample_rate, 0.0);
  EXPECT_EQ(g_flags.stack_depth, 32u);
  EXPECT_EQ(g_flags.buffer_size, 64u * 1024);
  EXPECT_FALSE(g_flags.exact);
  EXPECT_NE(errors.find("sample_rate must be in (0, 1]"), std::string::npos);
  EXPECT_NE(errors.find("unknown option 'nonsense'"), std::string::npos);
  EXPECT_NE(errors.find("'exact' in MEMSCOPE_OPTIONS has no '=value'"),
            std::string::npos);
  EXPECT_EQ(std::count(errors.begin(), errors.end(), '\n'), 5);
  g_flags = saved;
}

TEST_F(RuntimeTest, RecordsCrossWindowBoundariesIntact) {
  LogWriter *writer = createLogWriter("windows.log", log::FileKind::Thread, 77);
  ASSERT_NE(writer, nullptr);
  ASSERT_FALSE(writer->failed);
  EXPECT_EQ(writer->window_size, 4096u);
  // Records up to twice the 4 KiB windows (a Site record can be 8 KiB):
  // the window after a crossing is as large as the tail.
  std::vector<uint8_t> payload(9000);
  size_t written = 0;
  for (uint32_t i = 0; i < 500; ++i) {
    size_t size = (i * 37) % 9000 + 1; // many sizes, many crossings
    for (size_t b = 0; b < size; ++b)
      payload[b] = static_cast<uint8_t>(i + b);
    ASSERT_TRUE(
        appendRecord(*writer, log::RecordType::Padding, payload.data(), size));
    ++written;
  }
  Records records = readLog(std::string(processDirectory()) + "/windows.log");
  ASSERT_EQ(records.size(), written);
  for (uint32_t i = 0; i < records.size(); ++i) {
    size_t size = (i * 37) % 9000 + 1;
    ASSERT_EQ(records[i].payload.size(), size) << "record " << i;
    for (size_t b = 0; b < size; ++b)
      ASSERT_EQ(records[i].payload[b], static_cast<uint8_t>(i + b))
          << "record " << i << " byte " << b;
  }
}

TEST_F(RuntimeTest, EventWordsAreTheSharedEncodersBytes) {
  // The SSE 4.2 append builds common events in registers (rt_events.cpp):
  // the log must read back as the shared encoder wrote it, CRCs included
  // (readLog checks each record's), for events on both sides of every
  // varint length, both address steps, the general encoder's cases and
  // more keys than the writer's key table holds.
  LogWriter *writer = createLogWriter("words.log", log::FileKind::Thread, 78);
  ASSERT_NE(writer, nullptr);
  std::vector<log::AllocRecord> allocs;
  std::vector<log::FreeRecord> frees;
  std::vector<bool> is_free;
  uint64_t seed = 42, now = 1000, id = uint64_t(78) << 40, address = 0x10000;
  auto next = [&] {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return seed >> 33;
  };
  const uint64_t steps[] = {
      0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 0x1fffff, 0x200000, uint64_t(1) << 40};
  for (int i = 0; i < 4000; ++i) {
    now += steps[next() % 9];
    int64_t move = int64_t(steps[next() % 9]) * 16 - (next() % 2 ? 0 : 4096);
    address += move + (next() % 16 == 0 ? 8 : 0); // now and then unaligned
    if (next() % 2) {
      log::AllocRecord alloc{};
      alloc.sample_id = next() % 8 ? ++id : (id += 5);
      // Half of them at a site of their own: about 1,000 keys, more than
      // the three quarters of exact mode's 1,024-entry key table that fill
      // it, so it is emptied and its keys are defined again.
      alloc.site_id = next() % 2 ? next() % 4 : 4 + next() % 100000;
      alloc.stack_id = next() % 3;
      alloc.size = steps[next() % 9];
      alloc.monotonic_ns = now;
      // Weights of 1, carried (an f64) and derived from the size and one
      // of two intervals (the interval again, or a new one: version 4).
      uint64_t weight_interval = 0;
      switch (alloc.size ? next() % 4 : 0) {
      case 0:
        alloc.weight = next() % 8 ? 1.0 : 3.5;
        break;
      case 1:
        alloc.weight = 3.5;
        break;
      default:
        weight_interval = next() % 3 ? 256 * 1024 : 4096;
        alloc.weight = log::byteSampleWeight(alloc.size, weight_interval);
      }
      alloc.flags = (next() % 4 ? log::AllocFreedByAddress : 0) |
                    (next() % 16 ? 0 : log::AllocUntracked);
      alloc.address = (alloc.flags & log::AllocFreedByAddress) ? address : 0;
      ASSERT_TRUE(appendAllocEvent(*writer, alloc, weight_interval));
      allocs.push_back(alloc);
      is_free.push_back(false);
    } else {
      log::FreeRecord free_record{};
      free_record.sample_id = next() % 4 ? 0 : id - next() % 3;
      free_record.site_id = next() % 4;
      free_record.monotonic_ns = now;
      free_record.address = free_record.sample_id ? 0 : address;
      ASSERT_TRUE(appendFreeEvent(*writer, free_record));
      frees.push_back(free_record);
      is_free.push_back(true);
    }
  }
  Records records;
  for (Record &record : readLog(std::string(processDirectory()) + "/words.log"))
    if (record.type == log::RecordType::Alloc ||
        record.type == log::RecordType::Free) // not the windows' padding
      records.push_back(std::move(record));
  ASSERT_EQ(records.size(), is_free.size());
  size_t a = 0, f = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    if (is_free[i]) {
      ASSERT_EQ(records[i].type, log::RecordType::Free) << i;
      auto read = payloadAs<log::FreeRecord>(records[i]);
      const log::FreeRecord &wrote = frees[f++];
      EXPECT_EQ(read.sample_id, wrote.sample_id) << i;
      EXPECT_EQ(read.site_id, wrote.site_id) << i;
      EXPECT_EQ(read.monotonic_ns, wrote.monotonic_ns) << i;
      EXPECT_EQ(read.address, wrote.address) << i;
    } else {
      ASSERT_EQ(records[i].type, log::RecordType::Alloc) << i;
      auto read = payloadAs<log::AllocRecord>(records[i]);
      const log::AllocRecord &wrote = allocs[a++];
      EXPECT_EQ(read.sample_id, wrote.sample_id) << i;
      EXPECT_EQ(read.site_id, wrote.site_id) << i;
      EXPECT_EQ(read.stack_id, wrote.stack_id) << i;
      EXPECT_EQ(read.size, wrote.size) << i;
      EXPECT_EQ(read.monotonic_ns, wrote.monotonic_ns) << i;
      EXPECT_EQ(read.weight, wrote.weight) << i;
      EXPECT_EQ(read.flags, wrote.flags) << i;
      EXPECT_EQ(read.address, wrote.address) << i;
    }
  }
}

TEST_F(RuntimeTest, ExactModeLogsEveryFreeByAddress) {
  size_t before = readLog(threadLogPath()).size();
  std::vector<void *> blocks;
  for (int i = 0; i < 50; ++i)
    blocks.push_back(testMalloc(1234));
  for (void *block : blocks)
    testFree(block);
  // Exact mode's filter is saturated and stays so: every free is logged.
  for (void *block : blocks)
    EXPECT_EQ(__memscope_live_filter[liveFilterIndex(block)], 0xFFFF);
  // The table is left alone: no block is in it.
  EXPECT_EQ(liveRemove(blocks[0]), 0u);
  Records records = readLog(threadLogPath());
  // Each block's allocation, then a free of its address before the address
  // is allocated again. (The log's reader is not recorded, and the blocks
  // it returns are freed after: a free without an allocation may follow.)
  std::vector<uintptr_t> allocated;
  std::map<uintptr_t, int> frees_since_alloc;
  for (size_t i = before; i < records.size(); ++i) {
    if (records[i].type == log::RecordType::Alloc) {
      auto alloc = payloadAs<log::AllocRecord>(records[i]);
      EXPECT_EQ(alloc.flags, uint32_t(log::AllocFreedByAddress));
      if (frees_since_alloc.count(alloc.address))
        EXPECT_GE(frees_since_alloc[alloc.address], 1) << alloc.address;
      frees_since_alloc[alloc.address] = 0;
      if (alloc.size == 1234) {
        allocated.push_back(alloc.address);
        EXPECT_EQ(alloc.weight, 1.0);
        EXPECT_EQ(alloc.kind, static_cast<uint32_t>(MSC_KIND_INDIRECT));
        EXPECT_NE(alloc.stack_id, 0u) << "uninstrumented samples carry a stack";
      }
    } else if (records[i].type == log::RecordType::Free) {
      auto free_record = payloadAs<log::FreeRecord>(records[i]);
      EXPECT_EQ(free_record.sample_id, 0u);
      if (frees_since_alloc.count(free_record.address))
        ++frees_since_alloc[free_record.address];
    }
  }
  std::vector<uintptr_t> expected;
  for (void *block : blocks)
    expected.push_back(reinterpret_cast<uintptr_t>(block));
  EXPECT_EQ(allocated, expected);
  for (uintptr_t address : expected)
    EXPECT_GE(frees_since_alloc[address], 1) << "no free of " << address;
}

TEST_F(RuntimeTest, FreeFromAnotherThreadIsLoggedThere) {
  for (bool by_address : {true, false}) {
    if (!by_address)
      useLiveTable();
    void *block = testMalloc(4321);
    uint64_t sample = 0;
    for (const log::AllocRecord &alloc : allocsOfSize(4321))
      sample = alloc.sample_id; // the last one: this block
    ASSERT_NE(sample, 0u);
    LogWriter *other_log = nullptr;
    std::thread([&] {
      testFree(block);
      other_log = t_state.log;
    }).join();
    ASSERT_NE(other_log, nullptr);
    int found = 0;
    for (const Record &record :
         readLog(std::string(processDirectory()) + "/t" +
                 std::to_string(other_log->slot) + ".log")) {
      if (record.type != log::RecordType::Free)
        continue;
      auto free_record = payloadAs<log::FreeRecord>(record);
      found += by_address
                   ? free_record.address == reinterpret_cast<uintptr_t>(block)
                   : free_record.sample_id == sample;
    }
    EXPECT_EQ(found, 1) << (by_address ? "by address" : "by sample id");
  }
}

TEST_F(RuntimeTest, ABlockHandedOverIsLookedForOnceAndItsReuseAgain) {
#ifdef MEMSCOPE_RT_NO_INTERPOSE
  GTEST_SKIP() << "the free interposer is not built in sanitizer builds";
#endif
  // Sample ids from the live table, and the logs read once at the end: in
  // exact mode reading a log records the reader's own allocations.
  useLiveTable();
  auto sampleOf = [](void *block) {
    uint64_t sample = liveRemove(block);
    liveReinsert(block, sample);
    return sample;
  };
  // A delete site: the entry takes the block out, operator delete frees it
  // through the interposer, which does not look again.
  void *block = malloc(5151);
  uint64_t first = sampleOf(block);
  __memscope_free_sampled(7, block);
  EXPECT_EQ(t_heap.handed_over, block);
  free(block);
  EXPECT_EQ(t_heap.handed_over, nullptr);
  // A C free site: its direct free clears the mark. Another thread then
  // gets a block back and hands it here, where an uninstrumented free must
  // record its free.
  void *again = malloc(5151);
  __memscope_free_sampled(8, again);
  __memscope_free_unchecked(again);
  EXPECT_EQ(t_heap.handed_over, nullptr);
  void *reused = nullptr;
  std::thread([&] { reused = malloc(5151); }).join();
  uint64_t second = sampleOf(reused);
  free(reused);
  // A mark left behind (the block went to glibc unseen) dies with this
  // thread's next recorded allocation, which gets that address back from
  // glibc's per-thread cache; the new block's free must be matched.
  void *left = malloc(5151);
  __memscope_free_sampled(9, left);
  __libc_free(left);
  ASSERT_EQ(t_heap.handed_over, left);
  void *back = malloc(5151);
  EXPECT_EQ(t_heap.handed_over, nullptr);
  uint64_t third = sampleOf(back);
  free(back);

  std::map<uint64_t, int> frees;
  for (uint32_t slot = 0; slot < 64; ++slot) {
    std::string path =
        std::string(processDirectory()) + "/t" + std::to_string(slot) + ".log";
    if (access(path.c_str(), F_OK) == 0)
      for (const Record &record : readLog(path))
        if (record.type == log::RecordType::Free)
          ++frees[payloadAs<log::FreeRecord>(record).sample_id];
  }
  ASSERT_NE(first, 0u);
  ASSERT_NE(second, 0u);
  ASSERT_NE(third, 0u);
  EXPECT_EQ(frees[first], 1);
  EXPECT_EQ(frees[second], 1);
  if (back == left)
    EXPECT_EQ(frees[third], 1) << "the reused address's free was skipped";
}

TEST_F(RuntimeTest, PoissonWeightsEstimateBytesAndCountsWithoutBias) {
  g_flags.exact = false;
  g_flags.sample_interval = 16 * 1024;
  samplingFlagsChanged();
  __memscope_tls.bytes_until_sample = 0;
  t_state.rng = 0; // restart the Poisson process with the new interval
  size_t before = readLog(threadLogPath()).size();
  size_t bytes_before = eventsBytes(threadLogPath());
  constexpr int kBlocks = 200000;
  constexpr size_t kSize = 333;
  for (int i = 0; i < kBlocks; ++i) {
    void *volatile block = testMalloc(kSize);
    testFree(block);
  }
  double count = 0, bytes = 0;
  std::vector<log::AllocRecord> samples = allocsOfSize(kSize, before);
  for (const log::AllocRecord &sample : samples) {
    count += sample.weight;
    bytes += sample.weight * sample.size;
    // The reader derives the weight the event left out: the same double.
    EXPECT_EQ(sample.weight, 1.0 / -std::expm1(-333.0 / 16384.0));
  }
  // About 4,000 samples: a 5% bound is more than 3 standard errors.
  EXPECT_GT(samples.size(), 3000u);
  // Each sample's allocation and free take about 6 bytes of events: a tag
  // and a time each. The weight is derived from the size and the interval
  // (version 4: 8 bytes a sample less); the key, the size and the freed id
  // repeat the previous ones and are left out (version 5: 5 bytes less).
  double per_sample =
      double(eventsBytes(threadLogPath()) - bytes_before) / samples.size();
  EXPECT_LT(per_sample, 8.0);
  EXPECT_NEAR(count, kBlocks, 0.05 * kBlocks);
  EXPECT_NEAR(bytes, double(kBlocks) * kSize, 0.05 * kBlocks * kSize);
}

TEST_F(RuntimeTest, RateModeWeightsEstimateCounts) {
  g_flags.exact = false;
  g_flags.sample_rate = 0.05;
  samplingFlagsChanged();
  __memscope_tls.bytes_until_sample = -1;
  t_state.rng = 0;
  size_t before = readLog(threadLogPath()).size();
  constexpr int kBlocks = 100000;
  for (int i = 0; i < kBlocks; ++i) {
    void *volatile block = testMalloc(77);
    testFree(block);
  }
  double count = 0;
  std::vector<log::AllocRecord> samples = allocsOfSize(77, before);
  for (const log::AllocRecord &sample : samples) {
    EXPECT_DOUBLE_EQ(sample.weight, 20.0);
    count += sample.weight;
  }
  EXPECT_NEAR(count, kBlocks, 0.05 * kBlocks); // ~5,000 samples
}

TEST_F(RuntimeTest, MinimumSizeIsNeverSampled) {
  g_flags.min_allocation_size = 1000;
  size_t before = readLog(threadLogPath()).size();
  for (int i = 0; i < 100; ++i) {
    void *volatile small = testMalloc(999);
    void *volatile large = testMalloc(1000);
    testFree(small);
    testFree(large);
  }
  EXPECT_EQ(allocsOfSize(999, before).size(), 0u);
  EXPECT_EQ(allocsOfSize(1000, before).size(), 100u);
}

TEST_F(RuntimeTest, ReallocFailureKeepsTheBlockTracked) {
#ifdef MEMSCOPE_RT_NO_INTERPOSE
  GTEST_SKIP() << "realloc's interposer is not built in sanitizer builds";
#endif
  useLiveTable();
  char *block = static_cast<char *>(testMalloc(6464));
  uint64_t sample = 0;
  for (const log::AllocRecord &alloc : allocsOfSize(6464))
    sample = alloc.sample_id; // the last one: this block
  ASSERT_NE(sample, 0u);
  // An impossible size fails and leaves the old block valid and tracked.
  void *volatile huge = realloc(block, SIZE_MAX / 2);
  EXPECT_EQ(huge, nullptr);
  EXPECT_TRUE(maybeLive(block));
  EXPECT_EQ(liveRemove(block), sample);
  liveReinsert(block, sample);
  testFree(block);
  EXPECT_EQ(liveRemove(block), 0u);
}

TEST_F(RuntimeTest, ReallocLogsTheOldBlocksFreeByAddressOnceItIsGone) {
#ifdef MEMSCOPE_RT_NO_INTERPOSE
  GTEST_SKIP() << "realloc's interposer is not built in sanitizer builds";
#endif
  size_t before = readLog(threadLogPath()).size();
  char *block = static_cast<char *>(malloc(6565));
  ASSERT_NE(block, nullptr);
  void *volatile huge = realloc(block, SIZE_MAX / 2); // fails: block stays
  EXPECT_EQ(huge, nullptr);
  char *moved = static_cast<char *>(realloc(block, 1 << 20)); // mapped: moves
  ASSERT_NE(moved, nullptr);
  ASSERT_NE(moved, block);
  free(moved);
  // The block's allocation, its free once realloc moved it (not when realloc
  // failed), then the new block's allocation and free, in that order.
  std::vector<std::string> seen;
  auto name = [&](uint64_t address) {
    return address == reinterpret_cast<uintptr_t>(block)   ? "block"
           : address == reinterpret_cast<uintptr_t>(moved) ? "moved"
                                                           : "";
  };
  Records records = readLog(threadLogPath());
  for (size_t i = before; i < records.size(); ++i) {
    std::string which;
    if (records[i].type == log::RecordType::Alloc)
      which = std::string("alloc ") +
              name(payloadAs<log::AllocRecord>(records[i]).address);
    else if (records[i].type == log::RecordType::Free)
      which = std::string("free ") +
              name(payloadAs<log::FreeRecord>(records[i]).address);
    if (!which.empty() && which.back() != ' ')
      seen.push_back(which);
  }
  // From the block's allocation (the reader's own blocks are freed unseen
  // before it, and after).
  auto from = std::find(seen.begin(), seen.end(), "alloc block");
  ASSERT_GE(seen.end() - from, 4);
  EXPECT_EQ(std::vector<std::string>(from, from + 4),
            (std::vector<std::string>{"alloc block", "free block",
                                      "alloc moved", "free moved"}));
}

TEST_F(RuntimeTest, ADeleteSiteAndTheFreeAfterItLogOneFreeByAddress) {
#ifdef MEMSCOPE_RT_NO_INTERPOSE
  GTEST_SKIP() << "the free interposer is not built in sanitizer builds";
#endif
  size_t before = readLog(threadLogPath()).size();
  void *block = malloc(5353);
  __memscope_free_sampled(7, block);
  free(block); // operator delete's free: handed over, not logged again
  // From the block's allocation to the next at its address.
  std::vector<uint64_t> sites;
  bool allocated = false;
  Records records = readLog(threadLogPath());
  for (size_t i = before; i < records.size(); ++i) {
    if (records[i].type == log::RecordType::Alloc &&
        payloadAs<log::AllocRecord>(records[i]).address ==
            reinterpret_cast<uintptr_t>(block)) {
      if (allocated)
        break;
      allocated = payloadAs<log::AllocRecord>(records[i]).size == 5353;
    } else if (allocated && records[i].type == log::RecordType::Free &&
               payloadAs<log::FreeRecord>(records[i]).address ==
                   reinterpret_cast<uintptr_t>(block)) {
      sites.push_back(payloadAs<log::FreeRecord>(records[i]).site_id);
    }
  }
  EXPECT_TRUE(allocated);
  EXPECT_EQ(sites, std::vector<uint64_t>{7});
}

TEST_F(RuntimeTest, FreeOfNullAndReallocToZeroByAddress) {
#ifdef MEMSCOPE_RT_NO_INTERPOSE
  GTEST_SKIP() << "realloc's interposer is not built in sanitizer builds";
#endif
  size_t before = readLog(threadLogPath()).size();
  __memscope_free_sampled(5, nullptr); // an instrumented free(NULL)
  void *block = malloc(7171);
  ASSERT_NE(block, nullptr);
  void *volatile gone = realloc(block, 0); // glibc frees the block
  EXPECT_EQ(gone, nullptr);
  int nulls = 0, frees = 0;
  bool allocated = false;
  Records records = readLog(threadLogPath());
  for (size_t i = before; i < records.size(); ++i) {
    if (records[i].type == log::RecordType::Alloc &&
        payloadAs<log::AllocRecord>(records[i]).size == 7171)
      allocated = true;
    if (records[i].type != log::RecordType::Free)
      continue;
    auto free_record = payloadAs<log::FreeRecord>(records[i]);
    nulls += free_record.address == 0;
    frees +=
        allocated && free_record.address == reinterpret_cast<uintptr_t>(block);
  }
  EXPECT_EQ(nulls, 0) << "free(NULL) is no free";
  EXPECT_TRUE(allocated);
  EXPECT_GE(frees, 1) << "realloc(p, 0) frees p";
}

TEST_F(RuntimeTest, LiveTableHoldsDenseHeapsWhoseRegionsOverlap) {
  // The table keeps the heap's locality: 2 MiB of address fill consecutive
  // entries. Regions packed with 32-byte blocks fill 45% of the table in
  // dense runs that overlap each other at random. Every block must still
  // find an entry, and its free its sample (a block without one loses its
  // free in exact mode).
  constexpr uintptr_t kBase = 0x7e5500000000ull; // never a real block here
  const uint64_t entries = liveTableEntries();
  ASSERT_GE(entries, 65536u);
  const int kPerRegion =
      static_cast<int>(std::min<uint64_t>(40000, entries / 8));
  const int kRegions = static_cast<int>(entries * 45 / 100 / kPerRegion);
  auto key = [&](int region, int i) {
    return reinterpret_cast<void *>(kBase + (uintptr_t(region) << 21) +
                                    uintptr_t(i) * 32);
  };
  auto sample = [](int region, int i) {
    return (uint64_t(region + 1) << 32) | uint64_t(i + 1);
  };
  uint64_t untracked = g_untracked_samples.load();
  for (int region = 0; region < kRegions; ++region)
    for (int i = 0; i < kPerRegion; ++i)
      liveReinsert(key(region, i), sample(region, i));
  EXPECT_EQ(g_untracked_samples.load(), untracked) << "blocks without an entry";
  // A block never inserted is not found, and each inserted one is, once.
  EXPECT_EQ(liveRemove(key(kRegions, 0)), 0u);
  int wrong = 0;
  for (int region = kRegions - 1; region >= 0; --region)
    for (int i = 0; i < kPerRegion; ++i)
      wrong += liveRemove(key(region, i)) != sample(region, i);
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(liveRemove(key(0, 0)), 0u);
  EXPECT_FALSE(maybeLive(key(1, 1)) && liveRemove(key(1, 1)) != 0);
}

TEST_F(RuntimeTest, PlantedSymlinkIsNeverFollowed) {
  std::string victim = Folder + "/victim";
  std::string planted = std::string(processDirectory()) + "/t9999.log";
  { std::ofstream(victim) << "precious"; }
  ASSERT_EQ(0, symlink(victim.c_str(), planted.c_str()));
  testing::internal::CaptureStderr();
  LogWriter *writer = createLogWriter("t9999.log", log::FileKind::Thread, 9999);
  std::string warning = testing::internal::GetCapturedStderr();
  EXPECT_EQ(writer, nullptr);
  std::ifstream in(victim);
  std::string content((std::istreambuf_iterator<char>(in)),
                      std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "precious");
  unlink(planted.c_str());
}

TEST_F(RuntimeTest, CrashPathWritesRunningThreadsAndTheSignal) {
  // In a forked child (which records into its own folder), as the crash
  // handler would after SIGSEGV.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    void *volatile block = testMalloc(555);
    (void)block;
    _exit(finishAfterCrash(SIGSEGV) && !finishAfterCrash(SIGSEGV) ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "written once, and only once";
  char exe[4096];
  ssize_t length = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  ASSERT_GT(length, 0);
  exe[length] = '\0';
  std::string folder =
      Folder + "/" + (strrchr(exe, '/') + 1) + "." + std::to_string(child);
  Records records = readLog(folder + "/process.log");
  int ends = 0, running = 0;
  for (const Record &record : records) {
    if (record.type == log::RecordType::ProcessEnd) {
      ++ends;
      EXPECT_EQ(payloadAs<log::ProcessEndRecord>(record).exit_kind, SIGSEGV);
    }
    running += record.type == log::RecordType::ThreadRunning;
  }
  EXPECT_EQ(ends, 1);
  EXPECT_EQ(running, 1) << "the crashing thread was running";
  bool allocation_kept = false;
  for (const Record &record : readLog(folder + "/t0.log"))
    if (record.type == log::RecordType::Alloc &&
        payloadAs<log::AllocRecord>(record).size == 555)
      allocation_kept = true;
  EXPECT_TRUE(allocation_kept);
}

TEST_F(RuntimeTest, EventClockStaysWithinTheRealClock) {
  // Where the kernel keeps CLOCK_MONOTONIC by the TSC, events are timed by
  // it once calibrated (1 ms after start-up); elsewhere by the real clock.
  std::ifstream source(
      "/sys/devices/system/clocksource/clocksource0/current_clocksource");
  std::string name;
  source >> name;
  uint64_t deadline = monotonicNs() + 2000000000ull;
  while (name == "tsc" && monotonicNs() < deadline && eventNs() &&
         !g_event_clock.scale.load(std::memory_order_relaxed))
    usleep(100);
#if defined(__x86_64__)
  EXPECT_EQ(name == "tsc",
            g_event_clock.scale.load(std::memory_order_relaxed) != 0)
      << "clocksource " << name;
#endif
  // Each read lies between two real reads around it, give or take the
  // interpolation's error (a few ns; 250 allowed, where a slope 1% off
  // would be 500 ns off at the end of a window), on several threads, with
  // pauses that make each thread read the real clock again.
  constexpr int64_t kSlackNs = 250;
  std::atomic<uint64_t> outside{0};
  std::atomic<int64_t> worst{0};
  auto check = [&] {
    for (int round = 0; round < 200; ++round) {
      for (int i = 0; i < 500; ++i) {
        uint64_t before = monotonicNs();
        uint64_t event = eventNs();
        uint64_t after = monotonicNs();
        int64_t error = 0;
        if (event < before)
          error = static_cast<int64_t>(before - event);
        else if (event > after)
          error = static_cast<int64_t>(event - after);
        if (error > kSlackNs)
          outside.fetch_add(1);
        int64_t seen = worst.load();
        while (error > seen && !worst.compare_exchange_weak(seen, error)) {
        }
      }
      if (round % 16 == 0)
        usleep(60); // past the 50 us window: the next read anchors again
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t)
    threads.emplace_back(check);
  check();
  for (std::thread &thread : threads)
    thread.join();
  EXPECT_EQ(0u, outside.load()) << "worst error " << worst.load() << " ns";

  // tsc_clock=0 in a later session turns it off, tsc_clock=1 on again.
  g_flags.tsc_clock = false;
  initEventClock();
  EXPECT_EQ(0u, g_event_clock.scale.load(std::memory_order_relaxed));
  uint64_t before = monotonicNs();
  uint64_t event = eventNs();
  EXPECT_LE(before, event);
  EXPECT_LE(event, monotonicNs());
  g_flags.tsc_clock = true;
  initEventClock();
  deadline = monotonicNs() + 2000000000ull;
  while (name == "tsc" && monotonicNs() < deadline && eventNs() &&
         !g_event_clock.scale.load(std::memory_order_relaxed))
    usleep(100); // the next read that takes a pair measures the slope
#if defined(__x86_64__)
  EXPECT_EQ(name == "tsc",
            g_event_clock.scale.load(std::memory_order_relaxed) != 0);
#endif
}

TEST_F(RuntimeTest, ConcurrentThreadsFreeEachOthersBlocksAndShareSlots) {
  // Eight threads allocate, hand blocks to each other to free (cross-thread
  // frees: by address, then through the live table), and exit while the
  // main thread takes running-thread snapshots; run twice so that the second
  // round reuses the first round's log slots. Under TSan this is the
  // runtime's race check.
  constexpr int kThreads = 8, kBlocks = 2000;
  constexpr size_t kSize = 2468;
  for (bool by_address : {true, false}) {
    if (!by_address)
      useLiveTable();
    std::atomic<uint64_t> thread_ids[2 * kThreads];
    for (int round = 0; round < 2; ++round) {
      std::atomic<void *> mailbox[kThreads];
      for (auto &box : mailbox)
        box.store(nullptr);
      std::atomic<int> finished{0};
      std::vector<std::thread> threads;
      for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t, round] {
          thread_ids[round * kThreads + t] = ensureThreadId();
          for (int i = 0; i < kBlocks; ++i) {
            void *mine = testMalloc(kSize);
            // Free whatever the neighbour left, then leave ours for the next.
            if (void *theirs = mailbox[(t + 1) % kThreads].exchange(nullptr))
              testFree(theirs);
            if (void *old = mailbox[t].exchange(mine))
              testFree(old);
          }
          ++finished;
        });
      while (finished.load() < kThreads)
        writeRunningThreads();
      for (std::thread &thread : threads)
        thread.join();
      for (auto &box : mailbox)
        testFree(box.exchange(nullptr));
    }
    uint64_t allocs = 0;
    std::vector<uint64_t> alloc_keys, free_keys; // sample ids, or addresses
    for (uint32_t slot = 0; slot < 64; ++slot) {
      std::string path = std::string(processDirectory()) + "/t" +
                         std::to_string(slot) + ".log";
      if (access(path.c_str(), F_OK) != 0)
        continue;
      for (const Record &record : readLog(path)) {
        auto ours = [&](uint64_t sample_id) { // ids start with the thread
          for (auto &id : thread_ids)
            if (id.load() == sample_id >> 40)
              return true;
          return false;
        };
        if (record.type == log::RecordType::Alloc) {
          auto alloc = payloadAs<log::AllocRecord>(record);
          if (alloc.size != kSize || !ours(alloc.sample_id))
            continue;
          ++allocs;
          EXPECT_EQ(alloc.flags, by_address ? log::AllocFreedByAddress : 0u);
          alloc_keys.push_back(by_address ? alloc.address : alloc.sample_id);
        } else if (record.type == log::RecordType::Free) {
          auto free_record = payloadAs<log::FreeRecord>(record);
          if ((free_record.sample_id == 0) == by_address)
            free_keys.push_back(by_address ? free_record.address
                                           : free_record.sample_id);
        }
      }
    }
    EXPECT_EQ(allocs, 2u * kThreads * kBlocks);
    // Every block was freed: each sample id has its free; each address at
    // least as many frees as blocks of ours were there.
    std::sort(alloc_keys.begin(), alloc_keys.end());
    std::sort(free_keys.begin(), free_keys.end());
    size_t unmatched = 0;
    for (auto at = alloc_keys.begin(); at != alloc_keys.end();) {
      auto next = std::upper_bound(at, alloc_keys.end(), *at);
      auto [from, to] =
          std::equal_range(free_keys.begin(), free_keys.end(), *at);
      if (to - from < next - at)
        unmatched += (next - at) - (to - from);
      at = next;
    }
    EXPECT_EQ(unmatched, 0u) << (by_address ? "by address" : "by sample id");
  }
}
