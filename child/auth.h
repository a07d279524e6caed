/* Identity backends behind one interface: auth-static.c (users from the config)
 * now, auth-identity.c (the gRPC Identity service) later. Used by auth.c only. */
#ifndef CHILD_AUTH_H
#define CHILD_AUTH_H

#include <stddef.h>
#include <stdint.h>

struct child;

struct auth_backend {
	const char *name;
	/* May this public key (SSH wire blob) log in as user? 1 yes, 0 no, <0 error.
	 * Unknown users answer 0, exactly like a wrong key. */
	int (*key_allowed)(struct child *c, const char *user, const uint8_t *blob, size_t len);
	/* The user is authenticated (signature verified, key allowed). 0 or <0. */
	int (*authenticated)(struct child *c, const char *user);
};

extern const struct auth_backend auth_static;

#endif
