// Runs a command and prints its peak resident set in KiB on stderr's last
// line as "peak-rss-kib <N>", exiting with the command's status.
//
//   peak-rss <program> [args...]
//
// run_bench.py cannot take the peak from its own wait4: a child forked or
// vforked from the Python process starts with Python's resident set as its
// high-water mark, and exec keeps it. This launcher is small, so the floor it
// leaves is far below any measured program.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "peak-rss: usage: peak-rss <program> [args...]\n");
    return 2;
  }
  pid_t child = fork();
  if (child < 0) {
    std::fprintf(stderr, "peak-rss: fork: %s\n", std::strerror(errno));
    return 2;
  }
  if (child == 0) {
    execvp(argv[1], argv + 1);
    std::fprintf(stderr, "peak-rss: cannot run %s: %s\n", argv[1],
                 std::strerror(errno));
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  while (wait4(child, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      std::fprintf(stderr, "peak-rss: wait4: %s\n", std::strerror(errno));
      return 2;
    }
  }
  std::fprintf(stderr, "peak-rss-kib %ld\n", usage.ru_maxrss);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
