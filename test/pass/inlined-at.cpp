// A site inlined into its caller records the full inlined-at chain, and each
// inlined copy gets its own stable ID.
// RUN: %clangxx_memscope -O2 -S -emit-llvm %s -o - | %opaque_ir | FileCheck %s
#include <cstdlib>
void *volatile sink;
static inline void *make_buffer(unsigned long n) { return malloc(n); }
static inline void *wrapper(unsigned long n) { return make_buffer(n * 2); }
void caller_one(unsigned long n) { sink = wrapper(n); }
void caller_two(unsigned long n) { sink = wrapper(n + 1); }
// CHECK-DAG: @[[CHAIN1:memscope.inlined_at[.0-9]*]] = private constant [2 x { ptr, ptr, ptr, i32, i32 }] [{ {{.*}}, i32 7, i32 {{[0-9]+}} }, { {{.*}}, i32 8, i32 {{[0-9]+}} }]
// CHECK-DAG: @[[CHAIN2:memscope.inlined_at[.0-9]*]] = private constant [2 x { ptr, ptr, ptr, i32, i32 }] [{ {{.*}}, i32 7, i32 {{[0-9]+}} }, { {{.*}}, i32 9, i32 {{[0-9]+}} }]
// CHECK-DAG: { i64 [[ID1:-?[0-9]+]], i32 1, i32 6, i32 {{[0-9]+}}, i32 2, {{.*}}, ptr @[[CHAIN1]], ptr null }
// CHECK-DAG: { i64 [[ID2:-?[0-9]+]], i32 1, i32 6, i32 {{[0-9]+}}, i32 2, {{.*}}, ptr @[[CHAIN2]], ptr null }
