/* Unit test of child/rcvlowat.c: when the client's socket gets SO_RCVLOWAT and
 * when it goes back to 1, and the Linux behaviour the module relies on. */
#include "autoconf.h"

#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "child/rcvlowat.h"

/* Keystrokes, packets and reads shorter than libssh's whole read: never on. */
static void
test_interactive_never_on(void **state)
{
	struct rcvlowat_policy p = { 0 };
	uint64_t in = 0, t = 1000;

	(void)state;
	for (int i = 0; i < 100; i++) {
		in += (i % 2) ? 36 : RCVLOWAT_BYTES - 1;
		assert_int_equal(rcvlowat_policy_step(&p, t++, in), RCVLOWAT_KEEP);
		assert_int_equal(p.state, RCVLOWAT_S_OFF);
		assert_int_equal(rcvlowat_policy_poll_ms(&p, -1), -1);
		assert_int_equal(rcvlowat_policy_poll_ms(&p, 250), 250);
	}
	/* Nothing read for a long time: nothing to undo, nothing to count. */
	assert_int_equal(rcvlowat_policy_step(&p, t + 60000, in), RCVLOWAT_KEEP);
}

/* A whole read sets the mark; the loop then sleeps at most the wait; reads of
 * any size keep it. */
static void
test_stream_sets_the_mark(void **state)
{
	struct rcvlowat_policy p = { 0 };
	uint64_t in = 5000, t = 1000;

	(void)state;
	assert_int_equal(rcvlowat_policy_step(&p, t, in), RCVLOWAT_KEEP);
	in += RCVLOWAT_BYTES;
	assert_int_equal(rcvlowat_policy_step(&p, t, in), RCVLOWAT_SET);
	assert_int_equal(p.state, RCVLOWAT_S_ON);
	assert_int_equal(rcvlowat_policy_poll_ms(&p, -1), RCVLOWAT_WAIT_MS);
	assert_int_equal(rcvlowat_policy_poll_ms(&p, 250), RCVLOWAT_WAIT_MS);
	assert_int_equal(rcvlowat_policy_poll_ms(&p, 0), 0);
	for (int i = 0; i < 50; i++) {
		in += (i % 3) ? RCVLOWAT_BYTES : 1200;
		assert_int_equal(rcvlowat_policy_step(&p, ++t, in), RCVLOWAT_KEEP);
		assert_int_equal(p.state, RCVLOWAT_S_ON);
	}
	/* Other events (gRPC) in the same millisecond: nothing to look at yet. */
	assert_int_equal(rcvlowat_policy_step(&p, t, in), RCVLOWAT_KEEP);
}

/* The wait passes without a byte: the queue is counted (once per wait);
 * empty, the mark stays; bytes below it (the stream's end) drop it to 1 for
 * one read, which sets it again. */
static void
test_pause_drains_below_the_mark(void **state)
{
	struct rcvlowat_policy p = { 0 };
	uint64_t in = RCVLOWAT_BYTES, t = 1000;

	(void)state;
	assert_int_equal(rcvlowat_policy_step(&p, t, in), RCVLOWAT_SET);
	t += RCVLOWAT_WAIT_MS;
	assert_int_equal(rcvlowat_policy_step(&p, t, in), RCVLOWAT_CHECK);
	assert_int_equal(rcvlowat_policy_queued(&p, t, 0), RCVLOWAT_KEEP);
	assert_int_equal(p.state, RCVLOWAT_S_ON);
	/* Counted this millisecond already. */
	assert_int_equal(rcvlowat_policy_step(&p, t, in), RCVLOWAT_KEEP);
	t += RCVLOWAT_WAIT_MS;
	assert_int_equal(rcvlowat_policy_step(&p, t, in), RCVLOWAT_CHECK);
	assert_int_equal(rcvlowat_policy_queued(&p, t, 700), RCVLOWAT_CLEAR);
	assert_int_equal(p.state, RCVLOWAT_S_DRAIN);
	/* Mark at 1: the loop sleeps as long as it likes, poll sees the bytes. */
	assert_int_equal(rcvlowat_policy_poll_ms(&p, -1), -1);
	in += 700;
	assert_int_equal(rcvlowat_policy_step(&p, t + 1, in), RCVLOWAT_SET);
	assert_int_equal(p.state, RCVLOWAT_S_ON);
}

/* RCVLOWAT_IDLE_MS without a byte end it: from set (mark to 1) or while
 * draining (1 already); the next stream sets it again. */
static void
test_idle_ends_it(void **state)
{
	struct rcvlowat_policy p = { 0 };
	uint64_t in = RCVLOWAT_BYTES, t = 1000;

	(void)state;
	assert_int_equal(rcvlowat_policy_step(&p, t, in), RCVLOWAT_SET);
	assert_int_equal(rcvlowat_policy_step(&p, t + RCVLOWAT_IDLE_MS, in), RCVLOWAT_CLEAR);
	assert_int_equal(p.state, RCVLOWAT_S_OFF);
	assert_int_equal(rcvlowat_policy_poll_ms(&p, -1), -1);
	assert_int_equal(rcvlowat_policy_step(&p, t + 10 * RCVLOWAT_IDLE_MS, in), RCVLOWAT_KEEP);

	t += 20 * RCVLOWAT_IDLE_MS;
	in += RCVLOWAT_BYTES;
	assert_int_equal(rcvlowat_policy_step(&p, t, in), RCVLOWAT_SET);
	t += RCVLOWAT_WAIT_MS;
	assert_int_equal(rcvlowat_policy_step(&p, t, in), RCVLOWAT_CHECK);
	assert_int_equal(rcvlowat_policy_queued(&p, t, 1), RCVLOWAT_CLEAR);
	/* The queued byte is never read (a loop busy elsewhere): idle ends it
	 * without another syscall. */
	assert_int_equal(rcvlowat_policy_step(&p, t + RCVLOWAT_IDLE_MS, in), RCVLOWAT_KEEP);
	assert_int_equal(p.state, RCVLOWAT_S_OFF);
}

/* What the module relies on, on a real TCP socket: below the mark poll says
 * nothing; back at 1 the same bytes are readable at once. */
static void
test_linux_mark_and_back(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	struct pollfd pfd;
	int l, a, b, v;
	char buf[100];

	(void)state;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((l = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &sl), 0);
	assert_true((a = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(connect(a, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_true((b = accept(l, NULL, NULL)) >= 0);

	v = RCVLOWAT_BYTES;
	assert_int_equal(setsockopt(b, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v)), 0);
	memset(buf, 'k', sizeof(buf));
	assert_int_equal(write(a, buf, sizeof(buf)), sizeof(buf));
	pfd.fd = b;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 50), 0);
	v = 1;
	assert_int_equal(setsockopt(b, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v)), 0);
	assert_int_equal(poll(&pfd, 1, 0), 1);
	assert_int_equal(read(b, buf, sizeof(buf)), sizeof(buf));
	close(a);
	close(b);
	close(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interactive_never_on),
		cmocka_unit_test(test_stream_sets_the_mark),
		cmocka_unit_test(test_pause_drains_below_the_mark),
		cmocka_unit_test(test_idle_ends_it),
		cmocka_unit_test(test_linux_mark_and_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
