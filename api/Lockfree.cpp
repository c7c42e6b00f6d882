//===-- Lockfree.cpp - memscope::lockfree: recording, export, sessions ----===//
//
// A thin C++ layer over the runtime's C interface (memscope/memscope.h) and
// the memscope-merge tool, which it runs as a child process: the program
// being profiled does not link LLVM.
//
//===----------------------------------------------------------------------===//
#include "memscope/lockfree.hpp"
#include "memscope/LogFormat.h"
#include "memscope/memscope.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace memscope {
namespace lockfree {

namespace {

constexpr const char *kSamplerThreadName =
    memscope::log::kResourceSamplerThreadName;

/// memscope-merge: $MEMSCOPE_MERGE, else next to the runtime
/// (<prefix>/lib/libmemscope_rt.so -> <prefix>/bin/memscope-merge), else PATH.
std::string findMerge() {
  if (const char *explicit_path = getenv("MEMSCOPE_MERGE"))
    return explicit_path;
  Dl_info info;
  if (dladdr(reinterpret_cast<void *>(&memscope_start), &info) &&
      info.dli_fname) {
    std::filesystem::path runtime = info.dli_fname;
    std::filesystem::path candidate =
        runtime.parent_path().parent_path() / "bin" / "memscope-merge";
    if (access(candidate.c_str(), X_OK) == 0)
      return candidate.string();
  }
  return "memscope-merge";
}

/// Runs memscope-merge with \p args; throws with its error output on failure.
void runMerge(const std::vector<std::string> &args, const std::string &what) {
  std::string merge = findMerge();
  std::vector<char *> argv;
  argv.push_back(const_cast<char *>(merge.c_str()));
  for (const std::string &arg : args)
    argv.push_back(const_cast<char *>(arg.c_str()));
  argv.push_back(nullptr);

  char error_file[] = "/tmp/memscope-merge-XXXXXX";
  int error_fd = mkstemp(error_file);
  if (error_fd < 0)
    throw Error(what + ": cannot create a temporary file: " + strerror(errno),
                errno);
  unlink(error_file);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null",
                                   O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, error_fd, STDERR_FILENO);
  pid_t child;
  int spawn_error = posix_spawnp(&child, merge.c_str(), &actions, nullptr,
                                 argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error) {
    close(error_fd);
    throw Error(what + ": cannot run " + merge + ": " + strerror(spawn_error) +
                    " (set MEMSCOPE_MERGE to its path)",
                spawn_error);
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  std::string errors;
  char buffer[4096];
  lseek(error_fd, 0, SEEK_SET);
  for (ssize_t n; (n = read(error_fd, buffer, sizeof(buffer))) > 0;)
    errors.append(buffer, size_t(n));
  close(error_fd);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    while (!errors.empty() && errors.back() == '\n')
      errors.pop_back();
    throw Error(what + ": " + (errors.empty() ? merge + " failed" : errors));
  }
}

std::string describeDir(const std::filesystem::path &dir) {
  return "'" + dir.string() + "'";
}

AnalysisResult readAnalysis(const std::filesystem::path &json_path) {
  std::ifstream in(json_path);
  if (!in)
    throw Error("cannot read " + json_path.string());
  nlohmann::json analysis;
  try {
    in >> analysis;
  } catch (const nlohmann::json::exception &error) {
    throw Error("cannot parse " + json_path.string() + ": " + error.what());
  }
  AnalysisResult result;
  result.analysis_json = json_path;
  const nlohmann::json &summary = analysis.at("summary");
  result.total_allocations = summary.value("total_allocations", 0ull);
  result.total_bytes = summary.value("total_bytes", 0ull);
  result.totals_exact = summary.value("totals_exact", false);
  constexpr double kMiB = 1024.0 * 1024.0;
  result.peak_memory_mb = summary.value("peak_live_bytes", 0.0) / kMiB;
  result.peak_memory_mb_low = result.peak_memory_mb_high =
      result.peak_memory_mb;
  const nlohmann::json &peak =
      summary.value("peak_live_bytes_interval", nlohmann::json::array());
  if (peak.is_array() && peak.size() == 2 && peak[0].is_number() &&
      peak[1].is_number()) {
    result.peak_memory_mb_low = peak[0].get<double>() / kMiB;
    result.peak_memory_mb_high = peak[1].get<double>() / kMiB;
  }
  // Threads of the program: Memscope's own sampler is left out.
  for (const nlohmann::json &thread :
       analysis.value("threads", nlohmann::json::array()))
    if (thread.value("name", "") != kSamplerThreadName)
      ++result.thread_count;
  for (const nlohmann::json &rule :
       analysis.value("bottlenecks", nlohmann::json::array())) {
    Bottleneck bottleneck;
    bottleneck.kind = rule.value("kind", "");
    bottleneck.file = rule.value("file", "");
    bottleneck.line = rule.value("line", 0u);
    bottleneck.function = rule.value("function", "");
    bottleneck.value = rule.value("value", 0.0);
    bottleneck.unit = rule.value("unit", "");
    bottleneck.threshold = rule.value("threshold", 0.0);
    bottleneck.description = rule.value("description", "");
    bottleneck.suggestion = rule.value("suggestion", "");
    result.bottlenecks.push_back(std::move(bottleneck));
  }
  return result;
}

} // namespace

