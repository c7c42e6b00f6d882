// A site with no frame in user code (at -O0, std::vector's allocator is an
// out-of-line function in a libstdc++ header) asks the runtime for a stack,
// so that the merge can find the user's line; a site in user code does not.
// RUN: %clangxx_memscope -O0 -S -emit-llvm %s -o - | %opaque_ir | FileCheck %s --check-prefix=USER
// RUN: %clangxx_memscope -O0 -S -emit-llvm %s -o - | %opaque_ir | FileCheck %s --check-prefix=LIB
#include <vector>

int *make() { return new int(1); }
void grow(std::vector<int> &values) { values.push_back(1); }

// USER-LABEL: define {{.*}}@_Z4makev(
// USER: call void @__memscope_alloc_sampled(
// USER-NOT: __memscope_alloc_sampled_stack
// USER: ret ptr

// LIB-LABEL: define linkonce_odr {{.*}}@_ZNSt15__new_allocatorIiE8allocateEmPKv(
// LIB: call void @__memscope_alloc_sampled_stack(
