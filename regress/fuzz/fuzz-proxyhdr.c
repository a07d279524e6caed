/* libFuzzer target for child/proxyhdr: any bytes, any length, must parse or
 * fail cleanly, and a success must describe a well-formed header. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "child/proxyhdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxyhdr h;
	int rc;

	rc = proxyhdr_parse((const char *)data, size, &h);
	if (rc > 0) {
		/* A header fits the limit, lies inside the input and ends in CRLF. */
		if ((size_t)rc > size || rc > PROXYHDR_MAX_LEN ||
		    memcmp(data + rc - 2, "\r\n", 2) != 0)
			abort();
		if (h.family != AF_UNSPEC && h.family != AF_INET && h.family != AF_INET6)
			abort();
		if (memchr(h.src, '\0', sizeof(h.src)) == NULL ||
		    memchr(h.dst, '\0', sizeof(h.dst)) == NULL)
			abort();
		/* Parsing is a pure function of the header bytes. */
		if (proxyhdr_parse((const char *)data, (size_t)rc, &h) != rc)
			abort();
	} else if (rc < PROXYHDR_E_PORT) {
		abort();
	}
	return 0;
}
