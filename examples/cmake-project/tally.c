#include "tally.h"

#include <stdlib.h>

struct tally {
  size_t buckets;
  long *counts;
};

struct tally *tally_new(size_t buckets) {
  struct tally *t = malloc(sizeof *t);         /* line 11: one per thread */
  t->buckets = buckets;
  t->counts = calloc(buckets, sizeof(long));   /* line 13: one per thread */
  return t;
}

void tally_add(struct tally *t, size_t bucket, long amount) {
  t->counts[bucket % t->buckets] += amount;
}

long tally_total(const struct tally *t) {
  long total = 0;
  for (size_t i = 0; i < t->buckets; ++i)
    total += t->counts[i];
  return total;
}

void tally_free(struct tally *t) {
  free(t->counts);
  free(t);
}
