/* MaxStartups: whether the listener refuses a new connection given how many
 * are still unauthenticated (OpenSSH semantics, start:rate:full). Pure logic. */
#ifndef DAEMON_SRCLIMIT_H
#define DAEMON_SRCLIMIT_H

#include <stdint.h>

struct srclimit;

/* Uniform random number in [0, upper); the default is arc4random_uniform. */
typedef uint32_t (*srclimit_random_fn)(uint32_t upper, void *arg);

#define SRCLIMIT_E_RANGE	-1	/* begin/rate/full out of range */
#define SRCLIMIT_E_NOMEM	-2

/* 0 <= begin <= full, full >= 1, 0 <= rate <= 100. rnd NULL: arc4random_uniform. */
int srclimit_new(struct srclimit **out, int begin, int rate, int full,
    srclimit_random_fn rnd, void *arg);
void srclimit_free(struct srclimit *sl);
/* Refusal probability in percent for a new connection while n are unauthenticated. */
int srclimit_percent(const struct srclimit *sl, int n);
/* 1: refuse the new connection, 0: accept it. */
int srclimit_drop(const struct srclimit *sl, int n);
const char *srclimit_strerror(int err);

#endif
