// Thread spawns get spawn sites: pthread_create, thrd_create and libstdc++'s
// std::thread::_M_start_thread (std::thread, std::jthread, std::async), as a
// call or an invoke. The site is announced to the runtime just before.
// RUN: %clangxx_memscope -std=c++20 -O2 -S -emit-llvm %s -o - | %opaque_ir | FileCheck %s
// RUN: %clangxx_memscope -std=c++20 -O2 -S -emit-llvm %s -o - | %opaque_ir | FileCheck %s --check-prefix=TABLE
// RUN: %clangxx_memscope -std=c++20 -O0 -S -emit-llvm %s -o - | %opaque_ir | FileCheck %s --check-prefix=O0
#include <future>
#include <pthread.h>
#include <thread>
#include <threads.h>

void work() {}
void *posix_work(void *) { return nullptr; }
int c11_work(void *) { return 0; }

void spawn_all() {
  pthread_t posix;
  pthread_create(&posix, nullptr, posix_work, nullptr);
  thrd_t c11;
  thrd_create(&c11, c11_work, nullptr);
  std::thread plain(work);
  std::jthread joining(work);
  auto done = std::async(std::launch::async, work);
  plain.join();
  pthread_join(posix, nullptr);
  thrd_join(c11, nullptr);
}

// CHECK-LABEL: define {{.*}}void @_Z9spawn_allv()
// CHECK: call void @__memscope_note_spawn(i64 {{-?[0-9]+}})
// CHECK-NEXT: call {{.*}}i32 @pthread_create(
// CHECK: call void @__memscope_note_spawn(i64 {{-?[0-9]+}})
// CHECK-NEXT: call {{.*}}i32 @thrd_create(
// CHECK: call void @__memscope_note_spawn(i64 {{-?[0-9]+}})
// CHECK-NEXT: invoke void @_ZNSt6thread15_M_start_threadESt10unique_ptrINS_6_StateESt14default_deleteIS1_EEPFvvE(
// Spawn sites are in the site table with kind 64 (thread spawn).
// TABLE-DAG: { i64 {{-?[0-9]+}}, i32 64, i32 18,
// TABLE-DAG: { i64 {{-?[0-9]+}}, i32 64, i32 20,

// O0-DAG: call void @__memscope_note_spawn(
// O0-DAG: call {{.*}}@pthread_create(
