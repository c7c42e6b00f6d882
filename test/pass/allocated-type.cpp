// Each allocation site records the type it allocates, spelled as the user
// writes it, at -O0 and -O2: from clang's !heapallocsite on a new-expression,
// from the T of allocator<T>::allocate for a container's growth and for
// std::make_shared, and from the variable a cast malloc result is stored in.
// A site whose type nothing tells records none (a null pointer).
// RUN: %clangxx_memscope -std=c++17 -O0 -S -emit-llvm %s -o - | %opaque_ir | FileCheck %s
// RUN: %clangxx_memscope -std=c++17 -O2 -S -emit-llvm %s -o - | %opaque_ir | FileCheck %s
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

struct Order { long id; double price; };
namespace shop { struct Basket { int items; }; }

// CHECK-DAG: @[[ORDER:memscope.str[.0-9]*]] = {{.*}} c"Order\00"
// CHECK-DAG: @[[VECTOR:memscope.str[.0-9]*]] = {{.*}} c"std::vector<Order>\00"
// CHECK-DAG: @[[STRING:memscope.str[.0-9]*]] = {{.*}} c"std::string\00"
// CHECK-DAG: @[[BASKET:memscope.str[.0-9]*]] = {{.*}} c"shop::Basket\00"
// CHECK-DAG: @[[GROW:memscope.str[.0-9]*]] = {{.*}} c"_ZNSt15__new_allocatorI5OrderE8allocateEmPKv\00"
// CHECK-DAG: @[[SHARED:memscope.str[.0-9]*]] = {{.*}} c"_ZNSt15__new_allocatorISt23_Sp_counted_ptr_inplaceI5OrderSaIvELN9__gnu_cxx12_Lock_policyE2EEE8allocateEmPKv\00"

// new T and new T[n]: kinds 11 (new) and 12 (new[]).
Order *one() { return new Order{1, 2.0}; }
// CHECK-DAG: { i64 {{-?[0-9]+}}, i32 11, i32 [[@LINE-1]], {{[^}]*}}, ptr @[[ORDER]] }
Order *many(int n) { return new Order[n]; }
// CHECK-DAG: { i64 {{-?[0-9]+}}, i32 12, i32 [[@LINE-1]], {{[^}]*}}, ptr @[[ORDER]] }
std::vector<Order> *container() { return new std::vector<Order>(); }
// CHECK-DAG: { i64 {{-?[0-9]+}}, i32 11, i32 [[@LINE-1]], {{[^}]*}}, ptr @[[VECTOR]] }
std::string *text() { return new std::string("a string"); }
// CHECK-DAG: { i64 {{-?[0-9]+}}, i32 11, i32 [[@LINE-1]], {{[^}]*}}, ptr @[[STRING]] }
shop::Basket *basket() { return new shop::Basket{}; }
// CHECK-DAG: { i64 {{-?[0-9]+}}, i32 11, i32 [[@LINE-1]], {{[^}]*}}, ptr @[[BASKET]] }

// std::vector<T> growth and std::make_shared<T>: the site is in (or inlined
// from) libstdc++'s allocator; the type is its T.
void grow(std::vector<Order> &orders) { orders.push_back(Order{3, 4.0}); }
// CHECK-DAG: { i64 {{-?[0-9]+}}, i32 11, {{[^}]*}}, ptr @[[GROW]], {{[^}]*}}, ptr @[[ORDER]] }
std::shared_ptr<Order> shared() { return std::make_shared<Order>(); }
// CHECK-DAG: { i64 {{-?[0-9]+}}, i32 11, {{[^}]*}}, ptr @[[SHARED]], {{[^}]*}}, ptr @[[ORDER]] }

// A malloc cast to the variable's type (kind 1); an untyped one has none.
Order *cast() {
  Order *order = (Order *)malloc(sizeof(Order));
  // CHECK-DAG: { i64 {{-?[0-9]+}}, i32 1, i32 [[@LINE-1]], {{[^}]*}}, ptr @[[ORDER]] }
  return order;
}
void *untyped(unsigned long n) { return malloc(n); }
// CHECK-DAG: { i64 {{-?[0-9]+}}, i32 1, i32 [[@LINE-1]], {{[^}]*}}, ptr null }

// A std::string's own buffer grows in libstdc++.so (an extern template),
// which the pass never sees: no allocation site here, only the delete of
// text() above. The merge groups such allocations under their user frame.
std::string joined(const char *s) { return std::string(s) + " and a suffix too long for SSO"; }
