/* The connection's workspace: the gRPC context of the child, the channel to
 * k8shelld (static provisioner) and the Handshake shared by every channel. */
#include "autoconf.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <grpc/status.h>

#include "child/workspace.h"
#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/monotime.h"
#include "privsep/privsep.h"
#include "proto/grpc-poll.h"
#include "proto/k8shelld.pb-c.h"

#define WS_HANDSHAKE_MS		5000
#define WS_MSG_UNREACHABLE	"workspace unreachable, retry shortly"
#define WS_MSG_TLS		"the workspace's TLS certificate was not accepted"
#define WS_ERR_MAX		256	/* a user-facing line */

enum ws_state { WS_IDLE, WS_CONNECTING, WS_READY };

TAILQ_HEAD(ws_waitq, workspace_waiter);
struct workspace_waiter {
	workspace_ready_cb cb;
	void *arg;
	struct ws_waitq *q;		/* the queue it is on */
	TAILQ_ENTRY(workspace_waiter) entry;
};

struct workspace {
	struct gcall_ctx *ctx;		/* created on first use, after authentication */
	bool fd_added;			/* gcall_ctx_fd() is in c->event */
	uint64_t dispatched_ms;		/* last gcall_ctx_dispatch(), monotonic */
	struct gcall_chan *chan;	/* NULL while idle */
	enum ws_state state;
	struct ws_waitq waiters;
	unsigned long long bytes_in, bytes_out;
};

static void
ws_dispatch(struct child *c)
{
	int r;

	c->ws->dispatched_ms = monotime_ms();
	if ((r = gcall_ctx_dispatch(c->ws->ctx)) != 0) {
		log_error("gRPC dispatch: %s", grpcc_strerror(r));
		child_finish(c, EXIT_CHILD_INTERNAL);
	}
}

static int
ws_event(socket_t fd, int revents, void *userdata)
{
	struct child *c = userdata;

	(void)fd;
	(void)revents;
	if (c->ws == NULL || c->ws->ctx == NULL)
		return 0;
	ws_dispatch(c);
	return 0;
}

int
workspace_tick_ms(const struct child *c)
{
	if (c->ws == NULL || c->ws->ctx == NULL)
		return -1;
	return gcall_ctx_tick_ms(c->ws->ctx);
}

void
workspace_tick(struct child *c, int tick)
{
	/* tick is what workspace_tick_ms() said before the poll (it grows with
	 * time); a dispatch during the poll moved dispatched_ms past it. */
	if (tick >= 0 && c->ws != NULL &&
	    monotime_ms() - c->ws->dispatched_ms >= (uint64_t)tick)
		ws_dispatch(c);
}

static struct workspace *
ws_get(struct child *c)
{
	if (c->ws == NULL) {
		if ((c->ws = calloc(1, sizeof(*c->ws))) == NULL)
			return NULL;
		TAILQ_INIT(&c->ws->waiters);
	}
	return c->ws;
}

/* gRPC starts here, in the child after authentication (never before a fork). */
static int
ws_ctx(struct child *c, struct workspace *ws)
{
	int r;

	if (ws->ctx != NULL)
		return 0;
	if ((r = gcall_ctx_new(&ws->ctx)) != 0) {
		log_error("cannot start gRPC: %s", grpcc_strerror(r));
		return -1;
	}
	if (ssh_event_add_fd(c->event, gcall_ctx_fd(ws->ctx), POLLIN, ws_event, c) != SSH_OK) {
		log_error("cannot add the gRPC event fd to the loop");
		gcall_ctx_free(ws->ctx);
		ws->ctx = NULL;
		return -1;
	}
	ws->fd_added = true;
	return 0;
}

/* Runs every waiter once with the result. The queue is detached first: a
 * callback may ask again (and start a new attempt) or cancel another waiter. */
static void
ws_notify(struct child *c, struct workspace *ws, const char *error)
{
	struct ws_waitq q;
	struct workspace_waiter *w;

	TAILQ_INIT(&q);
	TAILQ_CONCAT(&q, &ws->waiters, entry);
	TAILQ_FOREACH(w, &q, entry)
		w->q = &q;
	while ((w = TAILQ_FIRST(&q)) != NULL) {
		workspace_ready_cb cb = w->cb;
		void *arg = w->arg;

		TAILQ_REMOVE(&q, w, entry);
		free(w);
		cb(c, error == NULL ? ws->chan : NULL, error, arg);
	}
}

