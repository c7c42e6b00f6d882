#include <stdlib.h>
void *volatile linked_sink;
void linked_work(int count) {
  for (int i = 0; i < count; ++i) {
    linked_sink = calloc(1, 24);                           // linked-lib.c:5
    free(linked_sink);
  }
}
