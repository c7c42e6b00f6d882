// An uninstrumented plugin (built without the pass): its mallocs are caught
// by the runtime's interposer, with a stack through raw_allocate.
#include <stdlib.h>

void *volatile raw_sink;

__attribute__((noinline)) void raw_allocate(int count) {
  for (int i = 0; i < count; ++i)
    raw_sink = malloc(300);
}
