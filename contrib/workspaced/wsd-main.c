/* workspaced entry: the command line, logging, signals (signalfd) and the main
 * loop; on SIGTERM or SIGINT an orderly stop that leaves no process behind. */
#include "autoconf.h"

#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <grpc/grpc.h>

#include "daemon/log.h"
#include "daemon/monotime.h"
#include "proto/grpc-poll.h"
#include "contrib/workspaced/wsd-loop.h"
#include "contrib/workspaced/wsd-proc.h"
#include "contrib/workspaced/wsd-server.h"
#include "contrib/workspaced/wsd-user.h"

#define WSD_STOP_CALLS_MS 5000	/* for calls to end after SIGTERM */
#define WSD_STOP_PROCS_MS 3000	/* then for process groups to die */

struct wsd_main {
	struct wsd_loop *loop;
	struct wsd_procs *procs;
	struct wsd_server *srv;
	struct wsd_watch sigwatch;
	int stop;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: workspaced --listen ADDR:PORT|unix:PATH [--socket-mode MODE]\n"
	    "                  [--token-file PATH] [--user NAME]\n"
	    "                  [--tls-cert PATH --tls-key PATH] [--keepalive-ms MS]\n"
	    "                  [--logtext] [--debug] [-v] [-h]\n"
	    "  --listen ADDR:PORT  gRPC (k8shelld API) address; PORT 0 picks a free port\n"
	    "  --listen unix:PATH  or a Unix socket (an existing socket there is replaced)\n"
	    "  --socket-mode MODE  octal permissions of that socket (e.g. 660)\n"
	    "  --token-file PATH   require \"authorization: Bearer <contents of PATH>\"\n"
	    "  --tls-cert PATH     serve TLS with this PEM certificate chain (and --tls-key)\n"
	    "  --tls-key PATH      the certificate's PEM private key\n"
	    "  --keepalive-ms MS   ping each proxy every MS ms, drop it after MS ms\n"
	    "                      without an answer (default: 30000, then 20000)\n"
	    "  --user NAME         user for requests with an empty as_user (default: ourselves)\n"
	    "  --logtext           human-readable log lines instead of JSON\n"
	    "  --debug             log debug messages\n"
	    "  -v                  print the version and exit\n"
	    "  -h                  print this help and exit\n");
}

static void
main_signal_cb(struct wsd_watch *w, short revents)
{
	struct wsd_main *m = wsd_container_of(w, struct wsd_main, sigwatch);
	struct signalfd_siginfo si;

	(void)revents;
	while (read(w->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			wsd_procs_reap(m->procs);
			break;
		case SIGTERM:
		case SIGINT:
			if (!m->stop)
				log_info("signal %d: stopping", (int)si.ssi_signo);
			m->stop = 1;
			break;
		default:
			log_debug("signal %d ignored", (int)si.ssi_signo);
			break;
		}
	}
}

/* Runs the loop until done() or the deadline. */
static void
main_run_until(struct wsd_main *m, int (*done)(struct wsd_main *), unsigned int ms)
{
	uint64_t end = monotime_ms() + ms;

	while (!done(m) && monotime_ms() < end)
		if (wsd_loop_run_once(m->loop, 100) < 0)
			break;
}

static int
main_calls_gone(struct wsd_main *m)
{
	return wsd_server_idle(m->srv);
}

static int
main_procs_gone(struct wsd_main *m)
{
	return wsd_procs_count(m->procs) == 0;
}

