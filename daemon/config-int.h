/* What config.c and config-prepass.c share inside libcommon.a; not for other users
 * of the config (they include daemon/config.h). */
#ifndef DAEMON_CONFIG_INT_H
#define DAEMON_CONFIG_INT_H

#include <stddef.h>

#include <string.h>

#include <yaml.h>

#ifndef HAVE_EXPLICIT_BZERO
/* Both files wipe buffers that may hold secrets (!file contents). */
static inline void
explicit_bzero(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
}
#endif

/* Where libyaml's parser error p stands in src (srclen bytes): 1-based line and
 * column (reader errors carry a byte offset, not a mark), and in ctx the
 * parser's context, " (<context> at line L, column C)", or "" when it has none. */
void config_yaml_error_pos(const yaml_parser_t *p, const char *src, size_t srclen,
    int *line, int *col, char *ctx, size_t ctxlen);

#endif
