/* Unit test of child/pump-held.c: upload messages filled by the data callback,
 * and the turns a partly filled one is held back while the client's socket
 * already has more bytes. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "child/pump-held.h"

static void
test_fill_and_pop(void **state)
{
	struct pump_held h = { 0 };
	struct grpcc_dbuf *b;
	uint8_t data[150];

	(void)state;
	memset(data, 'x', sizeof(data));
	assert_false(pump_held_busy(&h));
	assert_null(pump_held_pop(&h));
	/* At most chunk bytes in all; the rest stays with the caller (libssh). */
	assert_int_equal(pump_held_fill(&h, data, 60, 100), 60);
	assert_int_equal(pump_held_fill(&h, data, 90, 100), 40);
	assert_int_equal(pump_held_fill(&h, data, 10, 100), 0);
	assert_true(pump_held_busy(&h));
	assert_non_null(b = pump_held_pop(&h));
	assert_int_equal(grpcc_dbuf_len(b), 100);
	assert_memory_equal(grpcc_dbuf_ptr(b), data, 100);
	grpcc_dbuf_free(b);
	assert_false(pump_held_busy(&h));
	assert_null(pump_held_pop(&h));
	pump_held_clear(&h);
}

/* sv[0] plays the client's socket; bytes written to sv[1] are "already there". */
static void
test_wait_bounded(void **state)
{
	struct pump_held h = { 0 };
	struct grpcc_dbuf *b;
	uint8_t data[100] = { 0 };
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* Nothing held: nothing to wait for, whatever the socket holds. */
	assert_int_equal(write(sv[1], "more", 4), 4);
	assert_false(pump_held_wait(&h, sv[0]));

	/* A partly filled message and bytes waiting: held back, but only for
	 * PUMP_HELD_WAIT_TURNS turns in a row. */
	assert_int_equal(pump_held_fill(&h, data, 10, 100), 10);
	for (int i = 0; i < PUMP_HELD_WAIT_TURNS; i++)
		assert_true(pump_held_wait(&h, sv[0]));
	assert_false(pump_held_wait(&h, sv[0]));
	assert_non_null(b = pump_held_pop(&h));
	grpcc_dbuf_free(b);

	/* The count starts again with the next message. */
	assert_int_equal(pump_held_fill(&h, data, 10, 100), 10);
	assert_true(pump_held_wait(&h, sv[0]));

	/* Full: sent at once. */
	assert_int_equal(pump_held_fill(&h, data, 100, 100), 90);
	assert_false(pump_held_wait(&h, sv[0]));
	assert_non_null(b = pump_held_pop(&h));
	grpcc_dbuf_free(b);

	/* The socket empty: sent at once (a keystroke is not delayed). */
	assert_int_equal(read(sv[0], data, sizeof(data)), 4);
	assert_int_equal(pump_held_fill(&h, data, 1, 100), 1);
	assert_false(pump_held_wait(&h, sv[0]));

	/* Not a socket we can ask: sent at once. */
	assert_false(pump_held_wait(&h, -1));
	pump_held_clear(&h);
	assert_false(pump_held_busy(&h));
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill_and_pop),
		cmocka_unit_test(test_wait_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
