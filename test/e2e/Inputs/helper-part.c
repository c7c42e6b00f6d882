#include <stdlib.h>
int helper(int n) {
  char *volatile p = malloc(n);
  free(p);
  return n + 1;
}
