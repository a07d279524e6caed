/* The per-connection monitor: starts the unprivileged child and answers its
 * requests (mm_answer_*) until it exits; any policy violation SIGKILLs it. */
#include "autoconf.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/log.h"
#include "privsep/authkeys.h"
#include "privsep/hostkey.h"
#include "privsep/monitor-msg.h"
#include "privsep/monitor-policy.h"
#include "privsep/monitor.h"
#include "privsep/privdrop.h"
#include "privsep/privsep.h"

struct monitor {
	const struct monitor_params *p;
	pid_t pid;
	int sock;		/* -1 once the child closed it or was killed */
	int tfd;		/* login grace timer */
	int sfd;		/* SIGCHLD, SIGTERM, SIGINT, SIGHUP */
	int status_fd;		/* -1 once the AUTHENTICATED byte was written */
	int signatures;
	bool authenticated;
	bool term_sent;
	int kill_reason;	/* EXIT_CHILD_VIOLATION / EXIT_CHILD_GRACE once SIGKILLed */
	uint8_t *buf;		/* one received packet */
};

/* Kills the child for reason; later reasons do not overwrite the first. */
static void
monitor_kill(struct monitor *mon, int reason)
{
	if (mon->kill_reason != 0)
		return;
	mon->kill_reason = reason;
	kill(mon->pid, SIGKILL);
	/* Nothing more the child says counts. */
	if (mon->sock >= 0) {
		close(mon->sock);
		mon->sock = -1;
	}
}

static void
violation(struct monitor *mon, const char *what)
{
	log_error("monitor policy violation: %s; killing child %ld", what, (long)mon->pid);
	monitor_kill(mon, EXIT_CHILD_VIOLATION);
}

static void
answer(struct monitor *mon, const struct monitor_msg *a)
{
	int r;

	if (mon->sock < 0)
		return;
	if ((r = monitor_msg_send(mon->sock, a)) != 0) {
		/* The child is gone or going; its exit status tells the rest. */
		log_debug("sending %s: %s", monitor_msg_type_name((int)a->type),
		    monitor_msg_strerror(r));
		close(mon->sock);
		mon->sock = -1;
	}
}

static void
answer_error(struct monitor *mon, uint32_t code, const char *msg)
{
	struct monitor_msg a = { .type = MONITOR_ANS_ERROR, .code = code };

	snprintf(a.errmsg, sizeof(a.errmsg), "%s", msg);
	answer(mon, &a);
}

static void
mm_answer_config(struct monitor *mon, const struct monitor_msg *req)
{
	struct monitor_msg a = { .type = MONITOR_ANS_CONFIG };
	size_t len;

	(void)req;
	a.data = (const uint8_t *)mon->p->config_text;
	a.dlen = mon->p->config_text ? mon->p->config_len : 0;
	if (monitor_msg_size(&a, &len) != 0) {
		log_error("configuration text (%zu bytes) cannot be sent to the child", a.dlen);
		answer_error(mon, MONITOR_ERR_UNAVAILABLE, "configuration unavailable");
		return;
	}
	answer(mon, &a);
}

static void
mm_answer_hostkeys(struct monitor *mon, const struct monitor_msg *req)
{
	struct monitor_msg a = { 0 };
	size_t n = hostkeys_count(mon->p->keys);

	if (req->type == MONITOR_REQ_HOSTKEYS_COUNT) {
		a.type = MONITOR_ANS_HOSTKEYS_COUNT;
		a.count = (uint32_t)(n < MONITOR_KEYS_MAX ? n : MONITOR_KEYS_MAX);
		answer(mon, &a);
		return;
	}
	a.type = MONITOR_ANS_HOSTKEY_PUB;
	if (hostkeys_pubblob(mon->p->keys, req->idx, &a.data, &a.dlen) != 0) {
		violation(mon, "public key of a host key that does not exist");
		return;
	}
	answer(mon, &a);
}

