// libc++'s std::thread calls pthread_create from its headers, inlined into
// user code: the pass sees that call, and the spawn is attributed to the
// user's line through the inlined-at chain.
// REQUIRES: libcxx
// RUN: %memscope_cxx -stdlib=libc++ -O2 %s -o %t.exe
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe
// RUN: %merge %t.out -o %t.report > /dev/null
// RUN: %python %inputs/summarize.py %t.report/analysis.json | FileCheck %s
#include <cstdlib>
#include <thread>

void *volatile sink;
void work(int n) {
  for (int i = 0; i < n; ++i)
    sink = malloc(8);
}

int main() {
  std::thread worker(work, 3);                                   // line 19
  worker.join();
}
// CHECK: thread id={{[0-9]+}} name={{.*}} parent=1 spawned_at=libcxx-thread.cpp:19 allocations=3 bytes=24 running=0
