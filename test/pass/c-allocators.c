// Every C allocator entry point gets a site with its kind, at -O0, -O2 and -O3.
// RUN: %clang_memscope -O0 -S -emit-llvm %s -o - | %opaque_ir | FileCheck %s
// RUN: %clang_memscope -O2 -S -emit-llvm %s -o - | %opaque_ir | FileCheck %s
// RUN: %clang_memscope -O3 -S -emit-llvm %s -o - | %opaque_ir | FileCheck %s
// RUN: %clang_memscope -O0 -S -emit-llvm %s -o - | %opaque_ir | FileCheck %s --check-prefix=SAMPLED
// RUN: %clang_memscope -O2 -S -emit-llvm %s -o - | %opaque_ir | FileCheck %s --check-prefix=SAMPLED
// RUN: %clang_memscope -O0 -S -emit-llvm %s -o - | %opaque_ir | FileCheck %s --check-prefix=TABLE
// RUN: %clang_memscope -O2 -S -emit-llvm %s -o - | %opaque_ir | FileCheck %s --check-prefix=TABLE
#define _GNU_SOURCE
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

void *volatile sink;

void every_allocator(size_t n, const char *text) {
  sink = malloc(n);                       // kind 1
  sink = calloc(n, 4);                    // kind 2
  sink = realloc(sink, n * 2);            // kind 3
  sink = reallocarray(sink, n, 8);        // kind 4
  sink = aligned_alloc(64, n);            // kind 5
  sink = memalign(64, n);                 // kind 6
  void *p;
  if (posix_memalign(&p, 64, n) == 0)     // kind 7
    sink = p;
  sink = valloc(n);                       // kind 8
  sink = strdup(text);                    // kind 9
  sink = strndup(text, n);                // kind 10
  free(sink);                             // kind 32
}

// Sizes: the request (calloc and reallocarray multiply), strlen+1 for strdup.
// CHECK-LABEL: define {{.*}}void @every_allocator(
// malloc, calloc and free are redirected to the runtime's uncounted entries.
// CHECK-DAG: call {{.*}}ptr @__memscope_malloc_uncounted(
// CHECK-DAG: [[CALLOC_SIZE:%.*]] = mul i64 %{{.*}}, 4
// CHECK-DAG: call {{.*}}ptr @__memscope_calloc_uncounted(
// CHECK-DAG: call {{.*}}ptr @realloc(
// CHECK-DAG: call {{.*}}ptr @reallocarray(
// CHECK-DAG: call {{.*}}ptr @aligned_alloc(
// CHECK-DAG: call {{.*}}ptr @memalign(
// CHECK-DAG: call {{.*}}i32 @posix_memalign(
// CHECK-DAG: call {{.*}}ptr @valloc(
// CHECK-DAG: [[LEN:%.*]] = call {{.*}}i64 @strlen(
// CHECK-DAG: call {{.*}}ptr @strdup(
// CHECK-DAG: call {{.*}}i64 @strnlen(
// CHECK-DAG: call {{.*}}ptr @strndup(
// CHECK-DAG: call void @__memscope_free_sampled(
// CHECK-DAG: call void @__memscope_free_unchecked(
// The sampled branches pass those sizes: calloc's product, strdup's strlen+1.
// CHECK-DAG: call void @__memscope_alloc_sampled(i64 {{-?[0-9]+}}, ptr %{{.*}}, i64 [[CALLOC_SIZE]])
// CHECK-DAG: [[DUP_SIZE:%.*]] = add i64 [[LEN]], 1
// CHECK-DAG: call void @__memscope_alloc_sampled(i64 {{-?[0-9]+}}, ptr %{{.*}}, i64 [[DUP_SIZE]])
// Ten allocation sites reach the runtime only on their sampled branch.
// SAMPLED-COUNT-10: call void @__memscope_alloc_sampled(i64
// SAMPLED-NOT: call void @__memscope_alloc_sampled(

// The site table lists every kind with this file and its line numbers.
// TABLE-DAG: { i64 {{-?[0-9]+}}, i32 1, i32 17, i32 10,
// TABLE-DAG: { i64 {{-?[0-9]+}}, i32 2, i32 18, i32 10,
// TABLE-DAG: { i64 {{-?[0-9]+}}, i32 3, i32 19, i32 10,
// TABLE-DAG: { i64 {{-?[0-9]+}}, i32 4, i32 20, i32 10,
// TABLE-DAG: { i64 {{-?[0-9]+}}, i32 5, i32 21, i32 10,
// TABLE-DAG: { i64 {{-?[0-9]+}}, i32 6, i32 22, i32 10,
// TABLE-DAG: { i64 {{-?[0-9]+}}, i32 7, i32 24, i32 7,
// TABLE-DAG: { i64 {{-?[0-9]+}}, i32 8, i32 26, i32 10,
// TABLE-DAG: { i64 {{-?[0-9]+}}, i32 9, i32 27, i32 10,
// TABLE-DAG: { i64 {{-?[0-9]+}}, i32 10, i32 28, i32 10,
// TABLE-DAG: { i64 {{-?[0-9]+}}, i32 32, i32 29, i32 3,
// TABLE-DAG: @memscope.module_sites = private constant {{.*}} { i32 4, i32 11, {{.*}} section "memscope_sites"
