/* The monitor's signing policy: which SIGN requests from the child are
 * legitimate. Any refusal here is a violation and kills the child. */
#ifndef PRIVSEP_MONITOR_POLICY_H
#define PRIVSEP_MONITOR_POLICY_H

#include <stddef.h>

struct hostkeys;

#define MONITOR_POLICY_E_KEY	-1	/* no such host key */
#define MONITOR_POLICY_E_LENGTH	-2	/* data is not an exchange hash (20/32/48/64 bytes) */
#define MONITOR_POLICY_E_ALG	-3	/* algorithm does not match the key, or ssh-rsa (SHA-1) */
#define MONITOR_POLICY_E_BUDGET	-4	/* signature budget for this connection used up */
const char *monitor_policy_strerror(int err);

/* May key idx sign dlen bytes with alg, when used signatures of budget were
 * already made on this connection? Returns 0 or a MONITOR_POLICY_E_*. */
int monitor_sign_policy(const struct hostkeys *hk, size_t idx, const char *alg, size_t dlen,
    int used, int budget);

#endif
