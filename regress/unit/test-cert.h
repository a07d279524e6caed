/* Test helper: a self-signed TLS server certificate made on the spot, so unit
 * tests need no openssl(1) and no files in the tree. */
#ifndef REGRESS_TEST_CERT_H
#define REGRESS_TEST_CERT_H

/* Writes a P-256 key and a CA:TRUE certificate for DNS name dns_name, valid for
 * an hour, as PEM files: the client trusts it as its only root. 0 or -1. */
int test_cert_make(const char *certpath, const char *keypath, const char *dns_name);

#endif
