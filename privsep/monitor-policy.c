/* Signing policy of the monitor: hash-sized data, the key's own algorithms
 * (no SHA-1), and a per-connection budget covering the KEX and rekeys. */
#include "autoconf.h"

#include <string.h>

#include "privsep/hostkey.h"
#include "privsep/monitor-policy.h"

const char *
monitor_policy_strerror(int err)
{
	switch (err) {
	case 0: return "allowed";
	case MONITOR_POLICY_E_KEY: return "no such host key";
	case MONITOR_POLICY_E_LENGTH: return "data is not hash-sized";
	case MONITOR_POLICY_E_ALG: return "algorithm not allowed for this host key";
	case MONITOR_POLICY_E_BUDGET: return "signature budget exhausted";
	default: return "unknown error";
	}
}

/* Signature algorithms each key type may use: RFC 8709, RFC 5656, RFC 8332. */
static int
alg_fits(const char *type, const char *alg)
{
	if (strcmp(type, "ssh-rsa") == 0)
		return strcmp(alg, "rsa-sha2-256") == 0 || strcmp(alg, "rsa-sha2-512") == 0;
	/* Ed25519 and ECDSA sign only under their own name. */
	return strcmp(type, alg) == 0;
}

int
monitor_sign_policy(const struct hostkeys *hk, size_t idx, const char *alg, size_t dlen,
    int used, int budget)
{
	const char *type = hostkeys_type(hk, idx);

	if (type == NULL)
		return MONITOR_POLICY_E_KEY;
	/* An SSH exchange hash: SHA-1, SHA-256, SHA-384 or SHA-512 output. */
	if (dlen != 20 && dlen != 32 && dlen != 48 && dlen != 64)
		return MONITOR_POLICY_E_LENGTH;
	if (alg == NULL || !alg_fits(type, alg))
		return MONITOR_POLICY_E_ALG;
	if (used < 0 || used >= budget)
		return MONITOR_POLICY_E_BUDGET;
	return 0;
}
