// Allocations made inside uninstrumented libstdc++ code (std::string growth
// in _M_mutate/_M_append, std::to_string) are counted, attributed to the
// nearest instrumented caller's line, and not counted twice when an
// instrumented site is on the stack.
// RUN: %memscope_cxx -O2 %s -o %t.exe
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe
// RUN: %merge %t.out -o %t.report > /dev/null
// RUN: %python %inputs/summarize.py %t.report/analysis.json | FileCheck %s
#include <string>
#include <thread>
#include <vector>

std::string *volatile sink;

void handle_requests(int worker) {
  for (int request = 0; request < 250; ++request) {
    std::string text(64, 'x');                                   // line 17
    text += "-request-" + std::to_string(worker) + "-" +
            std::to_string(request) + std::string(40, 'y');       // line 18
    std::string *copy = new std::string(text);                   // line 20
    sink = copy;
    delete copy;
  }
}

int main() {
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w)
    workers.emplace_back(handle_requests, w);
  for (std::thread &t : workers)
    t.join();
}

// The std::string object itself comes from the instrumented new at line 20;
// its buffer is allocated in libstdc++ and attributed to the same line.
// CHECK-DAG: site kind=indirect at=uninstrumented-code.cpp:17 function=handle_requests(int) allocations=1000 {{.*}} threads=4
// CHECK-DAG: site kind=indirect at=uninstrumented-code.cpp:18 function=handle_requests(int) allocations={{[1-9][0-9]+}} {{.*}} threads=4
// CHECK-DAG: site kind=new at=uninstrumented-code.cpp:20 function=handle_requests(int) allocations=1000 bytes=32000 {{.*}} threads=4
// CHECK-DAG: site kind=indirect at=uninstrumented-code.cpp:20 function=handle_requests(int) allocations=1000 {{.*}} threads=4
