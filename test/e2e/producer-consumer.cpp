// A producer hands buffers to a consumer through a queue: every buffer is
// allocated in one thread and freed in another, and the analysis shows the
// pair of sites and the pair of threads.
// RUN: %memscope_cxx -O2 %s -o %t.exe
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe
// RUN: %merge %t.out -o %t.report > %t.txt
// RUN: %python %inputs/summarize.py %t.report/analysis.json | FileCheck %s
// RUN: FileCheck %s --check-prefix=TEXT < %t.txt
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <pthread.h>
#include <queue>
#include <thread>

std::mutex lock;
std::condition_variable ready;
std::queue<char *> queue;
constexpr int kBuffers = 1000;

void producer() {
  pthread_setname_np(pthread_self(), "producer");
  for (int i = 0; i < kBuffers; ++i) {
    char *buffer = new char[256];                                // line 24
    memset(buffer, i, 256);
    std::lock_guard<std::mutex> guard(lock);
    queue.push(buffer);
    ready.notify_one();
  }
}

void consumer() {
  pthread_setname_np(pthread_self(), "consumer");
  for (int i = 0; i < kBuffers; ++i) {
    std::unique_lock<std::mutex> guard(lock);
    ready.wait(guard, [] { return !queue.empty(); });
    char *buffer = queue.front();
    queue.pop();
    guard.unlock();
    delete[] buffer;                                             // line 40
  }
}

int main() {
  std::thread consuming(consumer);
  std::thread producing(producer);
  producing.join();
  consuming.join();
}

// CHECK: site kind=new[] at=producer-consumer.cpp:24 function=producer() allocations=1000 bytes=256000 live_allocations=0
// CHECK: cross_sites alloc_at=producer-consumer.cpp:24 free_at=producer-consumer.cpp:40 frees=1000 bytes=256000
// The queue's own nodes also travel from producer to consumer.
// CHECK: cross_threads from=producer to=consumer frees={{10[0-9][0-9]}} bytes={{[0-9]+}}
// TEXT: cross-thread frees: {{[0-9]+}} blocks
