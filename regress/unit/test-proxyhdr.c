/* Unit tests for child/proxyhdr: valid TCP4/TCP6/UNKNOWN headers, every
 * error class, partial input and input that is not a PROXY header at all. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "child/proxyhdr.h"

static int
parse(const char *s, struct proxyhdr *h)
{
	memset(h, 0xa5, sizeof(*h));
	return proxyhdr_parse(s, strlen(s), h);
}

static void
test_tcp4(void **state)
{
	const char *s = "PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\nSSH-2.0-x\r\n";
	struct proxyhdr h;

	(void)state;
	/* Consumes the header only: the SSH banner behind it stays for libssh. */
	assert_int_equal(parse(s, &h), 46);
	assert_int_equal(h.family, AF_INET);
	assert_string_equal(h.src, "192.0.2.10");
	assert_string_equal(h.dst, "198.51.100.1");
	assert_int_equal(h.src_port, 56324);
	assert_int_equal(h.dst_port, 443);
}

static void
test_tcp6(void **state)
{
	const char *s = "PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::1 0 65535\r\n";
	struct proxyhdr h;

	(void)state;
	assert_int_equal(parse(s, &h), (int)strlen(s));
	assert_int_equal(h.family, AF_INET6);
	/* Normalised by inet_ntop. */
	assert_string_equal(h.src, "2001:db8::1");
	assert_string_equal(h.dst, "::1");
	assert_int_equal(h.src_port, 0);
	assert_int_equal(h.dst_port, 65535);
}

static void
test_unknown(void **state)
{
	struct proxyhdr h;

	(void)state;
	assert_int_equal(parse("PROXY UNKNOWN\r\n", &h), 15);
	assert_int_equal(h.family, AF_UNSPEC);
	assert_string_equal(h.src, "");
	/* Anything after UNKNOWN is ignored, as the specification requires. */
	assert_int_equal(parse("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\nrest", &h), 35);
	assert_int_equal(h.family, AF_UNSPEC);
	assert_int_equal(parse("PROXY UNKNOWNX\r\n", &h), PROXYHDR_E_PROTO);
}

static void
test_longest_line(void **state)
{
	/* 107 bytes exactly: the longest line the specification allows. */
	char s[PROXYHDR_MAX_LEN + 1];
	struct proxyhdr h;

	(void)state;
	memset(s, 'x', sizeof(s));
	memcpy(s, "PROXY UNKNOWN ", 14);
	memcpy(s + PROXYHDR_MAX_LEN - 2, "\r\n", 3);
	assert_int_equal(strlen(s), PROXYHDR_MAX_LEN);
	assert_int_equal(parse(s, &h), PROXYHDR_MAX_LEN);
}

static void
test_too_long(void **state)
{
	char s[PROXYHDR_MAX_LEN + 3];
	struct proxyhdr h;

	(void)state;
	memset(s, 'x', sizeof(s));
	memcpy(s, "PROXY UNKNOWN ", 14);
	memcpy(s + PROXYHDR_MAX_LEN - 1, "\r\n", 3);	/* CRLF at bytes 107-108 */
	assert_int_equal(parse(s, &h), PROXYHDR_E_TOOLONG);
	/* 107 bytes without a line end is already too long. */
	s[PROXYHDR_MAX_LEN] = '\0';
	assert_int_equal(parse(s, &h), PROXYHDR_E_TOOLONG);
	/* One byte less may still end: more input is needed. */
	s[PROXYHDR_MAX_LEN - 1] = '\0';
	assert_int_equal(parse(s, &h), 0);
}

static void
test_bad_address(void **state)
{
	static const char nul[] = "PROXY TCP4 1.2.3.4\0 1.2.3.5 1 2\r\n";
	struct proxyhdr h;

	(void)state;
	assert_int_equal(parse("PROXY TCP4 192.0.2.256 198.51.100.1 1 2\r\n", &h), PROXYHDR_E_ADDR);
	assert_int_equal(parse("PROXY TCP4 192.0.2.1 2001:db8::1 1 2\r\n", &h), PROXYHDR_E_ADDR);
	assert_int_equal(parse("PROXY TCP6 192.0.2.1 ::1 1 2\r\n", &h), PROXYHDR_E_ADDR);
	assert_int_equal(parse("PROXY TCP4 localhost 192.0.2.1 1 2\r\n", &h), PROXYHDR_E_ADDR);
	assert_int_equal(parse("PROXY TCP4 01.2.3.4 192.0.2.1 1 2\r\n", &h), PROXYHDR_E_ADDR);
	/* An embedded NUL must not cut the address short. */
	assert_int_equal(proxyhdr_parse(nul, sizeof(nul) - 1, &h), PROXYHDR_E_ADDR);
}

