// The program's own allocators, named by option or annotation: their calls
// become sites of kind custom (13) with the size from the named argument,
// the in-call flag set to 2 while they run (the interposers record the
// pool's chunks), and the object's address tagged (bit 63) for the live
// table; the deallocator's calls (kind 35) check the tagged address. The
// allocators' own bodies are not instrumented.
// RUN: %clang -g -O0 -S -emit-llvm %s -o %t.ll
// RUN: %opt_memscope -passes='memscope<allocator=pool_alloc:size=1;deallocator=pool_free:ptr=1>' -S %t.ll -o - | %opaque_ir > %t.out.ll
// RUN: FileCheck %s < %t.out.ll
// RUN: FileCheck %s --check-prefix=TABLE < %t.out.ll
// RUN: env 'MEMSCOPE_PASS_OPTIONS=allocator=pool_alloc:size=1;deallocator=pool_free:ptr=1' %opt_memscope -passes=memscope -S %t.ll -o - | %opaque_ir | FileCheck %s
// The annotation (on the definitions, which LLVM 14 records too).
// RUN: %clang -g -O0 -S -emit-llvm -DANNOTATE -I%memscope_include %s -o %t.annotated.ll
// RUN: %opt_memscope -passes=memscope -S %t.annotated.ll -o - | %opaque_ir | FileCheck %s
// At -O2 the named allocator is not inlined, so its call is still a site.
// RUN: env 'MEMSCOPE_PASS_OPTIONS=allocator=pool_alloc:size=1;deallocator=pool_free:ptr=1' %clang_memscope -O2 -S -emit-llvm %s -o - | %opaque_ir | FileCheck %s --check-prefix=O2
// RUN: not %opt_memscope -passes='memscope<allocator=pool_alloc>' -S %t.ll -o /dev/null 2>&1 | FileCheck %s --check-prefix=NOSIZE
// RUN: not %opt_memscope -passes='memscope<deallocator=pool_free:size=1>' -S %t.ll -o /dev/null 2>&1 | FileCheck %s --check-prefix=BADARG
#include <stdlib.h>
#ifdef ANNOTATE
#include <memscope/memscope.h>
#else
#define MEMSCOPE_ALLOCATOR(i)
#define MEMSCOPE_DEALLOCATOR(i)
#endif

struct pool { char *next, *end; };
void *volatile sink;

// What an allocator calls is not instrumented either: its malloc reaches
// the interposer, which records the chunk.
__attribute__((noinline)) char *refill(void) { return malloc(1 << 20); }
MEMSCOPE_ALLOCATOR(1) void *pool_alloc(struct pool *pool, size_t size) {
  if (pool->next + size > pool->end) {
    pool->next = refill(); // a chunk: not a site
    pool->end = pool->next + (1 << 20);
  }
  void *object = pool->next;
  pool->next += size;
  return object;
}
MEMSCOPE_DEALLOCATOR(1) void pool_free(struct pool *pool, void *object) {}

void user(struct pool *pool) {
  void *object = pool_alloc(pool, 48);
  sink = object;
  pool_free(pool, object);
}

// CHECK-LABEL: define {{.*}}ptr @refill(
// CHECK-NOT: __memscope
// CHECK: ret ptr
// CHECK-LABEL: define {{.*}}ptr @pool_alloc(
// CHECK-NOT: __memscope
// CHECK: ret ptr
// CHECK-LABEL: define {{.*}}void @user(
// The flag it found is put back after the call (an allocator may call
// another).
// CHECK: [[PREVIOUS:%.*]] = load volatile i32, ptr getelementptr {{.*}}@__memscope_tls, i32 0, i32 1)
// CHECK-NEXT: store volatile i32 2, ptr getelementptr {{.*}}@__memscope_tls, i32 0, i32 1)
// CHECK-NEXT: [[OBJ:%.*]] = call ptr @pool_alloc(
// CHECK-NEXT: store volatile i32 [[PREVIOUS]], ptr getelementptr {{.*}}@__memscope_tls, i32 0, i32 1)
// CHECK: [[ADDR:%.*]] = ptrtoint ptr [[OBJ]] to i64
// CHECK-NEXT: [[TAGGED:%.*]] = or i64 [[ADDR]], -9223372036854775808
// CHECK-NEXT: [[KEY:%.*]] = inttoptr i64 [[TAGGED]] to ptr
// A null result stays null: no object.
// CHECK-NEXT: [[NULL:%.*]] = icmp eq ptr [[OBJ]], null
// CHECK-NEXT: [[SAFE:%.*]] = select i1 [[NULL]], ptr [[OBJ]], ptr [[KEY]]
// CHECK-NEXT: call void @__memscope_alloc_sampled(i64 [[SITE:-?[0-9]+]], ptr [[SAFE]], i64 48)
// CHECK: or i64 {{%.*}}, -9223372036854775808
// CHECK: call void @__memscope_free_sampled(i64 {{-?[0-9]+}}, ptr
// CHECK: call void @pool_free(
// The sites: the allocator's call at line 45 (kind 13), the
// deallocator's at line 47 (kind 35), and no site inside pool_alloc.
// TABLE: @memscope.sites = private constant [2 x
// TABLE-SAME: { i64 {{-?[0-9]+}}, i32 13, i32 45,
// TABLE-SAME: { i64 {{-?[0-9]+}}, i32 35, i32 47,

// O2: define {{.*}}void @user(
// O2: call {{.*}}ptr @pool_alloc(
// O2: call void @__memscope_alloc_sampled(

// NOSIZE: memscope: allocator=pool_alloc needs the size's argument index: allocator=pool_alloc:size=INDEX (counting from 0)
// BADARG: memscope: bad 'size=1' in deallocator=pool_free:size=1 (expected ptr=INDEX, counting from 0)
