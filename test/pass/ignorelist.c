// An ignore list in the sanitizer special-case-list format skips functions
// and files, given as a pipeline parameter or in MEMSCOPE_PASS_OPTIONS.
// RUN: echo "fun:skipped*" > %t.txt
// RUN: %clang -O1 -S -emit-llvm %s -o %t.ll
// RUN: %opt_memscope -passes='memscope<ignorelist=%t.txt>' -S %t.ll -o - | FileCheck %s
// RUN: env MEMSCOPE_PASS_OPTIONS=ignorelist=%t.txt %opt_memscope -passes=memscope -S %t.ll -o - | FileCheck %s
// RUN: not %opt_memscope -passes='memscope<bogus=1>' -S %t.ll -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD
#include <stdlib.h>
void *volatile sink;
void skipped_function(size_t n) { sink = malloc(n); }
void kept_function(size_t n) { sink = malloc(n); }
// CHECK-LABEL: define {{.*}}void @skipped_function(
// CHECK-NOT: __memscope_alloc_sampled
// CHECK-LABEL: define {{.*}}void @kept_function(
// CHECK: call void @__memscope_alloc_sampled(
// BAD: memscope: unknown pass option 'bogus'
