/* workspaced's gRPC server: registers the k8shelld methods, keeps one pending
 * request per method, checks the bearer token, and tracks live calls and their IDs. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>

#include "daemon/log.h"
#include "daemon/monotime.h"
#include "proto/grpc-common.h"
#include "proto/grpc-poll.h"
#include "contrib/workspaced/wsd-call.h"
#include "contrib/workspaced/wsd-handlers.h"
#include "contrib/workspaced/wsd-loop.h"
#include "contrib/workspaced/wsd-server.h"

#define WSD_MAX_RECV (32 << 20)
/* Completions taken per loop round, so one busy stream cannot starve the fds. */
#define WSD_CQ_BATCH 16
#define WSD_TOKEN_MAX 4096
/* Inline mode: what gRPC's own threads complete (a client's deadline, a
 * keepalive failure, work handed off during a transfer: proto/grpc-poll.h)
 * shows on no fd. The tick comes GRPCP_TICK_MIN_MS after a completion and
 * backs off to WSD_TICK_CALLS_MS while calls are open: a few looks a second
 * keep an idle shell cheap. */
#define WSD_TICK_CALLS_MS 100
#define WSD_TICK_IDLE_MS 1000

struct wsd_method {
	const char *path;
	void (*stream)(struct wsd_call *call);
	void (*unary)(struct wsd_call *call, const uint8_t *req, size_t len);
};

static const struct wsd_method methods[] = {
	{ "/k8shelld.SystemService/Handshake", NULL, wsd_handshake_start },
	{ "/k8shelld.SshService/Shell", wsd_shell_start, NULL },
	{ "/k8shelld.SshService/ResizeTerminal", NULL, wsd_resize_start },
	{ "/k8shelld.SshService/Exec", wsd_exec_start, NULL },
	{ "/k8shelld.SshService/PortForward", wsd_portfwd_start, NULL },
	{ "/k8shelld.SshService/UnixSocket", wsd_unixsock_start, NULL },
};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

/* The one outstanding grpc_server_request_registered_call of a method. */
struct wsd_request {
	struct wsd_tag tag;
	struct wsd_server *srv;
	const struct wsd_method *m;
	void *handle;
	grpc_call *gcall;
	gpr_timespec deadline;
	grpc_metadata_array md;
	grpc_byte_buffer *payload;
	int pending;
};

struct wsd_claim {
	struct wsd_claim *next;
	struct wsd_call *call;
	char *kind;
	char *id;
};

struct wsd_server {
	struct wsd_loop *loop;
	struct wsd_procs *procs;
	grpc_server *server;
	grpc_completion_queue *cq;
	pthread_t cq_thread;
	int thread_started;
	/* gRPC's own epoll set, polled by the loop thread (inline mode). */
	struct wsd_watch gwatch;
	struct wsd_timer gtimer;
	uint64_t last_done_ms;	/* when a drain last took a completion */
	struct wsd_request reqs[NMETHODS];
	struct wsd_claim *claims;
	size_t ncalls;
	char *token_file;
	char *default_user;
	int shutting_down;
	struct wsd_tag t_shutdown;
	int shutdown_pending;
};

struct wsd_loop *
wsd_server_loop(const struct wsd_server *srv)
{
	return srv->loop;
}

struct wsd_procs *
wsd_server_procs(const struct wsd_server *srv)
{
	return srv->procs;
}

const char *
wsd_server_default_user(const struct wsd_server *srv)
{
	return srv->default_user;
}

int
wsd_server_claim_id(struct wsd_server *srv, struct wsd_call *call, const char *kind, const char *id)
{
	struct wsd_claim *c;

	if (wsd_server_find_id(srv, kind, id) != NULL)
		return -EEXIST;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->call = call;
	c->kind = strdup(kind);
	c->id = strdup(id);
	if (c->kind == NULL || c->id == NULL) {
		free(c->kind);
		free(c->id);
		free(c);
		return -ENOMEM;
	}
	c->next = srv->claims;
	srv->claims = c;
	return 0;
}

struct wsd_call *
wsd_server_find_id(struct wsd_server *srv, const char *kind, const char *id)
{
	struct wsd_claim *c;

	for (c = srv->claims; c != NULL; c = c->next)
		if (strcmp(c->kind, kind) == 0 && strcmp(c->id, id) == 0)
			return c->call;
	return NULL;
}

