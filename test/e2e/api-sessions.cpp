// Sessions one after another in one process, each with threads that start
// and exit during it, and one thread that lives through all of them: every
// session's analysis has exactly its own threads and allocations (exact
// mode). Several rounds, because a lost thread was a race: a thread log of
// an earlier session was reused and its next window opened in the new
// session's folder, where that file did not exist.
// RUN: %memscope_cxx -O2 %s -o %t.exe
// RUN: rm -rf %t.out && env MEMSCOPE_OPTIONS=exact=1 %t.exe %t.out 4 > %t.txt 2> %t.err
// RUN: FileCheck %s < %t.txt
// RUN: FileCheck %s --check-prefix=ERR --allow-empty < %t.err
#include <memscope/lockfree.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ml = memscope::lockfree;

struct Node {
  long payload[10];
};
Node *volatile sink;
void worker(int count) {
  for (int i = 0; i < count; ++i) {
    Node *node = new Node; // the site every session counts
    sink = node;
    delete node;
  }
}

// The thread that spans every session allocates a fixed number of nodes at
// its own site in each one, when main asks it to.
struct Resident {
  std::mutex lock;
  std::condition_variable wake;
  int requested = 0, done = 0;
  bool quit = false;

  void run() {
    std::unique_lock<std::mutex> guard(lock);
    for (;;) {
      wake.wait(guard, [&] { return quit || requested > done; });
      if (quit)
        return;
      allocate();
      ++done;
      wake.notify_all();
    }
  }
  static void allocate() {
    for (int i = 0; i < 7; ++i) {
      Node *node = new Node; // the resident thread's site
      sink = node;
      delete node;
    }
  }
  void request() {
    std::unique_lock<std::mutex> guard(lock);
    ++requested;
    wake.notify_all();
    wake.wait(guard, [&] { return done == requested; });
  }
};

// Threads in waves of `wave`, each wave joined before the next, so that
// thread logs are released and reused within the session.
void churn(int threads, int wave, int per_thread) {
  for (int started = 0; started < threads; started += wave) {
    std::vector<std::thread> pool;
    for (int t = started; t < threads && t < started + wave; ++t)
      pool.emplace_back(worker, per_thread);
    for (std::thread &thread : pool)
      thread.join();
  }
}

long siteCount(const std::string &json_path, const std::string &function) {
  std::ifstream in(json_path);
  nlohmann::json analysis = nlohmann::json::parse(in);
  long count = 0;
  for (const auto &site : analysis.at("sites"))
    if (site.value("function", "") == function &&
        site.value("kind", "") == "new")
      count += site.value("allocations", 0L);
  return count;
}

int main(int argc, char **argv) {
  std::string out = argv[1];
  int rounds = std::atoi(argv[2]);
  Resident resident;
  std::thread resident_thread([&] { resident.run(); });
  int failures = 0;
  auto check = [&](const std::string &name, size_t threads, long expected,
                   size_t expected_threads, const std::string &json) {
    long worker_count = siteCount(json, "worker(int)");
    long resident_count = siteCount(json, "Resident::allocate()");
    bool ok = threads == expected_threads && worker_count == expected &&
              resident_count == 7;
    failures += !ok;
    std::printf("%s threads=%zu/%zu worker=%ld/%ld resident=%ld/7 %s\n",
                name.c_str(), threads, expected_threads, worker_count,
                expected, resident_count, ok ? "ok" : "MISMATCH");
  };

  for (int round = 0; round < rounds; ++round) {
    std::string prefix = out + "/r" + std::to_string(round);
    // 1. trace_all / stop_tracing / export: 30 threads at once.
    ml::trace_all(prefix + "/quick");
    resident.request();
    churn(30, 30, 40);
    ml::stop_tracing();
    ml::export_comprehensive_analysis(prefix + "/quick", "quick");
    nlohmann::json quick =
        nlohmann::json::parse(std::ifstream(prefix + "/quick/quick.json"));
    check("round" + std::to_string(round) + " quick",
          quick.at("summary").value("thread_count", 0u), 30 * 40, 32,
          prefix + "/quick/quick.json");

    // 2. A session of 100 threads, in waves of 25.
    {
      auto session =
          ml::comprehensive_profile_execution(prefix + "/session",
                                              ml::SamplingConfig::exact());
      resident.request();
      churn(100, 25, 20);
      ml::AnalysisResult result = session.finalize();
      check("round" + std::to_string(round) + " session", result.thread_count,
            100 * 20, 102, result.analysis_json.string());
    }
    // 3. Another, with threads in waves of 4 (many reuses of few logs).
    {
      auto session = ml::comprehensive_profile_execution(
          prefix + "/third", ml::SamplingConfig::exact());
      churn(40, 4, 10);
      resident.request();
      ml::AnalysisResult result = session.finalize();
      check("round" + std::to_string(round) + " third", result.thread_count,
            40 * 10, 42, result.analysis_json.string());
    }
  }
  {
    std::lock_guard<std::mutex> guard(resident.lock);
    resident.quit = true;
    resident.wake.notify_all();
  }
  resident_thread.join();
  std::printf("%s\n", failures ? "SOME SESSIONS WRONG" : "ALL SESSIONS EXACT");
  return failures ? 1 : 0;
}

// CHECK-NOT: MISMATCH
// CHECK: round0 quick threads=32/32 worker=1200/1200 resident=7/7 ok
// CHECK: round0 session threads=102/102 worker=2000/2000 resident=7/7 ok
// CHECK: round0 third threads=42/42 worker=400/400 resident=7/7 ok
// CHECK: round3 third threads=42/42 worker=400/400 resident=7/7 ok
// CHECK-NOT: MISMATCH
// CHECK: ALL SESSIONS EXACT
// ERR-NOT: memscope:
