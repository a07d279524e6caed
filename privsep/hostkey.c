/* Host private keys: reads openssh-key-v1 (and PEM ECDSA/RSA) files, checks their
 * ownership and mode, and signs into SSH signature blobs. Secrets are wiped on free. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "privsep/hostkey.h"

#define KEYFILE_MAX		(64 * 1024)
#define RSA_MIN_BITS		1024		/* OpenSSH's SSH_RSA_MINIMUM_MODULUS_SIZE */
#define OPENSSH_MAGIC		"openssh-key-v1"	/* followed by a NUL */
#define OPENSSH_BEGIN		"-----BEGIN OPENSSH PRIVATE KEY-----"
#define OPENSSH_END		"-----END OPENSSH PRIVATE KEY-----"

enum hostkey_kind { HK_ED25519, HK_ECDSA, HK_RSA };

struct hostkey {
	enum hostkey_kind kind;
	const char *type;		/* "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa" */
	uint8_t *pub;			/* SSH wire public key */
	size_t publen;
	uint8_t ed_sk[crypto_sign_SECRETKEYBYTES];	/* Ed25519: seed || pub */
	EVP_PKEY *pkey;			/* ECDSA, RSA */
	const EVP_MD *ec_md;		/* ECDSA: the curve's hash */
};

struct hostkeys {
	struct hostkey *k;
	size_t n;
};

/* ECDSA curves: SSH name suffix, OpenSSL group name, hash (RFC 5656 §6.2.1). */
static const struct curve {
	const char *ssh_type;
	const char *ssh_curve;
	const char *group;
	const char *md;
} curves[] = {
	{ "ecdsa-sha2-nistp256", "nistp256", "prime256v1", "SHA256" },
	{ "ecdsa-sha2-nistp384", "nistp384", "secp384r1", "SHA384" },
	{ "ecdsa-sha2-nistp521", "nistp521", "secp521r1", "SHA512" },
};

/* A growable SSH wire buffer; a failed append poisons it. */
struct wbuf {
	uint8_t *p;
	size_t len, cap;
	bool fail;
};

static void
wbuf_put(struct wbuf *b, const void *d, size_t n)
{
	if (b->fail)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		uint8_t *np;

		while (cap < b->len + n)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->fail = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void
wbuf_u32(struct wbuf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	wbuf_put(b, x, 4);
}

static void
wbuf_string(struct wbuf *b, const void *d, size_t n)
{
	wbuf_u32(b, (uint32_t)n);
	wbuf_put(b, d, n);
}

static void
wbuf_cstring(struct wbuf *b, const char *s)
{
	wbuf_string(b, s, strlen(s));
}

/* Hands the bytes to the caller (*p, *len, to free), or frees them and
 * returns -1 when an append failed. */
static int
wbuf_take(struct wbuf *b, uint8_t **p, size_t *len)
{
	if (b->fail) {
		free(b->p);
		return -1;
	}
	*p = b->p;
	*len = b->len;
	return 0;
}

/* SSH mpint from a non-negative BIGNUM (RFC 4251 §5). */
static void
wbuf_mpint(struct wbuf *b, const BIGNUM *bn)
{
	int n = BN_num_bytes(bn);
	uint8_t tmp[1 + 2048];		/* up to 16384-bit RSA, OpenSSH's maximum */

	if (n < 0 || (size_t)n + 1 > sizeof(tmp)) {
		b->fail = true;
		return;
	}
	tmp[0] = 0;
	BN_bn2bin(bn, tmp + 1);
	/* A leading zero byte only when the high bit is set (positive numbers). */
	if (n > 0 && (tmp[1] & 0x80))
		wbuf_string(b, tmp, (size_t)n + 1);
	else
		wbuf_string(b, tmp + 1, (size_t)n);
}

/* Reader over untrusted key file bytes. */
struct rbuf {
	const uint8_t *p;
	size_t len, off;
};

static bool
rbuf_u32(struct rbuf *r, uint32_t *v)
{
	if (r->len - r->off < 4)
		return false;
	*v = (uint32_t)r->p[r->off] << 24 | (uint32_t)r->p[r->off + 1] << 16 |
	    (uint32_t)r->p[r->off + 2] << 8 | (uint32_t)r->p[r->off + 3];
	r->off += 4;
	return true;
}

static bool
rbuf_string(struct rbuf *r, const uint8_t **s, size_t *n)
{
	uint32_t len;

	if (!rbuf_u32(r, &len) || r->len - r->off < len)
		return false;
	*s = r->p + r->off;
	*n = len;
	r->off += len;
	return true;
}

static bool
rbuf_string_eq(const uint8_t *s, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(s, want, n) == 0;
}

/* A positive mpint as a BIGNUM (secure heap: it may be a private value). */
static BIGNUM *
rbuf_mpint(struct rbuf *r)
{
	const uint8_t *s;
	size_t n;
	BIGNUM *bn;

	if (!rbuf_string(r, &s, &n) || n > 2048 || (n > 0 && (s[0] & 0x80)))
		return NULL;
	if ((bn = BN_secure_new()) == NULL)
		return NULL;
	if (BN_bin2bn(s, (int)n, bn) == NULL) {
		BN_clear_free(bn);
		return NULL;
	}
	return bn;
}

static void
seterr(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "host key %s: %s", path, msg);
}

