; The pass never instruments a module twice (LTO pre-link and link phases,
; or a pipeline that names it twice): it marks the module.
; RUN: %opt_memscope -passes=memscope,memscope -S %s -o - | FileCheck %s
; RUN: %opt_memscope -passes=memscope -S %s -o - | %opt_memscope -passes=memscope -S -o - | FileCheck %s

target triple = "x86_64-pc-linux-gnu"
declare ptr @malloc(i64)

define ptr @alloc(i64 %n) {
  %p = call ptr @malloc(i64 %n)
  ret ptr %p
}

; CHECK-COUNT-1: call void @__memscope_alloc_sampled(
; CHECK-NOT: call void @__memscope_alloc_sampled(
; CHECK: !{i32 4, !"memscope.instrumented", i32 1}
