/* The per-connection monitor: a privileged process that holds the host keys,
 * answers the child's typed requests, enforces the signing policy and the login
 * grace timer, and exits with the child's exit code. Never parses SSH. */
#ifndef PRIVSEP_MONITOR_H
#define PRIVSEP_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct hostkeys;
struct config;

struct monitor_params {
	const char *exe;		/* absolute path of ssh-proxy to re-exec */
	char *const *child_argv;	/* argv for "ssh-proxy --child ...", NULL-terminated */
	const struct hostkeys *keys;	/* borrowed */
	const struct config *cfg;	/* borrowed: static users' authorized keys, limits */
	const char *config_text;	/* resolved YAML handed to the child (may hold secrets) */
	size_t config_len;
	bool drop;			/* drop privileges to uid/gid (false when not root) */
	uid_t uid;
	gid_t gid;
	int login_grace;		/* seconds until MONITOR_AUTHENTICATED, 0 = none */
	int max_signatures;		/* host-key signatures allowed per connection */
	int status_fd;			/* to the listener: one byte when authenticated; -1 = none */
};

/* Runs in a process that has just been forked for one connection (or in a root
 * --child): socketpair, fork, privilege drop and execv of the child with
 * fd 3 = conn_fd and fd 4 = monitor socket, then serves until the child exits.
 * Returns the exit code for this process (the child's, see privsep.h). */
int monitor_run(int conn_fd, const struct monitor_params *p);

#endif
