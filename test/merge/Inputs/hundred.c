// One thread, 100 allocations of 50 bytes at one line, all live at exit.
// A rename after every ten ends the log's Events record, so the thread log
// holds ten Events records of ten allocations each.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
void *volatile sink[100];
int main(void) {
  for (int i = 0; i < 100; ++i) {
    sink[i] = malloc(50);
    if (i % 10 == 9) {
      char name[16];
      snprintf(name, sizeof(name), "main-%d", i / 10);
      pthread_setname_np(pthread_self(), name);
    }
  }
  return 0;
}
