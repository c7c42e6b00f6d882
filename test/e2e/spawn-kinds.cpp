// Every spawn kind gets a spawn site at the user's line, and every thread
// its parent: std::thread, pthread_create, C11 thrd_create,
// std::async(std::launch::async), std::jthread, and a thread started by a
// thread. pthread_setname_np renames show up.
// RUN: %memscope_cxx -std=c++20 -O2 %s -o %t.exe
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe
// RUN: %merge %t.out -o %t.report > /dev/null
// RUN: %python %inputs/summarize.py %t.report/analysis.json | FileCheck %s
#include <cstdlib>
#include <future>
#include <pthread.h>
#include <thread>
#include <threads.h>

void *volatile sink;
void work(int n) {
  for (int i = 0; i < n; ++i)
    sink = malloc(32);
}
void *pthread_work(void *) {
  pthread_setname_np(pthread_self(), "renamed");
  work(2);
  return nullptr;
}
int c11_work(void *) {
  work(3);
  return 0;
}
void nested_work() {
  std::thread inner(work, 6);                                    // line 30
  inner.join();
}

int main() {
  std::thread plain(work, 1);                                    // line 35
  plain.join();
  pthread_t posix;
  pthread_create(&posix, nullptr, pthread_work, nullptr);        // line 38
  pthread_join(posix, nullptr);
  thrd_t c11;
  thrd_create(&c11, c11_work, nullptr);                          // line 41
  thrd_join(c11, nullptr);
  auto future = std::async(std::launch::async, work, 4);         // line 43
  future.get();
  { std::jthread joining(work, 5); }                             // line 45
  std::thread outer(nested_work);                                // line 46
  outer.join();
}

// CHECK-DAG: thread id=1 name=spawn-kinds.cpp{{.*}} parent=0 spawned_at=unknown
// CHECK-DAG: thread id={{[0-9]+}} name={{.*}} parent=1 spawned_at=spawn-kinds.cpp:35 allocations=1 bytes=32 running=0
// CHECK-DAG: thread id={{[0-9]+}} name=renamed parent=1 spawned_at=spawn-kinds.cpp:38 allocations=2 bytes=64 running=0
// CHECK-DAG: thread id={{[0-9]+}} name={{.*}} parent=1 spawned_at=spawn-kinds.cpp:41 allocations=3 bytes=96 running=0
// CHECK-DAG: thread id={{[0-9]+}} name={{.*}} parent=1 spawned_at=spawn-kinds.cpp:43 allocations=4 bytes=128 running=0
// CHECK-DAG: thread id={{[0-9]+}} name={{.*}} parent=1 spawned_at=spawn-kinds.cpp:45 allocations=5 bytes=160 running=0
// CHECK-DAG: thread id=[[OUTER:[0-9]+]] name={{.*}} parent=1 spawned_at=spawn-kinds.cpp:46
// CHECK-DAG: thread id={{[0-9]+}} name={{.*}} parent=[[OUTER]] spawned_at=spawn-kinds.cpp:30 allocations=6 bytes=192 running=0
// CHECK-DAG: spawn_site at=spawn-kinds.cpp:38 threads=1 running=0 allocations=2 bytes=64
