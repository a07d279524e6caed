/* regress/keysecret: prints in hex the secret bytes of an unencrypted OpenSSH
 * private key file (Ed25519 seed, ECDSA scalar, RSA private exponent). */
#include "autoconf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KS_BEGIN	"-----BEGIN OPENSSH PRIVATE KEY-----"
#define KS_END		"-----END OPENSSH PRIVATE KEY-----"
#define KS_MAGIC	"openssh-key-v1"	/* followed by a NUL in the blob */
#define KS_MAX_FILE	65536

/* A read cursor over the decoded key blob. */
struct ks_buf {
	const uint8_t *p;
	size_t left;
};

static int
ks_u32(struct ks_buf *b, uint32_t *v)
{
	if (b->left < 4)
		return -1;
	*v = (uint32_t)b->p[0] << 24 | (uint32_t)b->p[1] << 16 |
	    (uint32_t)b->p[2] << 8 | b->p[3];
	b->p += 4;
	b->left -= 4;
	return 0;
}

/* An SSH string: borrowed pointer into the blob. */
static int
ks_string(struct ks_buf *b, const uint8_t **s, size_t *len)
{
	uint32_t n;

	if (ks_u32(b, &n) != 0 || n > b->left)
		return -1;
	*s = b->p;
	*len = n;
	b->p += n;
	b->left -= n;
	return 0;
}

static int
ks_string_eq(const uint8_t *s, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(s, want, len) == 0;
}

/* An mpint without its sign-padding zero bytes: the magnitude as stored. */
static int
ks_mpint(struct ks_buf *b, const uint8_t **s, size_t *len)
{
	if (ks_string(b, s, len) != 0)
		return -1;
	while (*len > 0 && (*s)[0] == 0) {
		(*s)++;
		(*len)--;
	}
	return *len > 0 ? 0 : -1;
}

static int
ks_b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decodes the base64 body between the armour lines; whitespace is skipped. */
static int
ks_unarmour(const char *text, uint8_t *out, size_t cap, size_t *outlen)
{
	const char *p = strstr(text, KS_BEGIN), *end;
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;

	if (p == NULL || (end = strstr(p, KS_END)) == NULL)
		return -1;
	for (p += strlen(KS_BEGIN); p < end; p++) {
		int v = ks_b64val((unsigned char)*p);

		if (*p == '=')
			break;
		if (v < 0) {
			if (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t')
				continue;
			return -1;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == cap)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	*outlen = n;
	return 0;
}

/* Finds the secret of the one key in an unencrypted openssh-key-v1 blob. */
static int
ks_secret(const uint8_t *blob, size_t len, const uint8_t **sec, size_t *seclen,
    const char **why)
{
	struct ks_buf b = { blob, len }, priv;
	const uint8_t *s, *type, *tmp;
	size_t slen, typelen, tmplen;
	uint32_t nkeys, check1, check2;

	if (len < sizeof(KS_MAGIC) || memcmp(blob, KS_MAGIC, sizeof(KS_MAGIC)) != 0) {
		*why = "not an openssh-key-v1 blob";
		return -1;
	}
	b.p += sizeof(KS_MAGIC);
	b.left -= sizeof(KS_MAGIC);
	if (ks_string(&b, &s, &slen) != 0 || !ks_string_eq(s, slen, "none")) {
		*why = "key is encrypted (cipher is not \"none\")";
		return -1;
	}
	if (ks_string(&b, &s, &slen) != 0 ||	/* kdfname */
	    ks_string(&b, &s, &slen) != 0 ||	/* kdfoptions */
	    ks_u32(&b, &nkeys) != 0 || nkeys != 1 ||
	    ks_string(&b, &s, &slen) != 0 ||	/* public key blob */
	    ks_string(&b, &s, &slen) != 0) {	/* private section */
		*why = "truncated header or not exactly one key";
		return -1;
	}
	priv.p = s;
	priv.left = slen;
	if (ks_u32(&priv, &check1) != 0 || ks_u32(&priv, &check2) != 0 ||
	    check1 != check2 || ks_string(&priv, &type, &typelen) != 0) {
		*why = "bad private section";
		return -1;
	}
	if (ks_string_eq(type, typelen, "ssh-ed25519")) {
		/* string pk (32), string sk (64 = seed || pk) */
		if (ks_string(&priv, &tmp, &tmplen) != 0 || tmplen != 32 ||
		    ks_string(&priv, sec, seclen) != 0 || *seclen != 64) {
			*why = "bad ed25519 private key";
			return -1;
		}
		*seclen = 32;
		return 0;
	}
	if (typelen > 11 && memcmp(type, "ecdsa-sha2-", 11) == 0) {
		/* string curve, string Q, mpint d */
		if (ks_string(&priv, &tmp, &tmplen) != 0 ||
		    ks_string(&priv, &tmp, &tmplen) != 0 ||
		    ks_mpint(&priv, sec, seclen) != 0) {
			*why = "bad ecdsa private key";
			return -1;
		}
		return 0;
	}
	if (ks_string_eq(type, typelen, "ssh-rsa")) {
		/* mpint n, mpint e, mpint d, mpint iqmp, mpint p, mpint q */
		if (ks_mpint(&priv, &tmp, &tmplen) != 0 ||
		    ks_mpint(&priv, &tmp, &tmplen) != 0 ||
		    ks_mpint(&priv, sec, seclen) != 0) {
			*why = "bad rsa private key";
			return -1;
		}
		return 0;
	}
	*why = "unsupported key type";
	return -1;
}

int
main(int argc, char **argv)
{
	static char text[KS_MAX_FILE + 1];
	static uint8_t blob[KS_MAX_FILE];
	const uint8_t *sec;
	const char *path, *why = NULL;
	size_t n, bloblen, seclen, i;
	int reverse = 0;
	FILE *f;

	if (argc == 3 && strcmp(argv[1], "-r") == 0) {
		reverse = 1;
		path = argv[2];
	} else if (argc == 2) {
		path = argv[1];
	} else {
		fprintf(stderr, "usage: keysecret [-r] KEYFILE\n"
		    "  -r  print the bytes in reverse order (a little-endian bignum in memory)\n");
		return 2;
	}
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "keysecret: %s: %s\n", path, strerror(errno));
		return 1;
	}
	n = fread(text, 1, KS_MAX_FILE, f);
	fclose(f);
	text[n] = '\0';
	if (ks_unarmour(text, blob, sizeof(blob), &bloblen) != 0) {
		fprintf(stderr, "keysecret: %s: not an OpenSSH private key file\n", path);
		return 1;
	}
	if (ks_secret(blob, bloblen, &sec, &seclen, &why) != 0) {
		fprintf(stderr, "keysecret: %s: %s\n", path, why);
		return 1;
	}
	for (i = 0; i < seclen; i++)
		printf("%02x", sec[reverse ? seclen - 1 - i : i]);
	printf("\n");
	return 0;
}