void trace_all(const std::filesystem::path &dir) {
  char error[512] = "";
  const char *options = getenv("MEMSCOPE_OPTIONS");
  if (int code = memscope_start(dir.c_str(), options, error, sizeof(error)))
    throw Error("trace_all(" + describeDir(dir) + "): " + error, code);
}

void stop_tracing() {
  if (memscope_stop() != 0)
    throw Error("stop_tracing: tracing is not on (call trace_all first)",
                ENOENT);
}

uint64_t snapshot() {
  int64_t number = memscope_snapshot();
  if (number <= 0)
    throw Error("snapshot: tracing is not on (call trace_all first, or set "
                "MEMSCOPE_OUT)",
                ENOENT);
  return static_cast<uint64_t>(number);
}

void export_comprehensive_analysis(const std::filesystem::path &dir,
                                   const std::string &name) {
  if (name.empty() || name.find('/') != std::string::npos)
    throw Error("export_comprehensive_analysis: bad report name '" + name +
                "' (a file name without '/')");
  if (memscope_is_recording())
    throw Error("export_comprehensive_analysis(" + describeDir(dir) +
                "): tracing is still on; call stop_tracing first");
  runMerge({dir.string(), "-o", dir.string(), "--name", name, "-q"},
           "export_comprehensive_analysis(" + describeDir(dir) + ")");
}

void SamplingConfig::validate() const {
  auto fail = [](const std::string &message) {
    throw Error("invalid SamplingConfig: " + message, EINVAL);
  };
  if (!(sample_rate > 0.0 && sample_rate <= 1.0))
    fail("sample_rate is " + std::to_string(sample_rate) +
         ", but must be in (0, 1]: the probability of sampling an allocation");
  if (buffer_size < 4096)
    fail("buffer_size is " + std::to_string(buffer_size) +
         " bytes, below the minimum of 4096 (one page)");
  if (buffer_size > (64u << 20))
    fail("buffer_size is " + std::to_string(buffer_size) +
         " bytes, above the maximum of 64 MiB");
  if (buffer_size % 4096)
    fail("buffer_size is " + std::to_string(buffer_size) +
         " bytes, not a multiple of 4096 (windows are whole pages)");
  if (sample_interval_bytes && *sample_interval_bytes == 0)
    fail("sample_interval_bytes is 0, but must be at least 1");
}

std::string SamplingConfig::to_options() const {
  std::ostringstream options;
  if (sample_interval_bytes)
    options << "sample_interval=" << *sample_interval_bytes;
  else if (sample_rate >= 1.0)
    options << "exact=1";
  else
    options << "sample_rate=" << sample_rate;
  options << ":min_allocation_size=" << min_allocation_size
          << ":buffer_size=" << buffer_size;
  return options.str();
}

SamplingConfig SamplingConfig::balanced() {
  SamplingConfig config;
  config.sample_interval_bytes = 256 * 1024;
  return config;
}

SamplingConfig SamplingConfig::high_precision() {
  SamplingConfig config;
  config.sample_interval_bytes = 64 * 1024;
  return config;
}

SamplingConfig SamplingConfig::low_overhead() {
  SamplingConfig config;
  config.sample_interval_bytes = 4 * 1024 * 1024;
  return config;
}

SamplingConfig SamplingConfig::exact() {
  SamplingConfig config;
  config.buffer_size = 1024 * 1024;
  return config;
}

ProfilingSession::ProfilingSession(std::filesystem::path dir)
    : Dir(std::move(dir)) {}
ProfilingSession::ProfilingSession(ProfilingSession &&) noexcept = default;
ProfilingSession &
ProfilingSession::operator=(ProfilingSession &&) noexcept = default;

ProfilingSession::~ProfilingSession() {
  if (Finalized || !Collector)
    return;
  try {
    Collector->stop_monitoring();
  } catch (const Error &) {
  }
  memscope_stop();
}

AnalysisResult ProfilingSession::finalize() {
  if (Finalized)
    throw Error("finalize: this session was already finalized");
  Finalized = true;
  ResourceMetrics resources = Collector->stop_monitoring();
  stop_tracing();
  runMerge({Dir.string(), "-o", Dir.string(), "-q"},
           "finalize(" + describeDir(Dir) + ")");
  AnalysisResult result = readAnalysis(Dir / "analysis.json");
  result.resources = resources;
  result.resource_efficiency = resources.thread_metrics.efficiency_percent;
  return result;
}

ProfilingSession
comprehensive_profile_execution(const std::filesystem::path &dir,
                                std::optional<SamplingConfig> config) {
  std::string options;
  if (config) {
    config->validate();
    options = config->to_options();
  } else if (const char *environment = getenv("MEMSCOPE_OPTIONS")) {
    options = environment;
  }
  char error[512] = "";
  if (int code =
          memscope_start(dir.c_str(), options.c_str(), error, sizeof(error)))
    throw Error("comprehensive_profile_execution(" + describeDir(dir) +
                    "): " + error,
                code);
  ProfilingSession session(dir);
  session.Collector = std::make_unique<PlatformResourceCollector>();
  try {
    session.Collector->start_monitoring();
  } catch (...) {
    memscope_stop();
    throw;
  }
  return session;
}

} // namespace lockfree
} // namespace memscope
