//===-- ApiTest.cpp - Units for memscope::lockfree ------------------------===//
//
// Each check could fail: the figures come from /proc after real work (CPU
// burnt, memory touched, system calls made) by this test process.
//
//===----------------------------------------------------------------------===//
#include "memscope/lockfree.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <thread>
#include <time.h>
#include <unistd.h>

using namespace memscope::lockfree;
using namespace std::chrono_literals;

namespace {

std::string errorOf(const std::function<void()> &action) {
  try {
    action();
  } catch (const Error &error) {
    return error.what();
  }
  return "";
}

char *volatile escape;

std::filesystem::path temporaryFolder() {
  char pattern[] = "/tmp/memscope-api-test-XXXXXX";
  EXPECT_NE(mkdtemp(pattern), nullptr);
  return pattern;
}

} // namespace

/// What validate() says of \p config; "" when it accepts it.
std::string validationError(const SamplingConfig &config) {
  return errorOf([&] { config.validate(); });
}

TEST(SamplingConfigTest, RejectsBadValuesNamingThem) {
  SamplingConfig zero_interval = SamplingConfig::balanced();
  zero_interval.sample_interval_bytes = 0;
  const std::pair<SamplingConfig, const char *> bad[] = {
      {{0.0, 0, 4096}, "sample_rate is 0.000000, but must be in (0, 1]"},
      {{1.5, 0, 4096}, "sample_rate is 1.500000"},
      {{0.5, 0, 1000}, "buffer_size is 1000 bytes, below the minimum of 4096"},
      {{0.5, 0, 5000}, "not a multiple of 4096"},
      {zero_interval, "sample_interval_bytes is 0"},
  };
  for (const auto &[config, says] : bad)
    EXPECT_NE(validationError(config).find(says), std::string::npos) << says;
  // The design page's two configurations are valid.
  EXPECT_EQ(validationError({0.01, 1024, 1024 * 1024}), "");
  EXPECT_EQ(validationError({0.05, 512, 2 * 1024 * 1024}), "");
}

TEST(SamplingConfigTest, MapsToRuntimeOptions) {
  EXPECT_EQ((SamplingConfig{0.01, 1024, 1024 * 1024}.to_options()),
            "sample_rate=0.01:min_allocation_size=1024:buffer_size=1048576");
  EXPECT_EQ(SamplingConfig::exact().to_options(),
            "exact=1:min_allocation_size=0:buffer_size=1048576");
  EXPECT_EQ(SamplingConfig::balanced().to_options(),
            "sample_interval=262144:min_allocation_size=0:buffer_size=65536");
}

/// CPU time the calling thread has used, in seconds.
double threadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + now.tv_nsec * 1e-9;
}

TEST(ResourceCollectorTest, BusyThreadShowsInPeakCpu) {
  // The burner spins until it has itself used 0.5 s of CPU, however long a
  // loaded machine makes that take, so the check does not depend on timing.
  constexpr double kBurnSeconds = 0.5;
  PlatformResourceCollector collector(20ms);
  collector.start_monitoring();
  double burned = 0;
  std::thread burner([&] {
    double start = threadCpuSeconds();
    volatile uint64_t sink = 0;
    while (threadCpuSeconds() - start < kBurnSeconds)
      for (int i = 0; i < 10000; ++i)
        sink = sink + 1;
    burned = threadCpuSeconds() - start;
  });
  burner.join();
  ResourceMetrics metrics = collector.stop_monitoring();
  // /proc counts CPU in clock ticks (10 ms): allow two of them.
  EXPECT_GE(metrics.cpu_metrics.total_cpu_seconds, burned - 0.02);
  EXPECT_GE(metrics.duration_seconds, burned - 0.02);
  double mean_percent =
      100.0 * metrics.cpu_metrics.total_cpu_seconds / metrics.duration_seconds;
  EXPECT_GE(metrics.cpu_metrics.peak_usage_percent, mean_percent * 0.9);
  EXPECT_GT(metrics.samples, 5u);
}