static void
hostkey_clear(struct hostkey *k)
{
	free(k->pub);
	sodium_memzero(k->ed_sk, sizeof(k->ed_sk));
	EVP_PKEY_free(k->pkey);		/* clears private BIGNUMs */
	memset(k, 0, sizeof(*k));
}

const char *
hostkeys_strerror(int err)
{
	switch (err) {
	case 0: return "success";
	case HOSTKEY_E_NOKEY: return "no such host key";
	case HOSTKEY_E_ALG: return "algorithm does not match the host key";
	case HOSTKEY_E_CRYPTO: return "signing failed";
	default: return "unknown error";
	}
}

/* Signs and verifies a fixed message: catches a private key that does not
 * belong to its public half before we ever serve a client with it. */
static int
pkey_selftest(EVP_PKEY *pkey, const EVP_MD *md)
{
	static const uint8_t msg[32] = "ssh-proxy host key self-test...";
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t sig[2048];
	size_t siglen = sizeof(sig);
	int ok;

	ok = c != NULL && EVP_DigestSignInit(c, NULL, md, NULL, pkey) == 1 &&
	    EVP_PKEY_get_size(pkey) > 0 && (size_t)EVP_PKEY_get_size(pkey) <= sizeof(sig) &&
	    EVP_DigestSign(c, sig, &siglen, msg, sizeof(msg)) == 1;
	EVP_MD_CTX_free(c);
	if (!ok)
		return -1;
	c = EVP_MD_CTX_new();
	ok = c != NULL && EVP_DigestVerifyInit(c, NULL, md, NULL, pkey) == 1 &&
	    EVP_DigestVerify(c, sig, siglen, msg, sizeof(msg)) == 1;
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

static EVP_PKEY *
pkey_fromdata(const char *alg, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
	EVP_PKEY *pkey = NULL;

	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1)
		pkey = NULL;
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

static const struct curve *
curve_by(const char *ssh_type, const char *group)
{
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if ((ssh_type && strcmp(curves[i].ssh_type, ssh_type) == 0) ||
		    (group && strcmp(curves[i].group, group) == 0))
			return &curves[i];
	return NULL;
}

/* Sets k->pub/publen for an ECDSA key from its curve and public point. */
static int
ecdsa_pubblob(struct hostkey *k, const struct curve *c, const uint8_t *q, size_t qlen)
{
	struct wbuf b = { 0 };

	wbuf_cstring(&b, c->ssh_type);
	wbuf_cstring(&b, c->ssh_curve);
	wbuf_string(&b, q, qlen);
	return wbuf_take(&b, &k->pub, &k->publen);
}

static int
rsa_pubblob(struct hostkey *k, const BIGNUM *n, const BIGNUM *e)
{
	struct wbuf b = { 0 };

	wbuf_cstring(&b, "ssh-rsa");
	wbuf_mpint(&b, e);
	wbuf_mpint(&b, n);
	return wbuf_take(&b, &k->pub, &k->publen);
}

static int
parse_ed25519(struct rbuf *r, struct hostkey *k, const char *path, char *err, size_t errlen)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	const uint8_t *pub, *priv;
	size_t publen, privlen;
	struct wbuf b = { 0 };
	int ok;

	if (!rbuf_string(r, &pub, &publen) || publen != crypto_sign_PUBLICKEYBYTES ||
	    !rbuf_string(r, &priv, &privlen) || privlen != crypto_sign_SECRETKEYBYTES ||
	    memcmp(priv + 32, pub, 32) != 0) {
		seterr(err, errlen, path, "malformed Ed25519 key");
		return -1;
	}
	/* The public half must be the one the seed derives. */
	crypto_sign_seed_keypair(pk, sk, priv);
	ok = sodium_memcmp(pk, pub, sizeof(pk)) == 0;
	sodium_memzero(sk, sizeof(sk));
	if (!ok) {
		seterr(err, errlen, path, "Ed25519 public key does not match the private key");
		return -1;
	}
	memcpy(k->ed_sk, priv, sizeof(k->ed_sk));
	wbuf_cstring(&b, "ssh-ed25519");
	wbuf_string(&b, pub, publen);
	if (wbuf_take(&b, &k->pub, &k->publen) != 0) {
		seterr(err, errlen, path, "out of memory");
		return -1;
	}
	k->kind = HK_ED25519;
	k->type = "ssh-ed25519";
	return 0;
}

