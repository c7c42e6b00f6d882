; The not-sampled path of an allocation site is inline: a thread-local
; countdown and one branch. malloc and free go straight to the runtime's
; uncounted entries, which skip the interposers' own counting and filter
; check. The runtime is called only on the sampled branch. A free is guarded
; by one load of the live filter and a compare.
; RUN: %opt_memscope -passes=memscope -S %s -o - | %opaque_ir | FileCheck %s

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

declare noalias ptr @malloc(i64)
declare void @free(ptr)

define ptr @alloc(i64 %n) {
  %p = call ptr @malloc(i64 %n)
  ret ptr %p
}

define void @release(ptr %p) {
  call void @free(ptr %p)
  ret void
}

; CHECK: @__memscope_tls = external thread_local(initialexec) global { i64, i32, i32 }
; CHECK: @__memscope_live_filter = external global [65536 x i16]

; CHECK-LABEL: define ptr @alloc(i64 %n)
; CHECK-NEXT:    [[COUNT:%.*]] = load atomic i64, ptr @__memscope_tls monotonic, align 8
; CHECK-NEXT:    [[REMAINING:%.*]] = sub i64 [[COUNT]], %n
; CHECK-NEXT:    store atomic i64 [[REMAINING]], ptr @__memscope_tls monotonic, align 8
; CHECK-NEXT:    [[ALLOCATIONS:%.*]] = load atomic i32, ptr getelementptr inbounds {{(nuw )?}}({ i64, i32, i32 }, ptr @__memscope_tls, i32 0, i32 2) monotonic, align 4
; CHECK-NEXT:    [[COUNTED:%.*]] = add i32 [[ALLOCATIONS]], 1
; CHECK-NEXT:    store atomic i32 [[COUNTED]], ptr getelementptr inbounds {{(nuw )?}}({ i64, i32, i32 }, ptr @__memscope_tls, i32 0, i32 2) monotonic, align 4
; CHECK-NEXT:    [[P:%.*]] = call ptr @__memscope_malloc_uncounted(i64 %n)
; CHECK-NEXT:    [[SAMPLED:%.*]] = icmp slt i64 [[REMAINING]], 0
; CHECK-NEXT:    br i1 [[SAMPLED]], label %[[SLOW:.*]], label %[[DONE:.*]], !prof [[UNLIKELY:![0-9]+]]
; CHECK:       [[SLOW]]:
; CHECK-NEXT:    call void @__memscope_alloc_sampled(i64 {{-?[0-9]+}}, ptr [[P]], i64 %n)
; CHECK-NEXT:    br label %[[DONE]]
; CHECK:       [[DONE]]:
; CHECK-NEXT:    ret ptr [[P]]

; CHECK-LABEL: define void @release(ptr %p)
; CHECK-NEXT:    [[ADDR:%.*]] = ptrtoint ptr %p to i64
; CHECK-NEXT:    [[PAGE:%.*]] = lshr i64 [[ADDR]], 12
; CHECK-NEXT:    [[INDEX:%.*]] = and i64 [[PAGE]], 65535
; CHECK-NEXT:    [[SLOT:%.*]] = getelementptr inbounds [65536 x i16], ptr @__memscope_live_filter, i64 0, i64 [[INDEX]]
; CHECK-NEXT:    [[COUNTER:%.*]] = load i16, ptr [[SLOT]]
; CHECK-NEXT:    [[MAYBE:%.*]] = icmp ne i16 [[COUNTER]], 0
; CHECK-NEXT:    br i1 [[MAYBE]], label %[[FSLOW:.*]], label %[[FREE:.*]], !prof [[UNLIKELY]]
; CHECK:       [[FSLOW]]:
; CHECK-NEXT:    call void @__memscope_free_sampled(i64 {{-?[0-9]+}}, ptr %p)
; CHECK:       [[FREE]]:
; CHECK-NEXT:    call void @__memscope_free_unchecked(ptr %p)

; The module constructor: the ABI marker (a link error against another ABI),
; the version check (the runtime refuses another Memscope version), and only
; then the registration of the DSO's site tables.
; CHECK: define weak_odr hidden void @memscope.module_ctor() {{.*}}comdat
; CHECK-NEXT: load volatile i8, ptr @__memscope_abi_v4
; CHECK-NEXT: [[OK:%.*]] = call i32 @__memscope_check_versions(ptr @__start_memscope_sites, ptr @__stop_memscope_sites)
; CHECK-NEXT: [[ACCEPTED:%.*]] = icmp ne i32 [[OK]], 0
; CHECK-NEXT: br i1 [[ACCEPTED]], label %register, label %done
; CHECK: register:
; CHECK-NEXT: call void @__memscope_register_sites(ptr @__start_memscope_sites, ptr @__stop_memscope_sites)
; CHECK-NEXT: br label %done
; CHECK: done:
; CHECK-NEXT: ret void
; CHECK: [[UNLIKELY]] = !{!"branch_weights", i32 1, i32 {{[0-9]+}}}
