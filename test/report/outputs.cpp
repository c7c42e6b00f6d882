// REQUIRES: protoc, pprof
// Every output format of memscope-merge, read back by independent readers:
// protoc --decode_raw and the real pprof tool (profile.pb.gz), a folded
// stacks parser, the Chrome trace format checks, and headless Chromium.
// RUN: %memscope_cxx -O1 %s -o %t.exe -pthread
// RUN: rm -rf %t.out %t.report && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe
// RUN: %merge %t.out -o %t.report | FileCheck %s --check-prefix=TEXT
// RUN: ls %t.report | FileCheck %s --check-prefix=FILES
//
// RUN: %python %report_inputs/check_folded.py %t.report/stacks.folded %t.report/analysis.json | FileCheck %s --check-prefix=FOLDED
// RUN: %python %report_inputs/check_trace.py %t.report/trace.json %t.report/analysis.json | FileCheck %s --check-prefix=TRACE
// RUN: %python %inputs/summarize.py %t.report/analysis.json | FileCheck %s --check-prefix=JSON
//
// profile.pb.gz, raw: the sample types, and the executable's build-id as
// llvm-readelf reads it from the binary.
// RUN: llvm-readelf -n %t.exe > %t.notes
// RUN: gunzip -c %t.report/profile.pb.gz | protoc --decode_raw > %t.proto
// RUN: cat %t.notes %t.proto | FileCheck %s --check-prefix=PROTO
// Byte sampling: the period is the sampling interval.
// RUN: rm -rf %t.sampled && env MEMSCOPE_OUT=%t.sampled MEMSCOPE_OPTIONS=sample_interval=4096 %t.exe
// RUN: %merge %t.sampled -o %t.sampled-report --format=pprof -q
// RUN: gunzip -c %t.sampled-report/profile.pb.gz | protoc --decode_raw | FileCheck %s --check-prefix=PERIOD
//
// The real pprof tool: what it shows must be the run's lines and bytes.
// RUN: %pprof -top -lines -unit=B -sample_index=alloc_space %t.report/profile.pb.gz 2>&1 | FileCheck %s --check-prefix=PPROF-ALLOC
// RUN: %pprof -top -lines -unit=B -sample_index=inuse_space %t.report/profile.pb.gz 2>&1 | FileCheck %s --check-prefix=PPROF-INUSE
// RUN: %pprof -traces -lines -unit=B %t.report/profile.pb.gz 2>&1 | FileCheck %s --check-prefix=PPROF-TRACES
//
// report.html in headless Chromium: no console error, every section.
// RUN: %check_html %t.report/report.html | FileCheck %s --check-prefix=HTML
#include <stdlib.h>

#include <thread>
#include <vector>

void *volatile sink;

__attribute__((noinline)) void *make_buffer(size_t n) {
  return malloc(n);                                              // line 39
}

__attribute__((noinline)) void worker() {
  for (int i = 0; i < 10; ++i)
    free(make_buffer(1000));
}

__attribute__((noinline)) void leak_some() {
  for (int i = 0; i < 4; ++i)
    sink = malloc(5000);                                         // line 49
}

__attribute__((noinline)) void temporaries() {
  for (int i = 0; i < 1000; ++i) {
    void *p = malloc(64);                                        // line 54
    sink = p;
    free(p);
  }
}

int main() {
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i)
    threads.emplace_back(worker);
  for (std::thread &t : threads)
    t.join();
  leak_some();
  temporaries();
  return 0;
}

// TEXT: processes:
// TEXT-NEXT: pid {{[0-9]+}} {{.*}}outputs.cpp.tmp.exe: exited; 4 threads
// TEXT: report: {{.*}}analysis.json
// TEXT-NEXT: html: {{.*}}report.html
// TEXT-NEXT: pprof: {{.*}}profile.pb.gz
// TEXT-NEXT: folded: {{.*}}stacks.folded
// TEXT-NEXT: trace: {{.*}}trace.json

// FILES: analysis.json
// FILES-NEXT: profile.pb.gz
// FILES-NEXT: report.html
// FILES-NEXT: stacks.folded
// FILES-NEXT: trace.json

// FOLDED: folded lines={{[0-9]+}} bytes=[[TOTAL:[0-9]+]] total_bytes=[[TOTAL]]
// FOLDED-DAG: stack 30000 {{(.*;)?}}make_buffer(unsigned long) ({{.*}}outputs.cpp:39)
// FOLDED-DAG: stack 20000 {{(.*;)?}}leak_some() ({{.*}}outputs.cpp:49)
// FOLDED-DAG: stack 64000 {{(.*;)?}}temporaries() ({{.*}}outputs.cpp:54)

// TRACE: trace pid={{[0-9]+}} process=outputs.cpp.tmp.exe (exited) threads=4 counter_points={{[1-9][0-9]*}} peak={{[1-9][0-9]*}}

// JSON-DAG: site kind=malloc at=outputs.cpp:39 {{.*}}allocations=30 bytes=30000
// JSON-DAG: site kind=malloc at=outputs.cpp:49 {{.*}}allocations=4 bytes=20000 live_allocations=4 live_bytes=20000
// JSON-DAG: site kind=malloc at=outputs.cpp:54 {{.*}}allocations=1000 bytes=64000

// PROTO: Build ID: [[ID:[0-9a-f]+]]
// PROTO: 6: ""
// PROTO-NEXT: 6: "alloc_objects"
// PROTO-NEXT: 6: "count"
// PROTO-NEXT: 6: "alloc_space"
// PROTO-NEXT: 6: "bytes"
// PROTO-NEXT: 6: "inuse_objects"
// PROTO-NEXT: 6: "inuse_space"
// PROTO-NEXT: 6: "space"
// PROTO: 6: "{{.*}}outputs.cpp.tmp.exe"
// PROTO-NEXT: 6: "[[ID]]"

// PERIOD: 6: "bytes"
// PERIOD: 6: "space"
// PERIOD: 11 {
// PERIOD-NEXT: 1: 7
// PERIOD-NEXT: 2: 4
// PERIOD-NEXT: }
// PERIOD-NEXT: 12: 4096

// PPROF-ALLOC: File: outputs.cpp.tmp.exe
// PPROF-ALLOC: Type: alloc_space
// PPROF-ALLOC-DAG: 64000B {{.*}} temporaries() {{.*}}outputs.cpp:54
// PPROF-ALLOC-DAG: 30000B {{.*}} make_buffer(unsigned long) {{.*}}outputs.cpp:39
// PPROF-ALLOC-DAG: 20000B {{.*}} leak_some() {{.*}}outputs.cpp:49

// PPROF-INUSE: Type: inuse_space
// PPROF-INUSE: 20000B {{.*}} leak_some() {{.*}}outputs.cpp:49
// PPROF-INUSE-NOT: make_buffer

// The sampled stack of std::thread's state, allocated in a library header
// (the Site record is the leaf), leads back to main's line.
// PPROF-TRACES: {{^ +}}48B   std::thread::thread {{.*}}std_thread.h
// PPROF-TRACES-NEXT: std::__new_allocator::construct
// PPROF-TRACES: main {{.*}}outputs.cpp:63

// HTML: html ok sections=15
