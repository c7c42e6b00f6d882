#!/usr/bin/env python3
"""Writes a C program with SITES distinct malloc sites run by THREADS threads.

  gen_many_sites.py OUT.c THREADS SITES

Sites are spread over functions of 100 sites each (one per line); thread i
runs function i % functions, and the main thread runs every function once,
so every site allocates. Thread i keeps its last block of each site live at
exit when i % 10 == 0 (leaks), the rest are freed at once (temporaries).
"""
import sys


def main():
    out, threads, sites = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    per_function = 100
    functions = (sites + per_function - 1) // per_function
    lines = ["#include <pthread.h>", "#include <stdlib.h>", "",
             "static void *volatile sink;", ""]
    site = 0
    for f in range(functions):
        lines.append(f"static void f{f}(int keep) {{")
        for _ in range(min(per_function, sites - site)):
            lines.append(f"  {{ void *p = malloc({16 + site % 97}); if (keep) sink = p; else free(p); }}")
            site += 1
        lines.append("}")
    lines.append("typedef void (*fn)(int);")
    lines.append("static const fn table[] = {" + ", ".join(f"f{f}" for f in range(functions)) + "};")
    lines.append(f"static void *run(void *arg) {{ long i = (long)arg; table[i % {functions}](i % 10 == 0); return 0; }}")
    lines.append("int main(void) {")
    lines.append(f"  pthread_t t[{threads}];")
    lines.append(f"  for (long i = 0; i < {functions}; ++i) table[i](0);")
    # Batches of 50 running at once: 500 threads without exhausting memory.
    lines.append(f"  for (long b = 0; b < {threads}; b += 50) {{")
    lines.append(f"    long e = b + 50 < {threads} ? b + 50 : {threads};")
    lines.append("    for (long i = b; i < e; ++i) pthread_create(&t[i], 0, run, (void *)i);")
    lines.append("    for (long i = b; i < e; ++i) pthread_join(t[i], 0);")
    lines.append("  }")
    lines.append("  return 0;")
    lines.append("}")
    open(out, "w").write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
