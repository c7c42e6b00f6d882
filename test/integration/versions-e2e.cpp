// The end-to-end test that test/llvm-versions also runs with LLVM 14 and 22:
// a multi-threaded C++ program compiled with that clang and plugin, linked
// with the runtime, run in exact mode and merged; exact counts at file:line.
// RUN: %clangxx_memscope -O2 -std=c++17 -pthread %s -o %t %link_rt
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t 4 500
// RUN: %merge %t.out -o %t.report > /dev/null
// RUN: %python %inputs/summarize.py %t.report/analysis.json | FileCheck %s
#include <cstdlib>
#include <thread>
#include <vector>

struct Node {
  Node *next;
  long payload[3];
};
Node *volatile sink;

static void worker(int count) {
  Node *list = nullptr;
  for (int i = 0; i < count; ++i) {
    Node *node = new Node{list, {i, i, i}};                 // line 21
    list = node;
    sink = node;
  }
  while (list) {
    Node *next = list->next;
    delete list;
    list = next;
  }
  char *text = static_cast<char *>(std::malloc(100));      // line 30
  sink = reinterpret_cast<Node *>(text);
  std::free(text);
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  int count = argc > 2 ? std::atoi(argv[2]) : 10;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back(worker, count);
  for (std::thread &thread : pool)
    thread.join();
  return 0;
}
// CHECK: summary processes=1 threads=5
// CHECK-DAG: site kind=new at=versions-e2e.cpp:21 function=worker(int) allocations=2000 bytes=64000 live_allocations=0 live_bytes=0 threads=4
// CHECK-DAG: site kind=malloc at=versions-e2e.cpp:30 function=worker(int) allocations=4 bytes=400 live_allocations=0 live_bytes=0 threads=4