static void
mm_answer_sign(struct monitor *mon, const struct monitor_msg *req)
{
	struct monitor_msg a = { .type = MONITOR_ANS_SIGN };
	uint8_t *sig;
	size_t siglen;
	char what[160];
	int r;

	r = monitor_sign_policy(mon->p->keys, req->idx, req->alg, req->dlen, mon->signatures,
	    mon->p->max_signatures);
	if (r != 0) {
		snprintf(what, sizeof(what), "SIGN key %u alg %.64s, %zu bytes: %s", req->idx,
		    req->alg, req->dlen, monitor_policy_strerror(r));
		violation(mon, what);
		return;
	}
	mon->signatures++;
	if ((r = hostkeys_sign(mon->p->keys, req->idx, req->alg, req->data, req->dlen,
	    &sig, &siglen)) != 0) {
		log_error("signing with host key %u (%s): %s", req->idx, req->alg,
		    hostkeys_strerror(r));
		answer_error(mon, MONITOR_ERR_CRYPTO, "signing failed");
		return;
	}
	log_debug("signed %zu bytes with host key %u (%s), signature %d of %d", req->dlen,
	    req->idx, req->alg, mon->signatures, mon->p->max_signatures);
	a.data = sig;
	a.dlen = siglen;
	answer(mon, &a);
	free(sig);
}

static const struct config_static_user *
static_user(const struct config *cfg, const char *name)
{
	if (cfg == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->identity_static.users_count; i++)
		if (cfg->identity_static.users[i].name != NULL &&
		    strcmp(cfg->identity_static.users[i].name, name) == 0)
			return &cfg->identity_static.users[i];
	return NULL;
}

static void
mm_answer_keyallowed(struct monitor *mon, const struct monitor_msg *req)
{
	struct monitor_msg a = { .type = MONITOR_ANS_KEY_ALLOWED };
	const struct config_static_user *u = static_user(mon->p->cfg, req->user);
	int r;

	if (u == NULL || u->authorized_keys == NULL || *u->authorized_keys == '\0') {
		log_debug("user \"%s\" is not a static user", req->user);
		answer(mon, &a);
		return;
	}
	if ((r = authkeys_match_file(u->authorized_keys, req->data, req->dlen)) < 0) {
		log_error("authorized keys of user \"%s\" %s: %s%s%s", req->user,
		    u->authorized_keys, authkeys_strerror(r), r == AUTHKEYS_E_OPEN ? ": " : "",
		    r == AUTHKEYS_E_OPEN ? strerror(errno) : "");
		answer_error(mon, MONITOR_ERR_AUTHKEYS, "authorized keys unavailable");
		return;
	}
	a.allowed = r == 1;
	answer(mon, &a);
}

/* One byte to the listener; the listener may be gone, which must not kill us. */
static void
status_report(struct monitor *mon)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	const uint8_t b = '1';
	ssize_t n;

	if (mon->status_fd < 0)
		return;
	sigemptyset(&ign.sa_mask);
	if ((n = send(mon->status_fd, &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT)) < 0 && errno == ENOTSOCK) {
		sigaction(SIGPIPE, &ign, &old);
		while ((n = write(mon->status_fd, &b, 1)) < 0 && errno == EINTR)
			;
		sigaction(SIGPIPE, &old, NULL);
	}
	if (n != 1)
		log_warn("reporting authentication to the listener: %s", strerror(errno));
	close(mon->status_fd);
	mon->status_fd = -1;
}

static void
mm_answer_authenticated(struct monitor *mon, const struct monitor_msg *req)
{
	struct monitor_msg a = { .type = MONITOR_ANS_AUTHENTICATED };
	struct itimerspec off = { { 0, 0 }, { 0, 0 } };

	if (mon->authenticated) {
		violation(mon, "AUTHENTICATED sent twice");
		return;
	}
	mon->authenticated = true;
	timerfd_settime(mon->tfd, 0, &off, NULL);
	log_info("user \"%s\" authenticated", req->user);
	status_report(mon);
	answer(mon, &a);
}