static int
parse_ecdsa(struct rbuf *r, const char *type, struct hostkey *k, const char *path, char *err,
    size_t errlen)
{
	const struct curve *c = curve_by(type, NULL);
	const uint8_t *cname, *q;
	size_t cnlen, qlen;
	BIGNUM *d = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	int rc = -1;

	if (!rbuf_string(r, &cname, &cnlen) || !rbuf_string_eq(cname, cnlen, c->ssh_curve) ||
	    !rbuf_string(r, &q, &qlen) || qlen == 0 || q[0] != 0x04 || (d = rbuf_mpint(r)) == NULL) {
		seterr(err, errlen, path, "malformed ECDSA key");
		goto out;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, q, qlen) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) ||
	    (k->pkey = pkey_fromdata("EC", bld)) == NULL) {
		seterr(err, errlen, path, "invalid ECDSA key");
		goto out;
	}
	k->kind = HK_ECDSA;
	k->type = c->ssh_type;
	k->ec_md = EVP_get_digestbyname(c->md);
	if (pkey_selftest(k->pkey, k->ec_md) != 0) {
		seterr(err, errlen, path, "ECDSA public key does not match the private key");
		goto out;
	}
	if (ecdsa_pubblob(k, c, q, qlen) != 0) {
		seterr(err, errlen, path, "out of memory");
		goto out;
	}
	rc = 0;
out:
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(d);
	return rc;
}

