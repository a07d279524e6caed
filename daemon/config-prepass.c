/* Config pre-pass: resolves ${VAR} and !file in scalar values by splicing the
 * source text, so every line (and every column before a splice) stays put. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "daemon/config.h"
#include "daemon/config-int.h"

/* Same limit for the config file and for each !file: both are small text. */
#define PREPASS_MAX_FILE	(1024 * 1024)
#define PREPASS_STD_TAG		"tag:yaml.org,2002:"

/* Growable byte buffer; it may hold secrets, so old copies are wiped. */
struct sbuf {
	char *p;
	size_t len, cap;
};

struct pp_frame {
	int is_map;
	int want_key;		/* mapping: the next scalar is a key */
	char *key;		/* mapping: key of the value being read */
	size_t index;		/* sequence: index of the entry being read */
	long indent;		/* block collection: its column; flow: -1 */
};

struct prepass {
	const char *file;	/* as given, for messages */
	char *dir;		/* its directory, for relative !file paths */
	const char *src;
	size_t srclen;
	size_t cur_char, cur_byte;	/* libyaml marks count characters */
	size_t copied;		/* source bytes already in out */
	struct sbuf out;
	struct pp_frame *stack;
	size_t depth, cap;
	struct config_error *err;
};

static void
pp_error(struct config_error *err, const char *file, const char *key, int line, int col,
    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void
pp_error(struct config_error *err, const char *file, const char *key, int line, int col,
    const char *fmt, ...)
{
	va_list ap;
	size_t o;

	if (err == NULL)
		return;
	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", file);
	snprintf(err->key, sizeof(err->key), "%s", key ? key : "");
	err->line = line;
	err->column = col;
	/* "FILE:LINE:COL: KEY: what", leaving out what is unknown. */
	if (line > 0)
		snprintf(err->message, sizeof(err->message), "%s:%d:%d: ", file, line, col);
	else
		snprintf(err->message, sizeof(err->message), "%s: ", file);
	o = strlen(err->message);
	if (err->key[0] != '\0' && o < sizeof(err->message))
		snprintf(err->message + o, sizeof(err->message) - o, "%s: ", err->key);
	o = strlen(err->message);
	va_start(ap, fmt);
	if (o < sizeof(err->message))
		vsnprintf(err->message + o, sizeof(err->message) - o, fmt, ap);
	va_end(ap);
}

static int
sbuf_put(struct sbuf *b, const void *data, size_t n)
{
	if (n > SIZE_MAX / 2 - b->len)
		return -1;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = malloc(cap)) == NULL)
			return -1;
		if (b->p != NULL) {
			memcpy(p, b->p, b->len);
			explicit_bzero(b->p, b->cap);
			free(b->p);
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int
sbuf_putc(struct sbuf *b, char c)
{
	return sbuf_put(b, &c, 1);
}

static void
sbuf_wipe(struct sbuf *b)
{
	if (b->p != NULL) {
		explicit_bzero(b->p, b->cap);
		free(b->p);
	}
	memset(b, 0, sizeof(*b));
}

/* Decodes one UTF-8 sequence; returns its length, or 0 if invalid. */
static size_t
utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t c;

	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		c = s[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past Unicode are not text. */
	if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return len;
}

static int
utf8_text(const char *s, size_t n)
{
	size_t i = 0, l;
	uint32_t c;

	while (i < n) {
		if ((l = utf8_decode((const unsigned char *)s + i, n - i, &c)) == 0 || c == 0)
			return 0;
		i += l;
	}
	return 1;
}

/* Appends s as one double-quoted YAML scalar on a single line. */
static int
put_quoted(struct sbuf *b, const char *s, size_t n)
{
	size_t i = 0, l;
	uint32_t c;
	char esc[16];

	if (sbuf_putc(b, '"') != 0)
		return -1;
	while (i < n) {
		if ((l = utf8_decode((const unsigned char *)s + i, n - i, &c)) == 0)
			return -1;
		esc[0] = '\0';
		if (c == '"' || c == '\\')
			snprintf(esc, sizeof(esc), "\\%c", (char)c);
		else if (c == '\n')
			snprintf(esc, sizeof(esc), "\\n");
		else if (c == '\t')
			snprintf(esc, sizeof(esc), "\\t");
		else if (c == '\r')
			snprintf(esc, sizeof(esc), "\\r");
		else if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
			snprintf(esc, sizeof(esc), "\\x%02x", (unsigned)c);
		/* libyaml reads these as line breaks or rejects them raw. */
		else if (c == 0x2028 || c == 0x2029 || c == 0xfeff || c == 0xfffe || c == 0xffff)
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)c);
		if ((esc[0] != '\0' ? sbuf_put(b, esc, strlen(esc)) : sbuf_put(b, s + i, l)) != 0)
			return -1;
		i += l;
	}
	return sbuf_putc(b, '"');
}

