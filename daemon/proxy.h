/* Entry points of the one ssh-proxy binary and the state the listener and a
 * root --child share: config, host keys, privsep user, child argv. */
#ifndef DAEMON_PROXY_H
#define DAEMON_PROXY_H

#include <stddef.h>

#include "daemon/log.h"
#include "privsep/monitor.h"

#ifndef PROXY_VERSION
#define PROXY_VERSION PACKAGE_VERSION
#endif
#ifndef PROXY_COMMIT
#define PROXY_COMMIT "0000000"
#endif
#define PROXY_DEFAULT_CONFIG SYSCONFDIR "/ssh-proxy/config.yaml"

struct proxy_args {
	const char *config_path;
	const char *exe;		/* absolute path of this binary (re-exec, SIGHUP) */
	int logtext;
	enum log_level level;
	char **argv;			/* original argv, for the SIGHUP re-exec */
};

/* What a process that spawns per-connection monitors holds. */
struct proxy_state {
	struct config *cfg;
	char *cfg_text;			/* resolved YAML (secrets): handed to children */
	size_t cfg_len;
	struct hostkeys *keys;
	char *child_argv[8];
	struct monitor_params mp;	/* ready for monitor_run() except status_fd */
};

/* Loads config (exits the process on error with a message naming file/key/line),
 * host keys and the privsep user, and fills st->mp. Returns 0 or -1 (logged). */
int proxy_state_load(struct proxy_state *st, const struct proxy_args *a);
void proxy_state_free(struct proxy_state *st);

int listener_main(const struct proxy_args *a);
int child_main(const struct proxy_args *a);

#endif