static int
parse_rsa(struct rbuf *r, struct hostkey *k, const char *path, char *err, size_t errlen)
{
	BIGNUM *n = NULL, *e = NULL, *d = NULL, *iqmp = NULL, *p = NULL, *q = NULL;
	BIGNUM *dmp1 = NULL, *dmq1 = NULL, *t = NULL;
	BN_CTX *bnctx = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	int rc = -1;

	if ((n = rbuf_mpint(r)) == NULL || (e = rbuf_mpint(r)) == NULL ||
	    (d = rbuf_mpint(r)) == NULL || (iqmp = rbuf_mpint(r)) == NULL ||
	    (p = rbuf_mpint(r)) == NULL || (q = rbuf_mpint(r)) == NULL ||
	    BN_is_zero(p) || BN_is_zero(q) || BN_is_one(p) || BN_is_one(q)) {
		seterr(err, errlen, path, "malformed RSA key");
		goto out;
	}
	if (BN_num_bits(n) < RSA_MIN_BITS) {
		seterr(err, errlen, path, "RSA key of %d bits is too small (minimum %d)",
		    BN_num_bits(n), RSA_MIN_BITS);
		goto out;
	}
	/* The file has no CRT exponents: derive d mod (p-1) and d mod (q-1). */
	if ((bnctx = BN_CTX_secure_new()) == NULL || (t = BN_secure_new()) == NULL ||
	    (dmp1 = BN_secure_new()) == NULL || (dmq1 = BN_secure_new()) == NULL ||
	    !BN_sub(t, p, BN_value_one()) || !BN_mod(dmp1, d, t, bnctx) ||
	    !BN_sub(t, q, BN_value_one()) || !BN_mod(dmq1, d, t, bnctx)) {
		seterr(err, errlen, path, "invalid RSA key");
		goto out;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, p) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, q) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dmp1) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dmq1) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, iqmp) ||
	    (k->pkey = pkey_fromdata("RSA", bld)) == NULL) {
		seterr(err, errlen, path, "invalid RSA key");
		goto out;
	}
	k->kind = HK_RSA;
	k->type = "ssh-rsa";
	if (pkey_selftest(k->pkey, EVP_sha256()) != 0) {
		seterr(err, errlen, path, "RSA public key does not match the private key");
		goto out;
	}
	if (rsa_pubblob(k, n, e) != 0) {
		seterr(err, errlen, path, "out of memory");
		goto out;
	}
	rc = 0;
out:
	OSSL_PARAM_BLD_free(bld);
	BN_CTX_free(bnctx);
	BN_clear_free(n);
	BN_clear_free(e);
	BN_clear_free(d);
	BN_clear_free(iqmp);
	BN_clear_free(p);
	BN_clear_free(q);
	BN_clear_free(dmp1);
	BN_clear_free(dmq1);
	BN_clear_free(t);
	return rc;
}

/* openssh-key-v1 (PROTOCOL.key in OpenSSH), unencrypted, one key. */
static int
parse_openssh(const uint8_t *bin, size_t binlen, struct hostkey *k, const char *path,
    char *err, size_t errlen)
{
	struct rbuf r = { bin, binlen, 0 }, pr;
	const uint8_t *cipher, *kdf, *kdfopts, *pub, *priv, *type, *comment;
	size_t cipherlen, kdflen, kdfoptslen, publen, privlen, typelen, commentlen;
	uint32_t nkeys, check1, check2;
	char typestr[64];
	int rc;

	if (binlen < sizeof(OPENSSH_MAGIC) || memcmp(bin, OPENSSH_MAGIC, sizeof(OPENSSH_MAGIC)) != 0) {
		seterr(err, errlen, path, "not an openssh-key-v1 key");
		return -1;
	}
	r.off = sizeof(OPENSSH_MAGIC);
	if (!rbuf_string(&r, &cipher, &cipherlen) || !rbuf_string(&r, &kdf, &kdflen) ||
	    !rbuf_string(&r, &kdfopts, &kdfoptslen)) {
		seterr(err, errlen, path, "malformed key file");
		return -1;
	}
	if (!rbuf_string_eq(cipher, cipherlen, "none") || !rbuf_string_eq(kdf, kdflen, "none")) {
		seterr(err, errlen, path,
		    "key is encrypted (passphrase-protected); host keys must be unencrypted");
		return -1;
	}
	if (kdfoptslen != 0 || !rbuf_u32(&r, &nkeys) || nkeys != 1 ||
	    !rbuf_string(&r, &pub, &publen) || !rbuf_string(&r, &priv, &privlen) ||
	    r.off != r.len || privlen % 8 != 0) {
		seterr(err, errlen, path, "malformed key file (one unencrypted key expected)");
		return -1;
	}
	pr = (struct rbuf){ priv, privlen, 0 };
	if (!rbuf_u32(&pr, &check1) || !rbuf_u32(&pr, &check2) || check1 != check2 ||
	    !rbuf_string(&pr, &type, &typelen) || typelen == 0 || typelen >= sizeof(typestr)) {
		seterr(err, errlen, path, "malformed private key section");
		return -1;
	}
	memcpy(typestr, type, typelen);
	typestr[typelen] = '\0';
	if (strcmp(typestr, "ssh-ed25519") == 0)
		rc = parse_ed25519(&pr, k, path, err, errlen);
	else if (curve_by(typestr, NULL) != NULL)
		rc = parse_ecdsa(&pr, typestr, k, path, err, errlen);
	else if (strcmp(typestr, "ssh-rsa") == 0)
		rc = parse_rsa(&pr, k, path, err, errlen);
	else {
		seterr(err, errlen, path, "unsupported key type \"%s\"", typestr);
		return -1;
	}
	if (rc != 0)
		return -1;
	/* Comment, then padding 1, 2, 3, ... up to the cipher block size. */
	if (!rbuf_string(&pr, &comment, &commentlen) || pr.len - pr.off >= 8) {
		seterr(err, errlen, path, "malformed private key section");
		return -1;
	}
	for (size_t i = 0; pr.off + i < pr.len; i++)
		if (pr.p[pr.off + i] != (uint8_t)(i + 1)) {
			seterr(err, errlen, path, "bad padding in private key section");
			return -1;
		}
	if (publen != k->publen || memcmp(pub, k->pub, publen) != 0) {
		seterr(err, errlen, path, "public key does not match the private key");
		return -1;
	}
	return 0;
}

