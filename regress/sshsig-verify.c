/* Test helper: SSH signature verification from wire blobs (RFC 8709, 5656, 8332),
 * written apart from privsep/hostkey.c so tests do not check the code with itself. */
#include "autoconf.h"

#include <stdbool.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <sodium.h>

#include "regress/sshsig-verify.h"

struct rd {
	const uint8_t *p;
	size_t n;
};

static bool
str(struct rd *r, const uint8_t **s, size_t *len)
{
	uint32_t l;

	if (r->n < 4)
		return false;
	l = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
	if (r->n - 4 < l)
		return false;
	*s = r->p + 4;
	*len = l;
	r->p += 4 + l;
	r->n -= 4 + l;
	return true;
}

static bool
str_is(struct rd *r, const char *want)
{
	const uint8_t *s;
	size_t n;

	return str(r, &s, &n) && n == strlen(want) && memcmp(s, want, n) == 0;
}

static BIGNUM *
mpint(struct rd *r)
{
	const uint8_t *s;
	size_t n;

	if (!str(r, &s, &n) || (n > 0 && (s[0] & 0x80)))
		return NULL;
	/* Canonical: no superfluous leading zero. */
	if (n > 1 && s[0] == 0 && !(s[1] & 0x80))
		return NULL;
	return BN_bin2bn(s, (int)n, NULL);
}

static EVP_PKEY *
pkey_from(const char *alg, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
	EVP_PKEY *pkey = NULL;

	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

static int
evp_verify(EVP_PKEY *pkey, const char *md, const uint8_t *sig, size_t siglen,
    const uint8_t *data, size_t dlen)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c != NULL && EVP_DigestVerifyInit(c, NULL, EVP_get_digestbyname(md), NULL, pkey) == 1 &&
	    EVP_DigestVerify(c, sig, siglen, data, dlen) == 1;

	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

int
sshsig_verify(const uint8_t *pub, size_t publen, const char *alg,
    const uint8_t *sig, size_t siglen, const uint8_t *data, size_t dlen)
{
	struct rd pk = { pub, publen }, sg = { sig, siglen }, inner;
	const uint8_t *type, *s, *k, *q;
	size_t typelen, slen, klen, qlen;
	char t[64];
	int rc = -1;

	if (!str(&pk, &type, &typelen) || typelen >= sizeof(t))
		return -1;
	memcpy(t, type, typelen);
	t[typelen] = '\0';
	/* Signature blob: string alg, string sigdata, nothing after. */
	if (!str_is(&sg, alg) || !str(&sg, &s, &slen) || sg.n != 0)
		return -1;

	if (strcmp(t, "ssh-ed25519") == 0) {
		if (strcmp(alg, "ssh-ed25519") != 0 || !str(&pk, &k, &klen) || pk.n != 0 ||
		    klen != crypto_sign_PUBLICKEYBYTES || slen != crypto_sign_BYTES)
			return -1;
		return crypto_sign_verify_detached(s, data, dlen, k) == 0 ? 0 : -1;
	}
	if (strncmp(t, "ecdsa-sha2-nistp", 16) == 0) {
		const char *group, *md, *curve = t + 11;
		BIGNUM *r = NULL, *ss = NULL;
		ECDSA_SIG *es = NULL;
		EVP_PKEY *pkey = NULL;
		OSSL_PARAM_BLD *bld;
		uint8_t *der = NULL;
		int derlen;

		if (strcmp(curve, "nistp256") == 0) {
			group = "P-256"; md = "SHA256";
		} else if (strcmp(curve, "nistp384") == 0) {
			group = "P-384"; md = "SHA384";
		} else if (strcmp(curve, "nistp521") == 0) {
			group = "P-521"; md = "SHA512";
		} else
			return -1;
		if (strcmp(alg, t) != 0 || !str_is(&pk, curve) || !str(&pk, &q, &qlen) || pk.n != 0)
			return -1;
		inner = (struct rd){ s, slen };
		if ((r = mpint(&inner)) == NULL || (ss = mpint(&inner)) == NULL || inner.n != 0)
			goto ec_out;
		if ((es = ECDSA_SIG_new()) == NULL || ECDSA_SIG_set0(es, r, ss) != 1)
			goto ec_out;
		r = ss = NULL;
		if ((derlen = i2d_ECDSA_SIG(es, &der)) <= 0)
			goto ec_out;
		if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
		    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, q, qlen)) {
			OSSL_PARAM_BLD_free(bld);
			goto ec_out;
		}
		if ((pkey = pkey_from("EC", bld)) == NULL)
			goto ec_out;
		rc = evp_verify(pkey, md, der, (size_t)derlen, data, dlen);
ec_out:
		EVP_PKEY_free(pkey);
		OPENSSL_free(der);
		ECDSA_SIG_free(es);
		BN_free(r);
		BN_free(ss);
		return rc;
	}
	if (strcmp(t, "ssh-rsa") == 0) {
		const char *md;
		BIGNUM *e = NULL, *n = NULL;
		OSSL_PARAM_BLD *bld = NULL;
		EVP_PKEY *pkey = NULL;

		if (strcmp(alg, "rsa-sha2-256") == 0)
			md = "SHA256";
		else if (strcmp(alg, "rsa-sha2-512") == 0)
			md = "SHA512";
		else if (strcmp(alg, "ssh-rsa") == 0)
			md = "SHA1";
		else
			return -1;
		if ((e = mpint(&pk)) == NULL || (n = mpint(&pk)) == NULL || pk.n != 0 ||
		    slen != (size_t)BN_num_bytes(n))
			goto rsa_out;
		if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)) {
			OSSL_PARAM_BLD_free(bld);
			goto rsa_out;
		}
		if ((pkey = pkey_from("RSA", bld)) == NULL)
			goto rsa_out;
		rc = evp_verify(pkey, md, s, slen, data, dlen);
rsa_out:
		EVP_PKEY_free(pkey);
		BN_free(e);
		BN_free(n);
		return rc;
	}
	return -1;
}
