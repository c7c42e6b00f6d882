// shapes-app <threads> <iterations>: every thread builds shapes in the shared
// library, counts them in the static library, and keeps a buffer of its own.
#include "shapes.h"
#include "tally.h"

#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

// Keeps the compiler from eliding the scratch allocation (C++ allows removing
// a new/delete pair it can see through).
static int *volatile last_scratch;

static double work(int iterations, int seed) {
  tally *counts = tally_new(8);
  double area = 0;
  for (int i = 0; i < iterations; ++i) {
    int *scratch = new int[16];                  // line 19: one per iteration
    scratch[0] = seed + i;
    last_scratch = scratch;
    Shape *shape = make_shape(3 + (scratch[0] % 5), 1.5);
    area += shape_area(*shape);
    tally_add(counts, static_cast<size_t>(shape->sides), 1);
    destroy_shape(shape);
    delete[] scratch;
  }
  area += static_cast<double>(tally_total(counts));
  tally_free(counts);
  return area;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 4;
  int iterations = argc > 2 ? std::atoi(argv[2]) : 250;
  std::vector<double> results(static_cast<size_t>(threads));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&results, t, iterations] { results[t] = work(iterations, t); });
  for (std::thread &worker : workers)
    worker.join();
  double total = 0;
  for (double r : results)
    total += r;
  std::printf("%d threads x %d iterations: %.1f\n", threads, iterations, total);
  return 0;
}
