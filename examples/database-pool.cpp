// The design page's database connection pool, as plain C++: 50 threads run
// 200 queries each over a pool of 10 connections guarded by a mutex. Each
// query formats SQL, builds a 100-row result set, processes and serializes
// it.
//
//   memscope-clang++ -O2 database-pool.cpp -o database-pool
//   MEMSCOPE_OUT=./DatabaseAnalysis ./database-pool
//   memscope-merge ./DatabaseAnalysis
//
// Options: database-pool [threads] [queries] [pool-size] [sleep-ms]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

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
    while (!(connection = pool.get()))
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::string query =
        "SELECT * FROM table WHERE id = " + std::to_string(query_id);
    std::vector<std::string> result_set(
        100, "Row-" + std::to_string(thread_id) + "-" + std::to_string(query_id));
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
  std::printf("Database simulation complete!\n");
  std::printf("   - Queries: %d, serialized bytes: %zu\n", threads * queries,
              total);
  return 0;
}