void
wsd_server_drop_ids(struct wsd_server *srv, struct wsd_call *call)
{
	struct wsd_claim **cp = &srv->claims, *c;

	while ((c = *cp) != NULL) {
		if (c->call == call) {
			*cp = c->next;
			free(c->kind);
			free(c->id);
			free(c);
		} else
			cp = &c->next;
	}
}

void
wsd_server_call_gone(struct wsd_server *srv, struct wsd_call *call)
{
	wsd_server_drop_ids(srv, call);
	srv->ncalls--;
}

/* The token file is re-read for every call so a rotated token applies at once. */
static int
server_authorized(struct wsd_server *srv, struct wsd_call *call)
{
	static const char prefix[] = "Bearer ";
	const char *got = wsd_call_metadata(call, "authorization");
	char tok[WSD_TOKEN_MAX];
	size_t n = 0, i, glen;
	ssize_t r;
	unsigned char diff = 0;
	int fd;

	if (srv->token_file == NULL)
		return 1;
	if ((fd = open(srv->token_file, O_RDONLY | O_CLOEXEC)) < 0) {
		log_error("token file %s: %s", srv->token_file, strerror(errno));
		return 0;
	}
	while (n < sizeof(tok) && (r = read(fd, tok + n, sizeof(tok) - n)) > 0)
		n += (size_t)r;
	close(fd);
	while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r' || tok[n - 1] == ' ' ||
	    tok[n - 1] == '\t'))
		n--;
	if (n == 0 || n == sizeof(tok)) {
		log_error("token file %s: empty or too long", srv->token_file);
		explicit_bzero(tok, sizeof(tok));
		return 0;
	}
	if (got == NULL || strncmp(got, prefix, sizeof(prefix) - 1) != 0)
		diff = 1;
	else {
		got += sizeof(prefix) - 1;
		glen = strlen(got);
		/* Constant time: the comparison must not reveal how much of a guess matched. */
		for (i = 0; i < n; i++)
			diff |= (unsigned char)((i < glen ? got[i] : 0) ^ tok[i]);
		diff |= glen != n;
	}
	explicit_bzero(tok, sizeof(tok));
	return diff == 0;
}

static int
server_request(struct wsd_request *req)
{
	grpc_call_error e;

	grpc_metadata_array_init(&req->md);
	req->gcall = NULL;
	req->payload = NULL;
	e = grpc_server_request_registered_call(req->srv->server, req->handle, &req->gcall,
	    &req->deadline, &req->md, req->m->unary != NULL ? &req->payload : NULL,
	    req->srv->cq, req->srv->cq, &req->tag);
	if (e != GRPC_CALL_OK) {
		grpc_metadata_array_destroy(&req->md);
		log_error("%s: cannot request calls (%d)", req->m->path, (int)e);
		return -EIO;
	}
	req->pending = 1;
	return 0;
}

static void
server_new_call(struct wsd_tag *tag, int ok)
{
	struct wsd_request *req = wsd_container_of(tag, struct wsd_request, tag);
	struct wsd_server *srv = req->srv;
	grpc_byte_buffer *payload = req->payload;
	grpc_call *gcall = req->gcall;
	grpc_byte_buffer_reader rd;
	struct wsd_call *call;
	grpc_slice s;

	req->pending = 0;
	if (!ok) {
		grpc_metadata_array_destroy(&req->md);
		if (payload != NULL)
			grpc_byte_buffer_destroy(payload);
		return;
	}
	call = wsd_call_new(srv, req->m->path, gcall, &req->md);
	grpc_metadata_array_destroy(&req->md);
	if (!srv->shutting_down)
		server_request(req);
	if (call == NULL) {
		grpc_call_cancel_with_status(gcall, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory",
		    NULL);
		grpc_call_unref(gcall);
		if (payload != NULL)
			grpc_byte_buffer_destroy(payload);
		return;
	}
	srv->ncalls++;
	wsd_call_start(call);
	log_debug("%s: new call", req->m->path);
	if (!server_authorized(srv, call)) {
		log_warn("%s: rejected: bad or missing bearer token", req->m->path);
		wsd_call_finish(call, GRPC_STATUS_UNAUTHENTICATED, "invalid bearer token");
	} else if (req->m->stream != NULL)
		req->m->stream(call);
	else if (payload == NULL)
		req->m->unary(call, NULL, 0);
	else if (!grpc_byte_buffer_reader_init(&rd, payload))
		wsd_call_finish(call, GRPC_STATUS_INTERNAL, "cannot read the request message");
	else {
		s = grpc_byte_buffer_reader_readall(&rd);
		grpc_byte_buffer_reader_destroy(&rd);
		req->m->unary(call, GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s));
		grpc_slice_unref(s);
	}
	if (payload != NULL)
		grpc_byte_buffer_destroy(payload);
}

