/* The privileged listener: listening sockets (bound or from systemd), accept and
 * fork one monitor per connection, MaxStartups, reaping, SIGHUP re-exec, drain. */
#include "autoconf.h"

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "daemon/config.h"
#include "daemon/listener.h"
#include "daemon/log.h"
#include "daemon/proxy.h"
#include "daemon/srclimit.h"
#include "privsep/monitor.h"
#include "privsep/privsep.h"

#define ADDR_HOST	(INET6_ADDRSTRLEN + IF_NAMESIZE + 1)	/* numeric, "%scope" included */
#define ADDR_TEXT	(ADDR_HOST + 16)	/* "[host]:port" */
#define ACCEPT_BURST	32	/* accepts per wakeup, so signals and startup pipes get a turn */
#define ACCEPT_PAUSE_MS	250	/* after EMFILE and friends: the socket stays readable */

/* One monitor (one connection) and its "authenticated" pipe. */
struct conn {
	pid_t pid;
	int startup_fd;		/* read end; -1 once authenticated or the monitor exited */
};

/* An address to listen on, resolved from server.listenAddress. */
struct laddr {
	struct sockaddr_storage ss;
	socklen_t len;
	bool optional;		/* IPv6 from a wildcard or a name: skipped if unavailable */
	char text[ADDR_TEXT];
};

enum stop_phase { RUNNING = 0, DRAINING, TERMINATING, EXITING };

struct listener {
	const struct proxy_args *a;
	struct proxy_state st;
	struct srclimit *sl;
	int lfd[LISTENER_MAX_SOCKETS];
	size_t nlfd;
	bool from_systemd;	/* sockets are systemd's: keep them whatever the config says */
	int sigfd;
	sigset_t sigs;		/* blocked and read through sigfd */
	sigset_t childmask;	/* mask monitors start with */
	struct conn *conns;
	size_t nconns, capconns;
	int unauth;		/* conns with startup_fd >= 0 */
	struct pollfd *pfd;
	size_t *pconn;		/* pfd index -> conns index, for startup pipes */
	size_t cappfd;
	struct listener_counters cnt;
	enum stop_phase phase;
	uint64_t deadline_ms;	/* end of the current stop phase */
	uint64_t paused_until_ms;
};

static uint64_t
now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t
now_ms(void)
{
	return now_usec() / 1000u;
}

/* "1.2.3.4:22" or "[::1]:22". */
static void
addr_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen)
{
	char host[ADDR_HOST], serv[8];

	if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(buf, buflen, "?");
		return;
	}
	if (sa->sa_family == AF_INET6)
		snprintf(buf, buflen, "[%s]:%s", host, serv);
	else
		snprintf(buf, buflen, "%s:%s", host, serv);
}

static int
fd_text(int fd, char *buf, size_t buflen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	addr_text((struct sockaddr *)&ss, len, buf, buflen);
	return 0;
}

static int
set_cloexec(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0)
		return -1;
	fl = on ? (fl | FD_CLOEXEC) : (fl & ~FD_CLOEXEC);
	return fcntl(fd, F_SETFD, fl);
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Monitors and children assume 0, 1 and 2 are open: a socket must never land there. */
static void
sanitise_stdfd(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= STDERR_FILENO)
		;
	if (fd > STDERR_FILENO)
		close(fd);
}

/*
 * server.listenAddress entries: "host", "host:port", "[v6]:port", a bare IPv6
 * literal, or "*" / "" for all addresses. The port defaults to server.port.
 */
static int
split_entry(const char *entry, int defport, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *p = NULL, *colon;
	size_t hl;
	char *end;
	long n;

	if (entry[0] == '[') {
		const char *rb = strchr(entry, ']');
		if (rb == NULL || (rb[1] != '\0' && rb[1] != ':'))
			return -1;
		hl = (size_t)(rb - entry - 1);
		if (hl >= hostlen)
			return -1;
		memcpy(host, entry + 1, hl);
		host[hl] = '\0';
		if (rb[1] == ':')
			p = rb + 2;
	} else if ((colon = strchr(entry, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
		hl = (size_t)(colon - entry);
		if (hl >= hostlen)
			return -1;
		memcpy(host, entry, hl);
		host[hl] = '\0';
		p = colon + 1;
	} else {
		if (strlen(entry) >= hostlen)
			return -1;
		snprintf(host, hostlen, "%s", entry);
	}
	if (p == NULL) {
		n = defport;
	} else {
		errno = 0;
		n = strtol(p, &end, 10);
		if (*p == '\0' || *end != '\0' || errno != 0)
			return -1;
	}
	if (n < 1 || n > 65535)
		return -1;
	snprintf(port, portlen, "%ld", n);
	return 0;
}

static int
laddr_add(struct laddr **v, size_t *n, const struct sockaddr *sa, socklen_t len, bool optional)
{
	struct laddr *nv, *la;
	char text[ADDR_TEXT];

	addr_text(sa, len, text, sizeof(text));
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i].text, text) == 0)
			return 0;	/* "localhost" and "127.0.0.1" name one socket */
	if ((nv = reallocarray(*v, *n + 1, sizeof(**v))) == NULL)
		return -1;
	*v = nv;
	la = &nv[(*n)++];
	memset(la, 0, sizeof(*la));
	memcpy(&la->ss, sa, len);
	la->len = len;
	la->optional = optional;
	snprintf(la->text, sizeof(la->text), "%s", text);
	return 0;
}

