/* tally: per-thread counters in a static library (C). */
#ifndef TALLY_H
#define TALLY_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif
struct tally;
struct tally *tally_new(size_t buckets);
void tally_add(struct tally *t, size_t bucket, long amount);
long tally_total(const struct tally *t);
void tally_free(struct tally *t);
#ifdef __cplusplus
}
#endif
#endif