/* Reads and serves one request. */
static void
monitor_serve_one(struct monitor *mon, short revents)
{
	struct monitor_msg req;
	struct pollfd pfd;
	char what[96];
	int r;

	r = monitor_msg_recv(mon->sock, mon->buf, &req);
	if (r == MONITOR_MSG_E_EOF) {
		/* recv() returns 0 for an empty packet too: only a hangup is an EOF. */
		pfd = (struct pollfd){ .fd = mon->sock, .events = POLLIN | POLLRDHUP };
		if ((revents & (POLLHUP | POLLRDHUP)) == 0 &&
		    (poll(&pfd, 1, 0) != 1 || (pfd.revents & (POLLHUP | POLLRDHUP)) == 0)) {
			violation(mon, "empty message");
			return;
		}
		log_debug("child closed the monitor socket");
		close(mon->sock);
		mon->sock = -1;
		return;
	}
	if (r == MONITOR_MSG_E_IO) {
		log_error("monitor socket: %s", strerror(errno));
		close(mon->sock);
		mon->sock = -1;
		return;
	}
	if (r != 0) {
		snprintf(what, sizeof(what), "malformed message: %s", monitor_msg_strerror(r));
		violation(mon, what);
		return;
	}
	log_debug("request %s", monitor_msg_type_name((int)req.type));
	switch (req.type) {
	case MONITOR_REQ_CONFIG:
		mm_answer_config(mon, &req);
		break;
	case MONITOR_REQ_HOSTKEYS_COUNT:
	case MONITOR_REQ_HOSTKEY_PUB:
		mm_answer_hostkeys(mon, &req);
		break;
	case MONITOR_REQ_SIGN:
		mm_answer_sign(mon, &req);
		break;
	case MONITOR_REQ_KEY_ALLOWED:
		mm_answer_keyallowed(mon, &req);
		break;
	case MONITOR_REQ_AUTHENTICATED:
		mm_answer_authenticated(mon, &req);
		break;
	default:
		snprintf(what, sizeof(what), "unexpected message %s",
		    monitor_msg_type_name((int)req.type));
		violation(mon, what);
		break;
	}
}

/* Drains the signalfd; returns true once the child has been reaped into *status. */
static bool
monitor_signals(struct monitor *mon, int *status)
{
	struct signalfd_siginfo si;
	bool reaped = false;
	pid_t r;

	while (read(mon->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			while ((r = waitpid(mon->pid, status, WNOHANG)) < 0 && errno == EINTR)
				;
			if (r == mon->pid)
				reaped = true;
			else if (r < 0) {
				log_error("waitpid: %s", strerror(errno));
				*status = -1;
				reaped = true;
			}
			break;
		case SIGTERM:
		case SIGINT:
			log_info("signal %d: terminating child %ld", (int)si.ssi_signo, (long)mon->pid);
			if (mon->kill_reason == 0) {
				mon->term_sent = true;
				kill(mon->pid, SIGTERM);
			}
			break;
		default:
			/* SIGHUP reloads the listener, never a live connection. */
			break;
		}
		if (reaped)
			break;
	}
	return reaped;
}

static int
monitor_exit_code(const struct monitor *mon, int status)
{
	if (mon->kill_reason != 0)
		return mon->kill_reason;
	if (status == -1)
		return EXIT_CHILD_INTERNAL;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status)) {
		/* The SIGTERM we passed on (or a terminal's SIGINT with it) is a
		 * requested shutdown, not a fault. */
		if (mon->term_sent && (WTERMSIG(status) == SIGTERM || WTERMSIG(status) == SIGINT))
			return EXIT_CHILD_OK;
		log_error("child %ld died of signal %d", (long)mon->pid, WTERMSIG(status));
	}
	return EXIT_CHILD_SIGNALLED;
}