/* Resolves the configured addresses. Returns 0, or -1 with a message in err. */
static int
laddrs_build(const struct config *cfg, struct laddr **out, size_t *nout, char *err, size_t errlen)
{
	static const char *const all[] = { "*" };
	const char *const *entries = all;
	size_t nentries = 1;
	struct laddr *v = NULL;
	size_t n = 0;

	if (cfg->server.listen_address_count > 0) {
		entries = (const char *const *)cfg->server.listen_address;
		nentries = cfg->server.listen_address_count;
	}
	for (size_t i = 0; i < nentries; i++) {
		struct addrinfo hints, *res = NULL;
		char host[NI_MAXHOST], port[8];
		bool numeric = true;
		int r;

		if (split_entry(entries[i], cfg->server.port, host, sizeof(host), port, sizeof(port)) != 0) {
			snprintf(err, errlen, "%s: server.listenAddress: bad address \"%s\" "
			    "(host, host:port, [v6]:port; port 1..65535)", cfg->path, entries[i]);
			goto fail;
		}
		if (host[0] == '\0' || strcmp(host, "*") == 0) {
			/* Like sshd: one socket per family, the IPv6 one V6ONLY. */
			struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
			struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = sin.sin_port };
			sin.sin_addr.s_addr = htonl(INADDR_ANY);
			sin6.sin6_addr = in6addr_any;
			if (laddr_add(&v, &n, (struct sockaddr *)&sin, sizeof(sin), false) != 0 ||
			    laddr_add(&v, &n, (struct sockaddr *)&sin6, sizeof(sin6), true) != 0)
				goto nomem;
			continue;
		}
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_NUMERICHOST;
		if (getaddrinfo(host, port, &hints, &res) != 0) {
			numeric = false;
			hints.ai_flags &= ~AI_NUMERICHOST;
			if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
				snprintf(err, errlen, "%s: server.listenAddress: %s: %s", cfg->path,
				    entries[i], gai_strerror(r));
				goto fail;
			}
		}
		for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
			if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
				continue;
			if (laddr_add(&v, &n, ai->ai_addr, ai->ai_addrlen,
			    !numeric && ai->ai_family == AF_INET6) != 0) {
				freeaddrinfo(res);
				goto nomem;
			}
		}
		freeaddrinfo(res);
	}
	*out = v;
	*nout = n;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	free(v);
	return -1;
}

/* Returns the listening fd, -1 on error (err filled), -2 when an optional
 * address cannot be used on this host (no IPv6). */
