/* Test helper: self-signed certificates for the TLS cases of the gRPC unit
 * tests (OpenSSL's libcrypto, no openssl(1) needed). */
#include "autoconf.h"

#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "regress/unit/test-cert.h"

static int
cert_ext(X509 *x, int nid, const char *value)
{
	X509_EXTENSION *ext;
	X509V3_CTX v3;
	int ok;

	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static int
pem_write(const char *path, X509 *x, EVP_PKEY *pk)
{
	FILE *f;
	int ok;

	if ((f = fopen(path, "w")) == NULL)
		return -1;
	ok = x != NULL ? PEM_write_X509(f, x) == 1 :
	    PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) == 1;
	if (fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

int
test_cert_make(const char *certpath, const char *keypath, const char *dns_name)
{
	char san[256];
	EVP_PKEY *pk;
	X509_NAME *name;
	X509 *x;
	int r = -1;

	if ((pk = EVP_EC_gen("P-256")) == NULL)
		return -1;
	if ((x = X509_new()) == NULL)
		goto out;
	snprintf(san, sizeof(san), "DNS:%s", dns_name);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pk);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)dns_name, -1, -1, 0);
	X509_set_issuer_name(x, name);
	if (cert_ext(x, NID_basic_constraints, "critical,CA:TRUE") != 0 ||
	    cert_ext(x, NID_subject_alt_name, san) != 0 ||
	    X509_sign(x, pk, EVP_sha256()) <= 0 ||
	    pem_write(certpath, x, NULL) != 0 || pem_write(keypath, NULL, pk) != 0)
		goto out;
	r = 0;
out:
	X509_free(x);
	EVP_PKEY_free(pk);
	return r;
}
