/* libFuzzer target for privsep/authkeys: input = u16 blob length (little-endian),
 * the blob, then authorized_keys text. Must answer 0 or 1, never crash. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "privsep/authkeys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t blen;
	uint8_t *blob;
	int rc;

	if (size < 2)
		return 0;
	blen = (size_t)data[0] | (size_t)data[1] << 8;
	if (blen > size - 2)
		blen = size - 2;
	/* Own copy so ASan sees reads past the blob as well as past the text. */
	if ((blob = malloc(blen ? blen : 1)) == NULL)
		return 0;
	memcpy(blob, data + 2, blen);
	rc = authkeys_match_text((const char *)data + 2 + blen, size - 2 - blen, blob, blen);
	if (rc != 0 && rc != 1 && rc != AUTHKEYS_E_NOMEM)
		abort();
	free(blob);
	return 0;
}