static int
bind_one(const struct laddr *la, char *err, size_t errlen)
{
	int fd, on = 1;

	fd = socket(la->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		if (la->optional && (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT))
			return -2;
		snprintf(err, errlen, "socket for %s: %s", la->text, strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    (la->ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0)) {
		snprintf(err, errlen, "setsockopt on %s: %s", la->text, strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, (const struct sockaddr *)&la->ss, la->len) != 0) {
		int e = errno;
		close(fd);
		if (la->optional && (e == EADDRNOTAVAIL || e == EAFNOSUPPORT))
			return -2;
		snprintf(err, errlen, "bind %s: %s", la->text, strerror(e));
		return -1;
	}
	if (listen(fd, LISTENER_BACKLOG) != 0) {
		snprintf(err, errlen, "listen %s: %s", la->text, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void
log_listening(int fd, const char *source)
{
	char text[ADDR_TEXT], field[32];

	if (fd_text(fd, text, sizeof(text)) != 0)
		snprintf(text, sizeof(text), "fd %d", fd);
	snprintf(field, sizeof(field), "source=%s", source);
	/* Tests parse this exact text. */
	log_infof(field, "listening on %s", text);
}

/*
 * Takes inherited sockets (systemd or our own re-exec), then binds what the
 * configuration asks for. After a re-exec of a listener that bound its own
 * sockets, inherited ones the new configuration no longer names are closed
 * first, so a narrower address on the same port can be bound.
 */
static void
sockets_setup(struct listener *l, int ninherited, bool reexec_bound)
{
	struct laddr *want = NULL;
	bool *have = NULL;
	size_t nwant = 0;
	char err[1024];

	for (int i = 0; i < ninherited; i++) {
		int fd = SD_LISTEN_FDS_START + i;
		if (sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1, 0) <= 0)
			log_fatal("LISTEN_FDS: fd %d is not a listening TCP socket", fd);
		if (l->nlfd == LISTENER_MAX_SOCKETS)
			log_fatal("LISTEN_FDS: more than %d sockets", LISTENER_MAX_SOCKETS);
		if (set_nonblock(fd) != 0)
			log_fatal("fcntl fd %d: %s", fd, strerror(errno));
		l->lfd[l->nlfd++] = fd;
	}
	l->from_systemd = ninherited > 0 && !reexec_bound;
	if (l->from_systemd) {
		for (size_t i = 0; i < l->nlfd; i++)
			log_listening(l->lfd[i], "systemd");
		return;
	}

	if (laddrs_build(l->st.cfg, &want, &nwant, err, sizeof(err)) != 0) {
		fprintf(stderr, "ssh-proxy: %s\n", err);
		log_error("%s", err);
		exit(1);
	}
	if ((have = calloc(nwant ? nwant : 1, sizeof(*have))) == NULL)
		log_fatal("out of memory");
	/* Keep inherited sockets the configuration still names; close the rest. */
	for (size_t i = 0; i < l->nlfd;) {
		char text[ADDR_TEXT];
		bool keep = false;

		if (fd_text(l->lfd[i], text, sizeof(text)) == 0) {
			for (size_t j = 0; j < nwant; j++) {
				if (!have[j] && strcmp(want[j].text, text) == 0) {
					have[j] = keep = true;
					break;
				}
			}
		}
		if (keep) {
			log_listening(l->lfd[i], "inherited");
			i++;
			continue;
		}
		log_info("no longer listening on %s", text);
		close(l->lfd[i]);
		l->lfd[i] = l->lfd[--l->nlfd];
	}
	for (size_t j = 0; j < nwant; j++) {
		int fd;

		if (have[j])
			continue;
		if (l->nlfd == LISTENER_MAX_SOCKETS)
			log_fatal("server.listenAddress: more than %d sockets", LISTENER_MAX_SOCKETS);
		fd = bind_one(&want[j], err, sizeof(err));
		if (fd == -2) {
			log_info("skipping %s: IPv6 is not available", want[j].text);
			continue;
		}
		if (fd < 0) {
			fprintf(stderr, "ssh-proxy: %s\n", err);
			log_error("%s", err);
			exit(1);
		}
		l->lfd[l->nlfd++] = fd;
		log_listening(fd, "bound");
	}
	free(have);
	free(want);
	if (l->nlfd == 0) {
		fprintf(stderr, "ssh-proxy: no listening socket\n");
		log_error("no listening socket");
		exit(1);
	}
}

static void
sockets_close(struct listener *l)
{
	for (size_t i = 0; i < l->nlfd; i++)
		close(l->lfd[i]);
	l->nlfd = 0;
}

static int
signals_open(struct listener *l)
{
	l->sigfd = signalfd(-1, &l->sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	return l->sigfd < 0 ? -1 : 0;
}

/*
 * All four signals are blocked and read through a signalfd: no handler runs.
 * Dispositions are reset first: a SIG_IGN inherited for SIGCHLD would make the
 * kernel reap monitors and lose their exit codes.
 */
static void
signals_setup(struct listener *l)
{
	static const int sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGCHLD };
	sigset_t cur;

	sigemptyset(&l->sigs);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		signal(sigs[i], SIG_DFL);
		sigaddset(&l->sigs, sigs[i]);
	}
	if (sigprocmask(SIG_BLOCK, &l->sigs, &cur) != 0)
		log_fatal("sigprocmask: %s", strerror(errno));
	/* After a re-exec the inherited mask already blocks ours: monitors must not. */
	l->childmask = cur;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigdelset(&l->childmask, sigs[i]);
	if (signals_open(l) != 0)
		log_fatal("signalfd: %s", strerror(errno));
}

/* Room for one more connection, so nothing can fail between fork and tracking. */
static int
conns_reserve(struct listener *l)
{
	size_t ncap;
	struct conn *nc;

	if (l->nconns < l->capconns)
		return 0;
	ncap = l->capconns ? l->capconns * 2 : 64;
	if ((nc = reallocarray(l->conns, ncap, sizeof(*nc))) == NULL)
		return -1;
	l->conns = nc;
	l->capconns = ncap;
	return 0;
}

static int
conn_add(struct listener *l, pid_t pid, int startup_fd)
{
	if (conns_reserve(l) != 0)
		return -1;
	l->conns[l->nconns].pid = pid;
	l->conns[l->nconns].startup_fd = startup_fd;
	l->nconns++;
	if (startup_fd >= 0)
		l->unauth++;
	return 0;
}

/* The connection no longer counts against MaxStartups. */
static void
conn_authenticated(struct listener *l, struct conn *c)
{
	if (c->startup_fd < 0)
		return;
	close(c->startup_fd);
	c->startup_fd = -1;
	l->unauth--;
}

static const char *
exit_reason(int code)
{
	switch (code) {
	case EXIT_CHILD_OK: return "ok";
	case EXIT_CHILD_AUTH_FAIL: return "auth_fail";
	case EXIT_CHILD_HANDSHAKE: return "handshake";
	case EXIT_CHILD_GRACE: return "login_grace";
	case EXIT_CHILD_CONFIG: return "config";
	case EXIT_CHILD_INTERNAL: return "internal";
	case EXIT_CHILD_VIOLATION: return "violation";
	case EXIT_CHILD_SIGNALLED: return "signalled";
	default: return "other";
	}
}

static void
reap(struct listener *l)
{
	char fields[128];
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < l->nconns; i++) {
			if (l->conns[i].pid != pid)
				continue;
			conn_authenticated(l, &l->conns[i]);
			l->conns[i] = l->conns[--l->nconns];
			break;
		}
		l->cnt.ended++;
		if (WIFEXITED(status)) {
			int code = WEXITSTATUS(status);
			l->cnt.by_code[code]++;
			snprintf(fields, sizeof(fields), "pid=%ld\nexit=%d\nreason=%s",
			    (long)pid, code, exit_reason(code));
			log_infof(fields, "connection ended");
		} else if (WIFSIGNALED(status)) {
			l->cnt.signalled++;
			snprintf(fields, sizeof(fields), "pid=%ld\nsignal=%d", (long)pid, WTERMSIG(status));
			log_warnf(fields, "connection ended: monitor killed by signal %d", WTERMSIG(status));
		}
	}
}

