/* Codec of the monitor protocol: one table gives each message's fields and
 * bounds, and both the encoder and the strict decoder follow it. */
#include "autoconf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "privsep/monitor-msg.h"

enum field_kind {
	F_NONE = 0,
	F_IDX,		/* u32 -> idx */
	F_COUNT,	/* u32 -> count */
	F_CODE,		/* u32 -> code */
	F_ALLOWED,	/* u8 0|1 -> allowed */
	F_ALG,		/* string -> alg[] */
	F_USER,		/* string -> user[] */
	F_ERRMSG,	/* string -> errmsg[] */
	F_DATA,		/* string -> data/dlen (borrowed) */
};

struct field {
	enum field_kind kind;
	uint32_t min, max;	/* value range (u32, u8) or length range (strings) */
	bool text;		/* F_DATA that must be NUL-free */
};

#define NFIELDS 3

struct layout {
	const char *name;
	struct field f[NFIELDS];
};

static const struct layout layouts[] = {
	[MONITOR_REQ_CONFIG] = { "REQ_CONFIG", { { F_NONE, 0, 0, false } } },
	[MONITOR_ANS_CONFIG] = { "ANS_CONFIG",
	    { { F_DATA, 1, MONITOR_MSG_MAX - 5, true } } },
	[MONITOR_REQ_HOSTKEYS_COUNT] = { "REQ_HOSTKEYS_COUNT", { { F_NONE, 0, 0, false } } },
	[MONITOR_ANS_HOSTKEYS_COUNT] = { "ANS_HOSTKEYS_COUNT",
	    { { F_COUNT, 0, MONITOR_KEYS_MAX, false } } },
	[MONITOR_REQ_HOSTKEY_PUB] = { "REQ_HOSTKEY_PUB",
	    { { F_IDX, 0, MONITOR_KEYS_MAX - 1, false } } },
	[MONITOR_ANS_HOSTKEY_PUB] = { "ANS_HOSTKEY_PUB",
	    { { F_DATA, 1, MONITOR_BLOB_MAX, false } } },
	[MONITOR_REQ_SIGN] = { "REQ_SIGN",
	    { { F_IDX, 0, MONITOR_KEYS_MAX - 1, false },
	      { F_ALG, 1, MONITOR_ALG_MAX, false },
	      { F_DATA, 0, MONITOR_DATA_MAX, false } } },
	[MONITOR_ANS_SIGN] = { "ANS_SIGN", { { F_DATA, 1, MONITOR_SIG_MAX, false } } },
	[MONITOR_REQ_KEY_ALLOWED] = { "REQ_KEY_ALLOWED",
	    { { F_USER, 1, MONITOR_USER_MAX, false },
	      { F_DATA, 1, MONITOR_BLOB_MAX, false } } },
	[MONITOR_ANS_KEY_ALLOWED] = { "ANS_KEY_ALLOWED", { { F_ALLOWED, 0, 1, false } } },
	[MONITOR_REQ_AUTHENTICATED] = { "REQ_AUTHENTICATED",
	    { { F_USER, 1, MONITOR_USER_MAX, false } } },
	[MONITOR_ANS_AUTHENTICATED] = { "ANS_AUTHENTICATED", { { F_NONE, 0, 0, false } } },
	[MONITOR_ANS_ERROR] = { "ANS_ERROR",
	    { { F_CODE, 1, MONITOR_ERR_MAX, false },
	      { F_ERRMSG, 0, MONITOR_ERRMSG_MAX, false } } },
};

#define NLAYOUTS (sizeof(layouts) / sizeof(layouts[0]))

static const struct layout *
layout_of(int type)
{
	if (type <= 0 || (size_t)type >= NLAYOUTS || layouts[type].name == NULL)
		return NULL;
	return &layouts[type];
}

const char *
monitor_msg_type_name(int type)
{
	const struct layout *l = layout_of(type);

	return l ? l->name : "unknown";
}

const char *
monitor_msg_strerror(int err)
{
	switch (err) {
	case 0: return "success";
	case MONITOR_MSG_E_SHORT: return "truncated message";
	case MONITOR_MSG_E_TRAILING: return "trailing bytes after message";
	case MONITOR_MSG_E_TYPE: return "unknown message type";
	case MONITOR_MSG_E_LENGTH: return "length out of bounds";
	case MONITOR_MSG_E_NUL: return "NUL byte in text field";
	case MONITOR_MSG_E_RANGE: return "value out of range";
	case MONITOR_MSG_E_IO: return "socket error";
	case MONITOR_MSG_E_EOF: return "monitor socket closed";
	case MONITOR_MSG_E_UNEXPECTED: return "unexpected answer type";
	case MONITOR_MSG_E_REFUSED: return "monitor could not answer";
	case MONITOR_MSG_E_NOMEM: return "out of memory";
	default: return "unknown error";
	}
}

