// A thread still running when the process exits keeps every sample it wrote
// (its log is file-backed) and is reported as running; threads that ended
// are not.
// RUN: %memscope_cxx -O1 %s -o %t.exe
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe
// RUN: %merge %t.out -o %t.report > /dev/null
// RUN: %python %inputs/summarize.py %t.report/analysis.json | FileCheck %s
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

void *volatile sink;
std::atomic<bool> ready{false};

int main() {
  std::thread([] {
    for (int i = 0; i < 25; ++i)
      sink = malloc(100);                                  // line 19
    ready = true;
    for (;;)
      std::this_thread::sleep_for(std::chrono::seconds(1));
  }).detach();
  std::thread([] {
    for (int i = 0; i < 5; ++i)
      sink = malloc(200);                                  // line 26
  }).join();
  while (!ready)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return 0;
}
// CHECK: site kind=malloc at=running-at-exit.cpp:19 {{.*}}allocations=25 bytes=2500 live_allocations=25
// CHECK: site kind=malloc at=running-at-exit.cpp:26 {{.*}}allocations=5 bytes=1000 live_allocations=5
// CHECK-DAG: thread id={{[0-9]+}} name={{.*}} allocations=25 bytes=2500 running=1
// CHECK-DAG: thread id={{[0-9]+}} name={{.*}} allocations=5 bytes=1000 running=0
