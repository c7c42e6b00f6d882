// Without -g a site still names its function and module; ordinals keep two
// sites in one function apart.
// RUN: %clang -fpass-plugin=%plugin -O1 -g0 -S -emit-llvm %s -o - | %opaque_ir | FileCheck %s
#include <stdlib.h>
void *volatile sink;
void two_sites(size_t n) {
  sink = malloc(n);
  sink = malloc(n + 1);
}
// CHECK-DAG: @[[FILE:memscope.str[.0-9]*]] = private unnamed_addr constant [{{[0-9]+}} x i8] c"{{.*}}no-debug-info.c\00"
// CHECK-DAG: @[[FN:memscope.str[.0-9]*]] = private unnamed_addr constant [10 x i8] c"two_sites\00"
// CHECK-DAG: @memscope.sites = private constant [2 x {{.*}}] [{{.*}} { i64 [[ID1:-?[0-9]+]], i32 1, i32 0, i32 0, i32 0, ptr @[[FILE]], ptr @{{.*}}, ptr @[[FN]], ptr null, ptr null }, {{.*}} { i64 [[ID2:-?[0-9]+]], i32 1, i32 0, i32 0, i32 0, ptr @[[FILE]], ptr @{{.*}}, ptr @[[FN]], ptr null, ptr null }]
