// fork+exec, vfork+exec, posix_spawn and system() of an instrumented
// program: each new program records into its own folder with exact counts,
// and the parent's counts are unaffected.
// RUN: %clang_memscope -O1 %s %link_rt -o %t.exe
// RUN: rm -rf %t.out && env MEMSCOPE_OUT=%t.out MEMSCOPE_OPTIONS=exact=1 %t.exe | FileCheck %s --check-prefix=STATUS
// RUN: %python %S/Inputs/logcheck.py check %t.out | FileCheck %s --check-prefix=OK
// RUN: %merge %t.out -o %t.report > /dev/null
// RUN: %python %S/Inputs/logcheck.py site-count %t.report/analysis.json process-events.c:39 | FileCheck %s --check-prefix=PARENT
// RUN: %python %S/Inputs/logcheck.py site-count %t.report/analysis.json process-events.c:34 | FileCheck %s --check-prefix=CHILDREN
// RUN: %python %S/Inputs/logcheck.py process %t.report/analysis.json | sort | uniq -c | FileCheck %s --check-prefix=STATES
// RUN: ls %t.out | wc -l | FileCheck %s --check-prefix=FOLDERS
// FOLDERS: {{^}}5{{$}}
// OK: logs ok
// STATUS: all children exited 0
// PARENT: {{^}}20{{$}}
// 3 (fork+exec) + 4 (vfork) + 5 (posix_spawn) + 6 (system)
// CHILDREN: {{^}}18{{$}}
// The five programs that ran; the forked child that only lived until its
// exec recorded nothing and left no folder.
// STATES: {{^ *}}5 process state=exited exit_kind=0
// STATES-NOT: process
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
void *volatile sink;

static void child_work(int count) {
  for (int i = 0; i < count; ++i)
    sink = malloc(64); // line 34
}

static void parent_work(void) {
  for (int i = 0; i < 10; ++i)
    sink = malloc(32); // line 39
}

static int wait_ok(pid_t pid) {
  int status = 0;
  return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
         WEXITSTATUS(status) == 0;
}

int main(int argc, char **argv) {
  if (argc > 1) {
    child_work(atoi(argv[1]));
    return 0;
  }
  parent_work();
  int ok = 1;
  pid_t pid = fork();
  if (pid == 0) {
    execl(argv[0], argv[0], "3", (char *)0);
    _exit(127);
  }
  ok &= wait_ok(pid);
  pid = vfork();
  if (pid == 0) {
    execl(argv[0], argv[0], "4", (char *)0);
    _exit(127);
  }
  ok &= wait_ok(pid);
  char *spawn_argv[] = {argv[0], "5", 0};
  pid_t spawned;
  ok &= posix_spawn(&spawned, argv[0], 0, 0, spawn_argv, environ) == 0;
  ok &= wait_ok(spawned);
  char command[4096];
  snprintf(command, sizeof(command), "'%s' 6", argv[0]);
  ok &= system(command) == 0;
  parent_work();
  printf("%s\n", ok ? "all children exited 0" : "a child failed");
  return 0;
}
