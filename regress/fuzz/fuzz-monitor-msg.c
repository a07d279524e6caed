/* libFuzzer target for privsep/monitor-msg: any packet must decode or fail
 * cleanly, and whatever decodes must re-encode to exactly the same bytes. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "privsep/monitor-msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct monitor_msg m;
	uint8_t *out;
	size_t len;
	int rc;

	rc = monitor_msg_decode(data, size, &m);
	if (rc > 0 || rc < MONITOR_MSG_E_NOMEM)
		abort();
	if (rc != 0)
		return 0;
	/* Decoded data is borrowed from the input and text fields are terminated. */
	if (m.dlen > 0 && (m.data < data || m.data + m.dlen > data + size))
		abort();
	if (memchr(m.alg, '\0', sizeof(m.alg)) == NULL || memchr(m.user, '\0', sizeof(m.user)) == NULL ||
	    memchr(m.errmsg, '\0', sizeof(m.errmsg)) == NULL)
		abort();
	/* The wire form is canonical: one encoding per message. */
	if ((out = malloc(size)) == NULL)
		return 0;
	if (monitor_msg_encode(&m, out, size, &len) != 0 || len != size || memcmp(out, data, size) != 0)
		abort();
	free(out);
	return 0;
}
