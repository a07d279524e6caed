/* Host private keys: loaded by the listener, held by the monitor, never by the child.
 * Signs exchange hashes into SSH signature blobs (Ed25519 via libsodium, ECDSA/RSA via libcrypto). */
#ifndef PRIVSEP_HOSTKEY_H
#define PRIVSEP_HOSTKEY_H

#include <stddef.h>
#include <stdint.h>

struct hostkeys;

/* Loads OpenSSH-format private key files. On failure returns -1 and writes a
 * message naming the file into err. */
int hostkeys_load(struct hostkeys **out, const char *const *paths, size_t n, char *err, size_t errlen);
void hostkeys_free(struct hostkeys *hk);
size_t hostkeys_count(const struct hostkeys *hk);
/* Public key blob in SSH wire format (string type, ...); borrowed. */
int hostkeys_pubblob(const struct hostkeys *hk, size_t idx, const uint8_t **blob, size_t *len);
/* "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa", ... */
const char *hostkeys_type(const struct hostkeys *hk, size_t idx);
/* Signs data with key idx using signature algorithm alg ("ssh-ed25519",
 * "ecdsa-sha2-nistp256", "rsa-sha2-256", "rsa-sha2-512", ...). *sig is a malloc'd
 * SSH signature blob (string alg, string signature). Returns 0 or a negative HOSTKEY_E_*. */
int hostkeys_sign(const struct hostkeys *hk, size_t idx, const char *alg,
    const uint8_t *data, size_t dlen, uint8_t **sig, size_t *siglen);

#define HOSTKEY_E_NOKEY		-1	/* no such key index */
#define HOSTKEY_E_ALG		-2	/* algorithm does not match the key */
#define HOSTKEY_E_CRYPTO	-3	/* signing failed */
const char *hostkeys_strerror(int err);

/* OpenSSH-format private key text for key idx, for the debug-only case where
 * the child holds its own key (run by hand, unprivileged, no monitor). */

#endif
