/* Connection id generation: proxy id from the host name, pid, and 130 random
 * bits in base32, in the shape k8shelld and the session service expect. */
#include "autoconf.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "child/connid.h"

#define PODHASH_LEN	5

void
connid_proxy_id(const char *hostname, char out[CONNID_PROXYID_MAX])
{
	const char *last;
	int dashes = 0;

	snprintf(out, CONNID_PROXYID_MAX, "local");
	if (hostname == NULL)
		return;
	for (const char *p = hostname; *p != '\0'; p++)
		dashes += *p == '-';
	/* At least three parts, so at least two dashes. */
	if (dashes < 2)
		return;
	last = strrchr(hostname, '-') + 1;
	if (strlen(last) != PODHASH_LEN)
		return;
	for (const char *p = last; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			return;
	memcpy(out, last, PODHASH_LEN + 1);
}

void
connid_encode(const uint8_t rnd[CONNID_RAND_BYTES], char out[CONNID_RAND_CHARS + 1])
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

	for (int i = 0; i < CONNID_RAND_CHARS; i++) {
		int bit = i * 5, byte = bit / 8, shift = bit % 8;
		/* The 5-bit group may straddle two bytes; read 16 bits MSB first. */
		unsigned int w = (unsigned int)rnd[byte] << 8 |
		    (byte + 1 < CONNID_RAND_BYTES ? rnd[byte + 1] : 0);
		out[i] = alphabet[(w >> (11 - shift)) & 0x1f];
	}
	out[CONNID_RAND_CHARS] = '\0';
}

int
connid_make(const char *proxy_id, long pid, char *out, size_t outlen)
{
	uint8_t rnd[CONNID_RAND_BYTES];
	char enc[CONNID_RAND_CHARS + 1];
	int n;

	randombytes_buf(rnd, sizeof(rnd));
	connid_encode(rnd, enc);
	n = snprintf(out, outlen, "%s-%ld-%s", proxy_id, pid, enc);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int
connid_new(char *out, size_t outlen)
{
	char host[HOST_NAME_MAX + 1], proxy_id[CONNID_PROXYID_MAX];

	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		connid_proxy_id(host, proxy_id);
	} else {
		connid_proxy_id(NULL, proxy_id);
	}
	return connid_make(proxy_id, (long)getpid(), out, outlen);
}