/* The string a field encodes from, or NULL for non-string fields. */
static const char *
field_str(const struct monitor_msg *m, enum field_kind k)
{
	switch (k) {
	case F_ALG: return m->alg;
	case F_USER: return m->user;
	case F_ERRMSG: return m->errmsg;
	default: return NULL;
	}
}

static uint32_t
field_u32(const struct monitor_msg *m, enum field_kind k)
{
	switch (k) {
	case F_IDX: return m->idx;
	case F_COUNT: return m->count;
	case F_CODE: return m->code;
	default: return 0;
	}
}

int
monitor_msg_size(const struct monitor_msg *m, size_t *len)
{
	const struct layout *l = layout_of((int)m->type);
	size_t n = 1;

	if (l == NULL)
		return MONITOR_MSG_E_TYPE;
	for (int i = 0; i < NFIELDS && l->f[i].kind != F_NONE; i++) {
		const struct field *f = &l->f[i];
		const char *s;
		size_t slen;

		switch (f->kind) {
		case F_IDX:
		case F_COUNT:
		case F_CODE:
			if (field_u32(m, f->kind) < f->min || field_u32(m, f->kind) > f->max)
				return MONITOR_MSG_E_RANGE;
			n += 4;
			break;
		case F_ALLOWED:
			n += 1;
			break;
		case F_ALG:
		case F_USER:
		case F_ERRMSG:
			s = field_str(m, f->kind);
			slen = strnlen(s, (size_t)f->max + 1);
			if (slen < f->min || slen > f->max)
				return MONITOR_MSG_E_LENGTH;
			n += 4 + slen;
			break;
		case F_DATA:
			if (m->dlen < f->min || m->dlen > f->max || (m->dlen > 0 && m->data == NULL))
				return MONITOR_MSG_E_LENGTH;
			if (f->text && memchr(m->data, '\0', m->dlen) != NULL)
				return MONITOR_MSG_E_NUL;
			n += 4 + m->dlen;
			break;
		case F_NONE:
			break;
		}
	}
	if (n > MONITOR_MSG_MAX)
		return MONITOR_MSG_E_LENGTH;
	*len = n;
	return 0;
}

static uint8_t *
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static uint8_t *
put_string(uint8_t *p, const void *s, size_t len)
{
	p = put_u32(p, (uint32_t)len);
	if (len > 0)
		memcpy(p, s, len);
	return p + len;
}

int
monitor_msg_encode(const struct monitor_msg *m, uint8_t *buf, size_t cap, size_t *len)
{
	const struct layout *l;
	uint8_t *p = buf;
	size_t need;
	int r;

	if ((r = monitor_msg_size(m, &need)) != 0)
		return r;
	if (need > cap)
		return MONITOR_MSG_E_LENGTH;
	l = layout_of((int)m->type);
	*p++ = (uint8_t)m->type;
	for (int i = 0; i < NFIELDS && l->f[i].kind != F_NONE; i++) {
		enum field_kind k = l->f[i].kind;

		switch (k) {
		case F_IDX:
		case F_COUNT:
		case F_CODE:
			p = put_u32(p, field_u32(m, k));
			break;
		case F_ALLOWED:
			*p++ = m->allowed ? 1 : 0;
			break;
		case F_ALG:
		case F_USER:
		case F_ERRMSG:
			p = put_string(p, field_str(m, k), strlen(field_str(m, k)));
			break;
		case F_DATA:
			p = put_string(p, m->data, m->dlen);
			break;
		case F_NONE:
			break;
		}
	}
	*len = (size_t)(p - buf);
	return 0;
}

/* Reads a u32 at *off, advancing it. */
static int
get_u32(const uint8_t *buf, size_t len, size_t *off, uint32_t *v)
{
	if (len - *off < 4)
		return MONITOR_MSG_E_SHORT;
	*v = (uint32_t)buf[*off] << 24 | (uint32_t)buf[*off + 1] << 16 |
	    (uint32_t)buf[*off + 2] << 8 | (uint32_t)buf[*off + 3];
	*off += 4;
	return 0;
}

/* Borrows a length-prefixed string of min..max bytes at *off. */
static int
get_string(const uint8_t *buf, size_t len, size_t *off, const struct field *f,
    const uint8_t **s, size_t *slen)
{
	uint32_t n;
	int r;

	if ((r = get_u32(buf, len, off, &n)) != 0)
		return r;
	if (n < f->min || n > f->max)
		return MONITOR_MSG_E_LENGTH;
	if (len - *off < n)
		return MONITOR_MSG_E_SHORT;
	*s = buf + *off;
	*slen = n;
	*off += n;
	return 0;
}