/* A whole number in base from min to max: 0, else -1. */
static int
opt_number(const char *arg, int base, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, base);
	if (errno != 0 || end == arg || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* fds 0-2 must be taken, or a pipe could land there and be dup2'd over in a child. */
static void
main_sane_stdio(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= STDERR_FILENO)
		;
	if (fd > STDERR_FILENO)
		close(fd);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "token-file", required_argument, NULL, 't' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "keepalive-ms", required_argument, NULL, 'K' },
		{ "socket-mode", required_argument, NULL, 'm' },
		{ "user", required_argument, NULL, 'u' },
		{ "logtext", no_argument, NULL, 'L' },
		{ "debug", no_argument, NULL, 'd' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct wsd_server_conf conf = { NULL, NULL, NULL, NULL, NULL, 0, -1 };
	static struct wsd_main m;
	enum log_level level = LOG_LEVEL_INFO;
	struct wsd_user *user;
	const char *colon, *unix_path = NULL;
	sigset_t set;
	int ch, logtext = 0, port, r, sfd;
	long lk, mode = -1;
	mode_t old_umask = 0;

	/* Every data message is a 128-256 KiB buffer: with glibc's defaults each one
	 * moves the heap top up and back (brk, page faults, page frees). */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 16 << 20);
	while ((ch = getopt_long(argc, argv, "l:t:c:k:K:m:u:Ldvh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l': conf.listen = optarg; break;
		case 't': conf.token_file = optarg; break;
		case 'c': conf.tls_cert = optarg; break;
		case 'k': conf.tls_key = optarg; break;
		case 'K':
			if (opt_number(optarg, 10, 100, 3600000, &lk) < 0) {
				fprintf(stderr, "workspaced: --keepalive-ms: '%s' is not a "
				    "number of milliseconds from 100 to 3600000\n", optarg);
				return 2;
			}
			conf.keepalive_ms = (int)lk;
			break;
		case 'm':
			if (opt_number(optarg, 8, 0, 0777, &mode) < 0) {
				fprintf(stderr, "workspaced: --socket-mode: '%s' is not an "
				    "octal mode from 0 to 777\n", optarg);
				return 2;
			}
			break;
		case 'u': conf.default_user = optarg; break;
		case 'L': logtext = 1; break;
		case 'd': level = LOG_LEVEL_DEBUG; break;
		case 'v':
			printf("workspaced version: %s\n", PACKAGE_VERSION);
			return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if ((conf.tls_cert == NULL) != (conf.tls_key == NULL)) {
		fprintf(stderr, "workspaced: --tls-cert and --tls-key go together\n");
		return 2;
	}
	if (optind != argc || conf.listen == NULL ||
	    (colon = strrchr(conf.listen, ':')) == NULL) {
		usage(stderr);
		return 2;
	}
	if (strncmp(conf.listen, "unix:", 5) == 0)
		unix_path = conf.listen + 5;
	if (mode >= 0 && unix_path == NULL) {
		fprintf(stderr, "workspaced: --socket-mode is for --listen unix:PATH\n");
		return 2;
	}
	main_sane_stdio();
	log_init("workspaced", logtext, level);

	/* Fail at start, not on every call. */
	if ((r = wsd_user_lookup(NULL, conf.default_user, &user)) < 0)
		log_fatal("user %s: %s", conf.default_user ? conf.default_user : "(self)",
		    r == -EPERM ? "not ourselves and we are not root" : strerror(-r));
	wsd_user_free(user);
	if (conf.token_file != NULL && access(conf.token_file, R_OK) < 0)
		log_fatal("token file %s: %s", conf.token_file, strerror(errno));
	if (conf.tls_cert != NULL && access(conf.tls_cert, R_OK) < 0)
		log_fatal("TLS certificate %s: %s", conf.tls_cert, strerror(errno));
	if (conf.tls_key != NULL && access(conf.tls_key, R_OK) < 0)
		log_fatal("TLS key %s: %s", conf.tls_key, strerror(errno));

	/* Blocked before gRPC starts its threads, so they all inherit the mask and
	 * only the signalfd sees these signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		log_fatal("signalfd: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);

	conf.grpc_epfd = grpcp_init();
	if ((r = wsd_loop_new(&m.loop)) < 0 || (r = wsd_procs_new(m.loop, &m.procs)) < 0)
		log_fatal("cannot start: %s", strerror(-r));
	/* With --socket-mode the socket starts owner-only (gRPC creates it as the
	 * umask allows) and gets the mode below; the commands keep our umask. */
	if (mode >= 0)
		old_umask = umask(077);
	r = wsd_server_new(m.loop, m.procs, &conf, &m.srv, &port);
	if (mode >= 0)
		umask(old_umask);
	if (r < 0)
		log_fatal("cannot listen on %s", conf.listen);
	wsd_watch_init(&m.sigwatch, sfd, main_signal_cb);
	wsd_watch_set(m.loop, &m.sigwatch, POLLIN);

	/* The proxy's children run as their own user: connecting takes write
	 * permission on the socket. */
	if (unix_path != NULL && mode >= 0 && chmod(unix_path, (mode_t)mode) < 0)
		log_fatal("--socket-mode: chmod %s: %s", unix_path, strerror(errno));
	if (unix_path != NULL) {
		log_info("listening on %s%s%s", conf.listen, conf.tls_cert != NULL ? " (TLS)" : "",
		    conf.token_file != NULL ? " (bearer token required)" : "");
		printf("workspaced listening on %s\n", conf.listen);
	} else {
		log_info("listening on %.*s:%d%s%s", (int)(colon - conf.listen), conf.listen,
		    port, conf.tls_cert != NULL ? " (TLS)" : "",
		    conf.token_file != NULL ? " (bearer token required)" : "");
		printf("workspaced listening on %.*s:%d\n", (int)(colon - conf.listen),
		    conf.listen, port);
	}
	fflush(stdout);

	while (!m.stop)
		if ((r = wsd_loop_run_once(m.loop, -1)) < 0)
			log_fatal("poll: %s", strerror(-r));

	/* Cancelled calls release their process groups (SIGHUP, SIGKILL a second later). */
	wsd_server_shutdown(m.srv);
	main_run_until(&m, main_calls_gone, WSD_STOP_CALLS_MS);
	main_run_until(&m, main_procs_gone, WSD_STOP_PROCS_MS);
	if (!main_procs_gone(&m)) {
		wsd_procs_kill_all(m.procs);
		main_run_until(&m, main_procs_gone, 500);
	}
	if (!main_calls_gone(&m))
		log_warn("calls still open at exit");
	wsd_watch_set(m.loop, &m.sigwatch, 0);
	wsd_server_free(m.srv);
	wsd_procs_free(m.procs);
	wsd_loop_free(m.loop);
	close(sfd);
	grpc_shutdown();
	log_info("stopped");
	return 0;
}
