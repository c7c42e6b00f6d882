// C++ names for the allocator option: a member function by its qualified
// name (every overload and template instance), and a function in an
// anonymous namespace with or without that prefix. A static allocator whose
// pool argument is always the same keeps its signature (the size stays the
// argument the option names) though interprocedural passes would drop it.
// RUN: env 'MEMSCOPE_PASS_OPTIONS=allocator=Arena::allocate:size=1;allocator=node_alloc:size=1' %clangxx_memscope -std=c++17 -O2 -S -emit-llvm %s -o - | %opaque_ir | FileCheck %s
#include <cstdlib>

struct Arena {
  char *next;
  __attribute__((noinline)) void *allocate(unsigned long size) {
    void *out = next;
    next += size;
    return out;
  }
  template <typename T> __attribute__((noinline)) void *allocate(unsigned long size, T) {
    return std::malloc(size);
  }
};

namespace {
struct Pool { void *free_list; } g_pool;
void *node_alloc(Pool *pool, unsigned long size) {
  if (pool->free_list)
    return pool->free_list;
  return std::malloc(size);
}
} // namespace

void *volatile sink;
void user(Arena &arena) {
  sink = arena.allocate(24);
  sink = arena.allocate(40, 1);
  sink = node_alloc(&g_pool, 64);
  sink = node_alloc(&g_pool, 128);
}

// Four custom sites (kind 13), and no malloc site inside the allocators.
// CHECK: @memscope.sites = private constant [4 x
// CHECK-SAME: i32 13,{{.*}}i32 13,{{.*}}i32 13,{{.*}}i32 13,
// CHECK: call {{.*}}ptr @_ZN5Arena8allocateEm(
// CHECK: call {{.*}}ptr @_ZN5Arena8allocateIiEEPvmT_(
// CHECK: call {{.*}}ptr @_ZN12_GLOBAL__N_110node_allocEPNS_4PoolEm(ptr {{.*}}@_ZN12_GLOBAL__N_16g_poolE, i64 {{.*}}64)
