/* Unit tests for daemon/srclimit: MaxStartups accept/refuse decisions at the
 * boundaries, with a fixed random source so every decision is exact. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/srclimit.h"

struct fixed_rnd {
	uint32_t value;		/* what the source returns */
	uint32_t last_upper;	/* bound it was asked for */
	int calls;
};

static uint32_t
fixed_random(uint32_t upper, void *arg)
{
	struct fixed_rnd *f = arg;

	f->last_upper = upper;
	f->calls++;
	return f->value;
}

static struct srclimit *
make(int begin, int rate, int full, struct fixed_rnd *f)
{
	struct srclimit *sl = NULL;

	assert_int_equal(srclimit_new(&sl, begin, rate, full, fixed_random, f), 0);
	assert_non_null(sl);
	return sl;
}

/* Below start every connection is accepted and no random number is drawn. */
static void
test_below_start(void **state)
{
	struct fixed_rnd f = { .value = 0 };
	struct srclimit *sl = make(10, 30, 100, &f);

	(void)state;
	assert_int_equal(srclimit_percent(sl, 0), 0);
	assert_int_equal(srclimit_percent(sl, 9), 0);
	assert_int_equal(srclimit_drop(sl, 0), 0);
	assert_int_equal(srclimit_drop(sl, 9), 0);
	assert_int_equal(f.calls, 0);
	srclimit_free(sl);
}

/* At start the refusal probability is exactly rate: r < rate refuses. */
static void
test_at_start(void **state)
{
	struct fixed_rnd f = { .value = 29 };
	struct srclimit *sl = make(10, 30, 100, &f);

	(void)state;
	assert_int_equal(srclimit_percent(sl, 10), 30);
	assert_int_equal(srclimit_drop(sl, 10), 1);
	assert_int_equal(f.calls, 1);
	assert_int_equal(f.last_upper, 100);
	f.value = 30;
	assert_int_equal(srclimit_drop(sl, 10), 0);
	assert_int_equal(f.calls, 2);
	srclimit_free(sl);
}

/* Between start and full: p = rate + (100-rate)*(n-start)/(full-start), integer. */
static void
test_linear(void **state)
{
	struct fixed_rnd f = { .value = 64 };
	struct srclimit *sl = make(10, 30, 100, &f);

	(void)state;
	assert_int_equal(srclimit_percent(sl, 11), 30);	/* 30 + 70*1/90 = 30.7 */
	assert_int_equal(srclimit_percent(sl, 23), 40);	/* 30 + 70*13/90 = 40.1 */
	assert_int_equal(srclimit_percent(sl, 55), 65);	/* 30 + 70*45/90 */
	assert_int_equal(srclimit_percent(sl, 99), 99);	/* 30 + 70*89/90 = 99.2 */
	assert_int_equal(srclimit_drop(sl, 55), 1);
	f.value = 65;
	assert_int_equal(srclimit_drop(sl, 55), 0);
	f.value = 98;
	assert_int_equal(srclimit_drop(sl, 99), 1);
	f.value = 99;
	assert_int_equal(srclimit_drop(sl, 99), 0);
	srclimit_free(sl);
}

/* At and above full every connection is refused without drawing a number. */
static void
test_full(void **state)
{
	struct fixed_rnd f = { .value = 99 };
	struct srclimit *sl = make(10, 30, 100, &f);

	(void)state;
	assert_int_equal(srclimit_percent(sl, 100), 100);
	assert_int_equal(srclimit_drop(sl, 100), 1);
	assert_int_equal(srclimit_drop(sl, 1000), 1);
	assert_int_equal(f.calls, 0);
	srclimit_free(sl);
}

/* start == full ("MaxStartups 2:30:2"): a hard cap, never random. */
static void
test_start_equals_full(void **state)
{
	struct fixed_rnd f = { .value = 0 };
	struct srclimit *sl = make(2, 30, 2, &f);

	(void)state;
	assert_int_equal(srclimit_drop(sl, 0), 0);
	assert_int_equal(srclimit_drop(sl, 1), 0);
	assert_int_equal(srclimit_percent(sl, 2), 100);
	assert_int_equal(srclimit_drop(sl, 2), 1);
	assert_int_equal(srclimit_drop(sl, 3), 1);
	assert_int_equal(f.calls, 0);
	srclimit_free(sl);
}

/* rate 100 refuses everything from start on; rate 0 accepts at start. */
static void
test_rate_extremes(void **state)
{
	struct fixed_rnd f = { .value = 99 };
	struct srclimit *sl = make(5, 100, 10, &f);

	(void)state;
	assert_int_equal(srclimit_drop(sl, 4), 0);
	assert_int_equal(srclimit_drop(sl, 5), 1);
	assert_int_equal(srclimit_drop(sl, 7), 1);
	assert_int_equal(f.calls, 0);
	srclimit_free(sl);

	f.value = 0;
	sl = make(5, 0, 10, &f);
	assert_int_equal(srclimit_percent(sl, 5), 0);
	assert_int_equal(srclimit_drop(sl, 5), 0);
	assert_int_equal(srclimit_percent(sl, 6), 20);	/* 0 + 100*1/5 */
	assert_int_equal(srclimit_drop(sl, 6), 1);
	f.value = 20;
	assert_int_equal(srclimit_drop(sl, 6), 0);
	assert_int_equal(srclimit_percent(sl, 9), 80);
	srclimit_free(sl);
}

static void
test_bad_params(void **state)
{
	struct srclimit *sl = (struct srclimit *)&sl;

	(void)state;
	assert_int_equal(srclimit_new(&sl, 10, 101, 100, NULL, NULL), SRCLIMIT_E_RANGE);
	assert_null(sl);
	assert_int_equal(srclimit_new(&sl, 10, -1, 100, NULL, NULL), SRCLIMIT_E_RANGE);
	assert_int_equal(srclimit_new(&sl, 10, 30, 9, NULL, NULL), SRCLIMIT_E_RANGE);
	assert_int_equal(srclimit_new(&sl, -1, 30, 9, NULL, NULL), SRCLIMIT_E_RANGE);
	assert_int_equal(srclimit_new(&sl, 0, 30, 0, NULL, NULL), SRCLIMIT_E_RANGE);
	assert_null(sl);
	assert_string_equal(srclimit_strerror(SRCLIMIT_E_RANGE),
	    "MaxStartups values out of range (start:rate:full: 0 <= start <= full, full >= 1, rate 0..100)");
}

/* The default source (arc4random_uniform) is only consulted strictly between start and full. */
static void
test_default_random(void **state)
{
	struct srclimit *sl = NULL;

	(void)state;
	assert_int_equal(srclimit_new(&sl, 1, 30, 3, NULL, NULL), 0);
	assert_int_equal(srclimit_drop(sl, 0), 0);
	assert_int_equal(srclimit_drop(sl, 3), 1);
	srclimit_free(sl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_below_start),
		cmocka_unit_test(test_at_start),
		cmocka_unit_test(test_linear),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_start_equals_full),
		cmocka_unit_test(test_rate_extremes),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_default_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
