// 1,000 threads alive at once, then 10,000 short-lived threads one after
// another: exact counts, every thread reported, and log files bounded by the
// peak number of live threads, not the number ever started.
// RUN: %memscope_cxx -O2 %s -o %t.exe
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe
// RUN: ls %t.out/*/ | wc -l | %python -c "import sys; n = int(sys.stdin.read()); print('files', 'bounded' if n <= 1003 else n)" | FileCheck %s --check-prefix=FILES
// RUN: %merge %t.out -o %t.report --top=3 > /dev/null
// RUN: %python %inputs/summarize.py %t.report/analysis.json | FileCheck %s
#include <atomic>
#include <cstdlib>
#include <thread>
#include <vector>

void *volatile sink;
std::atomic<int> arrived{0};

void concurrent_worker() {
  for (int i = 0; i < 10; ++i) {
    void *block = malloc(64);                                    // line 19
    sink = block;
    free(block);
  }
  ++arrived;
  while (arrived.load() < 1000) // all 1,000 alive at once
    std::this_thread::yield();
}

void short_worker() { sink = malloc(16); }                       // line 28

int main() {
  std::vector<std::thread> threads;
  for (int i = 0; i < 1000; ++i)
    threads.emplace_back(concurrent_worker);                     // line 33
  for (std::thread &t : threads)
    t.join();
  for (int i = 0; i < 10000; ++i)
    std::thread(short_worker).join();                            // line 37
}

// FILES: files bounded
// CHECK: summary processes=1 threads=11001
// CHECK: site kind=malloc at=many-threads.cpp:19 function=concurrent_worker() allocations=10000 bytes=640000 live_allocations=0
// CHECK: site kind=malloc at=many-threads.cpp:28 function=short_worker() allocations=10000 bytes=160000 live_allocations=10000
// CHECK-DAG: spawn_site at=many-threads.cpp:33 threads=1000 running=0 allocations=10000 bytes=640000
// CHECK-DAG: spawn_site at=many-threads.cpp:37 threads=10000 running=0 allocations=10000 bytes=160000
