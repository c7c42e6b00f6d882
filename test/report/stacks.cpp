// Stacks from the frame-pointer walk and from .eh_frame agree. A library
// site (std::vector's allocator, instantiated in this file) asks for a stack
// on every sample; the walk starts in instrumented code, and where it reaches
// libc or libstdc++ (no frame pointers) the rest is learnt once from
// .eh_frame. The first sample of each thread is unwound from .eh_frame, the
// later ones by frame pointers: if the two disagreed, one call path would
// show up as two stacks.
// At -O0 nothing is inlined, so the site in std::__new_allocator::allocate
// has no user frame of its own and asks for a stack.
// RUN: %memscope_cxx -O0 %s -o %t.exe -pthread
// RUN: rm -rf %t.out %t.report && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe
// RUN: %merge %t.out -o %t.report --format=json,folded > /dev/null
// RUN: %python %report_inputs/check_folded.py %t.report/stacks.folded %t.report/analysis.json | FileCheck %s
// RUN: grep -c 'level2()' %t.report/stacks.folded | FileCheck %s --check-prefix=COUNT
#include <thread>
#include <vector>

std::vector<int> *volatile keep;

__attribute__((noinline)) void grow(std::vector<int> &v) {
  for (int i = 0; i < 1000; ++i)
    v.push_back(i);
}

__attribute__((noinline)) void level2() {
  std::vector<int> v;
  grow(v);
  keep = &v;
}

__attribute__((noinline)) void level1() {
  for (int i = 0; i < 50; ++i)
    level2();
}

int main() {
  level1();
  std::thread t(level1);
  t.join();
  return 0;
}

// 50 vectors of 1000 ints grow 11 times each (1, 2, 4, ... 1024 elements):
// 550 allocations of 4 + 8 + ... + 4096 bytes = 8188 bytes per vector.
// One stack in the main thread, from _start, and one in the other, from
// clone: all 550 samples of each thread on one line.
// CHECK-DAG: stack 409400 _start;__libc_start_main;__libc_start_call_main;main;level1();level2();grow(std::vector<int, std::allocator<int>>&);{{.*}}_M_realloc_insert{{.*}}
// CHECK-DAG: stack 409400 clone3;start_thread;{{.*}};level1();level2();grow(std::vector<int, std::allocator<int>>&);{{.*}}_M_realloc_insert{{.*}}
// COUNT: {{^}}2{{$}}
