// Built without the plugin: these calls reach the runtime's interposers.
// The sizes are volatile so that the compiler cannot fold the failures away.
#include <stdint.h>
#include <stdlib.h>

volatile size_t huge_request = SIZE_MAX / 2;

int fail_uninstrumented(void) {
  void *block = malloc(16);
  void *volatile result;
  int failures = 0;
  failures += (result = malloc(huge_request)) == NULL;
  failures += (result = calloc(huge_request / 2, 2)) == NULL;
  failures += (result = realloc(block, huge_request)) == NULL;
  free(block);
  return failures;
}
