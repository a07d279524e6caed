/* Connection ids (spec/flows.md §1): "<proxyID>-<pid>-<26 base32 chars>", the id
 * every log line, session record and k8shelld channel id of a connection carries. */
#ifndef CHILD_CONNID_H
#define CHILD_CONNID_H

#include <stddef.h>
#include <stdint.h>

#define CONNID_PROXYID_MAX	6	/* "local" or a 5-char pod hash, NUL included */
#define CONNID_RAND_CHARS	26	/* 130 random bits, 5 per character */
#define CONNID_RAND_BYTES	17	/* bytes drawn to cover 130 bits */
#define CONNID_MAX		64	/* whole id, NUL included */

/* The proxy id of a host: the Kubernetes pod-template hash (last "-" part of
 * at least three, exactly 5 chars of [a-z0-9]) or "local". hostname may be NULL. */
void connid_proxy_id(const char *hostname, char out[CONNID_PROXYID_MAX]);
/* Lower-case RFC 4648 base32 of the first 130 bits of rnd, NUL-terminated. */
void connid_encode(const uint8_t rnd[CONNID_RAND_BYTES], char out[CONNID_RAND_CHARS + 1]);
/* "<proxy_id>-<pid>-<random>" from libsodium's generator. Returns 0 or -1 (too small). */
int connid_make(const char *proxy_id, long pid, char *out, size_t outlen);
/* connid_make for this process: gethostname() and getpid(). */
int connid_new(char *out, size_t outlen);

#endif
