// The design page's web-server example: 20 worker threads each handle 1,000
// requests, building strings with + and formatting a JSON response. Most of
// its allocations happen inside libstdc++'s out-of-line std::string code,
// which Memscope attributes back to these lines.
//
// Built with -DMEMSCOPE_API it drives Memscope itself, as on the design page
// (trace_all, stop_tracing, export_comprehensive_analysis):
//   memscope-clang++ -O2 -DMEMSCOPE_API web-server.cpp -o web-server
//   ./web-server                 # writes
//   ./WebServerAnalysis/web_server_performance.json
// Built without it, it is a plain program to run under MEMSCOPE_OUT (or a
// baseline for the benchmarks):
//   MEMSCOPE_OUT=./logs ./web-server && memscope-merge ./logs
//
// Options: web-server [workers] [requests] [sleep-ms] [output-folder]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>
#ifdef MEMSCOPE_API
#include <memscope/lockfree.hpp>
#endif

static std::atomic<size_t> g_requests{0};
static std::atomic<size_t> g_response_bytes{0};

static void serve(int worker, int requests, int sleep_ms) {
  for (int request = 0; request < requests; ++request) {
    std::string request_data =
        "Request-" + std::to_string(worker) + "-" + std::to_string(request);
    std::vector<unsigned char> response_buffer(4096); // 4 KiB response
    std::vector<std::string> query_result(10, request_data);
    std::string json_response =
        "{\"worker\":" + std::to_string(worker) +
        ",\"request\":" + std::to_string(request) +
        ",\"data\":" + std::to_string(query_result.size()) + "}";
    g_response_bytes += json_response.size() + response_buffer.size();
    g_requests.fetch_add(1, std::memory_order_relaxed);
    if (sleep_ms > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
  }
}

int main(int argc, char **argv) {
  int workers = argc > 1 ? std::atoi(argv[1]) : 20;
  int requests = argc > 2 ? std::atoi(argv[2]) : 1000;
  int sleep_ms = argc > 3 ? std::atoi(argv[3]) : 1;
#ifdef MEMSCOPE_API
  const char *folder = argc > 4 ? argv[4] : "./WebServerAnalysis";
  memscope::lockfree::trace_all(folder);
#endif
  std::vector<std::thread> threads;
  for (int worker = 0; worker < workers; ++worker)
    threads.emplace_back(serve, worker, requests, sleep_ms);
  for (std::thread &thread : threads)
    thread.join();
#ifdef MEMSCOPE_API
  memscope::lockfree::stop_tracing();
  memscope::lockfree::export_comprehensive_analysis(folder,
                                                    "web_server_performance");
#endif
  std::printf("Web server simulation complete!\n");
  std::printf("   - Total requests processed: %zu\n", g_requests.load());
  std::printf("   - Response bytes: %zu\n", g_response_bytes.load());
#ifdef MEMSCOPE_API
  std::printf("   - Analysis exported to: %s/web_server_performance.json\n",
              folder);
#endif
  return 0;
}
