/* Log line formatting for all processes (JSON lines or text on stderr).
 * One write(2) per line so lines from listener, monitors and children never interleave. */
#include "autoconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"

#define LOG_LINE_MAX 4096

static struct {
	char component[32];
	char connid[96];
	int text;
	enum log_level min;
} logstate = { "ssh-proxy", "", 0, LOG_LEVEL_INFO };

static const char *level_names[] = { "debug", "info", "warn", "error", "fatal" };

void
log_init(const char *component, int text, enum log_level min)
{
	log_set_component(component);
	logstate.text = text;
	logstate.min = min;
}

void
log_set_component(const char *component)
{
	snprintf(logstate.component, sizeof(logstate.component), "%s", component);
}

void
log_set_connid(const char *connid)
{
	snprintf(logstate.connid, sizeof(logstate.connid), "%s", connid ? connid : "");
}

const char *
log_get_connid(void)
{
	return logstate.connid;
}

int
log_is_text(void)
{
	return logstate.text;
}

enum log_level
log_get_level(void)
{
	return logstate.min;
}

/* Appends s JSON-escaped; output is always NUL-terminated and truncated safely. */
static size_t
json_escape(char *out, size_t off, size_t cap, const char *s)
{
	for (; *s != '\0' && off + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[off++] = '\\';
			out[off++] = (char)c;
		} else if (c == '\n') {
			out[off++] = '\\';
			out[off++] = 'n';
		} else if (c < 0x20 || c == 0x7f) {
			off += (size_t)snprintf(out + off, cap - off, "\\u%04x", c);
		} else {
			out[off++] = (char)c;
		}
	}
	out[off < cap ? off : cap - 1] = '\0';
	return off;
}

static size_t
append(char *out, size_t off, size_t cap, const char *s)
{
	size_t n = strlen(s);

	/* Full already: keep the line as is rather than wrap the size. */
	if (cap == 0 || off >= cap - 1)
		return off;
	if (n > cap - off - 1)
		n = cap - off - 1;
	memcpy(out + off, s, n);
	out[off + n] = '\0';
	return off + n;
}

/* Text mode replaces control characters so a hostile string cannot forge lines. */
static size_t
text_escape(char *out, size_t off, size_t cap, const char *s)
{
	for (; *s != '\0' && off + 2 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		out[off++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	out[off] = '\0';
	return off;
}

void
log_vemit(enum log_level lvl, const char *func, const char *fields, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX / 2], line[LOG_LINE_MAX], ts[40], key[64];
	struct timeval tv;
	struct tm tm;
	size_t off = 0;
	int saved = errno;

	if (lvl < logstate.min)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03ldZ", (long)(tv.tv_usec / 1000));

	if (logstate.text) {
		off = (size_t)snprintf(line, sizeof(line), "%s %-5s %s[%ld]%s%s %s: ", ts,
		    level_names[lvl], logstate.component, (long)getpid(),
		    logstate.connid[0] ? " " : "", logstate.connid, func);
		off = text_escape(line, off, sizeof(line) - 2, msg);
		for (const char *f = fields; f != NULL && *f != '\0';) {
			const char *nl = strchr(f, '\n');
			size_t n = nl ? (size_t)(nl - f) : strlen(f);
			char one[512];
			snprintf(one, sizeof(one), "%.*s", (int)n, f);
			off = append(line, off, sizeof(line) - 2, " ");
			off = text_escape(line, off, sizeof(line) - 2, one);
			f = nl ? nl + 1 : f + n;
		}
	} else {
		off = (size_t)snprintf(line, sizeof(line),
		    "{\"time\":\"%s\",\"level\":\"%s\",\"component\":\"%s\",\"pid\":%ld,",
		    ts, level_names[lvl], logstate.component, (long)getpid());
		if (logstate.connid[0]) {
			off = append(line, off, sizeof(line), "\"conn\":\"");
			off = json_escape(line, off, sizeof(line), logstate.connid);
			off = append(line, off, sizeof(line), "\",");
		}
		off = append(line, off, sizeof(line), "\"func\":\"");
		off = json_escape(line, off, sizeof(line), func);
		off = append(line, off, sizeof(line), "\",\"msg\":\"");
		off = json_escape(line, off, sizeof(line), msg);
		off = append(line, off, sizeof(line), "\"");
		for (const char *f = fields; f != NULL && *f != '\0';) {
			const char *eq = strchr(f, '='), *nl = strchr(f, '\n');
			size_t n = nl ? (size_t)(nl - f) : strlen(f);
			char val[512];
			if (eq == NULL || (nl != NULL && eq > nl))
				break;
			snprintf(key, sizeof(key), "%.*s", (int)(eq - f), f);
			snprintf(val, sizeof(val), "%.*s", (int)(n - (size_t)(eq - f) - 1), eq + 1);
			off = append(line, off, sizeof(line) - 4, ",\"");
			off = json_escape(line, off, sizeof(line) - 4, key);
			off = append(line, off, sizeof(line) - 4, "\":\"");
			off = json_escape(line, off, sizeof(line) - 4, val);
			off = append(line, off, sizeof(line) - 4, "\"");
			f = nl ? nl + 1 : f + n;
		}
		off = append(line, off, sizeof(line) - 2, "}");
	}
	line[off++] = '\n';
	/* One write per line; a short write to a pipe of <PIPE_BUF bytes cannot happen. */
	while (write(STDERR_FILENO, line, off) < 0 && errno == EINTR)
		;
	errno = saved;
}

void
log_emit(enum log_level lvl, const char *func, const char *fields, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(lvl, func, fields, fmt, ap);
	va_end(ap);
}

void
log_die(const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_LEVEL_FATAL, func, NULL, fmt, ap);
	va_end(ap);
	_exit(255);
}