/* In the forked process: becomes the connection's monitor. */
__attribute__((noreturn)) static void
monitor_start(struct listener *l, int conn_fd, int status_fd)
{
	struct monitor_params mp = l->st.mp;

	for (size_t i = 0; i < l->nlfd; i++)
		close(l->lfd[i]);
	close(l->sigfd);
	for (size_t i = 0; i < l->nconns; i++)
		if (l->conns[i].startup_fd >= 0)
			close(l->conns[i].startup_fd);
	/* Default dispositions (systemd ignores SIGPIPE, nohup SIGHUP) and our mask undone. */
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	sigprocmask(SIG_SETMASK, &l->childmask, NULL);
	/* Its own session, like sshd: a ^C or a signal to the listener's process
	 * group (terminal, supervisor) must not reach established sessions. */
	if (setsid() < 0)
		log_warn("setsid: %s", strerror(errno));
	unsetenv("NOTIFY_SOCKET");	/* only the listener talks to systemd */
	log_set_component("monitor");
	mp.status_fd = status_fd;
	_exit(monitor_run(conn_fd, &mp));
}

/* Accepts one connection. Returns 0 to go on, -1 when the backlog is empty. */
static int
accept_one(struct listener *l, int lfd)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char peer[ADDR_TEXT], fields[ADDR_TEXT + 64];
	int fd, on = 1, pfd[2];
	pid_t pid;

	fd = accept4(lfd, (struct sockaddr *)&ss, &sslen, SOCK_CLOEXEC);
	if (fd < 0) {
		switch (errno) {
		case EAGAIN:
#if EWOULDBLOCK != EAGAIN
		case EWOULDBLOCK:
#endif
			return -1;
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
		case ENETDOWN:
		case ENOPROTOOPT:
		case EHOSTDOWN:
		case ENONET:
		case EHOSTUNREACH:
		case EOPNOTSUPP:
		case ENETUNREACH:
			return 0;	/* the peer went away: not our problem */
		default:
			/* EMFILE, ENFILE, ENOBUFS, ENOMEM: the socket stays readable, back off. */
			log_error("accept: %s", strerror(errno));
			l->paused_until_ms = now_ms() + ACCEPT_PAUSE_MS;
			return -1;
		}
	}
	addr_text((struct sockaddr *)&ss, sslen, peer, sizeof(peer));
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) != 0)
		log_debug("TCP_NODELAY on connection from %s: %s", peer, strerror(errno));
	if (srclimit_drop(l->sl, l->unauth)) {
		l->cnt.refused++;
		snprintf(fields, sizeof(fields), "peer=%s\nunauthenticated=%d", peer, l->unauth);
		log_infof(fields, "refused connection from %s: MaxStartups (%d unauthenticated)",
		    peer, l->unauth);
		close(fd);
		return 0;
	}
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		log_error("pipe2 for connection from %s: %s", peer, strerror(errno));
		close(fd);
		return 0;
	}
	if (set_nonblock(pfd[0]) != 0 || conns_reserve(l) != 0) {
		log_error("connection from %s: cannot track a monitor", peer);
		close(pfd[0]);
		close(pfd[1]);
		close(fd);
		return 0;
	}
	switch ((pid = fork())) {
	case -1:
		log_error("fork for connection from %s: %s", peer, strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		close(fd);
		return 0;
	case 0:
		close(pfd[0]);
		monitor_start(l, fd, pfd[1]);
	default:
		break;
	}
	close(fd);
	close(pfd[1]);
	(void)conn_add(l, pid, pfd[0]);	/* cannot fail: the slot was reserved */
	l->cnt.accepted++;
	snprintf(fields, sizeof(fields), "peer=%s\nmonitor=%ld", peer, (long)pid);
	log_infof(fields, "connection from %s", peer);
	return 0;
}