static int
pem_nopass(char *buf, int size, int rwflag, void *u)
{
	(void)buf; (void)size; (void)rwflag; (void)u;
	return -1;	/* never prompt: encrypted keys are refused */
}

/* PEM ECDSA/RSA (SEC1, PKCS#1 or PKCS#8) via libcrypto, a convenience. */
static int
parse_pem(const char *text, size_t len, struct hostkey *k, const char *path, char *err,
    size_t errlen)
{
	BIO *bio;
	EVP_PKEY *pkey;
	BIGNUM *n = NULL, *e = NULL;
	char group[64];
	uint8_t q[256];
	size_t qlen;
	const struct curve *c;
	int rc = -1;

	if (strstr(text, "ENCRYPTED") != NULL) {
		seterr(err, errlen, path,
		    "key is encrypted (passphrase-protected); host keys must be unencrypted");
		return -1;
	}
	if ((bio = BIO_new_mem_buf(text, (int)len)) == NULL) {
		seterr(err, errlen, path, "out of memory");
		return -1;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, pem_nopass, NULL);
	BIO_free(bio);
	if (pkey == NULL) {
		seterr(err, errlen, path, "not a valid PEM private key");
		return -1;
	}
	k->pkey = pkey;
	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC) {
		if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
		    sizeof(group), NULL) != 1 || (c = curve_by(NULL, group)) == NULL) {
			seterr(err, errlen, path, "unsupported ECDSA curve");
			return -1;
		}
		if (EVP_PKEY_set_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
		    "uncompressed") != 1 || EVP_PKEY_get_octet_string_param(pkey,
		    OSSL_PKEY_PARAM_PUB_KEY, q, sizeof(q), &qlen) != 1) {
			seterr(err, errlen, path, "invalid ECDSA key");
			return -1;
		}
		k->kind = HK_ECDSA;
		k->type = c->ssh_type;
		k->ec_md = EVP_get_digestbyname(c->md);
		if (pkey_selftest(pkey, k->ec_md) != 0 || ecdsa_pubblob(k, c, q, qlen) != 0) {
			seterr(err, errlen, path, "invalid ECDSA key");
			return -1;
		}
		return 0;
	}
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
		seterr(err, errlen, path,
		    "unsupported PEM key type (use an OpenSSH-format key: ssh-keygen -t ed25519)");
		return -1;
	}
	if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
		seterr(err, errlen, path, "invalid RSA key");
		goto out;
	}
	if (BN_num_bits(n) < RSA_MIN_BITS) {
		seterr(err, errlen, path, "RSA key of %d bits is too small (minimum %d)",
		    BN_num_bits(n), RSA_MIN_BITS);
		goto out;
	}
	k->kind = HK_RSA;
	k->type = "ssh-rsa";
	if (pkey_selftest(pkey, EVP_sha256()) != 0 || rsa_pubblob(k, n, e) != 0) {
		seterr(err, errlen, path, "invalid RSA key");
		goto out;
	}
	rc = 0;
