/* authorized_keys parsing: "type base64 [comment]" lines compared byte-exact
 * with a public key blob. Lines with options are skipped until we enforce them. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/log.h"
#include "privsep/authkeys.h"

#define AUTHKEYS_BLOB_MAX 16384		/* OpenSSH's SSH_MAX_PUBKEY_BYTES */

static const char *const key_types[] = {
	"ssh-ed25519",
	"ecdsa-sha2-nistp256",
	"ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521",
	"ssh-rsa",
	"ssh-dss",
	"sk-ssh-ed25519@openssh.com",
	"sk-ecdsa-sha2-nistp256@openssh.com",
	"ssh-ed25519-cert-v01@openssh.com",
	"ecdsa-sha2-nistp256-cert-v01@openssh.com",
	"ecdsa-sha2-nistp384-cert-v01@openssh.com",
	"ecdsa-sha2-nistp521-cert-v01@openssh.com",
	"ssh-rsa-cert-v01@openssh.com",
	"ssh-dss-cert-v01@openssh.com",
	"sk-ssh-ed25519-cert-v01@openssh.com",
	"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
};

const char *
authkeys_strerror(int err)
{
	switch (err) {
	case AUTHKEYS_E_OPEN: return "cannot open";
	case AUTHKEYS_E_NOTFILE: return "not a regular file";
	case AUTHKEYS_E_TOOBIG: return "file too large";
	case AUTHKEYS_E_READ: return "read error";
	case AUTHKEYS_E_NOMEM: return "out of memory";
	default: return "unknown error";
	}
}

static bool
is_key_type(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(key_types) / sizeof(key_types[0]); i++)
		if (strlen(key_types[i]) == len && memcmp(key_types[i], s, len) == 0)
			return true;
	return false;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* The blob's leading string (its key type) equals type[0..tlen). */
static bool
blob_has_type(const uint8_t *blob, size_t blen, const char *type, size_t tlen)
{
	uint32_t n;

	if (blen < 4)
		return false;
	n = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 | blob[3];
	return n == tlen && blen - 4 >= n && memcmp(blob + 4, type, tlen) == 0;
}

/* One line (no newline): 1 if it names blob, 0 otherwise. scratch holds
 * AUTHKEYS_BLOB_MAX bytes. */
static int
match_line(const char *p, const char *end, int lineno, const uint8_t *blob, size_t blen,
    uint8_t *scratch)
{
	const char *type, *b64;
	size_t tlen, b64len, binlen;
	const char *b64end;

	while (p < end && is_space(*p))
		p++;
	if (p == end || *p == '#' || *p == '\r')
		return 0;
	for (type = p; p < end && !is_space(*p); p++)
		;
	tlen = (size_t)(p - type);
	if (!is_key_type(type, tlen)) {
		log_debug("authorized keys line %d: options are not enforced yet, line skipped",
		    lineno);
		return 0;
	}
	while (p < end && is_space(*p))
		p++;
	for (b64 = p; p < end && !is_space(*p) && *p != '\r'; p++)
		;
	b64len = (size_t)(p - b64);
	if (b64len == 0 || b64len > (AUTHKEYS_BLOB_MAX / 3 + 1) * 4) {
		log_debug("authorized keys line %d: bad key length, line skipped", lineno);
		return 0;
	}
	if (sodium_base642bin(scratch, AUTHKEYS_BLOB_MAX, b64, b64len, NULL, &binlen,
	    &b64end, sodium_base64_VARIANT_ORIGINAL) != 0 || b64end != b64 + b64len) {
		log_debug("authorized keys line %d: bad base64, line skipped", lineno);
		return 0;
	}
	if (!blob_has_type(scratch, binlen, type, tlen)) {
		log_debug("authorized keys line %d: key type does not match the key, line skipped",
		    lineno);
		return 0;
	}
	return binlen == blen && memcmp(scratch, blob, blen) == 0;
}

int
authkeys_match_text(const char *text, size_t tlen, const uint8_t *blob, size_t blen)
{
	const char *p = text, *end = text + tlen;
	uint8_t *scratch;
	int lineno = 0, found = 0;

	if (blen == 0 || blen > AUTHKEYS_BLOB_MAX || tlen == 0)
		return 0;
	if ((scratch = malloc(AUTHKEYS_BLOB_MAX)) == NULL)
		return AUTHKEYS_E_NOMEM;
	while (p < end && !found) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;

		lineno++;
		/* A NUL inside a line makes it unparseable text: skip it. */
		if (memchr(p, '\0', (size_t)(eol - p)) == NULL)
			found = match_line(p, eol, lineno, blob, blen, scratch);
		p = nl ? nl + 1 : end;
	}
	free(scratch);
	return found;
}

int
authkeys_match_file(const char *path, const uint8_t *blob, size_t blen)
{
	struct stat st;
	char *text;
	size_t off = 0;
	ssize_t n;
	int fd, r;

	/* O_NONBLOCK: a FIFO planted as the keys file must not hang the monitor. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) < 0)
		return AUTHKEYS_E_OPEN;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return AUTHKEYS_E_OPEN;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return AUTHKEYS_E_NOTFILE;
	}
	if (st.st_size > AUTHKEYS_FILE_MAX) {
		close(fd);
		return AUTHKEYS_E_TOOBIG;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return AUTHKEYS_E_NOMEM;
	}
	/* The file may change size under us: read at most what fstat promised. */
	while (off < (size_t)st.st_size) {
		n = read(fd, text + off, (size_t)st.st_size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(text);
			close(fd);
			return AUTHKEYS_E_READ;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	r = authkeys_match_text(text, off, blob, blen);
	free(text);
	return r;
}