/*
 * The table the re-exec'd image needs: where its sockets came from, the
 * counters and every monitor with its startup pipe (fd numbers survive exec).
 */
static int
state_write(const struct listener *l)
{
	FILE *f;
	int fd, dfd;

	if ((fd = memfd_create("ssh-proxy-state", MFD_CLOEXEC)) < 0)
		return -1;
	if ((dfd = dup(fd)) < 0 || (f = fdopen(dfd, "w")) == NULL) {
		if (dfd >= 0)
			close(dfd);
		close(fd);
		return -1;
	}
	fprintf(f, "ssh-proxy-state 1\nsockets %s\n", l->from_systemd ? "systemd" : "bound");
	fprintf(f, "counters %llu %llu %llu %llu\n", l->cnt.accepted, l->cnt.refused,
	    l->cnt.ended, l->cnt.signalled);
	for (int i = 0; i < 256; i++)
		if (l->cnt.by_code[i] != 0)
			fprintf(f, "code %d %llu\n", i, l->cnt.by_code[i]);
	for (size_t i = 0; i < l->nconns; i++)
		fprintf(f, "conn %ld %d\n", (long)l->conns[i].pid, l->conns[i].startup_fd);
	if (fclose(f) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads the table written by state_write(). Returns 0, or -1 on a malformed table. */
static int
state_read(struct listener *l, int fd, bool *bound)
{
	char line[128];
	FILE *f;
	int ok = -1, version = 0;

	*bound = true;
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return -1;
	}
	if (fgets(line, sizeof(line), f) == NULL || sscanf(line, "ssh-proxy-state %d", &version) != 1 ||
	    version != 1)
		goto out;
	while (fgets(line, sizeof(line), f) != NULL) {
		char word[16];
		unsigned long long v;
		long pid;
		int a, b;

		if (sscanf(line, "sockets %15s", word) == 1) {
			*bound = strcmp(word, "systemd") != 0;
		} else if (sscanf(line, "counters %llu %llu %llu %llu", &l->cnt.accepted,
		    &l->cnt.refused, &l->cnt.ended, &l->cnt.signalled) == 4) {
			;
		} else if (sscanf(line, "code %d %llu", &a, &v) == 2 && a >= 0 && a < 256) {
			l->cnt.by_code[a] = v;
		} else if (sscanf(line, "conn %ld %d", &pid, &b) == 2 && pid > 0) {
			/* A pipe that did not survive is treated as authenticated. */
			if (b >= 0 && (b < SD_LISTEN_FDS_START || set_cloexec(b, true) != 0 ||
			    set_nonblock(b) != 0))
				b = -1;
			if (conn_add(l, (pid_t)pid, b) != 0)
				goto out;
		} else {
			goto out;
		}
	}
	ok = 0;
out:
	fclose(f);
	return ok;
}

/* Moves fd to at least min, close-on-exec. Returns the new fd or -1. */
static int
fd_above(int fd, int min)
{
	int nfd;

	if (fd >= min)
		return fd;
	if ((nfd = fcntl(fd, F_DUPFD_CLOEXEC, min)) < 0)
		return -1;
	close(fd);
	return nfd;
}

/*
 * Re-executes the binary with the original argv, handing the listening sockets
 * over like systemd does (fds 3.., LISTEN_FDS, LISTEN_PID is still ours) and
 * the connection table in a memfd. Monitors stay our children across exec.
 * Returns only on failure, with the listener usable again.
 */
static int
reexec(struct listener *l)
{
	const int base = SD_LISTEN_FDS_START + (int)l->nlfd;
	char num[32];
	int statefd, fd;

	if ((statefd = state_write(l)) < 0)
		return -1;
	/* Clear the range 3..base-1: everything kept moves above it first. */
	close(l->sigfd);
	l->sigfd = -1;
	if ((fd = fd_above(statefd, base)) < 0)
		goto restore;
	statefd = fd;
	for (size_t i = 0; i < l->nlfd; i++)
		if ((l->lfd[i] = fd_above(l->lfd[i], base)) < 0)
			log_fatal("re-exec: moving a listening socket: %s", strerror(errno));
	for (size_t i = 0; i < l->nconns; i++)
		if (l->conns[i].startup_fd >= 0 &&
		    (l->conns[i].startup_fd = fd_above(l->conns[i].startup_fd, base)) < 0)
			log_fatal("re-exec: moving a startup pipe: %s", strerror(errno));
	for (size_t i = 0; i < l->nlfd; i++) {
		int to = SD_LISTEN_FDS_START + (int)i;
		if (dup2(l->lfd[i], to) != to)	/* dup2 leaves "to" without CLOEXEC */
			log_fatal("re-exec: dup2: %s", strerror(errno));
		close(l->lfd[i]);
		l->lfd[i] = to;
	}
	for (size_t i = 0; i < l->nconns; i++)
		if (l->conns[i].startup_fd >= 0)
			set_cloexec(l->conns[i].startup_fd, false);
	set_cloexec(statefd, false);

	snprintf(num, sizeof(num), "%ld", (long)getpid());
	setenv("LISTEN_PID", num, 1);
	snprintf(num, sizeof(num), "%zu", l->nlfd);
	setenv("LISTEN_FDS", num, 1);
	unsetenv("LISTEN_FDNAMES");
	setenv(LISTENER_ENV_REEXEC, "1", 1);
	snprintf(num, sizeof(num), "%d", statefd);
	setenv(LISTENER_ENV_STATE_FD, num, 1);

	/* Our signals stay blocked across exec: pending ones wait for the new image. */
	execv(l->a->exe, l->a->argv);
	log_error("re-exec %s: %s", l->a->exe, strerror(errno));
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv(LISTENER_ENV_REEXEC);
	unsetenv(LISTENER_ENV_STATE_FD);
	for (size_t i = 0; i < l->nlfd; i++)
		set_cloexec(l->lfd[i], true);
	for (size_t i = 0; i < l->nconns; i++)
		if (l->conns[i].startup_fd >= 0)
			set_cloexec(l->conns[i].startup_fd, true);
restore:
	close(statefd);
	if (signals_open(l) != 0)
		log_fatal("signalfd: %s", strerror(errno));
	return -1;
}

/* SIGHUP: check the new configuration in-process; only a good one replaces us. */
static void
reload(struct listener *l)
{
	struct proxy_state nst;
	struct laddr *want = NULL;
	struct srclimit *sl = NULL;
	size_t nwant = 0;
	char err[1024];
	int r;

	log_info("SIGHUP: checking %s", l->a->config_path);
	if (access(l->a->exe, X_OK) != 0) {
		log_error("%s: %s; keeping the running configuration", l->a->exe, strerror(errno));
		return;
	}
	if (proxy_state_try(&nst, l->a, 1, err, sizeof(err)) != 0) {
		log_error("%s; keeping the running configuration", err);
		return;
	}
	if (!l->from_systemd && laddrs_build(nst.cfg, &want, &nwant, err, sizeof(err)) != 0) {
		log_error("%s; keeping the running configuration", err);
		proxy_state_free(&nst);
		return;
	}
	free(want);
	if ((r = srclimit_new(&sl, nst.cfg->server.max_startups_begin, nst.cfg->server.max_startups_rate,
	    nst.cfg->server.max_startups_full, NULL, NULL)) != 0) {
		log_error("server.maxStartups: %s; keeping the running configuration",
		    srclimit_strerror(r));
		proxy_state_free(&nst);
		return;
	}
	srclimit_free(sl);
	proxy_state_free(&nst);

	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)now_usec());
	log_info("reloading: re-executing %s", l->a->exe);
	reexec(l);
	sd_notify(0, "READY=1");
}