/* Collapses gRPC details to one printable line. */
static void
ws_one_line(char *dst, size_t len, const char *src)
{
	size_t i;

	snprintf(dst, len, "%s", src != NULL ? src : "");
	for (i = 0; dst[i] != '\0'; i++)
		if ((unsigned char)dst[i] < 0x20 || (unsigned char)dst[i] == 0x7f)
			dst[i] = ' ';
}

static void
ws_fail(struct child *c, struct workspace *ws, const char *error)
{
	/* A fresh gRPC channel next time: the old one would sit in reconnect backoff. */
	gcall_chan_free(ws->chan);
	ws->chan = NULL;
	ws->state = WS_IDLE;
	ws_notify(c, ws, error);
}

/* With TLS configured, whether gRPC's details say the certificate check
 * failed (gRPC gives no code for it). */
static bool
ws_tls_refused(const struct child *c, const char *details)
{
	static const char *const marks[] = {
		"peer certificate", "certificate verify", "CERTIFICATE_VERIFY", "Handshake failed",
		"handshake failed",
	};
	size_t i;

	if (c->cfg->provisioner_static.ca_cert == NULL ||
	    c->cfg->provisioner_static.ca_cert[0] == '\0' || details == NULL)
		return false;
	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strstr(details, marks[i]) != NULL)
			return true;
	return false;
}

static void
ws_handshake_done(struct gcall *call, const struct gcall_status *st, ProtobufCMessage *resp,
    void *arg)
{
	struct child *c = arg;
	struct workspace *ws = c->ws;
	K8shelld__HandshakeResponse *hr = (K8shelld__HandshakeResponse *)resp;
	char msg[WS_ERR_MAX + 64], detail[WS_ERR_MAX];

	(void)call;	/* frees itself after this callback */
	if (st->code != GRPC_STATUS_OK) {
		ws_one_line(detail, sizeof(detail), st->details);
		log_emit(st->local ? LOG_LEVEL_ERROR : LOG_LEVEL_WARN, __func__, NULL,
		    "workspace handshake with %s%s failed: status %d%s: %s",
		    c->cfg->provisioner_static.address,
		    c->cfg->provisioner_static.ca_cert != NULL &&
		    c->cfg->provisioner_static.ca_cert[0] != '\0' ? " (TLS)" : "", st->code,
		    st->local ? " (raised here)" : "", detail);
		if (st->local)
			/* Ours (token file, memory): the details are for the log only. */
			snprintf(msg, sizeof(msg), "internal error, retry shortly");
		else if (st->code == GRPC_STATUS_UNAVAILABLE && ws_tls_refused(c, st->details))
			/* Retrying will not help: the operator must fix the CA or name. */
			snprintf(msg, sizeof(msg), "%s", WS_MSG_TLS);
		else if (st->code == GRPC_STATUS_UNAVAILABLE || st->code == GRPC_STATUS_DEADLINE_EXCEEDED)
			snprintf(msg, sizeof(msg), "%s", WS_MSG_UNREACHABLE);
		else
			snprintf(msg, sizeof(msg), "workspace handshake failed: %s", detail);
		ws_fail(c, ws, msg);
		return;
	}
	if (!hr->accepted) {
		ws_one_line(detail, sizeof(detail), hr->message);
		log_warn("workspace %s rejected the connection: %s",
		    c->cfg->provisioner_static.address, detail);
		snprintf(msg, sizeof(msg), "connection rejected: %s", detail);
		grpcc_msg_free(resp);
		ws_fail(c, ws, msg);
		return;
	}
	ws_one_line(detail, sizeof(detail), hr->server_version);
	log_info("workspace at %s ready (k8shelld %s)", c->cfg->provisioner_static.address,
	    detail[0] != '\0' ? detail : "version unknown");
	grpcc_msg_free(resp);
	ws->state = WS_READY;
	ws_notify(c, ws, NULL);
}

