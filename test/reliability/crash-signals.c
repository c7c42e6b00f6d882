// A program that dies of SIGSEGV, abort(), SIGFPE, a stack overflow or a
// crash in a worker thread still dies of that signal, and its logs are
// complete up to the crash: every allocation made before it is in the merge,
// every record is intact, and ProcessEnd carries the signal. A handler the
// program installed itself is kept (chained to).
// RUN: %clang_memscope -O1 %s %link_rt -lpthread -o %t.exe
// RUN: rm -rf %t.segv && env MEMSCOPE_OUT=%t.segv MEMSCOPE_OPTIONS=exact=1 not --crash %t.exe segv
// RUN: %python %S/Inputs/logcheck.py check %t.segv | FileCheck %s --check-prefix=OK
// RUN: %python %S/Inputs/logcheck.py end %t.segv | FileCheck %s --check-prefix=SEGV
// RUN: %merge %t.segv -o %t.segv-report > /dev/null
// RUN: %python %S/Inputs/logcheck.py process %t.segv-report/analysis.json | FileCheck %s --check-prefix=SEGV-JSON
// RUN: %python %S/Inputs/logcheck.py site-count %t.segv-report/analysis.json crash-signals.c:85 | FileCheck %s --check-prefix=COUNT
// OK: logs ok
// SEGV: end exit_kind=11 threads_running=1
// SEGV-JSON: process state=exited exit_kind=11
// COUNT: {{^}}1000{{$}}
//
// RUN: rm -rf %t.abort && env MEMSCOPE_OUT=%t.abort MEMSCOPE_OPTIONS=exact=1 not --crash %t.exe abort
// RUN: %python %S/Inputs/logcheck.py check %t.abort | FileCheck %s --check-prefix=OK
// RUN: %python %S/Inputs/logcheck.py end %t.abort | FileCheck %s --check-prefix=ABORT
// RUN: %merge %t.abort -o %t.abort-report > /dev/null
// RUN: %python %S/Inputs/logcheck.py site-count %t.abort-report/analysis.json crash-signals.c:85 | FileCheck %s --check-prefix=COUNT
// ABORT: end exit_kind=6 threads_running=1
//
// RUN: rm -rf %t.fpe && env MEMSCOPE_OUT=%t.fpe MEMSCOPE_OPTIONS=exact=1 not --crash %t.exe fpe
// RUN: %python %S/Inputs/logcheck.py end %t.fpe | FileCheck %s --check-prefix=FPE
// FPE: end exit_kind=8 threads_running=1
//
// A stack overflow: the handler runs on the runtime's signal stack.
// RUN: rm -rf %t.overflow && env MEMSCOPE_OUT=%t.overflow MEMSCOPE_OPTIONS=exact=1 not --crash %t.exe overflow
// RUN: %python %S/Inputs/logcheck.py check %t.overflow | FileCheck %s --check-prefix=OK
// RUN: %python %S/Inputs/logcheck.py end %t.overflow | FileCheck %s --check-prefix=SEGV
//
// A thread overflows its stack on a signal stack that earlier threads used
// and gave back at their exit (the runtime keeps them for the next threads).
// RUN: rm -rf %t.reused && env MEMSCOPE_OUT=%t.reused MEMSCOPE_OPTIONS=exact=1 not --crash %t.exe thread-overflow
// RUN: %python %S/Inputs/logcheck.py check %t.reused | FileCheck %s --check-prefix=OK
// RUN: %python %S/Inputs/logcheck.py end %t.reused | FileCheck %s --check-prefix=REUSED
// REUSED: end exit_kind=11 threads_running=2
//
// A worker thread crashes while three others allocate: all four are
// running at the crash, and the main thread's 1000 allocations are there.
// A thread killed while writing an event leaves that event cut short (about
// one run in four): that is reported as such, never as damage.
// RUN: rm -rf %t.thread && env MEMSCOPE_OUT=%t.thread MEMSCOPE_OPTIONS=exact=1 not --crash %t.exe thread
// RUN: %python %S/Inputs/logcheck.py check %t.thread | FileCheck %s --check-prefix=OK
// RUN: %python %S/Inputs/logcheck.py end %t.thread | FileCheck %s --check-prefix=THREAD
// RUN: %merge %t.thread -o %t.thread-report 2>&1 > /dev/null | FileCheck %s --allow-empty --check-prefix=THREAD-WARN
// THREAD-WARN-NOT: corrupted
// THREAD-WARN-NOT: unwritten
// THREAD-WARN-NOT: truncated
// RUN: %python %S/Inputs/logcheck.py site-count %t.thread-report/analysis.json crash-signals.c:85 | FileCheck %s --check-prefix=COUNT
// THREAD: end exit_kind=11 threads_running=5
//
// The program's own handler, installed after the runtime's, runs and the
// process exits with the handler's status: nothing is written for it.
// RUN: rm -rf %t.own && env MEMSCOPE_OUT=%t.own MEMSCOPE_OPTIONS=exact=1 not %t.exe own-handler | FileCheck %s --check-prefix=OWN
// RUN: %python %S/Inputs/logcheck.py end %t.own | FileCheck %s --check-prefix=NOEND
// OWN: own handler ran for signal 11
// NOEND: end=none
//
// A handler that restores the one it replaced and re-raises (as abseil's
// and glog's failure handlers do) reaches the runtime's.
// RUN: rm -rf %t.chain && env MEMSCOPE_OUT=%t.chain MEMSCOPE_OPTIONS=exact=1 not --crash %t.exe chain 2>&1 | FileCheck %s --check-prefix=CHAIN
// RUN: %python %S/Inputs/logcheck.py end %t.chain | FileCheck %s --check-prefix=SEGV
// CHAIN: chaining handler ran for signal 11
//
// handle_crashes=0 leaves the signals alone.
// RUN: rm -rf %t.off && env MEMSCOPE_OUT=%t.off MEMSCOPE_OPTIONS=exact=1:handle_crashes=0 not --crash %t.exe segv
// RUN: %python %S/Inputs/logcheck.py end %t.off | FileCheck %s --check-prefix=NOEND
#include <pthread.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *volatile sink;
volatile int zero = 0, hundred = 100;
volatile int stop_workers = 0;

