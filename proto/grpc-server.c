/* gRPC server helper (contrib/workspaced, test stubs): registered methods,
 * per-call receive/send of protobuf-c messages, completions via the pump. */
#include "autoconf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/status.h>
#include <grpc/support/time.h>

#include "proto/grpc-server.h"

#define SRV_MAX_RECV	(32 << 20)
#define SHUTDOWN_WAIT_MS 10000

enum srv_op { SOP_NEW, SOP_SHUTDOWN, SOP_START, SOP_RECV, SOP_SEND, SOP_FINISH,
	SOP_DONE, SOP_MAX };

struct srv_tag {
	enum srv_op op;
	struct gsrv_method *m;	/* SOP_NEW */
	struct gsrv_call *sc;	/* per-call ops */
};

struct gsrv_method {
	struct gsrv *srv;
	LIST_ENTRY(gsrv_method) entry;
	char *name;
	void *handle;
	const ProtobufCMessageDescriptor *req_desc;
	struct gsrv_method_cbs cbs;
	void *arg;
	struct srv_tag tag;
	/* Filled in by gRPC when a call arrives. */
	grpc_call *new_call;
	gpr_timespec deadline;
	grpc_metadata_array md;
};

struct gsrv {
	struct grpcc_pump *pump;
	grpc_server *gs;
	LIST_HEAD(, gsrv_method) methods;
	LIST_HEAD(, gsrv_call) calls;
	int started, shutting_down, shutdown_done;
	struct srv_tag shutdown_tag;
};

struct gsrv_call {
	struct gsrv *srv;
	struct gsrv_method *m;
	LIST_ENTRY(gsrv_call) entry;
	grpc_call *gc;
	void *data;
	char **md_keys, **md_vals;
	size_t nmd;
	struct srv_tag tags[SOP_MAX];
	int pending;		/* batches not yet completed */
	int in_cb;		/* >0 while one of our callbacks runs */
	unsigned freed:1, send_busy:1, recv_busy:1, half_closed:1,
	    finish_queued:1, finished:1, done:1, reported:1;
	int cancelled;		/* written by RECV_CLOSE_ON_SERVER */
	grpc_byte_buffer *send_bb, *recv_bb;
	int fin_code;
	char *fin_details;
	grpc_slice fin_slice;
};

int
gsrv_new(struct gsrv **srvp)
{
	grpc_channel_args cargs;
	grpc_arg arg;
	struct gsrv *srv;
	int r;

	*srvp = NULL;
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return GRPCC_ERR_NOMEM;
	LIST_INIT(&srv->methods);
	LIST_INIT(&srv->calls);
	srv->shutdown_tag.op = SOP_SHUTDOWN;
	if ((r = grpcc_pump_new(&srv->pump)) != 0) {
		free(srv);
		return r;
	}
	memset(&arg, 0, sizeof(arg));
	arg.type = GRPC_ARG_INTEGER;
	arg.key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
	arg.value.integer = SRV_MAX_RECV;
	cargs.num_args = 1;
	cargs.args = &arg;
	srv->gs = grpc_server_create(&cargs, NULL);
	grpc_server_register_completion_queue(srv->gs, grpcc_pump_cq(srv->pump),
	    NULL);
	*srvp = srv;
	return 0;
}

int
gsrv_add_port(struct gsrv *srv, const char *addr, const char *cert_file,
    const char *key_file, int *portp)
{
	grpc_server_credentials *creds;
	int port, err = 0;

	if (srv->started || addr == NULL)
		return GRPCC_ERR_ARG;
	if ((creds = grpcc_server_creds(cert_file, key_file, &err)) == NULL) {
		errno = err;
		return GRPCC_ERR_CAFILE;
	}
	port = grpc_server_add_http2_port(srv->gs, addr, creds);
	grpc_server_credentials_release(creds);
	if (port <= 0)
		return GRPCC_ERR_GRPC;
	if (portp != NULL)
		*portp = port;
	return 0;
}