static char *
text_field(struct monitor_msg *m, enum field_kind k)
{
	switch (k) {
	case F_ALG: return m->alg;
	case F_USER: return m->user;
	case F_ERRMSG: return m->errmsg;
	default: return NULL;
	}
}

int
monitor_msg_decode(const uint8_t *buf, size_t len, struct monitor_msg *m)
{
	const struct layout *l;
	size_t off = 1;

	memset(m, 0, sizeof(*m));
	if (len < 1)
		return MONITOR_MSG_E_SHORT;
	if (len > MONITOR_MSG_MAX)
		return MONITOR_MSG_E_LENGTH;
	if ((l = layout_of(buf[0])) == NULL)
		return MONITOR_MSG_E_TYPE;
	m->type = (enum monitor_msg_type)buf[0];
	for (int i = 0; i < NFIELDS && l->f[i].kind != F_NONE; i++) {
		const struct field *f = &l->f[i];
		const uint8_t *s;
		size_t slen;
		uint32_t v;
		char *dst;
		int r;

		switch (f->kind) {
		case F_IDX:
		case F_COUNT:
		case F_CODE:
			if ((r = get_u32(buf, len, &off, &v)) != 0)
				return r;
			if (v < f->min || v > f->max)
				return MONITOR_MSG_E_RANGE;
			if (f->kind == F_IDX)
				m->idx = v;
			else if (f->kind == F_COUNT)
				m->count = v;
			else
				m->code = v;
			break;
		case F_ALLOWED:
			if (len - off < 1)
				return MONITOR_MSG_E_SHORT;
			if (buf[off] > 1)
				return MONITOR_MSG_E_RANGE;
			m->allowed = buf[off++] == 1;
			break;
		case F_ALG:
		case F_USER:
		case F_ERRMSG:
			if ((r = get_string(buf, len, &off, f, &s, &slen)) != 0)
				return r;
			if (memchr(s, '\0', slen) != NULL)
				return MONITOR_MSG_E_NUL;
			dst = text_field(m, f->kind);
			memcpy(dst, s, slen);
			dst[slen] = '\0';
			break;
		case F_DATA:
			if ((r = get_string(buf, len, &off, f, &s, &slen)) != 0)
				return r;
			if (f->text && memchr(s, '\0', slen) != NULL)
				return MONITOR_MSG_E_NUL;
			m->data = slen > 0 ? s : NULL;
			m->dlen = slen;
			break;
		case F_NONE:
			break;
		}
	}
	if (off != len)
		return MONITOR_MSG_E_TRAILING;
	return 0;
}

int
monitor_msg_socketpair(int sv[2])
{
	/* The kernel doubles the value and caps it at wmem_max (~208 KiB) before
	 * doubling, so this gives ~416 KiB: room for one full packet. */
	int sz = MONITOR_MSG_MAX + 4096;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		sv[0] = sv[1] = -1;
		return MONITOR_MSG_E_IO;
	}
	for (int i = 0; i < 2; i++)
		if (setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)) != 0) {
			close(sv[0]);
			close(sv[1]);
			sv[0] = sv[1] = -1;
			return MONITOR_MSG_E_IO;
		}
	return 0;
}

int
monitor_msg_send(int fd, const struct monitor_msg *m)
{
	uint8_t *buf;
	size_t len;
	ssize_t n;
	int r;

	if ((r = monitor_msg_size(m, &len)) != 0)
		return r;
	if ((buf = malloc(len)) == NULL)
		return MONITOR_MSG_E_NOMEM;
	if ((r = monitor_msg_encode(m, buf, len, &len)) == 0) {
		while ((n = send(fd, buf, len, MSG_NOSIGNAL)) < 0 && errno == EINTR)
			;
		if (n < 0)
			r = errno == EPIPE || errno == ECONNRESET ? MONITOR_MSG_E_EOF : MONITOR_MSG_E_IO;
		else if ((size_t)n != len)
			r = MONITOR_MSG_E_IO;
	}
	/* The buffer may hold config secrets or signatures: do not leave them. */
	memset(buf, 0, len);
	free(buf);
	return r;
}

int
monitor_msg_recv(int fd, uint8_t *buf, struct monitor_msg *m)
{
	ssize_t n;

	/* MSG_TRUNC makes recv report the real packet size, so an oversized
	 * packet is an error instead of a silently shortened one. */
	while ((n = recv(fd, buf, MONITOR_MSG_MAX, MSG_TRUNC)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return errno == ECONNRESET ? MONITOR_MSG_E_EOF : MONITOR_MSG_E_IO;
	if (n == 0)
		return MONITOR_MSG_E_EOF;
	if ((size_t)n > MONITOR_MSG_MAX)
		return MONITOR_MSG_E_LENGTH;
	return monitor_msg_decode(buf, (size_t)n, m);
}
