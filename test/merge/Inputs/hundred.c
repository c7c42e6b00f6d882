// One thread, 100 allocations of 50 bytes at one line, all live at exit.
#include <stdlib.h>
void *volatile sink[100];
int main(void) {
  for (int i = 0; i < 100; ++i)
    sink[i] = malloc(50);
  return 0;
}