static void
test_bad_port(void **state)
{
	struct proxyhdr h;

	(void)state;
	assert_int_equal(parse("PROXY TCP4 1.2.3.4 5.6.7.8 65536 22\r\n", &h), PROXYHDR_E_PORT);
	assert_int_equal(parse("PROXY TCP4 1.2.3.4 5.6.7.8 -1 22\r\n", &h), PROXYHDR_E_PORT);
	assert_int_equal(parse("PROXY TCP4 1.2.3.4 5.6.7.8 022 22\r\n", &h), PROXYHDR_E_PORT);
	assert_int_equal(parse("PROXY TCP4 1.2.3.4 5.6.7.8 1 2x\r\n", &h), PROXYHDR_E_PORT);
	assert_int_equal(parse("PROXY TCP4 1.2.3.4 5.6.7.8 100000 22\r\n", &h), PROXYHDR_E_PORT);
}

static void
test_bad_fields(void **state)
{
	struct proxyhdr h;

	(void)state;
	assert_int_equal(parse("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", &h), PROXYHDR_E_FIELDS);
	assert_int_equal(parse("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", &h), PROXYHDR_E_FIELDS);
	assert_int_equal(parse("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", &h), PROXYHDR_E_FIELDS);
	assert_int_equal(parse("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", &h), PROXYHDR_E_FIELDS);
	assert_int_equal(parse("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", &h), PROXYHDR_E_PROTO);
	assert_int_equal(parse("PROXY \r\n", &h), PROXYHDR_E_PROTO);
	assert_int_equal(parse("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", &h), PROXYHDR_E_PROTO);
}

static void
test_missing_crlf(void **state)
{
	struct proxyhdr h;

	(void)state;
	assert_int_equal(parse("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", &h), PROXYHDR_E_CRLF);
	/* A CR that is not followed by LF fails at once, before the line ends. */
	assert_int_equal(parse("PROXY TCP4 1.2.3.4\r5.6.7.8 1 2", &h), PROXYHDR_E_CRLF);
	assert_int_equal(parse("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n", &h), PROXYHDR_E_CRLF);
	/* A trailing CR may still be followed by LF. */
	assert_int_equal(parse("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r", &h), 0);
}

static void
test_partial(void **state)
{
	const char *s = "PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n";
	struct proxyhdr h;

	(void)state;
	/* Every strict prefix asks for more; the whole line parses. */
	for (size_t n = 0; n < strlen(s); n++)
		assert_int_equal(proxyhdr_parse(s, n, &h), 0);
	assert_int_equal(proxyhdr_parse(s, strlen(s), &h), (int)strlen(s));
}

static void
test_no_header(void **state)
{
	struct proxyhdr h;

	(void)state;
	assert_int_equal(parse("SSH-2.0-OpenSSH_9.2p1\r\n", &h), PROXYHDR_E_NOTPROXY);
	/* Decided on the first differing byte, without waiting for six. */
	assert_int_equal(parse("S", &h), PROXYHDR_E_NOTPROXY);
	assert_int_equal(parse("PROXz", &h), PROXYHDR_E_NOTPROXY);
	/* "PROXY" needs its space: "PROXYTCP4" is not a header. */
	assert_int_equal(parse("PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n", &h), PROXYHDR_E_NOTPROXY);
	/* The v2 binary signature is not a v1 header. */
	assert_int_equal(proxyhdr_parse("\r\n\r\n\0\r\nQUIT\n", 12, &h), PROXYHDR_E_NOTPROXY);
	assert_int_equal(parse("PROX", &h), 0);
}

static void
test_strerror(void **state)
{
	(void)state;
	assert_string_equal(proxyhdr_strerror(PROXYHDR_E_TOOLONG), "PROXY header longer than 107 bytes");
	assert_string_equal(proxyhdr_strerror(PROXYHDR_E_PORT), "PROXY header has an invalid port");
	assert_string_equal(proxyhdr_strerror(-99), "unknown PROXY header error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp4),
		cmocka_unit_test(test_tcp6),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_longest_line),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_bad_address),
		cmocka_unit_test(test_bad_port),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_missing_crlf),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_no_header),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
