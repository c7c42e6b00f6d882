// Seven allocation and seven free sites: the runtime is called from exactly
// as many sampled branches.
// RUN: %clangxx_memscope -std=c++17 -fsized-deallocation -O2 -S -emit-llvm %S/cxx-new-delete.cpp -o - | %opaque_ir | FileCheck %s
// CHECK-LABEL: define {{.*}}void @_Z9every_newm(
// CHECK-COUNT-7: call void @__memscope_alloc_sampled(
// CHECK-NOT: call void @__memscope_alloc_sampled(
// CHECK-COUNT-7: call void @__memscope_free_sampled(
// CHECK-NOT: call void @__memscope_free_sampled(
// CHECK-LABEL: define {{.*}}void @_Z10invoke_newv()
