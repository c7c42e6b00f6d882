// Exceptions thrown through instrumented frames (invoke sites), a `new` that
// throws bad_alloc, and a signal handler that allocates while the thread is
// inside the runtime: exact counts stay exact, the logs stay intact, and the
// recursion guard keeps the handler's allocation from re-entering the log
// writer it interrupted.
// RUN: %clangxx_memscope -O1 %s %link_rt -o %t.exe
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 timeout 60 %t.exe > %t.stdout
// RUN: FileCheck %s --check-prefix=STATUS < %t.stdout
// RUN: %python %S/Inputs/logcheck.py check %t.out | FileCheck %s --check-prefix=OK
// RUN: %merge %t.out -o %t.report > /dev/null
// RUN: %python %inputs/summarize.py %t.report/analysis.json | FileCheck %s --implicit-check-not=signals-exceptions.cpp:95
// RUN: %python %S/Inputs/logcheck.py site-count %t.report/analysis.json signals-exceptions.cpp:63 > %t.handler
// RUN: %python %S/Inputs/logcheck.py site-count %t.report/analysis.json signals-exceptions.cpp:110 > %t.loop
// RUN: cat %t.stdout %t.handler %t.loop | %python -c "import sys, re; t = sys.stdin.read(); done = int(re.search(r'handler allocations (\d+)', t).group(1)); loop = int(re.search(r'loop allocations (\d+)', t).group(1)); rec, rec_loop = map(int, t.split()[-2:]); print('handler', 'ok' if rec <= done else f'bad {rec} of {done}', 'loop', 'exact' if rec_loop == loop else f'{rec_loop} of {loop}')" | FileCheck %s --check-prefix=HANDLER
// STATUS: caught 1000 exceptions, 1000 bad_alloc
// STATUS: signals inside the runtime: {{[1-9][0-9]*}}
// OK: logs ok
// The bad_alloc site (line 95) returned nothing, so it recorded nothing.
// CHECK: site kind=malloc at=signals-exceptions.cpp:110 {{.*}}live_allocations=0
// CHECK: site kind=new[] at=signals-exceptions.cpp:43 {{.*}}allocations=1000 bytes=16000 live_allocations=0
// Two exception objects per iteration (runtime_error and bad_alloc).
// CHECK: site kind=indirect at=signals-exceptions.cpp:{{.*}} allocations=2000 {{.*}}via=__cxa_allocate_exception
// The handler's allocations that interrupted the runtime's recording are
// not recorded (the log writer is not re-entrant); the rest are. The loop it
// interrupted loses nothing.
// HANDLER: handler ok loop exact
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <signal.h>
#include <stdexcept>
#include <sys/time.h>
#include <ucontext.h>

void *volatile sink;
static uintptr_t rt_begin, rt_end; // the runtime's code
static volatile long handler_allocations, inside_runtime;

__attribute__((noinline)) void thrower(int i) {
  std::unique_ptr<int[]> owned(new int[4]); // line 43
  sink = owned.get();
  if (i >= 0)
    throw std::runtime_error("through an instrumented frame");
}

__attribute__((noinline)) void middle(int i) {
  std::unique_ptr<int> other(new int(i));
  thrower(i);
}

volatile size_t huge = size_t(1) << 62;

static void on_profile(int, siginfo_t *, void *context) {
  uintptr_t pc = static_cast<ucontext_t *>(context)->uc_mcontext.gregs[REG_RIP];
  // malloc is not async-signal-safe in glibc; allocate only when the thread
  // was interrupted inside the runtime's own code, which is what this tests.
  if (pc < rt_begin || pc >= rt_end)
    return;
  ++inside_runtime;
  void *block = malloc(72); // line 63
  sink = block;
  free(block);
  ++handler_allocations;
}

static void find_runtime() {
  FILE *maps = fopen("/proc/self/maps", "r");
  char line[512];
  while (maps && fgets(line, sizeof(line), maps)) {
    unsigned long begin, end;
    char perms[8];
    if (strstr(line, "libmemscope_rt") &&
        sscanf(line, "%lx-%lx %7s", &begin, &end, perms) == 3 &&
        perms[2] == 'x') {
      rt_begin = begin;
      rt_end = end;
    }
  }
  if (maps)
    fclose(maps);
}

int main() {
  int caught = 0, bad_allocs = 0;
  for (int i = 0; i < 1000; ++i) {
    try {
      middle(i);
    } catch (const std::runtime_error &) {
      ++caught;
    }
    try {
      sink = new char[huge]; // line 95
    } catch (const std::bad_alloc &) {
      ++bad_allocs;
    }
  }
  find_runtime();
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_sigaction = on_profile;
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGPROF, &action, nullptr);
  struct itimerval timer = {{0, 50}, {0, 50}};
  setitimer(ITIMER_PROF, &timer, nullptr);
  long loop = 0;
  for (; loop < 1000000 && (inside_runtime < 5 || loop < 100000); ++loop) {
    void *block = malloc(48); // line 110
    sink = block;
    free(block);
  }
  struct itimerval off = {};
  setitimer(ITIMER_PROF, &off, nullptr);
  printf("caught %d exceptions, %d bad_alloc\n", caught, bad_allocs);
  printf("signals inside the runtime: %ld\nhandler allocations %ld\n",
         inside_runtime, handler_allocations);
  printf("loop allocations %ld\n", loop);
  return 0;
}