static void
server_done(void *tag, int ok, void *arg)
{
	struct wsd_tag *t = tag;

	(void)arg;
	t->done(t, ok);
}

/* The loop thread takes completions that are already queued (a send usually
 * completes inside grpc_call_start_batch) so the byte path needs no thread hop;
 * in inline mode this also runs gRPC's socket I/O (proto/grpc-poll.h). */
static void
server_poll_cq(void *arg)
{
	struct wsd_server *srv = arg;
	int n;

	n = grpcp_drain(srv->cq, WSD_CQ_BATCH, server_done, NULL);
	if (n <= 0 || srv->gwatch.fd < 0)
		return;
	/* A full batch may leave completions in the queue, which no fd shows:
	 * the tick comes at once then, else soon (see WSD_TICK_CALLS_MS). */
	srv->last_done_ms = monotime_ms();
	(void)wsd_timer_start(srv->loop, &srv->gtimer, n >= WSD_CQ_BATCH ? 0 : GRPCP_TICK_MIN_MS);
}

static void
server_gwatch_cb(struct wsd_watch *w, short revents)
{
	(void)revents;
	server_poll_cq(wsd_container_of(w, struct wsd_server, gwatch));
}

static void
server_gtimer_cb(struct wsd_timer *t)
{
	struct wsd_server *srv = wsd_container_of(t, struct wsd_server, gtimer);

	server_poll_cq(srv);
	if (t->slot < 0)	/* server_poll_cq() did not start it again */
		(void)wsd_timer_start(srv->loop, &srv->gtimer, srv->ncalls > 0 ?
		    (unsigned int)grpcp_tick_ms(srv->last_done_ms, monotime_ms(), WSD_TICK_CALLS_MS) :
		    WSD_TICK_IDLE_MS);
}

/* This thread waits on the completion queue while the loop thread sleeps in poll(2);
 * it only hands completions over, the loop thread does the work. */