/* Dotted path of the value being read: "server.port", "server.hostKeys[1]". */
static void
pp_path(const struct prepass *pp, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < pp->depth && o < len; i++) {
		const struct pp_frame *f = &pp->stack[i];
		int n;

		if (f->is_map && f->key == NULL)
			break;
		if (f->is_map)
			n = snprintf(buf + o, len - o, "%s%s", o ? "." : "", f->key);
		else
			n = snprintf(buf + o, len - o, "[%zu]", f->index);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

static void
pp_fail(struct prepass *pp, const yaml_mark_t *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
pp_fail(struct prepass *pp, const yaml_mark_t *m, const char *fmt, ...)
{
	char what[384], key[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	pp_path(pp, key, sizeof(key));
	pp_error(pp->err, pp->file, key, (int)m->line + 1, (int)m->column + 1, "%s", what);
}

static int
pp_push(struct prepass *pp, int is_map, long indent)
{
	if (pp->depth == pp->cap) {
		size_t cap = pp->cap ? pp->cap * 2 : 16;
		struct pp_frame *s = reallocarray(pp->stack, cap, sizeof(*s));

		if (s == NULL)
			return -1;
		pp->stack = s;
		pp->cap = cap;
	}
	pp->stack[pp->depth++] = (struct pp_frame){ .is_map = is_map, .want_key = 1, .indent = indent };
	return 0;
}

/* A node of the innermost collection is complete: a key makes way for its
 * value, a value for the next key or entry. */
static void
pp_node_done(struct prepass *pp)
{
	struct pp_frame *f;

	if (pp->depth == 0)
		return;
	f = &pp->stack[pp->depth - 1];
	if (!f->is_map)
		f->index++;
	else if (f->want_key)
		f->want_key = 0;
	else {
		free(f->key);
		f->key = NULL;
		f->want_key = 1;
	}
}

static int
pp_in_key(const struct prepass *pp)
{
	return pp->depth > 0 && pp->stack[pp->depth - 1].is_map && pp->stack[pp->depth - 1].want_key;
}

/* Moves the character cursor to mark index idx; returns its byte offset. */
static size_t
pp_offset(struct prepass *pp, size_t idx)
{
	uint32_t c;

	while (pp->cur_char < idx && pp->cur_byte < pp->srclen) {
		size_t l = utf8_decode((const unsigned char *)pp->src + pp->cur_byte,
		    pp->srclen - pp->cur_byte, &c);

		pp->cur_byte += l ? l : 1;
		pp->cur_char++;
	}
	return pp->cur_byte;
}

/* Expands ${NAME} references in v into out. */
static int
pp_expand(struct prepass *pp, const yaml_event_t *ev, const char *v, size_t n, struct sbuf *out)
{
	size_t i = 0;

	while (i < n) {
		const char *name, *val;
		size_t j;
		char var[256];

		if (v[i] != '$' || i + 1 >= n || v[i + 1] != '{') {
			if (sbuf_putc(out, v[i++]) != 0)
				return -1;
			continue;
		}
		name = v + i + 2;
		for (j = 0; i + 2 + j < n && (name[j] == '_' || (name[j] >= 'A' && name[j] <= 'Z') ||
		    (name[j] >= 'a' && name[j] <= 'z') || (j > 0 && name[j] >= '0' && name[j] <= '9')); j++)
			;
		if (j == 0 || j >= sizeof(var) || i + 2 + j >= n || name[j] != '}') {
			const char *close = memchr(v + i, '}', n - i);
			size_t show = close ? (size_t)(close - (v + i)) + 1 : n - i, k;

			for (k = 0; k < show && (unsigned char)v[i + k] >= 0x20; k++)
				;
			show = k;

			pp_fail(pp, &ev->start_mark,
			    "malformed variable reference \"%.*s\" (want ${NAME})",
			    (int)(show > 40 ? 40 : show), v + i);
			return -1;
		}
		memcpy(var, name, j);
		var[j] = '\0';
		if ((val = getenv(var)) == NULL) {
			pp_fail(pp, &ev->start_mark, "environment variable %s is not set", var);
			return -1;
		}
		if (!utf8_text(val, strlen(val))) {
			pp_fail(pp, &ev->start_mark, "environment variable %s is not UTF-8 text", var);
			return -1;
		}
		if (sbuf_put(out, val, strlen(val)) != 0)
			return -1;
		i += j + 3;
	}
	return 0;
}

static int
pp_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Replaces out (a path) with the whitespace-trimmed contents of that file. */
static int
pp_read_file(struct prepass *pp, const yaml_event_t *ev, struct sbuf *val)
{
	struct sbuf path = { 0 }, data = { 0 };
	char chunk[4096];
	struct stat st;
	size_t a, b;
	ssize_t r;
	int fd = -1, rc = -1;

	if (val->len == 0 || memchr(val->p, '\0', val->len) != NULL) {
		pp_fail(pp, &ev->start_mark, "!file needs a file path");
		return -1;
	}
	if (val->p[0] != '/' && (sbuf_put(&path, pp->dir, strlen(pp->dir)) != 0 ||
	    sbuf_putc(&path, '/') != 0))
		goto oom;
	if (sbuf_put(&path, val->p, val->len) != 0)
		goto oom;
	if ((fd = open(path.p, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0 || fstat(fd, &st) != 0) {
		pp_fail(pp, &ev->start_mark, "cannot read !file \"%s\": %s", path.p, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		pp_fail(pp, &ev->start_mark, "cannot read !file \"%s\": not a regular file", path.p);
		goto out;
	}
	while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			pp_fail(pp, &ev->start_mark, "cannot read !file \"%s\": %s", path.p,
			    strerror(errno));
			goto out;
		}
		if (data.len + (size_t)r > PREPASS_MAX_FILE) {
			pp_fail(pp, &ev->start_mark, "!file \"%s\" is larger than %d bytes", path.p,
			    PREPASS_MAX_FILE);
			goto out;
		}
		if (sbuf_put(&data, chunk, (size_t)r) != 0)
			goto oom;
	}
	if (data.p == NULL && sbuf_put(&data, "", 0) != 0)	/* an empty file */
		goto oom;
	for (a = 0; a < data.len && pp_space(data.p[a]); a++)
		;
	for (b = data.len; b > a && pp_space(data.p[b - 1]); b--)
		;
	if (!utf8_text(data.p + a, b - a)) {
		pp_fail(pp, &ev->start_mark, "!file \"%s\" is not UTF-8 text", path.p);
		goto out;
	}
	sbuf_wipe(val);
	if (sbuf_put(val, data.p + a, b - a) != 0)
		goto oom;
	rc = 0;
	goto out;
oom:
	pp_fail(pp, &ev->start_mark, "out of memory");
out:
	explicit_bzero(chunk, sizeof(chunk));
	if (fd >= 0)
		close(fd);
	sbuf_wipe(&path);
	sbuf_wipe(&data);
	return rc;
}

static int
pp_check_tag(struct prepass *pp, const yaml_event_t *ev, const yaml_char_t *tag, int scalar_value)
{
	const char *t = (const char *)tag;

	if (t == NULL || strcmp(t, "!") == 0 || strncmp(t, PREPASS_STD_TAG, strlen(PREPASS_STD_TAG)) == 0)
		return 0;
	if (strcmp(t, "!file") == 0) {
		if (scalar_value)
			return 1;
		pp_fail(pp, &ev->start_mark, "!file applies to scalar values only");
		return -1;
	}
	pp_fail(pp, &ev->start_mark, "unknown tag \"%s\" (only !file is supported)", t);
	return -1;
}

/* A plain scalar swallows the blank lines after it, tabs included; once it
 * is quoted, libyaml reads them as indentation, where a tab is an error. Up
 * to the next token they are only separation, so tabs become spaces. */
static int
pp_copy_blanks(struct prepass *pp)
{
	size_t i = pp->copied;

	while (i < pp->srclen) {
		const unsigned char *c = (const unsigned char *)pp->src + i;
		size_t n = pp->srclen - i;

		if (*c == ' ' || *c == '\t' || *c == '\r' || *c == '\n') {
			if (sbuf_putc(&pp->out, *c == '\t' ? ' ' : (char)*c) != 0)
				return -1;
			i++;
		} else if ((n >= 2 && c[0] == 0xc2 && c[1] == 0x85) ||
		    (n >= 3 && c[0] == 0xe2 && c[1] == 0x80 && (c[2] == 0xa8 || c[2] == 0xa9))) {
			size_t l = c[0] == 0xc2 ? 2 : 3;

			if (sbuf_put(&pp->out, c, l) != 0)
				return -1;
			i += l;
		} else
			break;
	}
	pp->copied = i;
	return 0;
}

/* Substitutes one value scalar in place: [&anchor ]"value" then as many line
 * breaks (and spaces) as the original spanned, so later text keeps its place. */
static int
pp_scalar(struct prepass *pp, const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length, start, end;
	struct sbuf val = { 0 };
	int is_file, rc = -1;

	if ((is_file = pp_check_tag(pp, ev, ev->data.scalar.tag, 1)) < 0)
		return -1;
	if (!is_file && (n < 2 || memmem(v, n, "${", 2) == NULL))
		return 0;
	if (pp_expand(pp, ev, v, n, &val) != 0)
		goto out;
	if (is_file && pp_read_file(pp, ev, &val) != 0)
		goto out;

	start = pp_offset(pp, ev->start_mark.index);
	if (start < pp->copied || sbuf_put(&pp->out, pp->src + pp->copied, start - pp->copied) != 0)
		goto oom;
	/* A block scalar may sit at its parent's indentation; a quoted one
	 * there would read as a key, so it moves right. */
	if (pp->depth > 0)
		for (long c = (long)ev->start_mark.column; c <= pp->stack[pp->depth - 1].indent; c++)
			if (sbuf_putc(&pp->out, ' ') != 0)
				goto oom;
	if (ev->data.scalar.anchor != NULL && (sbuf_putc(&pp->out, '&') != 0 ||
	    sbuf_put(&pp->out, ev->data.scalar.anchor, strlen((char *)ev->data.scalar.anchor)) != 0 ||
	    sbuf_putc(&pp->out, ' ') != 0))
		goto oom;
	if (put_quoted(&pp->out, val.p ? val.p : "", val.len) != 0)
		goto oom;
	if (ev->end_mark.line > ev->start_mark.line && ev->end_mark.column == 0) {
		/* A block scalar: what follows starts a line, as before. */
		for (size_t i = ev->start_mark.line; i < ev->end_mark.line; i++)
			if (sbuf_putc(&pp->out, '\n') != 0)
				goto oom;
	} else if (ev->end_mark.line > ev->start_mark.line) {
		/* Text may follow on the last line (a tab, a comment, a flow
		 * indicator): stretch the quoted scalar over the same lines with
		 * escaped line breaks, closing it where the original ended. */
		pp->out.len--;
		for (size_t i = ev->start_mark.line; i < ev->end_mark.line; i++)
			if (sbuf_put(&pp->out, "\\\n", 2) != 0)
				goto oom;
		for (size_t i = 1; i < ev->end_mark.column; i++)
			if (sbuf_putc(&pp->out, ' ') != 0)
				goto oom;
		if (sbuf_putc(&pp->out, '"') != 0)
			goto oom;
	}
	end = pp_offset(pp, ev->end_mark.index);
	pp->copied = end;
	if (pp_copy_blanks(pp) != 0)
		goto oom;
	rc = 0;
	goto out;
oom:
	pp_fail(pp, &ev->start_mark, "out of memory");
out:
	sbuf_wipe(&val);
	return rc;
}

static int
pp_event(struct prepass *pp, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		if (pp_check_tag(pp, ev, ev->type == YAML_MAPPING_START_EVENT ?
		    ev->data.mapping_start.tag : ev->data.sequence_start.tag, 0) != 0)
			return -1;
		if (pp_push(pp, ev->type == YAML_MAPPING_START_EVENT,
		    (ev->type == YAML_MAPPING_START_EVENT ?
		    ev->data.mapping_start.style == YAML_BLOCK_MAPPING_STYLE :
		    ev->data.sequence_start.style == YAML_BLOCK_SEQUENCE_STYLE) ?
		    (long)ev->start_mark.column : -1) != 0) {
			pp_fail(pp, &ev->start_mark, "out of memory");
			return -1;
		}
		return 0;
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		if (pp->depth > 0) {
			free(pp->stack[pp->depth - 1].key);
			pp->depth--;
		}
		pp_node_done(pp);
		return 0;
	case YAML_ALIAS_EVENT:
		pp_node_done(pp);
		return 0;
	case YAML_SCALAR_EVENT:
		if (pp_in_key(pp)) {
			struct pp_frame *f = &pp->stack[pp->depth - 1];

			if (pp_check_tag(pp, ev, ev->data.scalar.tag, 0) != 0)
				return -1;
			if ((f->key = strdup((const char *)ev->data.scalar.value)) == NULL) {
				pp_fail(pp, &ev->start_mark, "out of memory");
				return -1;
			}
		} else if (pp_scalar(pp, ev) != 0)
			return -1;
		pp_node_done(pp);
		return 0;
	default:
		return 0;
	}
}

void
config_yaml_error_pos(const yaml_parser_t *p, const char *src, size_t srclen,
    int *line, int *col, char *ctx, size_t ctxlen)
{
	size_t l = p->problem_mark.line, c = p->problem_mark.column;

	if (p->error == YAML_READER_ERROR) {
		/* Reader errors carry a byte offset, not a mark. */
		l = c = 0;
		for (size_t i = 0; i < p->problem_offset && i < srclen; i++) {
			if (src[i] == '\n') {
				l++;
				c = 0;
			} else if (((unsigned char)src[i] & 0xc0) != 0x80)
				c++;
		}
	}
	ctx[0] = '\0';
	if (p->context != NULL)
		snprintf(ctx, ctxlen, " (%s at line %zu, column %zu)", p->context,
		    p->context_mark.line + 1, p->context_mark.column + 1);
	*line = (int)l + 1;
	*col = (int)c + 1;
}

static void
pp_syntax_error(struct prepass *pp, const yaml_parser_t *p)
{
	char ctx[160];
	int line, col;

	config_yaml_error_pos(p, pp->src, pp->srclen, &line, &col, ctx, sizeof(ctx));
	pp_error(pp->err, pp->file, NULL, line, col, "YAML syntax error: %s%s",
	    p->problem ? p->problem : "unknown error", ctx);
}

static int
pp_read_config(const char *path, struct sbuf *b, struct config_error *err)
{
	char chunk[4096];
	struct stat st;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0 || fstat(fd, &st) != 0) {
		pp_error(err, path, NULL, 0, 0, "cannot open: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		pp_error(err, path, NULL, 0, 0, "cannot open: not a regular file");
		close(fd);
		return -1;
	}
	while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || b->len + (size_t)r > PREPASS_MAX_FILE || sbuf_put(b, chunk, (size_t)r) != 0) {
			if (r < 0)
				pp_error(err, path, NULL, 0, 0, "cannot read: %s", strerror(errno));
			else
				pp_error(err, path, NULL, 0, 0, "file is larger than %d bytes",
				    PREPASS_MAX_FILE);
			explicit_bzero(chunk, sizeof(chunk));
			close(fd);
			return -1;
		}
	}
	explicit_bzero(chunk, sizeof(chunk));
	close(fd);
	return 0;
}

int
config_prepass(const char *path, char **text, size_t *len, struct config_error *err)
{
	struct prepass pp = { .file = path, .err = err };
	struct sbuf src = { 0 };
	yaml_parser_t parser;
	yaml_event_t ev;
	const char *slash;
	int rc = -1, done = 0;

	*text = NULL;
	*len = 0;
	if (pp_read_config(path, &src, err) != 0)
		return -1;
	if (sbuf_put(&src, "", 0) != 0)		/* an empty file still gets a buffer */
		goto oom;
	pp.src = src.p;
	pp.srclen = src.len;
	slash = strrchr(path, '/');
	if ((pp.dir = slash == NULL ? strdup(".") :
	    slash == path ? strdup("/") : strndup(path, (size_t)(slash - path))) == NULL)
		goto oom;

	if (!yaml_parser_initialize(&parser))
		goto oom;
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	yaml_parser_set_input_string(&parser, (const unsigned char *)src.p, src.len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			pp_syntax_error(&pp, &parser);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		if (pp_event(&pp, &ev) != 0) {
			yaml_event_delete(&ev);
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (!done)
		goto out;
	if (sbuf_put(&pp.out, src.p + pp.copied, src.len - pp.copied) != 0)
		goto oom;
	*text = pp.out.p;
	*len = pp.out.len;
	pp.out.p = NULL;
	rc = 0;
	goto out;
oom:
	pp_error(err, path, NULL, 0, 0, "out of memory");
out:
	while (pp.depth > 0)
		free(pp.stack[--pp.depth].key);
	free(pp.stack);
	free(pp.dir);
	sbuf_wipe(&pp.out);
	sbuf_wipe(&src);
	return rc;
}

void
config_text_free(char *text, size_t len)
{
	if (text == NULL)
		return;
	explicit_bzero(text, len);
	free(text);
}
