/* ssh-proxy entry: parses the command line and becomes the listener, a child
 * (--child) or a config check (-t). The same binary is re-exec'd for children. */
#include "autoconf.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/proxy.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ssh-proxy [--config PATH] [--logtext] [--debug] [-t] [--child] [-v] [-h]\n"
	    "  --config PATH  configuration file (default %s)\n"
	    "  --logtext      human-readable log lines instead of JSON\n"
	    "  --debug        log debug messages\n"
	    "  -t             check the configuration and host keys, then exit 0 or 1\n"
	    "  --child        serve one connection on fd 3 (as started by the listener,\n"
	    "                 systemd Accept=yes, inetd or by hand)\n"
	    "  -v             print the version and exit\n"
	    "  -h             print this help and exit\n", PROXY_DEFAULT_CONFIG);
}

static int
check_config(const struct proxy_args *a)
{
	struct proxy_state st;

	/* proxy_state_load exits with the config error itself. */
	if (proxy_state_load(&st, a) != 0)
		return 1;
	printf("%s: configuration OK\n", a->config_path);
	proxy_state_free(&st);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "logtext", no_argument, NULL, 'L' },
		{ "debug", no_argument, NULL, 'd' },
		{ "child", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct proxy_args a = { .config_path = PROXY_DEFAULT_CONFIG, .level = LOG_LEVEL_INFO, .argv = argv };
	static char exe[PATH_MAX];
	int ch, child = 0, test = 0;
	ssize_t n;

	while ((ch = getopt_long(argc, argv, "c:LdCvht", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': a.config_path = optarg; break;
		case 'L': a.logtext = 1; break;
		case 'd': a.level = LOG_LEVEL_DEBUG; break;
		case 'C': child = 1; break;
		case 't': test = 1; break;
		case 'v':
			printf("ssh-proxy version: %s (commit: %s)\n", PROXY_VERSION, PROXY_COMMIT);
			return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	/* Resolve our own path once: children and SIGHUP re-exec use it. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		fprintf(stderr, "ssh-proxy: cannot resolve /proc/self/exe\n");
		return 1;
	}
	exe[n] = '\0';
	a.exe = exe;

	log_init(child ? "child" : "listener", a.logtext, a.level);
	if (test)
		return check_config(&a);
	if (child)
		return child_main(&a);
	return listener_main(&a);
}