static void
monitor_loop(struct monitor *mon, int *status)
{
	struct pollfd pfd[3];
	uint64_t ticks;

	for (;;) {
		pfd[0] = (struct pollfd){ .fd = mon->sfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = mon->tfd, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = mon->sock, .events = POLLIN };
		if (poll(pfd, mon->sock >= 0 ? 3 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", strerror(errno));
			monitor_kill(mon, EXIT_CHILD_INTERNAL);
			while (waitpid(mon->pid, status, 0) < 0 && errno == EINTR)
				;
			return;
		}
		/* Requests first: a child that asks and exits is still answered. */
		if (mon->sock >= 0 && pfd[2].revents != 0)
			monitor_serve_one(mon, pfd[2].revents);
		if ((pfd[1].revents & POLLIN) && read(mon->tfd, &ticks, sizeof(ticks)) > 0 &&
		    !mon->authenticated) {
			log_error("login grace time of %d s expired; killing child %ld",
			    mon->p->login_grace, (long)mon->pid);
			monitor_kill(mon, EXIT_CHILD_GRACE);
		}
		if ((pfd[0].revents & POLLIN) && monitor_signals(mon, status))
			return;
	}
}

/* Between fork and execv: the child's half. Never returns. */
static void
monitor_child(int conn_fd, int mon_fd, const struct monitor_params *p)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (privdrop_fds(conn_fd, mon_fd) != 0 || privdrop_user(p->drop, p->uid, p->gid) != 0)
		_exit(EXIT_CHILD_INTERNAL);
	execv(p->exe, p->child_argv);
	log_error("execv %s: %s", p->exe, strerror(errno));
	_exit(127);
}

int
monitor_run(int conn_fd, const struct monitor_params *p)
{
	struct monitor mon = { .p = p, .sock = -1, .tfd = -1, .sfd = -1, .status_fd = p->status_fd };
	struct itimerspec grace = { { 0, 0 }, { p->login_grace, 0 } };
	sigset_t set, oldset;
	int sv[2] = { -1, -1 }, status = -1, rc = EXIT_CHILD_INTERNAL;

	/* A listener ignoring SIGCHLD would make waitpid fail. */
	signal(SIGCHLD, SIG_DFL);
	/* Before fork: the child has a copy of the keys until it execs. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Blocked before fork, so an early child exit still reaches the signalfd. */
	sigprocmask(SIG_BLOCK, &set, &oldset);

	if ((mon.buf = malloc(MONITOR_MSG_MAX)) == NULL ||
	    monitor_msg_socketpair(sv) != 0 ||
	    (mon.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0 ||
	    (mon.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)) < 0) {
		log_error("monitor setup: %s", strerror(errno));
		close(conn_fd);
		goto out;
	}
	if ((mon.pid = fork()) < 0) {
		log_error("fork: %s", strerror(errno));
		close(conn_fd);
		goto out;
	}
	if (mon.pid == 0)
		monitor_child(conn_fd, sv[1], p);

	close(sv[1]);
	sv[1] = -1;
	close(conn_fd);
	mon.sock = sv[0];
	sv[0] = -1;
	if (p->login_grace > 0 && timerfd_settime(mon.tfd, 0, &grace, NULL) != 0)
		log_error("timerfd_settime: %s", strerror(errno));
	log_debug("child %ld started", (long)mon.pid);

	monitor_loop(&mon, &status);
	rc = monitor_exit_code(&mon, status);
	log_debug("child %ld finished, exit code %d", (long)mon.pid, rc);
out:
	if (mon.sock >= 0)
		close(mon.sock);
	for (int i = 0; i < 2; i++)
		if (sv[i] >= 0)
			close(sv[i]);
	if (mon.sfd >= 0)
		close(mon.sfd);
	if (mon.tfd >= 0)
		close(mon.tfd);
	if (mon.status_fd >= 0)
		close(mon.status_fd);
	free(mon.buf);
	sigprocmask(SIG_SETMASK, &oldset, NULL);
	return rc;
}
