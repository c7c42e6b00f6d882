// report.html is rendered in Chromium, or checked statically without it.
// Several processes in one MEMSCOPE_OUT: a program that forks three
// children (one exits, one dies of SIGSEGV, one is SIGKILLed), run twice.
// One section per process, each with its status; the same binary's runs add
// up per site; --pid selects one process.
// RUN: %memscope_cc -O1 %s -o %t.exe
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe
// RUN: env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe
// RUN: %merge %t.out -o %t.report | FileCheck %s --check-prefix=TEXT
// RUN: %python %report_inputs/processes.py %t.report/analysis.json | FileCheck %s --check-prefix=JSON
// RUN: %python %inputs/summarize.py %t.report/analysis.json | FileCheck %s --check-prefix=SITES
// RUN: %python %report_inputs/check_trace.py %t.report/trace.json %t.report/analysis.json | FileCheck %s --check-prefix=TRACE
// RUN: %check_html %t.report/report.html --expect "crashed (SIGSEGV)" --expect "killed or still running" | FileCheck %s --check-prefix=HTML
//
// --pid: only the crashed child of the first run.
// RUN: %python %report_inputs/processes.py %t.report/analysis.json --pid-of crashed > %t.pid
// RUN: bash -c '%merge %t.out -o %t.one --format=json,text --pid "$(cat %t.pid)"' | FileCheck %s --check-prefix=ONE
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

void *volatile sink;

static void child(int how) {
  for (int i = 0; i < 5; ++i)
    sink = malloc(1000);                                         // line 27
  if (how == 1)
    raise(SIGSEGV);
  if (how == 2)
    kill(getpid(), SIGKILL);
  exit(0);
}

int main(void) {
  for (int how = 0; how < 3; ++how) {
    pid_t pid = fork();
    if (pid == 0)
      child(how);
    waitpid(pid, 0, 0);
  }
  for (int i = 0; i < 3; ++i)
    sink = malloc(300);                                          // line 43
  return 0;
}

// TEXT: 8 processes, 8 threads, sampling exact
// TEXT: processes:
// TEXT-COUNT-8: pid {{[0-9]+}} {{.*}}processes.c.tmp.exe: {{exited|crashed \(SIGSEGV\)|killed or still running \(no exit record\)}}; 1 thread

// JSON: process exe=processes.c.tmp.exe status=crashed signal=SIGSEGV threads=1 allocations=5 bytes=5000
// JSON-NEXT: process exe=processes.c.tmp.exe status=crashed signal=SIGSEGV threads=1 allocations=5 bytes=5000
// JSON-NEXT: process exe=processes.c.tmp.exe status=exited signal=none threads=1 allocations=3 bytes=900
// JSON-NEXT: process exe=processes.c.tmp.exe status=exited signal=none threads=1 allocations=3 bytes=900
// JSON-NEXT: process exe=processes.c.tmp.exe status=exited signal=none threads=1 allocations=5 bytes=5000
// JSON-NEXT: process exe=processes.c.tmp.exe status=exited signal=none threads=1 allocations=5 bytes=5000
// JSON-NEXT: process exe=processes.c.tmp.exe status=killed-or-running signal=none threads=1 allocations=5 bytes=5000
// JSON-NEXT: process exe=processes.c.tmp.exe status=killed-or-running signal=none threads=1 allocations=5 bytes=5000
// JSON-NEXT: total processes=8 allocations=36

// Six children of two runs at one site, two parents at another.
// SITES-DAG: site kind=malloc at=processes.c:27 {{.*}}allocations=30 bytes=30000
// SITES-DAG: site kind=malloc at=processes.c:43 {{.*}}allocations=6 bytes=1800

// TRACE-COUNT-8: trace pid={{[0-9]+}} process=processes.c.tmp.exe ({{exited|crashed|killed-or-running}}) threads=1

// HTML: html ok

// ONE: 1 process, 1 thread
// ONE: crashed (SIGSEGV); 1 thread, 5 allocations, 5000 bytes
