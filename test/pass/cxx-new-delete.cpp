// Every overload of operator new, new[], delete and delete[] is a site, as a
// call or an invoke. An invoke's landing pad clears the in-call flag.
// RUN: %clangxx_memscope -std=c++17 -fsized-deallocation -O0 -S -emit-llvm %s -o - | %opaque_ir | FileCheck %s
// RUN: %clangxx_memscope -std=c++17 -fsized-deallocation -O2 -S -emit-llvm %s -o - | %opaque_ir | FileCheck %s
// RUN: %clangxx_memscope -std=c++17 -fsized-deallocation -O0 -S -emit-llvm %s -o - | %opaque_ir | FileCheck %s --check-prefix=INVOKE
#include <new>

struct alignas(64) Aligned { char bytes[64]; };
void *volatile sink;
void may_throw();

void every_new(unsigned long n) {
  int *a = new int;                                   // _Znwm
  int *b = new int[n];                                // _Znam
  int *c = new (std::nothrow) int;                    // _ZnwmRKSt9nothrow_t
  int *d = new (std::nothrow) int[n];                 // _ZnamRKSt9nothrow_t
  Aligned *e = new Aligned;                           // _ZnwmSt11align_val_t
  Aligned *f = new Aligned[n];                        // _ZnamSt11align_val_t
  Aligned *g = new (std::nothrow) Aligned;            // aligned nothrow
  sink = a; sink = b; sink = c; sink = d; sink = e; sink = f; sink = g;
  delete a;                                           // _ZdlPvm (sized)
  delete[] b;                                         // _ZdaPv
  ::operator delete(c, std::nothrow);                 // _ZdlPvRKSt9nothrow_t
  ::operator delete[](d, std::nothrow);               // _ZdaPvRKSt9nothrow_t
  delete e;                                           // _ZdlPvmSt11align_val_t
  delete[] f;                                         // _ZdaPvSt11align_val_t
  ::operator delete(g, std::align_val_t(64));         // _ZdlPvSt11align_val_t
}

struct Throws { Throws() { may_throw(); } };
void invoke_new() {
  Throws *t = new Throws;  // the constructor may throw: delete in a cleanup
  sink = t;
  may_throw();
}

// CHECK-LABEL: define {{.*}}void @_Z9every_newm(
// CHECK-DAG: call {{.*}}@_Znwm(
// CHECK-DAG: call {{.*}}@_Znam(
// CHECK-DAG: call {{.*}}@_ZnwmRKSt9nothrow_t(
// CHECK-DAG: call {{.*}}@_ZnamRKSt9nothrow_t(
// CHECK-DAG: call {{.*}}@_ZnwmSt11align_val_t(
// CHECK-DAG: call {{.*}}@_ZnamSt11align_val_t(
// CHECK-DAG: call {{.*}}@_ZnwmSt11align_val_tRKSt9nothrow_t(
// CHECK-DAG: call {{.*}}@_ZdlPvm(
// CHECK-DAG: call {{.*}}@_ZdaPv(
// CHECK-DAG: call {{.*}}@_ZdlPvRKSt9nothrow_t(
// CHECK-DAG: call {{.*}}@_ZdaPvRKSt9nothrow_t(
// CHECK-DAG: call {{.*}}@_ZdlPvmSt11align_val_t(
// CHECK-DAG: call {{.*}}@_ZdaPvSt11align_val_t(
// CHECK-DAG: call {{.*}}@_ZdlPvSt11align_val_t(
// CHECK: ret void

// INVOKE-LABEL: define {{.*}}void @_Z10invoke_newv()
// INVOKE: call {{.*}}ptr @_Znwm(i64 noundef 1)
// INVOKE: store volatile i32 0, ptr getelementptr inbounds {{(nuw )?}}({ i64, i32, i32 }, ptr @__memscope_tls, i32 0, i32 1)
// INVOKE: call void @__memscope_alloc_sampled(
// INVOKE: landingpad
// INVOKE: call void @__memscope_free_sampled(
// INVOKE: call void @_ZdlPvm(