TEST(ResourceCollectorTest, TouchedMemoryRaisesPeak) {
  PlatformResourceCollector collector;
  collector.start_monitoring();
  ResourceMetrics before = collector.stop_monitoring();
  collector.start_monitoring();
  constexpr size_t kBytes = 200u << 20;
  char *block = static_cast<char *>(malloc(kBytes));
  ASSERT_NE(block, nullptr);
  memset(block, 1, kBytes);
  escape = block; // keep the optimiser from eliding the touched block
  free(escape);
  ResourceMetrics after = collector.stop_monitoring();
  EXPECT_GE(after.memory_metrics.peak_usage_gb -
                before.memory_metrics.peak_usage_gb,
            0.19);
}

TEST(ResourceCollectorTest, WritesCountAsIoOperations) {
  std::filesystem::path folder = temporaryFolder();
  PlatformResourceCollector collector;
  collector.start_monitoring();
  int fd = open((folder / "records").c_str(), O_WRONLY | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  constexpr int kRecords = 1000;
  for (int i = 0; i < kRecords; ++i)
    ASSERT_EQ(write(fd, "record\n", 7), 7);
  close(fd);
  ResourceMetrics metrics = collector.stop_monitoring();
  EXPECT_GE(metrics.io_metrics.write_operations, uint64_t(kRecords));
  EXPECT_GE(metrics.io_metrics.total_operations, uint64_t(kRecords));
  EXPECT_GE(metrics.io_metrics.bytes_written, uint64_t(7 * kRecords));
  std::filesystem::remove_all(folder);
}

TEST(ResourceCollectorTest, SamplerThreadIsNamedForTheAnalysis) {
  // The analysis recognises Memscope's own thread by this name; the kernel
  // refuses names over 15 characters, so check that it really took.
  PlatformResourceCollector collector(10ms);
  collector.start_monitoring();
  std::this_thread::sleep_for(50ms);
  bool found = false;
  for (const auto &task :
       std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    found |= name == "memscope-rsrc";
  }
  collector.stop_monitoring();
  EXPECT_TRUE(found);
}

TEST(ResourceCollectorTest, MisuseIsAnError) {
  PlatformResourceCollector collector;
  EXPECT_NE(
      errorOf([&] { collector.stop_monitoring(); }).find("not monitoring"),
      std::string::npos);
  collector.start_monitoring();
  EXPECT_NE(
      errorOf([&] { collector.start_monitoring(); }).find("already monitoring"),
      std::string::npos);
  collector.stop_monitoring();
  EXPECT_NE(errorOf([] {
              PlatformResourceCollector bad(0ms);
            }).find("interval must be positive"),
            std::string::npos);
}

TEST(TracingTest, ErrorsAreSpecific) {
  // A folder under a regular file cannot be created.
  std::filesystem::path folder = temporaryFolder();
  std::ofstream(folder / "file") << "x";
  std::string error = errorOf([&] { trace_all(folder / "file" / "logs"); });
  EXPECT_NE(error.find("cannot create output folder"), std::string::npos)
      << error;
  EXPECT_NE(error.find("Not a directory"), std::string::npos) << error;

  EXPECT_NE(errorOf([] { stop_tracing(); }).find("tracing is not on"),
            std::string::npos);
  EXPECT_NE(errorOf([] { snapshot(); }).find("snapshot: tracing is not on"),
            std::string::npos);
  trace_all(folder / "logs");
  // Numbered from 1 in each recording.
  EXPECT_EQ(snapshot(), 1u);
  EXPECT_EQ(snapshot(), 2u);
  EXPECT_NE(errorOf([&] {
              trace_all(folder / "other");
            }).find("tracing is already on"),
            std::string::npos);
  EXPECT_NE(errorOf([&] {
              export_comprehensive_analysis(folder / "logs", "x");
            }).find("tracing is still on"),
            std::string::npos);
  stop_tracing();
  EXPECT_NE(errorOf([&] {
              export_comprehensive_analysis(folder / "logs", "a/b");
            }).find("bad report name"),
            std::string::npos);
  std::filesystem::remove_all(folder);
}
