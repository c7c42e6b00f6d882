// Compiled as src/app.cpp by test/e2e/source-paths.test: one instrumented
// site, one allocation inside libstdc++ attributed through its stack, one
// thread spawn.
#include <string>
#include <thread>

std::string *volatile keep;
int *volatile sink;

void work() {
  sink = new int[16]; // line 11: an instrumented site
  delete[] sink;
  for (int i = 0; i < 10; ++i) {
    std::string text(8, 'x');
    keep = &text;
    text.append(300, 'y'); // line 16: growth inside libstdc++
  }
}

int main() {
  std::thread worker(work); // line 21
  worker.join();
  std::thread second(work);
  second.join();
}
