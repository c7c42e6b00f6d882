// The heap by type (analysis.json "types"), in exact mode: each type's
// allocations, bytes, bytes live at exit and peak are those the program
// makes. The types come from a new-expression (Order), a std::vector's
// growth (Item), std::make_shared (Account) and a cast malloc (Packet); the
// std::string buffers grow in libstdc++.so, which the pass never sees, so
// they are grouped at their first user frame, not dropped.
// RUN: %memscope_cxx -O2 %s -o %t.exe
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe
// RUN: %merge %t.out -o %t.report > %t.txt
// RUN: %python %S/Inputs/types.py %t.report/analysis.json | FileCheck %s
// RUN: FileCheck %s --check-prefix=TEXT < %t.txt
// Sampled, the peak is the type's live bytes at the process's peak (an
// interval of 256 bytes gives the 16,000 bytes of Orders ~62 samples).
// RUN: rm -rf %t.sampled && env MEMSCOPE_OUT=%t.sampled MEMSCOPE_OPTIONS=sample_interval=256 %t.exe
// RUN: %merge %t.sampled -o %t.sampled-report -q
// RUN: %python %S/Inputs/types.py %t.sampled-report/analysis.json | FileCheck %s --check-prefix=SAMPLED
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

struct Order { long id; double price; };         // 16 bytes
struct Item { int fields[4]; };                  // 16 bytes
struct Account { long balance[5]; };             // 40 bytes
struct Packet { char bytes[24]; };               // 24 bytes
Order *volatile order_sink;
Packet *volatile packet_sink;

// 1000 Orders, all live at once, then 600 freed: 400 live at exit.
// CHECK-DAG: type=Order allocations=1000 bytes=16000 live_at_exit=6400 peak=16000 method=exact sites=1
__attribute__((noinline)) void orders() {
  static Order *held[1000];
  for (int i = 0; i < 1000; ++i) held[i] = new Order{i, 1.0};
  for (int i = 0; i < 600; ++i) delete held[i];
  order_sink = held[999];
}

// 100 push_backs grow the buffer 1, 2, 4, ..., 128 Items: 8 allocations of
// 255 Items in all; at most the 64- and the 128-Item buffers at once.
// CHECK-DAG: type=Item allocations=8 bytes=4080 live_at_exit=0 peak=3072 method=exact sites=1
__attribute__((noinline)) void items() {
  std::vector<Item> v;
  for (int i = 0; i < 100; ++i) v.push_back(Item{{i, i, i, i}});
}

// make_shared puts the control block (16 bytes) and the Account in one
// allocation; the vector of the 10 shared_ptrs is one more, of its own type.
// CHECK-DAG: type=Account allocations=10 bytes=560 live_at_exit=0 peak=560 method=exact sites=1
// CHECK-DAG: type=std::shared_ptr<Account> allocations=1 bytes=160 live_at_exit=0 peak=160 method=exact sites=1
__attribute__((noinline)) void accounts() {
  std::vector<std::shared_ptr<Account>> all;
  all.reserve(10);
  for (int i = 0; i < 10; ++i) all.push_back(std::make_shared<Account>());
}

// 50 Packets, never freed.
// CHECK-DAG: type=Packet allocations=50 bytes=1200 live_at_exit=1200 peak=1200 method=exact sites=1
__attribute__((noinline)) void packets() {
  for (int i = 0; i < 50; ++i) {
    Packet *packet = (Packet *)malloc(sizeof(Packet));
    packet_sink = packet;
  }
}

// 20 strings of 40 characters (41 bytes each), one at a time.
// CHECK-DAG: type=(unknown) at {{.*}}heap-by-type.cpp:[[@LINE+4]] names() allocations=20 bytes=820 live_at_exit=0 peak=41 method=exact sites=1
__attribute__((noinline)) std::size_t names() {
  std::size_t total = 0;
  for (int i = 0; i < 20; ++i) {
    std::string name(40, 'a' + i % 26);
    total += name.size();
  }
  return total;
}

int main() {
  orders();
  items();
  accounts();
  packets();
  return names() == 800 ? 0 : 1;
}

// TEXT: heap by type:
// TEXT-NEXT: bytes allocs live-at-exit peak-live type
// TEXT-NEXT: (unknown) at <uninstrumented> _dl_init
// TEXT-NEXT: 16000 1000 6400 16000 Order
// SAMPLED-DAG: type=Order allocations={{[0-9]+}} bytes={{[0-9]+}} live_at_exit={{[0-9]+}} peak={{[0-9]+}} method=at_process_peak sites=1