/* Returns NULL when the attempt started, else the user-facing error. */
static const char *
ws_connect(struct child *c, struct workspace *ws)
{
	K8shelld__HandshakeRequest req = K8SHELLD__HANDSHAKE_REQUEST__INIT;
	struct gcall_chan_opts opts;
	const struct config *cfg = c->cfg;
	int r;

	if (cfg->provisioner.address != NULL && cfg->provisioner.address[0] != '\0') {
		log_error("provisioner.address is set: the gRPC provisioner is not supported yet "
		    "(use provisioner.static.address)");
		return "workspace provisioning is not available on this server";
	}
	if (cfg->provisioner_static.address == NULL || cfg->provisioner_static.address[0] == '\0') {
		log_error("no workspace configured: set provisioner.static.address");
		return "no workspace is configured on this server";
	}
	if (ws_ctx(c, ws) != 0)
		return "internal error, retry shortly";
	memset(&opts, 0, sizeof(opts));
	opts.target = cfg->provisioner_static.address;
	/* TLS as for a workspace that reports tls_enabled: this CA only, and the
	 * name to verify (empty: the address's host). */
	opts.ca_file = cfg->provisioner_static.ca_cert;
	opts.server_name = cfg->provisioner_static.server_name;
	opts.token_file = cfg->k8shelld.token_file;
	if ((r = gcall_chan_new(ws->ctx, &opts, &ws->chan)) != 0) {
		if (r == GRPCC_ERR_CAFILE) {
			log_error("provisioner.static.caCertPath %s: %s", opts.ca_file,
			    strerror(errno));
			return "the workspace requires TLS and this server cannot read its CA "
			    "certificate";
		}
		log_error("gRPC channel to %s: %s", opts.target, grpcc_strerror(r));
		return "internal error, retry shortly";
	}
	r = gcall_unary(ws->chan, "/k8shelld.SystemService/Handshake", &req.base,
	    &k8shelld__handshake_response__descriptor, NULL, 0, WS_HANDSHAKE_MS,
	    ws_handshake_done, c, NULL);
	if (r != 0) {
		log_error("workspace handshake: %s", grpcc_strerror(r));
		gcall_chan_free(ws->chan);
		ws->chan = NULL;
		return "internal error, retry shortly";
	}
	log_debug("workspace handshake with %s", opts.target);
	ws->state = WS_CONNECTING;
	return NULL;
}

int
workspace_request(struct child *c, workspace_ready_cb cb, void *arg, struct workspace_waiter **wp)
{
	struct workspace *ws;
	struct workspace_waiter *w;
	const char *error;

	if (wp != NULL)
		*wp = NULL;
	if ((ws = ws_get(c)) == NULL)
		return -1;
	if (ws->state == WS_READY) {
		cb(c, ws->chan, NULL, arg);
		return 0;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	w->cb = cb;
	w->arg = arg;
	w->q = &ws->waiters;
	TAILQ_INSERT_TAIL(&ws->waiters, w, entry);
	if (ws->state == WS_IDLE && (error = ws_connect(c, ws)) != NULL) {
		/* Every waiter gets it (only this one, since no attempt was running). */
		ws_notify(c, ws, error);
		return 0;
	}
	if (wp != NULL)
		*wp = w;
	return 0;
}

void
workspace_waiter_cancel(struct workspace_waiter *w)
{
	/* Only queued waiters exist: notified ones are freed before their callback. */
	if (w == NULL)
		return;
	TAILQ_REMOVE(w->q, w, entry);
	free(w);
}

void
workspace_count(struct child *c, size_t bytes_in, size_t bytes_out)
{
	if (c->ws == NULL)
		return;
	c->ws->bytes_in += bytes_in;
	c->ws->bytes_out += bytes_out;
}

const char *
workspace_as_user(const struct child *c)
{
	/* No `user=` override in the user string yet: the workspace's default user. */
	(void)c;
	return "";
}

void
workspace_free(struct child *c)
{
	struct workspace *ws = c->ws;
	struct workspace_waiter *w;

	if (ws == NULL)
		return;
	if (ws->bytes_in != 0 || ws->bytes_out != 0)
		log_debug("workspace bytes: %llu in, %llu out", ws->bytes_in, ws->bytes_out);
	while ((w = TAILQ_FIRST(&ws->waiters)) != NULL) {
		TAILQ_REMOVE(&ws->waiters, w, entry);
		free(w);
	}
	if (ws->fd_added)
		ssh_event_remove_fd(c->event, gcall_ctx_fd(ws->ctx));
	/* Cancels the Handshake and every call left, then stops gRPC. */
	gcall_ctx_free(ws->ctx);
	free(ws);
	c->ws = NULL;
}
