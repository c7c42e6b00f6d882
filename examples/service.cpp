// A service that runs until stopped: workers answer synthetic requests from
// a shared key-value store, forever, and a cache of session tokens grows
// slowly, the kind of leak that takes a day to notice. Profile it while it
// runs (README.md, "Profiling a running service"):
//
//   memscope-clang++ -O2 service.cpp -o service
//   MEMSCOPE_OUT=logs MEMSCOPE_OPTIONS=start=signal ./service &
//   kill -USR2 $!            # recording starts
//   kill -USR2 $!            # snapshot 1
//   sleep 10; kill -USR2 $!  # snapshot 2
//   memscope-merge logs -o growth --from=snapshot:1 --to=snapshot:2
//
// The report of the window shows what was allocated between the snapshots
// and is still live at the second: the sessions cache.
//
// Options: service [workers] [seconds]   (seconds 0, the default: until
// SIGTERM or SIGINT)
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

std::atomic<bool> g_stop{false};

struct Record {
  std::string key;
  std::vector<char> value;
};

class Store {
public:
  void put(const std::string &key, size_t size) {
    auto record = std::make_shared<Record>();
    record->key = key;
    record->value.assign(size, 'v');
    std::lock_guard<std::mutex> guard(lock_);
    records_[key] = std::move(record); // replaces: no growth
  }
  size_t get(const std::string &key) {
    std::lock_guard<std::mutex> guard(lock_);
    auto it = records_.find(key);
    return it == records_.end() ? 0 : it->second->value.size();
  }

private:
  std::mutex lock_;
  std::unordered_map<std::string, std::shared_ptr<Record>> records_;
};

// The leak: a token per request, never evicted.
class Sessions {
public:
  void remember(long request) {
    std::string token = "session-" + std::to_string(request) +
                        "-0123456789abcdef0123456789abcdef";
    std::lock_guard<std::mutex> guard(lock_);
    tokens_.emplace(request, std::move(token));
  }

private:
  std::mutex lock_;
  std::map<long, std::string> tokens_;
};

Store g_store;
Sessions g_sessions;
std::atomic<long> g_requests{0};

void worker(int id) {
  long local = 0;
  while (!g_stop.load(std::memory_order_relaxed)) {
    long request = g_requests.fetch_add(1, std::memory_order_relaxed);
    std::string key = "key-" + std::to_string(request % 512);
    if (request % 4 == 0)
      g_store.put(key, 256 + request % 1024);
    else
      local += g_store.get(key);
    std::vector<char> response(512 + request % 256, 'r');
    local += response.size();
    if (request % 16 == 0)
      g_sessions.remember(request);
    std::this_thread::sleep_for(std::chrono::microseconds(50 + id));
  }
  std::printf("worker %d: %ld bytes served\n", id, local);
}

void stop(int) { g_stop.store(true); }

} // namespace

int main(int argc, char **argv) {
  int workers = argc > 1 ? std::atoi(argv[1]) : 4;
  int seconds = argc > 2 ? std::atoi(argv[2]) : 0;
  std::signal(SIGTERM, stop);
  std::signal(SIGINT, stop);
  std::vector<std::thread> threads;
  for (int i = 0; i < workers; ++i)
    threads.emplace_back(worker, i);
  auto start = std::chrono::steady_clock::now();
  while (!g_stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (seconds && std::chrono::steady_clock::now() - start >
                       std::chrono::seconds(seconds))
      g_stop.store(true);
  }
  for (std::thread &thread : threads)
    thread.join();
  std::printf("%ld requests\n", g_requests.load());
  return 0;
}