out:
	BN_free(n);
	BN_free(e);
	return rc;
}

/* Reads a key file after sshd's checks: a regular file, not accessible by
 * group or others, owned by root when we are root. *text is NUL-terminated. */
static int
read_keyfile(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	size_t off = 0;
	ssize_t n;
	char *buf;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
		seterr(err, errlen, path, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		seterr(err, errlen, path, "not a regular file");
		close(fd);
		return -1;
	}
	if (geteuid() == 0 && st.st_uid != 0) {
		seterr(err, errlen, path, "must be owned by root (owner uid %lu)",
		    (unsigned long)st.st_uid);
		close(fd);
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		seterr(err, errlen, path, "permissions 0%03o are too open: the private key "
		    "must not be accessible by group or others (chmod 600)",
		    (unsigned)(st.st_mode & 0777));
		close(fd);
		return -1;
	}
	if (st.st_size > KEYFILE_MAX || st.st_size == 0) {
		seterr(err, errlen, path, st.st_size ? "file too large" : "file is empty");
		close(fd);
		return -1;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		seterr(err, errlen, path, "out of memory");
		close(fd);
		return -1;
	}
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	if (off != (size_t)st.st_size) {
		OPENSSL_cleanse(buf, (size_t)st.st_size);
		free(buf);
		seterr(err, errlen, path, "short read");
		return -1;
	}
	buf[off] = '\0';
	*text = buf;
	*len = off;
	return 0;
}

static int
load_one(const char *path, struct hostkey *k, char *err, size_t errlen)
{
	char *text, *begin, *end;
	uint8_t *bin = NULL;
	size_t len, binlen = 0, bincap = 0;
	int rc = -1;

	if (read_keyfile(path, &text, &len, err, errlen) != 0)
		return -1;
	if (memchr(text, '\0', len) != NULL) {
		seterr(err, errlen, path, "not a text key file");
	} else if ((begin = strstr(text, OPENSSH_BEGIN)) != NULL) {
		begin += strlen(OPENSSH_BEGIN);
		if ((end = strstr(begin, OPENSSH_END)) == NULL) {
			seterr(err, errlen, path, "no \"%s\" line", OPENSSH_END);
		} else if ((bin = malloc((bincap = (size_t)(end - begin)) + 1)) == NULL) {
			seterr(err, errlen, path, "out of memory");
		} else if (sodium_base642bin(bin, bincap, begin, bincap,
		    " \t\r\n", &binlen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
			seterr(err, errlen, path, "bad base64 in key file");
		} else {
			rc = parse_openssh(bin, binlen, k, path, err, errlen);
		}
	} else if (strstr(text, "-----BEGIN ") != NULL) {
		rc = parse_pem(text, len, k, path, err, errlen);
	} else {
		seterr(err, errlen, path, "not a private key file (OpenSSH or PEM format expected)");
	}
	if (bin != NULL) {
		OPENSSL_cleanse(bin, bincap);
		free(bin);
	}
	OPENSSL_cleanse(text, len);
	free(text);
	if (rc != 0)
		hostkey_clear(k);
	return rc;
}

int
hostkeys_load(struct hostkeys **out, const char *const *paths, size_t n, char *err, size_t errlen)
{
	struct hostkeys *hk;

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (n == 0) {
		snprintf(err, errlen, "no host key configured");
		return -1;
	}
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium initialisation failed");
		return -1;
	}
	if ((hk = calloc(1, sizeof(*hk))) == NULL || (hk->k = calloc(n, sizeof(*hk->k))) == NULL) {
		free(hk);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (load_one(paths[i], &hk->k[i], err, errlen) != 0) {
			hostkeys_free(hk);
			return -1;
		}
		hk->n++;
	}
	*out = hk;
	return 0;
}

void
hostkeys_free(struct hostkeys *hk)
{
	if (hk == NULL)
		return;
	for (size_t i = 0; i < hk->n; i++)
		hostkey_clear(&hk->k[i]);
	free(hk->k);
	free(hk);
}