static void
stop_begin(struct listener *l, int sig)
{
	int drain = l->st.cfg->server.drain_timeout;

	if (l->phase == DRAINING) {
		/* A second signal does not wait for the deadline. */
		l->deadline_ms = now_ms();
		return;
	}
	if (l->phase != RUNNING)
		return;
	sd_notify(0, "STOPPING=1");
	sockets_close(l);
	log_info("signal %d: no longer accepting; %zu connections open, drain timeout %ds",
	    sig, l->nconns, drain);
	/* drainTimeout 0: sessions outlive us (no PDEATHSIG anywhere), exit at once. */
	if (drain <= 0) {
		l->phase = EXITING;
		return;
	}
	l->phase = DRAINING;
	l->deadline_ms = now_ms() + (uint64_t)drain * 1000u;
}

/* Returns 1 when the listener should exit. */
static int
stop_step(struct listener *l)
{
	uint64_t now = now_ms();

	if (l->phase == RUNNING)
		return 0;
	if (l->phase == EXITING || l->nconns == 0)
		return 1;
	if (now < l->deadline_ms)
		return 0;
	if (l->phase == DRAINING) {
		log_info("drain timeout: sending SIGTERM to %zu monitors", l->nconns);
		for (size_t i = 0; i < l->nconns; i++)
			kill(l->conns[i].pid, SIGTERM);
		l->phase = TERMINATING;
		l->deadline_ms = now + LISTENER_STOP_WAIT * 1000u;
		return 0;
	}
	log_warn("%zu monitors still running; exiting anyway", l->nconns);
	return 1;
}

