// The design page's database connection pool: 50 threads run 200 queries
// each over a pool of 10 connections guarded by a mutex. Each query formats
// SQL, builds a 100-row result set, processes and serializes it.
//
// Built with -DMEMSCOPE_API it profiles itself as on the design page
// (comprehensive_profile_execution, SamplingConfig{0.05, 512, 2 MiB}, writes
// ./DatabaseAnalysis/analysis.json); without it, run it under MEMSCOPE_OUT.
// Options: database-pool [threads] [queries] [pool-size] [sleep-ms] [folder];
// sleep-ms 0 turns every sleep off, the empty pool's back-off included.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#ifdef MEMSCOPE_API
#include <memscope/lockfree.hpp>
#endif

class ConnectionPool {
public:
  explicit ConnectionPool(int size) {
    for (int i = 0; i < size; ++i)
      connections_.push_back("Connection-" + std::to_string(i));
  }
  std::optional<std::string> get() {
    std::lock_guard<std::mutex> guard(lock_);
    if (connections_.empty())
      return std::nullopt;
    std::string connection = std::move(connections_.front());
    connections_.pop_front();
    return connection;
  }
  void put(std::string connection) {
    std::lock_guard<std::mutex> guard(lock_);
    connections_.push_back(std::move(connection));
  }

private:
  std::mutex lock_;
  std::deque<std::string> connections_;
};

static void client(ConnectionPool &pool, int thread_id, int queries,
                   int sleep_ms, size_t &serialized_bytes) {
  for (int query_id = 0; query_id < queries; ++query_id) {
    std::optional<std::string> connection;
    while (!(connection = pool.get())) // the pool is empty: back off
      if (sleep_ms > 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      else
        std::this_thread::yield();
    std::string query =
        "SELECT * FROM table WHERE id = " + std::to_string(query_id);
    std::vector<std::string> result_set(100,
                                        "Row-" + std::to_string(thread_id) +
                                            "-" + std::to_string(query_id));
    std::vector<std::string> processed;
    for (const std::string &row : result_set)
      processed.push_back("Processed: " + row);
    std::string serialized = "[";
    for (const std::string &row : processed)
      serialized += "\"" + row + "\", ";
    serialized += "]";
    serialized_bytes += serialized.size() + query.size();
    pool.put(std::move(*connection));
    if (sleep_ms > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
  }
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 50;
  int queries = argc > 2 ? std::atoi(argv[2]) : 200;
  int pool_size = argc > 3 ? std::atoi(argv[3]) : 10;
  int sleep_ms = argc > 4 ? std::atoi(argv[4]) : 2;
#ifdef MEMSCOPE_API
  const char *folder = argc > 5 ? argv[5] : "./DatabaseAnalysis";
  memscope::lockfree::SamplingConfig config{0.05, 512, 2 * 1024 * 1024};
  auto session =
      memscope::lockfree::comprehensive_profile_execution(folder, config);
#endif
  ConnectionPool pool(pool_size);
  std::vector<size_t> bytes(threads);
  std::vector<std::thread> clients;
  for (int t = 0; t < threads; ++t)
    clients.emplace_back(client, std::ref(pool), t, queries, sleep_ms,
                         std::ref(bytes[t]));
  for (std::thread &c : clients)
    c.join();
  size_t total = 0;
  for (size_t b : bytes)
    total += b;
#ifdef MEMSCOPE_API
  memscope::lockfree::AnalysisResult analysis = session.finalize();
#endif
  std::printf("Database simulation complete!\n");
  std::printf("   - Queries: %d, serialized bytes: %zu\n", threads * queries,
              total);
#ifdef MEMSCOPE_API
  std::printf("   - Connection pool efficiency: %.1f%%\n",
              analysis.resource_efficiency);
  std::printf("   - Memory hotspots detected: %zu\n",
              analysis.bottlenecks.size());
  std::printf("   - Threads analyzed: %zu\n", analysis.thread_count);
#endif
  return 0;
}
