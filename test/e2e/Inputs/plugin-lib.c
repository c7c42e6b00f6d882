#include <stdlib.h>
void *volatile plugin_sink;
void plugin_work(int count) {
  for (int i = 0; i < count; ++i)
    plugin_sink = malloc(48);                              // plugin-lib.c:5
}
