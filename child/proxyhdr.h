/* PROXY protocol v1 header parser: a pure function over bytes, no I/O, so the
 * fuzz target and the unit test see exactly what the child sees. */
#ifndef CHILD_PROXYHDR_H
#define CHILD_PROXYHDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* Longest v1 line, CRLF included (the PROXY protocol specification). */
#define PROXYHDR_MAX_LEN	107
/* Bytes needed to tell a header ("PROXY ") from anything else. */
#define PROXYHDR_SIG_LEN	6

struct proxyhdr {
	int family;			/* AF_INET, AF_INET6, or AF_UNSPEC for "PROXY UNKNOWN" */
	char src[INET6_ADDRSTRLEN];	/* source address, normalised by inet_ntop */
	char dst[INET6_ADDRSTRLEN];
	uint16_t src_port, dst_port;
};

#define PROXYHDR_E_NOTPROXY	-1	/* input does not start with "PROXY " */
#define PROXYHDR_E_TOOLONG	-2	/* no CRLF within PROXYHDR_MAX_LEN bytes */
#define PROXYHDR_E_CRLF		-3	/* line not terminated by CRLF */
#define PROXYHDR_E_PROTO	-4	/* protocol other than TCP4, TCP6, UNKNOWN */
#define PROXYHDR_E_FIELDS	-5	/* wrong number of fields or bad separators */
#define PROXYHDR_E_ADDR		-6	/* address invalid for the protocol */
#define PROXYHDR_E_PORT		-7	/* port not a decimal 0..65535 */

/* Parses a v1 header at the start of buf. Returns the bytes it occupies
 * (CRLF included), 0 when more bytes are needed to decide, or PROXYHDR_E_*.
 * Bytes after the CRLF are never looked at. */
int proxyhdr_parse(const char *buf, size_t len, struct proxyhdr *out);
const char *proxyhdr_strerror(int err);

#endif
