// Attribution under LTO: allocations made inside uninstrumented libstdc++
// (std::string growth) are attributed to the user's line that called it,
// as without LTO, not to glibc's thread entry (start_thread,
// nptl/pthread_create.c) nor to its stack allocator. The constructor that
// registers the site table can be a tail call after link-time optimisation;
// the runtime must not take libc (its caller) for the instrumented module.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %memscope_cxx -O2 -flto=thin %s -o %t/thin
// RUN: env MEMSCOPE_OUT=%t/logs-thin MEMSCOPE_OPTIONS=exact=1 %t/thin 4 500
// RUN: %merge %t/logs-thin -o %t/report-thin > %t/thin.txt
// RUN: %python %inputs/summarize.py %t/report-thin/analysis.json > %t/thin.sum
// RUN: FileCheck %s < %t/thin.sum
// RUN: FileCheck %s --check-prefix=NOT-GLIBC < %t/thin.txt
// RUN: FileCheck %s --check-prefix=NOT-GLIBC < %t/report-thin/analysis.json
// RUN: %memscope_cxx -O2 -flto %s -o %t/full
// RUN: env MEMSCOPE_OUT=%t/logs-full MEMSCOPE_OPTIONS=exact=1 %t/full 4 500
// RUN: %merge %t/logs-full -o %t/report-full --format=json > /dev/null
// RUN: %python %inputs/summarize.py %t/report-full/analysis.json | FileCheck %s
// RUN: FileCheck %s --check-prefix=NOT-GLIBC < %t/report-full/analysis.json
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

std::string *volatile sink;

__attribute__((noinline)) void serve(int requests) {
  for (int i = 0; i < requests; ++i) {
    std::string body = "<html><body>";
    body.append(200, 'x'); // line 30: growth inside libstdc++
    sink = &body;
  }
}

int main(int argc, char **argv) {
  int threads = std::atoi(argv[1]), requests = std::atoi(argv[2]);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back(serve, requests);
  for (std::thread &thread : pool)
    thread.join();
}

// CHECK: summary processes=1 threads=5
// CHECK: site kind=indirect at=lto-attribution.cpp:30 function=serve(int) allocations=2000
// NOT-GLIBC-NOT: nptl/
// NOT-GLIBC-NOT: {{[^_]}}start_thread
// NOT-GLIBC-NOT: allocatestack
