/* Test helper: verifies an SSH signature blob against an SSH public key blob,
 * independently of privsep/hostkey.c (libsodium for Ed25519, libcrypto else). */
#ifndef REGRESS_SSHSIG_VERIFY_H
#define REGRESS_SSHSIG_VERIFY_H

#include <stddef.h>
#include <stdint.h>

/* 0 if sig is a valid alg signature of data by pub; -1 otherwise. */
int sshsig_verify(const uint8_t *pub, size_t publen, const char *alg,
    const uint8_t *sig, size_t siglen, const uint8_t *data, size_t dlen);

#endif
