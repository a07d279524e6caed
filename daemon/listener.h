/* The listener's own interface: re-exec hand-over names, connection counters
 * (for penalties and metrics) and the non-exiting state load used by SIGHUP. */
#ifndef DAEMON_LISTENER_H
#define DAEMON_LISTENER_H

#include <stddef.h>

#include "daemon/proxy.h"

/* Set across the SIGHUP re-exec: the new image takes the listening sockets from
 * LISTEN_FDS (systemd protocol) and its connection table from the state fd. */
#define LISTENER_ENV_REEXEC	"SSH_PROXY_REEXEC"	/* "1" */
#define LISTENER_ENV_STATE_FD	"SSH_PROXY_STATE_FD"	/* memfd with the table, see listener.c */

#define LISTENER_BACKLOG	128
#define LISTENER_MAX_SOCKETS	64
#define LISTENER_STOP_WAIT	5	/* seconds between SIGTERMing monitors and giving up */

struct listener_counters {
	unsigned long long accepted;	/* connections handed to a monitor */
	unsigned long long refused;	/* closed by MaxStartups */
	unsigned long long ended;	/* monitors reaped */
	unsigned long long signalled;	/* monitors that died of a signal */
	unsigned long long by_code[256];/* monitors' exit codes (privsep.h EXIT_CHILD_*) */
};

/* proxy_state_load() without exiting: 0, or -1 with a message in err.
 * quiet suppresses the warning about not running as root (reload checks). */
int proxy_state_try(struct proxy_state *st, const struct proxy_args *a, int quiet,
    char *err, size_t errlen);

#endif
