/* Child side of the monitor protocol: one blocking request/answer per call over
 * PRIVSEP_MONITOR_FD. Each mm_* stands in for work the child may not do itself. */
#ifndef PRIVSEP_MONITOR_WRAP_H
#define PRIVSEP_MONITOR_WRAP_H

#include <stddef.h>
#include <stdint.h>

/* Resolved configuration text (YAML); *text is malloc'd. */
int mm_config(int fd, char **text, size_t *len);
/* Number of host keys, and each public blob (SSH wire format); *blob malloc'd. */
int mm_hostkeys_count(int fd, size_t *n);
int mm_hostkeys_pubblob(int fd, size_t idx, uint8_t **blob, size_t *len);
/* Same shape as hostkeys_sign(): the monitor signs data with key idx. */
int mm_hostkeys_sign(int fd, size_t idx, const char *alg, const uint8_t *data, size_t dlen,
    uint8_t **sig, size_t *siglen);
/* Is this public key (SSH wire blob) authorised for user? 1 yes, 0 no, <0 error.
 * Only ever asked after libssh verified the signature (SSH_PUBLICKEY_STATE_VALID). */
int mm_user_key_allowed(int fd, const char *user, const uint8_t *blob, size_t len);
/* Authentication completed: stops the login grace timer; counts for MaxStartups. */
int mm_authenticated(int fd, const char *user);

#endif
