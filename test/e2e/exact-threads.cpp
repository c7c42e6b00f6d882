// Exact mode: N threads x M allocations at one line report exactly N*M at
// that file:line, and the per-thread counts add up.
// RUN: %memscope_cxx -O2 %s -o %t.exe
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe
// RUN: %merge %t.out -o %t.report > %t.txt
// RUN: FileCheck %s --check-prefix=TEXT < %t.txt
// RUN: %python %inputs/summarize.py %t.report/analysis.json | FileCheck %s
#include <thread>
#include <vector>

struct Node { long payload[6]; Node *next; };
Node *volatile sink;

void worker(int count) {
  for (int i = 0; i < count; ++i) {
    Node *node = new Node;                       // the site under test
    sink = node;
    delete node;
  }
}

int main() {
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back(worker, 500);
  for (std::thread &t : threads)
    t.join();
  Node *kept = new Node;                         // live at exit
  sink = kept;
}

// TEXT: 1 process, {{[0-9]+}} threads, sampling exact
// CHECK: summary processes=1 threads=9
// CHECK-SAME: exact=1 mode=exact
// CHECK: site kind=new at=exact-threads.cpp:16 function=worker(int) allocations=4000 bytes=224000 live_allocations=0 live_bytes=0 threads=8
// CHECK: site kind=new at=exact-threads.cpp:28 function=main allocations=1 bytes=56 live_allocations=1 live_bytes=56 threads=1
// CHECK-COUNT-8: thread id={{[2-9]}} name=exact-threads.c{{.*}} allocations=500 bytes=28000 running=0
