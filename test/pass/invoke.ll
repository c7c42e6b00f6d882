; An allocator reached by `invoke` is instrumented on both edges: the normal
; edge gets the sampled check in a new block, the landing pad clears the flag.
; RUN: %opt_memscope -passes=memscope -S %s -o - | %opaque_ir | FileCheck %s

target triple = "x86_64-pc-linux-gnu"

declare ptr @_Znwm(i64)
declare i32 @__gxx_personality_v0(...)

define ptr @make() personality ptr @__gxx_personality_v0 {
entry:
  %p = invoke ptr @_Znwm(i64 24) to label %ok unwind label %lpad
ok:
  ret ptr %p
lpad:
  %lp = landingpad { ptr, i32 } cleanup
  resume { ptr, i32 } %lp
}

; CHECK-LABEL: define ptr @make()
; CHECK:       store volatile i32 1, ptr getelementptr inbounds {{(nuw )?}}({ i64, i32, i32 }, ptr @__memscope_tls, i32 0, i32 1)
; CHECK-NEXT:  %p = invoke ptr @_Znwm(i64 24)
; CHECK-NEXT:    to label %[[EDGE:.*]] unwind label %lpad
; CHECK:       [[EDGE]]:
; CHECK-NEXT:  store volatile i32 0, ptr getelementptr inbounds {{(nuw )?}}({ i64, i32, i32 }, ptr @__memscope_tls, i32 0, i32 1)
; CHECK-NEXT:  %memscope.sampled = icmp slt i64 %memscope.remaining, 0
; CHECK:       call void @__memscope_alloc_sampled(i64 {{-?[0-9]+}}, ptr %p, i64 24)
; CHECK:       lpad:
; CHECK-NEXT:  landingpad
; CHECK-NEXT:  cleanup
; CHECK-NEXT:  store volatile i32 0, ptr getelementptr inbounds {{(nuw )?}}({ i64, i32, i32 }, ptr @__memscope_tls, i32 0, i32 1)