/* Reads pending signals. Returns a bitmask of what arrived. */
#define SIG_GOT_HUP	1
#define SIG_GOT_TERM	2
#define SIG_GOT_CHLD	4
static int
signals_read(struct listener *l, int *termsig)
{
	struct signalfd_siginfo si;
	int got = 0;

	while (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP: got |= SIG_GOT_HUP; break;
		case SIGCHLD: got |= SIG_GOT_CHLD; break;
		case SIGTERM:
		case SIGINT:
			got |= SIG_GOT_TERM;
			*termsig = (int)si.ssi_signo;
			break;
		default: break;
		}
	}
	return got;
}

static int
pollfds_reserve(struct listener *l, size_t n)
{
	struct pollfd *np;
	size_t *nc;

	if (n <= l->cappfd)
		return 0;
	if ((np = reallocarray(l->pfd, n, sizeof(*np))) == NULL)
		return -1;
	l->pfd = np;
	if ((nc = reallocarray(l->pconn, n, sizeof(*nc))) == NULL)
		return -1;
	l->pconn = nc;
	l->cappfd = n;
	return 0;
}

static int
poll_timeout(const struct listener *l, bool *accepting)
{
	uint64_t now = now_ms(), until = UINT64_MAX;

	*accepting = l->phase == RUNNING && now >= l->paused_until_ms;
	if (l->phase == RUNNING && !*accepting)
		until = l->paused_until_ms;
	if (l->phase != RUNNING && l->deadline_ms < until)
		until = l->deadline_ms;
	if (until == UINT64_MAX)
		return -1;
	return until <= now ? 0 : (int)(until - now > INT_MAX ? INT_MAX : until - now);
}

