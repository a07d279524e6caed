/* Unit tests for child/connid: the proxy id rules of spec/flows.md §1, the
 * base32 encoding of the random part, and the shape of a whole connection id. */
#include "autoconf.h"

#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "child/connid.h"

static const char *
proxy_id(const char *host)
{
	static char out[CONNID_PROXYID_MAX];

	memset(out, 'z', sizeof(out));
	connid_proxy_id(host, out);
	return out;
}

static void
test_proxy_id_pod(void **state)
{
	(void)state;
	/* Deployment pods: <deployment>-<replicaset hash>-<pod hash>. */
	assert_string_equal(proxy_id("ssh-proxy-7d9f8b6c5d-x2k9p"), "x2k9p");
	assert_string_equal(proxy_id("a-b-12345"), "12345");
	/* Parts are split on every "-", empty ones included. */
	assert_string_equal(proxy_id("a--abcde"), "abcde");
	assert_string_equal(proxy_id("--abcde"), "abcde");
}

static void
test_proxy_id_local(void **state)
{
	(void)state;
	assert_string_equal(proxy_id(NULL), "local");
	assert_string_equal(proxy_id(""), "local");
	assert_string_equal(proxy_id("laptop"), "local");
	/* Only two parts. */
	assert_string_equal(proxy_id("ssh-x2k9p"), "local");
	/* Last part not exactly 5 chars. */
	assert_string_equal(proxy_id("ssh-proxy-x2k9"), "local");
	assert_string_equal(proxy_id("ssh-proxy-x2k9pq"), "local");
	assert_string_equal(proxy_id("ssh-proxy-"), "local");
	/* Last part outside [a-z0-9]. */
	assert_string_equal(proxy_id("ssh-proxy-X2K9P"), "local");
	assert_string_equal(proxy_id("ssh-proxy-x2_9p"), "local");
	assert_string_equal(proxy_id("ssh-proxy-x2k9p.example"), "local");
}

static void
test_encode(void **state)
{
	uint8_t rnd[CONNID_RAND_BYTES];
	char out[CONNID_RAND_CHARS + 1];

	(void)state;
	memset(rnd, 0, sizeof(rnd));
	connid_encode(rnd, out);
	assert_string_equal(out, "aaaaaaaaaaaaaaaaaaaaaaaaaa");
	memset(rnd, 0xff, sizeof(rnd));
	connid_encode(rnd, out);
	assert_string_equal(out, "77777777777777777777777777");
	/* RFC 4648 test vector "foobar" -> MZXW6YTBOI (lower case), then zero bits. */
	memset(rnd, 0, sizeof(rnd));
	memcpy(rnd, "foobar", 6);
	connid_encode(rnd, out);
	assert_string_equal(out, "mzxw6ytboiaaaaaaaaaaaaaaaa");
}

static void
test_make_shape(void **state)
{
	char id[CONNID_MAX], pattern[128];
	regex_t re;

	(void)state;
	assert_int_equal(connid_make("x2k9p", 4242, id, sizeof(id)), 0);
	assert_int_equal(strlen(id), strlen("x2k9p-4242-") + CONNID_RAND_CHARS);
	assert_int_equal(regcomp(&re, "^x2k9p-4242-[a-z2-7]{26}$", REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regexec(&re, id, 0, NULL, 0), 0);
	regfree(&re);

	assert_int_equal(connid_new(id, sizeof(id)), 0);
	snprintf(pattern, sizeof(pattern), "^([a-z0-9]{5}|local)-%ld-[a-z2-7]{26}$", (long)getpid());
	assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regexec(&re, id, 0, NULL, 0), 0);
	regfree(&re);
}

static void
test_make_random(void **state)
{
	char a[CONNID_MAX], b[CONNID_MAX];

	(void)state;
	assert_int_equal(connid_make("local", 1, a, sizeof(a)), 0);
	assert_int_equal(connid_make("local", 1, b, sizeof(b)), 0);
	assert_string_not_equal(a, b);
}

static void
test_make_too_small(void **state)
{
	char id[20];

	(void)state;
	assert_int_equal(connid_make("local", 1, id, sizeof(id)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proxy_id_pod),
		cmocka_unit_test(test_proxy_id_local),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_make_shape),
		cmocka_unit_test(test_make_random),
		cmocka_unit_test(test_make_too_small),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