int
gsrv_register(struct gsrv *srv, const char *method,
    const ProtobufCMessageDescriptor *req_desc,
    const struct gsrv_method_cbs *cbs, void *arg)
{
	struct gsrv_method *m;

	if (srv->started || method == NULL || method[0] != '/' ||
	    req_desc == NULL || cbs == NULL || cbs->on_call == NULL ||
	    cbs->on_done == NULL)
		return GRPCC_ERR_ARG;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return GRPCC_ERR_NOMEM;
	if ((m->name = strdup(method)) == NULL) {
		free(m);
		return GRPCC_ERR_NOMEM;
	}
	m->handle = grpc_server_register_method(srv->gs, m->name, NULL,
	    GRPC_SRM_PAYLOAD_NONE, 0);
	if (m->handle == NULL) {
		free(m->name);
		free(m);
		return GRPCC_ERR_GRPC;
	}
	m->srv = srv;
	m->req_desc = req_desc;
	m->cbs = *cbs;
	m->arg = arg;
	m->tag.op = SOP_NEW;
	m->tag.m = m;
	grpc_metadata_array_init(&m->md);
	LIST_INSERT_HEAD(&srv->methods, m, entry);
	return 0;
}

static int
method_request(struct gsrv_method *m)
{
	grpc_completion_queue *cq = grpcc_pump_cq(m->srv->pump);

	m->new_call = NULL;
	grpc_metadata_array_destroy(&m->md);
	grpc_metadata_array_init(&m->md);
	if (grpc_server_request_registered_call(m->srv->gs, m->handle,
	    &m->new_call, &m->deadline, &m->md, NULL, cq, cq, &m->tag) !=
	    GRPC_CALL_OK)
		return GRPCC_ERR_GRPC;
	return 0;
}

int
gsrv_start(struct gsrv *srv)
{
	struct gsrv_method *m;
	int r;

	if (srv->started)
		return GRPCC_ERR_STATE;
	grpc_server_start(srv->gs);
	srv->started = 1;
	LIST_FOREACH(m, &srv->methods, entry) {
		if ((r = method_request(m)) != 0)
			return r;
	}
	return 0;
}

int
gsrv_fd(const struct gsrv *srv)
{
	return grpcc_pump_fd(srv->pump);
}

static void
call_destroy(struct gsrv_call *sc)
{
	size_t i;

	LIST_REMOVE(sc, entry);
	for (i = 0; i < sc->nmd; i++) {
		free(sc->md_keys[i]);
		free(sc->md_vals[i]);
	}
	free(sc->md_keys);
	free(sc->md_vals);
	if (sc->send_bb != NULL)
		grpc_byte_buffer_destroy(sc->send_bb);
	if (sc->recv_bb != NULL)
		grpc_byte_buffer_destroy(sc->recv_bb);
	grpc_slice_unref(sc->fin_slice);
	free(sc->fin_details);
	grpc_call_unref(sc->gc);
	free(sc);
}

static void
call_maybe_destroy(struct gsrv_call *sc)
{
	if (sc->freed && sc->pending == 0 && sc->in_cb == 0)
		call_destroy(sc);
}