size_t
hostkeys_count(const struct hostkeys *hk)
{
	return hk ? hk->n : 0;
}

int
hostkeys_pubblob(const struct hostkeys *hk, size_t idx, const uint8_t **blob, size_t *len)
{
	if (hk == NULL || idx >= hk->n)
		return HOSTKEY_E_NOKEY;
	*blob = hk->k[idx].pub;
	*len = hk->k[idx].publen;
	return 0;
}

const char *
hostkeys_type(const struct hostkeys *hk, size_t idx)
{
	if (hk == NULL || idx >= hk->n)
		return NULL;
	return hk->k[idx].type;
}

/* The digest a signature algorithm uses on key k, or NULL if alg does not fit k. */
static const EVP_MD *
sign_md(const struct hostkey *k, const char *alg)
{
	switch (k->kind) {
	case HK_ED25519:
		return NULL;
	case HK_ECDSA:
		return strcmp(alg, k->type) == 0 ? k->ec_md : NULL;
	case HK_RSA:
		if (strcmp(alg, "rsa-sha2-256") == 0)
			return EVP_sha256();
		if (strcmp(alg, "rsa-sha2-512") == 0)
			return EVP_sha512();
		if (strcmp(alg, "ssh-rsa") == 0)
			return EVP_sha1();
		return NULL;
	}
	return NULL;
}

static int
evp_sign(EVP_PKEY *pkey, const EVP_MD *md, const uint8_t *data, size_t dlen, uint8_t *out,
    size_t *outlen)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok;

	ok = c != NULL && EVP_DigestSignInit(c, NULL, md, NULL, pkey) == 1 &&
	    EVP_DigestSign(c, out, outlen, data, dlen) == 1;
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

int
hostkeys_sign(const struct hostkeys *hk, size_t idx, const char *alg,
    const uint8_t *data, size_t dlen, uint8_t **sig, size_t *siglen)
{
	const struct hostkey *k;
	const EVP_MD *md = NULL;
	struct wbuf b = { 0 }, rs = { 0 };
	uint8_t raw[2048];
	size_t rawlen = sizeof(raw);

	*sig = NULL;
	*siglen = 0;
	if (hk == NULL || idx >= hk->n)
		return HOSTKEY_E_NOKEY;
	k = &hk->k[idx];
	if (alg == NULL)
		return HOSTKEY_E_ALG;
	if (k->kind == HK_ED25519) {
		unsigned long long n;

		if (strcmp(alg, "ssh-ed25519") != 0)
			return HOSTKEY_E_ALG;
		if (crypto_sign_detached(raw, &n, data, dlen, k->ed_sk) != 0)
			return HOSTKEY_E_CRYPTO;
		rawlen = (size_t)n;
	} else {
		if ((md = sign_md(k, alg)) == NULL)
			return HOSTKEY_E_ALG;
		if (EVP_PKEY_get_size(k->pkey) <= 0 ||
		    (size_t)EVP_PKEY_get_size(k->pkey) > sizeof(raw) ||
		    evp_sign(k->pkey, md, data, dlen, raw, &rawlen) != 0)
			return HOSTKEY_E_CRYPTO;
	}
	wbuf_cstring(&b, alg);
	if (k->kind == HK_ECDSA) {
		/* libcrypto gives DER; SSH wants string(mpint r, mpint s) (RFC 5656 §3.1.2). */
		const uint8_t *p = raw;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)rawlen);
		const BIGNUM *r, *s;

		if (es == NULL) {
			free(b.p);
			return HOSTKEY_E_CRYPTO;
		}
		ECDSA_SIG_get0(es, &r, &s);
		wbuf_mpint(&rs, r);
		wbuf_mpint(&rs, s);
		ECDSA_SIG_free(es);
		wbuf_string(&b, rs.p, rs.len);
		b.fail |= rs.fail;
		free(rs.p);
	} else {
		wbuf_string(&b, raw, rawlen);
	}
	if (wbuf_take(&b, sig, siglen) != 0)
		return HOSTKEY_E_CRYPTO;
	return 0;
}