static void *
server_cq_thread(void *arg)
{
	struct wsd_server *srv = arg;
	grpc_event ev;

	for (;;) {
		ev = grpc_completion_queue_next(srv->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
		if (ev.type == GRPC_QUEUE_SHUTDOWN)
			break;
		if (ev.type == GRPC_OP_COMPLETE)
			wsd_loop_post(srv->loop, ev.tag, ev.success);
	}
	return NULL;
}

static void
server_shutdown_done(struct wsd_tag *tag, int ok)
{
	struct wsd_server *srv = wsd_container_of(tag, struct wsd_server, t_shutdown);

	(void)ok;
	srv->shutdown_pending = 0;
}

int
wsd_server_new(struct wsd_loop *loop, struct wsd_procs *procs, const struct wsd_server_conf *conf,
    struct wsd_server **srvp, int *portp)
{
	grpc_arg args[5];
	grpc_channel_args cargs = { 5, args };
	grpc_server_credentials *creds;
	struct wsd_server *srv;
	size_t i;
	int port, err = 0;

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return -ENOMEM;
	srv->loop = loop;
	srv->procs = procs;
	wsd_watch_init(&srv->gwatch, -1, server_gwatch_cb);
	wsd_timer_init(&srv->gtimer, server_gtimer_cb);
	srv->t_shutdown.done = server_shutdown_done;
	if ((conf->token_file != NULL && (srv->token_file = strdup(conf->token_file)) == NULL) ||
	    (conf->default_user != NULL &&
	    (srv->default_user = strdup(conf->default_user)) == NULL)) {
		wsd_server_free(srv);
		return -ENOMEM;
	}
	args[0].type = GRPC_ARG_INTEGER;
	args[0].key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
	args[0].value.integer = WSD_MAX_RECV;
	/* Proxies keep idle channels alive with pings; never answer them with GOAWAY. */
	args[1].type = GRPC_ARG_INTEGER;
	args[1].key = GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS;
	args[1].value.integer = 1;
	args[2].type = GRPC_ARG_INTEGER;
	args[2].key = GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS;
	args[2].value.integer = 5000;
	/* A proxy that vanished without closing shows up within a minute, and its
	 * calls are cancelled (their process groups killed). */
	args[3].type = GRPC_ARG_INTEGER;
	args[3].key = GRPC_ARG_KEEPALIVE_TIME_MS;
	args[3].value.integer = conf->keepalive_ms > 0 ? conf->keepalive_ms : 30000;
	args[4].type = GRPC_ARG_INTEGER;
	args[4].key = GRPC_ARG_KEEPALIVE_TIMEOUT_MS;
	args[4].value.integer = conf->keepalive_ms > 0 ? conf->keepalive_ms : 20000;
	srv->cq = grpc_completion_queue_create_for_next(NULL);
	srv->server = grpc_server_create(&cargs, NULL);
	grpc_server_register_completion_queue(srv->server, srv->cq, NULL);
	for (i = 0; i < NMETHODS; i++) {
		srv->reqs[i].tag.done = server_new_call;
		srv->reqs[i].srv = srv;
		srv->reqs[i].m = &methods[i];
		srv->reqs[i].handle = grpc_server_register_method(srv->server, methods[i].path, NULL,
		    methods[i].unary != NULL ? GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER :
		    GRPC_SRM_PAYLOAD_NONE, 0);
		if (srv->reqs[i].handle == NULL) {
			log_error("cannot register %s", methods[i].path);
			wsd_server_free(srv);
			return -EINVAL;
		}
	}
	if ((creds = grpcc_server_creds(conf->tls_cert, conf->tls_key, &err)) == NULL) {
		log_error("TLS certificate %s, key %s: %s", conf->tls_cert, conf->tls_key,
		    strerror(err));
		wsd_server_free(srv);
		return -err;
	}
	port = grpc_server_add_http2_port(srv->server, conf->listen, creds);
	grpc_server_credentials_release(creds);
	if (port <= 0) {
		/* gRPC checks the PEM contents here, not when the files are read. */
		log_error("cannot listen on %s%s", conf->listen, conf->tls_cert != NULL ?
		    " with TLS (is the key the certificate's, both PEM?)" : "");
		wsd_server_free(srv);
		return -EADDRNOTAVAIL;
	}
	grpc_server_start(srv->server);
	srv->gwatch.fd = conf->grpc_epfd;
	if (srv->gwatch.fd >= 0) {
		log_debug("gRPC I/O on the loop thread (epoll fd %d)", srv->gwatch.fd);
		if (wsd_watch_set(loop, &srv->gwatch, POLLIN) < 0 ||
		    wsd_timer_start(loop, &srv->gtimer, GRPCP_TICK_MS) < 0) {
			wsd_server_free(srv);
			return -ENOMEM;
		}
	} else if (pthread_create(&srv->cq_thread, NULL, server_cq_thread, srv) != 0) {
		wsd_server_free(srv);
		return -EAGAIN;
	} else
		srv->thread_started = 1;
	wsd_loop_set_idle(loop, server_poll_cq, srv);
	for (i = 0; i < NMETHODS; i++)
		if (server_request(&srv->reqs[i]) < 0) {
			wsd_server_shutdown(srv);
			return -EIO;
		}
	*portp = port;
	*srvp = srv;
	return 0;
}

void
wsd_server_shutdown(struct wsd_server *srv)
{
	if (srv->shutting_down)
		return;
	srv->shutting_down = 1;
	srv->shutdown_pending = 1;
	grpc_server_shutdown_and_notify(srv->server, srv->cq, &srv->t_shutdown);
	grpc_server_cancel_all_calls(srv->server);
}

int
wsd_server_idle(const struct wsd_server *srv)
{
	size_t i;

	if (srv->shutdown_pending || srv->ncalls > 0)
		return 0;
	for (i = 0; i < NMETHODS; i++)
		if (srv->reqs[i].pending)
			return 0;
	return 1;
}

void
wsd_server_free(struct wsd_server *srv)
{
	if (srv == NULL)
		return;
	wsd_loop_set_idle(srv->loop, NULL, NULL);
	wsd_watch_set(srv->loop, &srv->gwatch, 0);
	wsd_timer_stop(srv->loop, &srv->gtimer);
	if (srv->server != NULL)
		grpc_server_destroy(srv->server);
	if (srv->cq != NULL) {
		grpc_completion_queue_shutdown(srv->cq);
		if (srv->thread_started)
			pthread_join(srv->cq_thread, NULL);
		else
			while (grpc_completion_queue_next(srv->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC),
			    NULL).type != GRPC_QUEUE_SHUTDOWN)
				;
		grpc_completion_queue_destroy(srv->cq);
	}
	free(srv->token_file);
	free(srv->default_user);
	free(srv);
}