static char *
slice_strdup(grpc_slice s)
{
	size_t len = GRPC_SLICE_LENGTH(s);
	char *p;

	if ((p = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(p, GRPC_SLICE_START_PTR(s), len);
	p[len] = '\0';
	return p;
}

/* A call gRPC handed us: copy its metadata, start the batches every call
 * needs (initial metadata out, close notification in), tell the handler. */
static void
call_accept(struct gsrv_method *m)
{
	struct gsrv *srv = m->srv;
	struct gsrv_call *sc;
	grpc_op ops[1];
	size_t i;
	int j;

	if (srv->shutting_down || (sc = calloc(1, sizeof(*sc))) == NULL) {
		grpc_call_cancel(m->new_call, NULL);
		grpc_call_unref(m->new_call);
		return;
	}
	sc->srv = srv;
	sc->m = m;
	sc->gc = m->new_call;
	sc->fin_slice = grpc_empty_slice();
	for (j = 0; j < SOP_MAX; j++) {
		sc->tags[j].op = (enum srv_op)j;
		sc->tags[j].sc = sc;
	}
	LIST_INSERT_HEAD(&srv->calls, sc, entry);
	if (m->md.count > 0) {
		sc->md_keys = calloc(m->md.count, sizeof(char *));
		sc->md_vals = calloc(m->md.count, sizeof(char *));
		if (sc->md_keys == NULL || sc->md_vals == NULL)
			goto fail;
		for (i = 0; i < m->md.count; i++) {
			sc->md_keys[i] = slice_strdup(m->md.metadata[i].key);
			sc->md_vals[i] = slice_strdup(m->md.metadata[i].value);
			sc->nmd++;
			if (sc->md_keys[i] == NULL || sc->md_vals[i] == NULL)
				goto fail;
		}
	}
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
	ops[0].data.recv_close_on_server.cancelled = &sc->cancelled;
	if (grpc_call_start_batch(sc->gc, ops, 1, &sc->tags[SOP_DONE], NULL) !=
	    GRPC_CALL_OK)
		goto fail;
	sc->pending++;
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	if (grpc_call_start_batch(sc->gc, ops, 1, &sc->tags[SOP_START], NULL) ==
	    GRPC_CALL_OK)
		sc->pending++;
	sc->in_cb++;
	m->cbs.on_call(sc, m->arg);
	sc->in_cb--;
	call_maybe_destroy(sc);
	return;
fail:
	grpc_call_cancel(sc->gc, NULL);
	sc->freed = 1;
	call_maybe_destroy(sc);
}

static int
call_start_finish(struct gsrv_call *sc)
{
	grpc_op op;

	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_SEND_STATUS_FROM_SERVER;
	op.data.send_status_from_server.status = (grpc_status_code)sc->fin_code;
	if (sc->fin_details != NULL) {
		sc->fin_slice = grpc_slice_from_copied_string(sc->fin_details);
		op.data.send_status_from_server.status_details = &sc->fin_slice;
	}
	sc->finished = 1;
	if (grpc_call_start_batch(sc->gc, &op, 1, &sc->tags[SOP_FINISH], NULL) !=
	    GRPC_CALL_OK)
		return GRPCC_ERR_GRPC;
	sc->pending++;
	return 0;
}

static void
call_maybe_report(struct gsrv_call *sc)
{
	if (!sc->done || sc->reported || sc->freed || sc->send_busy ||
	    sc->recv_busy)
		return;
	sc->reported = 1;
	sc->in_cb++;
	sc->m->cbs.on_done(sc, sc->cancelled, sc->m->arg);
	sc->in_cb--;
}

static void
call_complete(struct gsrv_call *sc, enum srv_op op, int ok)
{
	const struct gsrv_method_cbs *cbs = &sc->m->cbs;
	ProtobufCMessage *msg;
	grpc_byte_buffer *bb;

	sc->pending--;
	switch (op) {
	case SOP_RECV:
		sc->recv_busy = 0;
		bb = sc->recv_bb;
		sc->recv_bb = NULL;
		if (bb == NULL) {
			sc->half_closed = 1;
			if (ok && !sc->freed && !sc->done &&
			    cbs->on_half_close != NULL) {
				sc->in_cb++;
				cbs->on_half_close(sc, sc->m->arg);
				sc->in_cb--;
			}
			break;
		}
		msg = grpcc_unpack(sc->m->req_desc, bb);
		grpc_byte_buffer_destroy(bb);
		if (msg == NULL) {
			grpc_call_cancel_with_status(sc->gc,
			    GRPC_STATUS_INVALID_ARGUMENT,
			    "cannot parse the request message", NULL);
			break;
		}
		if (!sc->freed && cbs->on_message != NULL) {
			sc->in_cb++;
			cbs->on_message(sc, msg, sc->m->arg);
			sc->in_cb--;
		} else
			grpcc_msg_free(msg);
		break;
	case SOP_SEND:
		sc->send_busy = 0;
		grpc_byte_buffer_destroy(sc->send_bb);
		sc->send_bb = NULL;
		if (sc->finish_queued) {
			sc->finish_queued = 0;
			if (!sc->done)
				(void)call_start_finish(sc);
		}
		if (!sc->freed && cbs->on_send_done != NULL) {
			sc->in_cb++;
			cbs->on_send_done(sc, ok, sc->m->arg);
			sc->in_cb--;
		}
		break;
	case SOP_DONE:
		sc->done = 1;
		break;
	default:
		break;
	}
	call_maybe_report(sc);
	call_maybe_destroy(sc);
}

static void
srv_complete(struct gsrv *srv, struct srv_tag *t, int ok)
{
	struct gsrv_method *m;

	switch (t->op) {
	case SOP_SHUTDOWN:
		srv->shutdown_done = 1;
		break;
	case SOP_NEW:
		m = t->m;
		if (!ok)
			break;	/* the server is shutting down */
		call_accept(m);
		if (!srv->shutting_down)
			(void)method_request(m);
		break;
	default:
		call_complete(t->sc, t->op, ok);
		break;
	}
}

int
gsrv_dispatch(struct gsrv *srv)
{
	struct grpcc_ev *evs;
	size_t i, n;
	int r;

	if ((r = grpcc_pump_take(srv->pump, &evs, &n)) != 0)
		return r;
	for (i = 0; i < n; i++)
		srv_complete(srv, evs[i].tag, evs[i].ok);
	free(evs);
	return 0;
}

/* A call whose handler has not yet heard on_done and still holds it. */
static int
srv_has_unreported(const struct gsrv *srv)
{
	const struct gsrv_call *sc;

	LIST_FOREACH(sc, &srv->calls, entry) {
		if (!sc->freed && !sc->reported)
			return 1;
	}
	return 0;
}

/* Dispatch until cond() is false or SHUTDOWN_WAIT_MS have passed. */
static int
srv_wait(struct gsrv *srv, int (*cond)(const struct gsrv *))
{
	gpr_timespec end = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
	    gpr_time_from_millis(SHUTDOWN_WAIT_MS, GPR_TIMESPAN));

	while (cond(srv) &&
	    gpr_time_cmp(gpr_now(GPR_CLOCK_MONOTONIC), end) < 0) {
		(void)grpcc_pump_wait(srv->pump, 100);
		(void)gsrv_dispatch(srv);
	}
	return !cond(srv);
}

static int
srv_shutdown_pending(const struct gsrv *srv)
{
	return !srv->shutdown_done;
}

void
gsrv_free(struct gsrv *srv)
{
	struct gsrv_method *m;
	struct gsrv_call *sc, *next;

	if (srv == NULL)
		return;
	/* Order (notes/spike.md Q3): shutdown_and_notify + cancel_all_calls,
	 * wait for the tag, destroy the server, then stop and drain the queue. */
	srv->shutting_down = 1;
	grpc_server_shutdown_and_notify(srv->gs, grpcc_pump_cq(srv->pump),
	    &srv->shutdown_tag);
	grpc_server_cancel_all_calls(srv->gs);
	/* Live calls end through their handlers' on_done (cancelled), so the
	 * handlers release what they keep on them. */
	(void)srv_wait(srv, srv_has_unreported);
	for (sc = LIST_FIRST(&srv->calls); sc != NULL; sc = next) {
		next = LIST_NEXT(sc, entry);
		if (!sc->freed) {
			sc->freed = 1;
			call_maybe_destroy(sc);
		}
	}
	/* gRPC finishes its shutdown only once every call is released. */
	if (!srv_wait(srv, srv_shutdown_pending))
		abort();
	grpc_server_destroy(srv->gs);
	grpcc_pump_shutdown(srv->pump);
	(void)gsrv_dispatch(srv);
	while ((sc = LIST_FIRST(&srv->calls)) != NULL)
		call_destroy(sc);
	while ((m = LIST_FIRST(&srv->methods)) != NULL) {
		LIST_REMOVE(m, entry);
		grpc_metadata_array_destroy(&m->md);
		free(m->name);
		free(m);
	}
	grpcc_pump_free(srv->pump);
	free(srv);
}

const char *
gsrv_call_md(const struct gsrv_call *sc, const char *key)
{
	size_t i;

	for (i = 0; i < sc->nmd; i++) {
		if (strcmp(sc->md_keys[i], key) == 0)
			return sc->md_vals[i];
	}
	return NULL;
}

const char *
gsrv_call_method(const struct gsrv_call *sc)
{
	return sc->m->name;
}

void
gsrv_call_set_data(struct gsrv_call *sc, void *data)
{
	sc->data = data;
}

void *
gsrv_call_data(const struct gsrv_call *sc)
{
	return sc->data;
}

int
gsrv_call_recv_start(struct gsrv_call *sc)
{
	grpc_op op;

	if (sc->freed || sc->done || sc->half_closed)
		return GRPCC_ERR_STATE;
	if (sc->recv_busy)
		return GRPCC_ERR_BUSY;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_MESSAGE;
	op.data.recv_message.recv_message = &sc->recv_bb;
	if (grpc_call_start_batch(sc->gc, &op, 1, &sc->tags[SOP_RECV], NULL) !=
	    GRPC_CALL_OK)
		return GRPCC_ERR_GRPC;
	sc->recv_busy = 1;
	sc->pending++;
	return 0;
}

int
gsrv_call_send(struct gsrv_call *sc, const ProtobufCMessage *msg)
{
	grpc_op op;

	if (sc->freed || sc->done || sc->finished || sc->finish_queued)
		return GRPCC_ERR_STATE;
	if (sc->send_busy)
		return GRPCC_ERR_BUSY;
	if ((sc->send_bb = grpcc_pack(msg)) == NULL)
		return GRPCC_ERR_NOMEM;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_SEND_MESSAGE;
	op.data.send_message.send_message = sc->send_bb;
	if (grpc_call_start_batch(sc->gc, &op, 1, &sc->tags[SOP_SEND], NULL) !=
	    GRPC_CALL_OK) {
		grpc_byte_buffer_destroy(sc->send_bb);
		sc->send_bb = NULL;
		return GRPCC_ERR_GRPC;
	}
	sc->send_busy = 1;
	sc->pending++;
	return 0;
}

int
gsrv_call_send_busy(const struct gsrv_call *sc)
{
	return sc->send_busy;
}

int
gsrv_call_finish(struct gsrv_call *sc, int code, const char *details)
{
	if (sc->freed || sc->done || sc->finished || sc->finish_queued)
		return GRPCC_ERR_STATE;
	sc->fin_code = code;
	if (details != NULL && (sc->fin_details = strdup(details)) == NULL)
		return GRPCC_ERR_NOMEM;
	if (sc->send_busy) {
		sc->finish_queued = 1;
		return 0;
	}
	return call_start_finish(sc);
}

void
gsrv_call_cancel(struct gsrv_call *sc)
{
	if (!sc->done)
		grpc_call_cancel(sc->gc, NULL);
}

void
gsrv_call_free(struct gsrv_call *sc)
{
	if (sc == NULL)
		return;
	if (sc->freed)
		abort();	/* double free: a broken invariant in the caller */
	sc->freed = 1;
	/* A status already on its way is let through, not turned into a cancel. */
	if (!sc->done && !sc->finished && !sc->finish_queued)
		grpc_call_cancel(sc->gc, NULL);
	call_maybe_destroy(sc);
}
