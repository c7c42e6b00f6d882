// Four pthreads, each strdup'ing and freeing 100 strings (kept visible to
// the optimiser through a volatile sink), and one block kept to exit.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *volatile sink;

static void *work(void *arg) {
  const char *text = arg;
  for (int i = 0; i < 100; ++i) {
    sink = strdup(text); // line 13
    free(sink);
  }
  return NULL;
}

int main(int argc, char **argv) {
  pthread_t threads[4];
  for (int i = 0; i < 4; ++i)
    pthread_create(&threads[i], NULL, work, argv[0]);
  for (int i = 0; i < 4; ++i)
    pthread_join(threads[i], NULL);
  sink = malloc(100); // line 25: live at exit
  puts("done");
  return 0;
}
