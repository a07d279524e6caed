/* PROXY protocol v1 header parsing (the text format only; v2 is not accepted).
 * Strict: one line of at most 107 bytes ending in CRLF, single spaces, addresses
 * checked with inet_pton for the announced family, ports decimal 0..65535. */
#include "autoconf.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "child/proxyhdr.h"

#define PROXYHDR_FIELDS	5	/* proto, src, dst, src port, dst port */

struct field {
	const char *p;
	size_t len;
};

/* Splits s on single spaces into at most max fields. Returns the field count,
 * or -1 on an empty field (leading, trailing or doubled space) or too many. */
static int
split_fields(const char *s, size_t len, struct field *f, int max)
{
	int n = 0;
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != ' ')
			continue;
		if (i == start || n == max)
			return -1;
		f[n].p = s + start;
		f[n].len = i - start;
		n++;
		start = i + 1;
	}
	return n;
}

static int
field_is(const struct field *f, const char *word)
{
	return f->len == strlen(word) && memcmp(f->p, word, f->len) == 0;
}

/* inet_pton needs a C string; the copy also bounds the length. */
static int
parse_addr(const struct field *f, int family, char *out, size_t outlen)
{
	char text[INET6_ADDRSTRLEN];
	struct in6_addr bin;

	/* An embedded NUL would cut the copy short and pass inet_pton. */
	if (f->len == 0 || f->len >= sizeof(text) || memchr(f->p, '\0', f->len) != NULL)
		return PROXYHDR_E_ADDR;
	memcpy(text, f->p, f->len);
	text[f->len] = '\0';
	if (inet_pton(family, text, &bin) != 1)
		return PROXYHDR_E_ADDR;
	/* Normalised text, so logs and events never carry the peer's spelling. */
	if (inet_ntop(family, &bin, out, (socklen_t)outlen) == NULL)
		return PROXYHDR_E_ADDR;
	return 0;
}

/* Decimal 0..65535 with no sign, no leading zero and at most five digits. */
static int
parse_port(const struct field *f, uint16_t *out)
{
	unsigned long v = 0;

	if (f->len == 0 || f->len > 5 || (f->len > 1 && f->p[0] == '0'))
		return PROXYHDR_E_PORT;
	for (size_t i = 0; i < f->len; i++) {
		if (f->p[i] < '0' || f->p[i] > '9')
			return PROXYHDR_E_PORT;
		v = v * 10 + (unsigned long)(f->p[i] - '0');
	}
	if (v > 65535)
		return PROXYHDR_E_PORT;
	*out = (uint16_t)v;
	return 0;
}

int
proxyhdr_parse(const char *buf, size_t len, struct proxyhdr *out)
{
	static const char sig[PROXYHDR_SIG_LEN] = { 'P', 'R', 'O', 'X', 'Y', ' ' };
	struct field f[PROXYHDR_FIELDS];
	struct proxyhdr h;
	struct field proto;
	const char *lf, *cr, *body, *sp;
	size_t lim, line_len, body_len;
	int nf, rc;

	if (len == 0)
		return 0;
	if (memcmp(buf, sig, len < sizeof(sig) ? len : sizeof(sig)) != 0)
		return PROXYHDR_E_NOTPROXY;
	if (len < sizeof(sig))
		return 0;
	lim = len < PROXYHDR_MAX_LEN ? len : PROXYHDR_MAX_LEN;
	lf = memchr(buf, '\n', lim);
	/* A CR not followed by LF can never become a valid line: fail early. */
	cr = memchr(buf, '\r', lf != NULL ? (size_t)(lf - buf) : lim);
	if (cr != NULL && (lf == NULL ? cr + 1 < buf + lim : cr + 1 != lf))
		return PROXYHDR_E_CRLF;
	if (lf == NULL)
		return len >= PROXYHDR_MAX_LEN ? PROXYHDR_E_TOOLONG : 0;
	if (cr == NULL)
		return PROXYHDR_E_CRLF;
	line_len = (size_t)(lf - buf) + 1;

	memset(&h, 0, sizeof(h));
	/* The body sits between "PROXY " and CRLF. */
	body = buf + sizeof(sig);
	body_len = line_len - sizeof(sig) - 2;
	sp = memchr(body, ' ', body_len);
	proto.p = body;
	proto.len = sp != NULL ? (size_t)(sp - body) : body_len;
	if (field_is(&proto, "UNKNOWN")) {
		/* The receiver must ignore everything after UNKNOWN. */
		h.family = AF_UNSPEC;
		*out = h;
		return (int)line_len;
	}
	if (field_is(&proto, "TCP4"))
		h.family = AF_INET;
	else if (field_is(&proto, "TCP6"))
		h.family = AF_INET6;
	else
		return PROXYHDR_E_PROTO;
	nf = split_fields(body, body_len, f, PROXYHDR_FIELDS);
	if (nf != PROXYHDR_FIELDS)
		return PROXYHDR_E_FIELDS;
	if ((rc = parse_addr(&f[1], h.family, h.src, sizeof(h.src))) != 0 ||
	    (rc = parse_addr(&f[2], h.family, h.dst, sizeof(h.dst))) != 0 ||
	    (rc = parse_port(&f[3], &h.src_port)) != 0 ||
	    (rc = parse_port(&f[4], &h.dst_port)) != 0)
		return rc;
	*out = h;
	return (int)line_len;
}

const char *
proxyhdr_strerror(int err)
{
	switch (err) {
	case 0: return "incomplete PROXY header";
	case PROXYHDR_E_NOTPROXY: return "no PROXY header";
	case PROXYHDR_E_TOOLONG: return "PROXY header longer than 107 bytes";
	case PROXYHDR_E_CRLF: return "PROXY header not terminated by CRLF";
	case PROXYHDR_E_PROTO: return "PROXY header protocol is not TCP4, TCP6 or UNKNOWN";
	case PROXYHDR_E_FIELDS: return "PROXY header has malformed fields";
	case PROXYHDR_E_ADDR: return "PROXY header has an invalid address";
	case PROXYHDR_E_PORT: return "PROXY header has an invalid port";
	default: return "unknown PROXY header error";
	}
}
