/* Unit tests of the monitor protocol codec: round trips of every message, exact
 * bytes on the wire, and every class of malformed packet rejected. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "privsep/monitor-msg.h"

static const uint8_t blob[] = "\0\0\0\x0bssh-ed25519\0\0\0\x20" "0123456789abcdef0123456789abcdef";
static const uint8_t hash[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
static const char yaml[] = "server:\n  port: 2222\n";

/* One valid example of every message type. */
static size_t
examples(struct monitor_msg *m)
{
	size_t n = 0;

	memset(m, 0, 13 * sizeof(*m));
	m[n++].type = MONITOR_REQ_CONFIG;
	m[n].type = MONITOR_ANS_CONFIG;
	m[n].data = (const uint8_t *)yaml;
	m[n++].dlen = strlen(yaml);
	m[n++].type = MONITOR_REQ_HOSTKEYS_COUNT;
	m[n].type = MONITOR_ANS_HOSTKEYS_COUNT;
	m[n++].count = 3;
	m[n].type = MONITOR_REQ_HOSTKEY_PUB;
	m[n++].idx = 2;
	m[n].type = MONITOR_ANS_HOSTKEY_PUB;
	m[n].data = blob;
	m[n++].dlen = sizeof(blob) - 1;
	m[n].type = MONITOR_REQ_SIGN;
	m[n].idx = 1;
	strcpy(m[n].alg, "rsa-sha2-512");
	m[n].data = hash;
	m[n++].dlen = sizeof(hash);
	m[n].type = MONITOR_ANS_SIGN;
	m[n].data = blob;
	m[n++].dlen = sizeof(blob) - 1;
	m[n].type = MONITOR_REQ_KEY_ALLOWED;
	strcpy(m[n].user, "alice");
	m[n].data = blob;
	m[n++].dlen = sizeof(blob) - 1;
	m[n].type = MONITOR_ANS_KEY_ALLOWED;
	m[n++].allowed = true;
	m[n].type = MONITOR_REQ_AUTHENTICATED;
	strcpy(m[n++].user, "alice");
	m[n++].type = MONITOR_ANS_AUTHENTICATED;
	m[n].type = MONITOR_ANS_ERROR;
	m[n].code = MONITOR_ERR_AUTHKEYS;
	strcpy(m[n++].errmsg, "authorized keys unavailable");
	return n;
}

static void
assert_msg_equal(const struct monitor_msg *a, const struct monitor_msg *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->idx, b->idx);
	assert_int_equal(a->count, b->count);
	assert_int_equal(a->code, b->code);
	assert_int_equal(a->allowed, b->allowed);
	assert_string_equal(a->alg, b->alg);
	assert_string_equal(a->user, b->user);
	assert_string_equal(a->errmsg, b->errmsg);
	assert_int_equal(a->dlen, b->dlen);
	if (a->dlen > 0)
		assert_memory_equal(a->data, b->data, a->dlen);
}

static void
test_round_trip(void **state)
{
	struct monitor_msg m[13], d;
	uint8_t buf[1024];
	size_t n = examples(m), len, size;

	(void)state;
	assert_int_equal(n, 13);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(monitor_msg_encode(&m[i], buf, sizeof(buf), &len), 0);
		assert_int_equal(monitor_msg_size(&m[i], &size), 0);
		assert_int_equal(size, len);
		assert_int_equal(monitor_msg_decode(buf, len, &d), 0);
		assert_msg_equal(&m[i], &d);
	}
}