static void allocate_thousand(void) {
  for (int i = 0; i < 1000; ++i) {
    void *block = malloc(100);                                   // line 85
    sink = block;
    if (i % 2)
      free(block);
  }
}

static void segv(void) { *(volatile int *)(uintptr_t)16 = 1; }

static int recurse(int depth) {
  volatile char frame[512];
  frame[0] = (char)depth;
  return recurse(depth + 1) + frame[0];
}

static void *worker(void *arg) {
  (void)arg;
  while (!stop_workers) {
    void *block = malloc(32);
    sink = block;
    free(block);
  }
  return 0;
}

static void *allocating_worker(void *arg) {
  (void)arg;
  allocate_thousand();
  return 0;
}

static void *overflowing_worker(void *arg) {
  (void)arg;
  recurse(0);
  return 0;
}

static void *crashing_worker(void *arg) {
  (void)arg;
  usleep(20000);
  segv();
  return 0;
}

static void own_handler(int signo) {
  char line[64];
  int length = snprintf(line, sizeof(line), "own handler ran for signal %d\n",
                        signo);
  write(STDOUT_FILENO, line, length);
  _exit(3);
}

static struct sigaction replaced;
static void chaining_handler(int signo) {
  char line[64];
  int length = snprintf(line, sizeof(line),
                        "chaining handler ran for signal %d\n", signo);
  write(STDERR_FILENO, line, length);
  sigaction(signo, &replaced, 0);
  raise(signo);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  if (!strcmp(mode, "own-handler"))
    signal(SIGSEGV, own_handler);
  if (!strcmp(mode, "chain")) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = chaining_handler;
    sigaction(SIGSEGV, &action, &replaced);
  }
  allocate_thousand();
  if (!strcmp(mode, "abort"))
    abort();
  if (!strcmp(mode, "fpe"))
    return hundred / zero;
  if (!strcmp(mode, "overflow"))
    return recurse(0);
  if (!strcmp(mode, "thread-overflow")) {
    pthread_t thread;
    for (int i = 0; i < 3; ++i) { // one after the other: each exits first
      pthread_create(&thread, 0, allocating_worker, 0);
      pthread_join(thread, 0);
    }
    pthread_create(&thread, 0, overflowing_worker, 0);
    pthread_join(thread, 0);
    return 0;
  }
  if (!strcmp(mode, "thread")) {
    pthread_t threads[4];
    for (int i = 0; i < 3; ++i)
      pthread_create(&threads[i], 0, worker, 0);
    pthread_create(&threads[3], 0, crashing_worker, 0);
    pthread_join(threads[3], 0);
    return 0;
  }
  segv();
  return 0;
}
