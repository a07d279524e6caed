/* authorized_keys matching: does a public key blob appear in a user's file?
 * Run by the monitor (as root) and by a child run by hand without a monitor. */
#ifndef PRIVSEP_AUTHKEYS_H
#define PRIVSEP_AUTHKEYS_H

#include <stddef.h>
#include <stdint.h>

#define AUTHKEYS_FILE_MAX	(4 * 1024 * 1024)	/* larger files are refused */

#define AUTHKEYS_E_OPEN		-1	/* cannot open or stat the file (errno kept) */
#define AUTHKEYS_E_NOTFILE	-2	/* not a regular file */
#define AUTHKEYS_E_TOOBIG	-3	/* larger than AUTHKEYS_FILE_MAX */
#define AUTHKEYS_E_READ		-4	/* read error */
#define AUTHKEYS_E_NOMEM	-5
const char *authkeys_strerror(int err);

/* 1 if blob (SSH wire public key) is on a line of text, 0 if not. Lines with
 * options are skipped (not enforced yet); so are malformed lines. */
int authkeys_match_text(const char *text, size_t tlen, const uint8_t *blob, size_t blen);
/* Same on a file's contents: 1, 0 or a negative AUTHKEYS_E_*. */
int authkeys_match_file(const char *path, const uint8_t *blob, size_t blen);

#endif