static void
test_wire_bytes(void **state)
{
	struct monitor_msg m[13];
	uint8_t buf[1024];
	size_t len;
	static const uint8_t sign[] = {
		MONITOR_REQ_SIGN, 0, 0, 0, 1,
		0, 0, 0, 12, 'r', 's', 'a', '-', 's', 'h', 'a', '2', '-', '5', '1', '2',
		0, 0, 0, 32, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	};
	static const uint8_t allowed[] = { MONITOR_ANS_KEY_ALLOWED, 1 };
	static const uint8_t err[] = { MONITOR_ANS_ERROR, 0, 0, 0, 2, 0, 0, 0, 27 };

	(void)state;
	examples(m);
	assert_int_equal(monitor_msg_encode(&m[6], buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(sign));
	assert_memory_equal(buf, sign, sizeof(sign));
	assert_int_equal(monitor_msg_encode(&m[9], buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(buf, allowed, 2);
	assert_int_equal(monitor_msg_encode(&m[12], buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(err) + 27);
	assert_memory_equal(buf, err, sizeof(err));
	assert_memory_equal(buf + sizeof(err), "authorized keys unavailable", 27);
	assert_int_equal(monitor_msg_encode(&m[0], buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(buf[0], MONITOR_REQ_CONFIG);
}

/* Every proper prefix of every message is truncated; one more byte is trailing. */
static void
test_truncated_and_trailing(void **state)
{
	struct monitor_msg m[13], d;
	uint8_t buf[1024];
	size_t n = examples(m), len;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(monitor_msg_encode(&m[i], buf, sizeof(buf) - 1, &len), 0);
		for (size_t cut = 0; cut < len; cut++)
			assert_int_equal(monitor_msg_decode(buf, cut, &d), MONITOR_MSG_E_SHORT);
		buf[len] = 0;
		assert_int_equal(monitor_msg_decode(buf, len + 1, &d), MONITOR_MSG_E_TRAILING);
	}
}

static void
test_bad_type(void **state)
{
	struct monitor_msg d;
	uint8_t b[1];
	const uint8_t bad[] = { 0, 14, 15, 127, 128, 255 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad); i++) {
		b[0] = bad[i];
		assert_int_equal(monitor_msg_decode(b, 1, &d), MONITOR_MSG_E_TYPE);
	}
	memset(&d, 0, sizeof(d));
	d.type = (enum monitor_msg_type)14;
	assert_int_equal(monitor_msg_encode(&d, b, sizeof(b), &(size_t){ 0 }), MONITOR_MSG_E_TYPE);
	assert_string_equal(monitor_msg_type_name(14), "unknown");
	assert_string_equal(monitor_msg_type_name(MONITOR_REQ_SIGN), "REQ_SIGN");
}

/* A string field declared longer than its bound is refused before its bytes are read. */
static void
test_oversized(void **state)
{
	struct monitor_msg d;
	uint8_t *big;
	uint8_t alg65[5 + 4 + 65 + 4 + 32] = { MONITOR_REQ_SIGN, 0, 0, 0, 0, 0, 0, 0, 65 };
	uint8_t alg64[5 + 4 + 64 + 4 + 32] = { MONITOR_REQ_SIGN, 0, 0, 0, 0, 0, 0, 0, 64 };
	uint8_t user257[1 + 4 + 257] = { MONITOR_REQ_AUTHENTICATED, 0, 0, 1, 1 };
	uint8_t data4097[] = { MONITOR_REQ_SIGN, 0, 0, 0, 0, 0, 0, 0, 1, 'x', 0, 0, 0x10, 0x01 };
	uint8_t blob0[] = { MONITOR_ANS_HOSTKEY_PUB, 0, 0, 0, 0 };
	uint8_t huge[] = { MONITOR_ANS_SIGN, 0xff, 0xff, 0xff, 0xff, 1, 2, 3 };

	(void)state;
	memset(alg65 + 9, 'a', 65);
	alg65[9 + 65 + 3] = 32;
	assert_int_equal(monitor_msg_decode(alg65, sizeof(alg65), &d), MONITOR_MSG_E_LENGTH);
	/* The same packet with a 64-byte algorithm is fine. */
	memset(alg64 + 9, 'a', 64);
	alg64[9 + 64 + 3] = 32;
	assert_int_equal(monitor_msg_decode(alg64, sizeof(alg64), &d), 0);
	assert_int_equal(strlen(d.alg), 64);
	assert_int_equal(d.dlen, 32);
	memset(user257 + 5, 'u', 257);
	assert_int_equal(monitor_msg_decode(user257, sizeof(user257), &d), MONITOR_MSG_E_LENGTH);
	assert_int_equal(monitor_msg_decode(data4097, sizeof(data4097), &d), MONITOR_MSG_E_LENGTH);
	assert_int_equal(monitor_msg_decode(blob0, sizeof(blob0), &d), MONITOR_MSG_E_LENGTH);
	assert_int_equal(monitor_msg_decode(huge, sizeof(huge), &d), MONITOR_MSG_E_LENGTH);

	/* A packet above MONITOR_MSG_MAX, even a well-formed one. */
	assert_non_null(big = calloc(1, MONITOR_MSG_MAX + 1));
	big[0] = MONITOR_ANS_CONFIG;
	big[2] = 0x04;		/* declares 0x40000 - 4 bytes of text */
	big[3] = 0xff;
	big[4] = 0xfc;
	memset(big + 5, 'y', MONITOR_MSG_MAX - 4);
	assert_int_equal(monitor_msg_decode(big, MONITOR_MSG_MAX + 1, &d), MONITOR_MSG_E_LENGTH);
	free(big);
}

static void
test_nul(void **state)
{
	struct monitor_msg d;
	uint8_t alg[] = { MONITOR_REQ_SIGN, 0, 0, 0, 0, 0, 0, 0, 3, 's', 0, 'h', 0, 0, 0, 0 };
	uint8_t user[] = { MONITOR_REQ_KEY_ALLOWED, 0, 0, 0, 2, 'a', 0, 0, 0, 0, 1, 7 };
	uint8_t auth[] = { MONITOR_REQ_AUTHENTICATED, 0, 0, 0, 2, 0, 'a' };
	uint8_t err[] = { MONITOR_ANS_ERROR, 0, 0, 0, 1, 0, 0, 0, 2, 'x', 0 };
	uint8_t cfg[] = { MONITOR_ANS_CONFIG, 0, 0, 0, 3, 'a', 0, 'b' };
	/* Binary fields may hold NUL bytes. */
	uint8_t sig[] = { MONITOR_ANS_SIGN, 0, 0, 0, 2, 0, 0 };

	(void)state;
	assert_int_equal(monitor_msg_decode(alg, sizeof(alg), &d), MONITOR_MSG_E_NUL);
	assert_int_equal(monitor_msg_decode(user, sizeof(user), &d), MONITOR_MSG_E_NUL);
	assert_int_equal(monitor_msg_decode(auth, sizeof(auth), &d), MONITOR_MSG_E_NUL);
	assert_int_equal(monitor_msg_decode(err, sizeof(err), &d), MONITOR_MSG_E_NUL);
	assert_int_equal(monitor_msg_decode(cfg, sizeof(cfg), &d), MONITOR_MSG_E_NUL);
	assert_int_equal(monitor_msg_decode(sig, sizeof(sig), &d), 0);
	assert_int_equal(d.dlen, 2);
}

static void
test_range(void **state)
{
	struct monitor_msg d, m;
	uint8_t idx16[] = { MONITOR_REQ_HOSTKEY_PUB, 0, 0, 0, 16 };
	uint8_t idx15[] = { MONITOR_REQ_HOSTKEY_PUB, 0, 0, 0, 15 };
	uint8_t count17[] = { MONITOR_ANS_HOSTKEYS_COUNT, 0, 0, 0, 17 };
	uint8_t allowed2[] = { MONITOR_ANS_KEY_ALLOWED, 2 };
	uint8_t code0[] = { MONITOR_ANS_ERROR, 0, 0, 0, 0, 0, 0, 0, 0 };
	uint8_t code4[] = { MONITOR_ANS_ERROR, 0, 0, 0, 4, 0, 0, 0, 0 };
	uint8_t buf[64];
	size_t len;

	(void)state;
	assert_int_equal(monitor_msg_decode(idx16, sizeof(idx16), &d), MONITOR_MSG_E_RANGE);
	assert_int_equal(monitor_msg_decode(idx15, sizeof(idx15), &d), 0);
	assert_int_equal(d.idx, 15);
	assert_int_equal(monitor_msg_decode(count17, sizeof(count17), &d), MONITOR_MSG_E_RANGE);
	assert_int_equal(monitor_msg_decode(allowed2, sizeof(allowed2), &d), MONITOR_MSG_E_RANGE);
	assert_int_equal(monitor_msg_decode(code0, sizeof(code0), &d), MONITOR_MSG_E_RANGE);
	assert_int_equal(monitor_msg_decode(code4, sizeof(code4), &d), MONITOR_MSG_E_RANGE);

	/* The encoder refuses what the decoder would. */
	memset(&m, 0, sizeof(m));
	m.type = MONITOR_REQ_HOSTKEY_PUB;
	m.idx = 16;
	assert_int_equal(monitor_msg_encode(&m, buf, sizeof(buf), &len), MONITOR_MSG_E_RANGE);
	m.type = MONITOR_REQ_SIGN;
	m.idx = 0;
	assert_int_equal(monitor_msg_encode(&m, buf, sizeof(buf), &len), MONITOR_MSG_E_LENGTH);
	m.type = MONITOR_REQ_AUTHENTICATED;
	assert_int_equal(monitor_msg_encode(&m, buf, sizeof(buf), &len), MONITOR_MSG_E_LENGTH);
	strcpy(m.user, "alice");
	assert_int_equal(monitor_msg_encode(&m, buf, 9, &len), MONITOR_MSG_E_LENGTH);
	assert_int_equal(monitor_msg_encode(&m, buf, 10, &len), 0);
	assert_int_equal(len, 10);
	assert_string_equal(monitor_msg_strerror(MONITOR_MSG_E_NUL), "NUL byte in text field");
}

/* Over a real SOCK_SEQPACKET pair: a full-size packet, an oversized one, EOF. */
static void
test_socket(void **state)
{
	struct monitor_msg m, d;
	uint8_t *buf, *text, *big;
	int sv[2];

	(void)state;
	assert_int_equal(monitor_msg_socketpair(sv), 0);
	assert_non_null(buf = malloc(MONITOR_MSG_MAX));
	assert_non_null(text = malloc(MONITOR_MSG_MAX - 5));
	memset(text, 'z', MONITOR_MSG_MAX - 5);
	memset(&m, 0, sizeof(m));
	m.type = MONITOR_ANS_CONFIG;
	m.data = text;
	m.dlen = MONITOR_MSG_MAX - 5;
	assert_int_equal(monitor_msg_send(sv[0], &m), 0);
	assert_int_equal(monitor_msg_recv(sv[1], buf, &d), 0);
	assert_int_equal(d.type, MONITOR_ANS_CONFIG);
	assert_int_equal(d.dlen, MONITOR_MSG_MAX - 5);
	assert_memory_equal(d.data, text, d.dlen);
	m.dlen++;
	assert_int_equal(monitor_msg_send(sv[0], &m), MONITOR_MSG_E_LENGTH);

	assert_non_null(big = calloc(1, MONITOR_MSG_MAX + 1));
	big[0] = MONITOR_REQ_CONFIG;
	assert_int_equal(send(sv[0], big, MONITOR_MSG_MAX + 1, 0), MONITOR_MSG_MAX + 1);
	assert_int_equal(monitor_msg_recv(sv[1], buf, &d), MONITOR_MSG_E_LENGTH);

	close(sv[0]);
	assert_int_equal(monitor_msg_recv(sv[1], buf, &d), MONITOR_MSG_E_EOF);
	close(sv[1]);
	free(big);
	free(text);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_wire_bytes),
		cmocka_unit_test(test_truncated_and_trailing),
		cmocka_unit_test(test_bad_type),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
