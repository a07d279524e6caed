/* MaxStartups decisions for the listener: refuse new connections early and
 * with growing probability as unauthenticated ones pile up (OpenSSH's formula). */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>

#include "daemon/srclimit.h"

struct srclimit {
	int begin, rate, full;
	srclimit_random_fn rnd;
	void *arg;
};

static uint32_t
default_random(uint32_t upper, void *arg)
{
	(void)arg;
	return arc4random_uniform(upper);
}

int
srclimit_new(struct srclimit **out, int begin, int rate, int full,
    srclimit_random_fn rnd, void *arg)
{
	struct srclimit *sl;

	*out = NULL;
	if (begin < 0 || full < 1 || full < begin || rate < 0 || rate > 100)
		return SRCLIMIT_E_RANGE;
	if ((sl = calloc(1, sizeof(*sl))) == NULL)
		return SRCLIMIT_E_NOMEM;
	sl->begin = begin;
	sl->rate = rate;
	sl->full = full;
	sl->rnd = rnd != NULL ? rnd : default_random;
	sl->arg = arg;
	*out = sl;
	return 0;
}

void
srclimit_free(struct srclimit *sl)
{
	free(sl);
}

int
srclimit_percent(const struct srclimit *sl, int n)
{
	if (n < sl->begin)
		return 0;
	if (n >= sl->full)
		return 100;
	/* n < full here, so full > begin: no division by zero. Integer
	 * arithmetic in OpenSSH's order so the same inputs give the same p. */
	return sl->rate + (100 - sl->rate) * (n - sl->begin) / (sl->full - sl->begin);
}

int
srclimit_drop(const struct srclimit *sl, int n)
{
	int p = srclimit_percent(sl, n);

	if (p <= 0)
		return 0;
	if (p >= 100)
		return 1;
	return sl->rnd(100, sl->arg) < (uint32_t)p;
}

const char *
srclimit_strerror(int err)
{
	switch (err) {
	case 0: return "success";
	case SRCLIMIT_E_RANGE: return "MaxStartups values out of range (start:rate:full: 0 <= start <= full, full >= 1, rate 0..100)";
	case SRCLIMIT_E_NOMEM: return "out of memory";
	default: return "unknown srclimit error";
	}
}