static void
serve(struct listener *l)
{
	for (;;) {
		size_t np = 0, nlisten = 0;
		bool accepting;
		int timeout, got, termsig = 0;

		if (stop_step(l))
			return;
		timeout = poll_timeout(l, &accepting);
		if (pollfds_reserve(l, 1 + l->nlfd + l->nconns) != 0)
			log_fatal("out of memory");
		l->pfd[np++] = (struct pollfd){ .fd = l->sigfd, .events = POLLIN };
		if (accepting)
			for (size_t i = 0; i < l->nlfd; i++, nlisten++)
				l->pfd[np++] = (struct pollfd){ .fd = l->lfd[i], .events = POLLIN };
		for (size_t i = 0; i < l->nconns; i++) {
			if (l->conns[i].startup_fd < 0)
				continue;
			l->pconn[np] = i;
			l->pfd[np++] = (struct pollfd){ .fd = l->conns[i].startup_fd, .events = POLLIN };
		}
		if (poll(l->pfd, np, timeout) < 0) {
			if (errno == EINTR)
				continue;
			log_fatal("poll: %s", strerror(errno));
		}

		/* Authenticated (a byte) or monitor gone (EOF): either way no longer a startup. */
		for (size_t k = 1 + nlisten; k < np; k++) {
			struct conn *c = &l->conns[l->pconn[k]];
			char b;

			if (l->pfd[k].revents == 0)
				continue;
			if (read(c->startup_fd, &b, 1) < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			conn_authenticated(l, c);
		}
		got = (l->pfd[0].revents & POLLIN) ? signals_read(l, &termsig) : 0;
		if (got & SIG_GOT_CHLD)
			reap(l);
		if (got & SIG_GOT_TERM) {
			stop_begin(l, termsig);
			continue;
		}
		if ((got & SIG_GOT_HUP) && l->phase == RUNNING) {
			reload(l);
			continue;	/* only reached when the re-exec failed */
		}
		for (size_t k = 1; k < 1 + nlisten; k++) {
			if (!(l->pfd[k].revents & POLLIN))
				continue;
			for (int n = 0; n < ACCEPT_BURST && l->phase == RUNNING; n++)
				if (accept_one(l, l->pfd[k].fd) != 0)
					break;
		}
	}
}

static void
listener_free(struct listener *l)
{
	sockets_close(l);
	for (size_t i = 0; i < l->nconns; i++)
		if (l->conns[i].startup_fd >= 0)
			close(l->conns[i].startup_fd);
	if (l->sigfd >= 0)
		close(l->sigfd);
	free(l->conns);
	free(l->pfd);
	free(l->pconn);
	srclimit_free(l->sl);
	proxy_state_free(&l->st);
}

int
listener_main(const struct proxy_args *a)
{
	struct listener l;
	const char *env;
	bool reexec_bound, reexeced;
	int n, r;

	memset(&l, 0, sizeof(l));
	l.a = a;
	l.sigfd = -1;
	sanitise_stdfd();
	signals_setup(&l);

	reexeced = (env = getenv(LISTENER_ENV_REEXEC)) != NULL && strcmp(env, "1") == 0;
	reexec_bound = reexeced;
	if (reexeced && (env = getenv(LISTENER_ENV_STATE_FD)) != NULL) {
		char *end;
		long fd = strtol(env, &end, 10);
		if (*env != '\0' && *end == '\0' && fd >= SD_LISTEN_FDS_START && fd < INT_MAX &&
		    state_read(&l, (int)fd, &reexec_bound) != 0)
			log_error("re-exec: malformed connection table; MaxStartups restarts from zero");
	}
	unsetenv(LISTENER_ENV_REEXEC);
	unsetenv(LISTENER_ENV_STATE_FD);

	proxy_state_load(&l.st, a);
	if ((r = srclimit_new(&l.sl, l.st.cfg->server.max_startups_begin,
	    l.st.cfg->server.max_startups_rate, l.st.cfg->server.max_startups_full, NULL, NULL)) != 0) {
		fprintf(stderr, "ssh-proxy: %s: server.maxStartups: %s\n", a->config_path,
		    srclimit_strerror(r));
		log_error("%s: server.maxStartups: %s", a->config_path, srclimit_strerror(r));
		exit(1);
	}
	if ((n = sd_listen_fds(1)) < 0)
		log_fatal("LISTEN_FDS: %s", strerror(-n));
	sockets_setup(&l, n, reexeced && reexec_bound);
	/* Monitors that ended while we were exec'ing left a pending SIGCHLD; reap now anyway. */
	reap(&l);

	sd_notifyf(0, "READY=1\nMAINPID=%ld", (long)getpid());
	log_info("%s: %zu listening sockets, %zu connections carried over, MaxStartups %d:%d:%d",
	    reexeced ? "re-executed" : "started", l.nlfd, l.nconns, l.st.cfg->server.max_startups_begin,
	    l.st.cfg->server.max_startups_rate, l.st.cfg->server.max_startups_full);

	serve(&l);

	log_info("exiting: %llu connections accepted, %llu refused by MaxStartups, %llu ended, "
	    "%zu still running", l.cnt.accepted, l.cnt.refused, l.cnt.ended, l.nconns);
	listener_free(&l);
	return 0;
}
