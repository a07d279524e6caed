/* Server-side call plumbing of workspaced: starts the batches of one gRPC call,
 * turns their completions into handler hooks, and frees the call when nothing is pending. */
#include "autoconf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/slice.h>

#include "daemon/log.h"
#include "proto/grpc-common.h"
#include "contrib/workspaced/wsd-call.h"
#include "contrib/workspaced/wsd-loop.h"
#include "contrib/workspaced/wsd-server.h"

struct wsd_md {
	char *key;
	char *value;
};

struct wsd_call {
	struct wsd_server *srv;
	const char *method;
	grpc_call *gcall;
	struct wsd_md *md;
	size_t nmd;

	const struct wsd_call_ops *ops;
	void *impl;

	struct wsd_tag t_recv, t_send, t_status, t_close;
	grpc_byte_buffer *recv_bb, *send_bb, *status_bb;
	grpc_slice status_details;
	int client_cancelled;		/* written by RECV_CLOSE_ON_SERVER */

	unsigned int recv_pending:1, send_pending:1, status_pending:1, close_pending:1;
	unsigned int md_sent:1, finishing:1, status_started:1, broken:1, destroyed:1;
	grpc_status_code fin_code;
	char *fin_details;
	int holds;
};

static void call_maybe_free(struct wsd_call *call);

void
wsd_call_set_handler(struct wsd_call *call, const struct wsd_call_ops *ops, void *impl)
{
	call->ops = ops;
	call->impl = impl;
}

void *
wsd_call_impl(const struct wsd_call *call)
{
	return call->impl;
}

struct wsd_server *
wsd_call_server(const struct wsd_call *call)
{
	return call->srv;
}

struct wsd_loop *
wsd_call_loop(const struct wsd_call *call)
{
	return wsd_server_loop(call->srv);
}

const char *
wsd_call_method(const struct wsd_call *call)
{
	return call->method;
}

const char *
wsd_call_metadata(const struct wsd_call *call, const char *key)
{
	size_t i;

	for (i = 0; i < call->nmd; i++)
		if (strcmp(call->md[i].key, key) == 0)
			return call->md[i].value;
	return NULL;
}

int
wsd_call_ended(const struct wsd_call *call)
{
	return call->finishing || call->broken;
}

int
wsd_call_sending(const struct wsd_call *call)
{
	return call->send_pending;
}

void
wsd_call_hold(struct wsd_call *call)
{
	call->holds++;
}

void
wsd_call_unhold(struct wsd_call *call)
{
	call->holds--;
	call_maybe_free(call);
}

/* The stream is unusable: tell the handler once so it stops its work. */
static void
call_broken(struct wsd_call *call)
{
	if (call->broken)
		return;
	call->broken = 1;
	wsd_server_drop_ids(call->srv, call);
	if (!call->finishing && call->ops != NULL && call->ops->cancelled != NULL)
		call->ops->cancelled(call);
}

static char *
slice_strdup(grpc_slice s)
{
	size_t n = GRPC_SLICE_LENGTH(s);
	char *p = malloc(n + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, GRPC_SLICE_START_PTR(s), n);
	p[n] = '\0';
	return p;
}

static void call_recv_done(struct wsd_tag *t, int ok);
static void call_send_done(struct wsd_tag *t, int ok);
static void call_status_done(struct wsd_tag *t, int ok);
static void call_close_done(struct wsd_tag *t, int ok);

struct wsd_call *
wsd_call_new(struct wsd_server *srv, const char *method, grpc_call *gcall,
    const grpc_metadata_array *md)
{
	struct wsd_call *call;
	size_t i;

	if ((call = calloc(1, sizeof(*call))) == NULL)
		return NULL;
	call->srv = srv;
	call->method = method;
	call->gcall = gcall;
	call->t_recv.done = call_recv_done;
	call->t_send.done = call_send_done;
	call->t_status.done = call_status_done;
	call->t_close.done = call_close_done;
	call->status_details = grpc_empty_slice();
	if (md->count > 0 && (call->md = calloc(md->count, sizeof(*call->md))) == NULL) {
		free(call);
		return NULL;
	}
	for (i = 0; i < md->count; i++) {
		char *k = slice_strdup(md->metadata[i].key);
		char *v = slice_strdup(md->metadata[i].value);

		if (k == NULL || v == NULL) {
			free(k);
			free(v);
			continue;
		}
		call->md[call->nmd].key = k;
		call->md[call->nmd].value = v;
		call->nmd++;
	}
	return call;
}

static void
call_free(struct wsd_call *call)
{
	size_t i;

	for (i = 0; i < call->nmd; i++) {
		free(call->md[i].key);
		free(call->md[i].value);
	}
	free(call->md);
	free(call->fin_details);
	if (call->status_bb != NULL)
		grpc_byte_buffer_destroy(call->status_bb);
	grpc_slice_unref(call->status_details);
	grpc_call_unref(call->gcall);
	free(call);
}

static void
call_maybe_free(struct wsd_call *call)
{
	if (call->close_pending || call->recv_pending || call->send_pending ||
	    call->status_pending || call->holds > 0 || call->destroyed)
		return;
	call->destroyed = 1;
	if (call->ops != NULL && call->ops->destroy != NULL)
		call->ops->destroy(call);
	wsd_server_call_gone(call->srv, call);
	call_free(call);
}

void
wsd_call_start(struct wsd_call *call)
{
	grpc_op op;

	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
	op.data.recv_close_on_server.cancelled = &call->client_cancelled;
	if (grpc_call_start_batch(call->gcall, &op, 1, &call->t_close, NULL) != GRPC_CALL_OK) {
		/* Without the close batch nothing would ever free the call. */
		log_error("%s: cannot start the close batch", call->method);
		abort();
	}
	call->close_pending = 1;
}

/* Adds SEND_INITIAL_METADATA to a batch the first time anything is sent. */
static size_t
call_add_md(struct wsd_call *call, grpc_op *ops)
{
	if (call->md_sent)
		return 0;
	memset(ops, 0, sizeof(*ops));
	ops->op = GRPC_OP_SEND_INITIAL_METADATA;
	call->md_sent = 1;
	return 1;
}

int
wsd_call_recv(struct wsd_call *call)
{
	grpc_op ops[2];
	size_t n;

	if (call->recv_pending)
		return -EBUSY;
	if (wsd_call_ended(call))
		return -EPIPE;
	/* Headers go out with the first receive so clients waiting for them never stall. */
	n = call_add_md(call, ops);
	memset(&ops[n], 0, sizeof(ops[n]));
	ops[n].op = GRPC_OP_RECV_MESSAGE;
	ops[n].data.recv_message.recv_message = &call->recv_bb;
	n++;
	if (grpc_call_start_batch(call->gcall, ops, n, &call->t_recv, NULL) != GRPC_CALL_OK) {
		log_error("%s: cannot start a receive", call->method);
		call_broken(call);
		return -EIO;
	}
	call->recv_pending = 1;
	return 0;
}

/* A request to the handler: a data message to its data hook in place (bb
 * taken by the view), anything else read out whole to its message hook. */
static void
call_deliver(struct wsd_call *call, grpc_byte_buffer *bb)
{
	grpc_byte_buffer_reader rd;
	struct grpcc_data *d;
	grpc_slice s;

	if (call->ops != NULL && call->ops->data != NULL && call->ops->data_fields != 0 &&
	    grpcc_data_take(bb, call->ops->data_fields, &d) == 0 && d != NULL) {
		call->ops->data(call, d);
		return;
	}
	if (!grpc_byte_buffer_reader_init(&rd, bb)) {
		grpc_byte_buffer_destroy(bb);
		wsd_call_finish(call, GRPC_STATUS_INTERNAL, "cannot read the request message");
		return;
	}
	s = grpc_byte_buffer_reader_readall(&rd);
	grpc_byte_buffer_reader_destroy(&rd);
	grpc_byte_buffer_destroy(bb);
	if (call->ops != NULL && call->ops->message != NULL)
		call->ops->message(call, GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s));
	grpc_slice_unref(s);
}

static void
call_recv_done(struct wsd_tag *t, int ok)
{
	struct wsd_call *call = wsd_container_of(t, struct wsd_call, t_recv);
	grpc_byte_buffer *bb = call->recv_bb;

	call->recv_pending = 0;
	call->recv_bb = NULL;
	if (!ok) {
		if (bb != NULL)
			grpc_byte_buffer_destroy(bb);
		call_broken(call);
	} else if (wsd_call_ended(call)) {
		if (bb != NULL)
			grpc_byte_buffer_destroy(bb);
	} else if (bb == NULL) {
		if (call->ops != NULL && call->ops->halfclose != NULL)
			call->ops->halfclose(call);
	} else
		call_deliver(call, bb);
	call_maybe_free(call);
}

int
wsd_call_send(struct wsd_call *call, grpc_byte_buffer *bb)
{
	grpc_op ops[2];
	size_t n;

	if (bb == NULL)
		return -ENOMEM;
	if (wsd_call_ended(call)) {
		grpc_byte_buffer_destroy(bb);
		return -EPIPE;
	}
	if (call->send_pending) {
		grpc_byte_buffer_destroy(bb);
		return -EBUSY;
	}
	n = call_add_md(call, ops);
	memset(&ops[n], 0, sizeof(ops[n]));
	ops[n].op = GRPC_OP_SEND_MESSAGE;
	ops[n].data.send_message.send_message = bb;
	n++;
	if (grpc_call_start_batch(call->gcall, ops, n, &call->t_send, NULL) != GRPC_CALL_OK) {
		grpc_byte_buffer_destroy(bb);
		log_error("%s: cannot start a send", call->method);
		call_broken(call);
		return -EIO;
	}
	call->send_bb = bb;
	call->send_pending = 1;
	return 0;
}

int
wsd_call_send_msg(struct wsd_call *call, const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	grpc_slice s = grpc_slice_malloc(len);
	grpc_byte_buffer *bb;

	protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(s));
	bb = grpc_raw_byte_buffer_create(&s, 1);
	grpc_slice_unref(s);
	return wsd_call_send(call, bb);
}

static void call_start_status(struct wsd_call *call);

static void
call_send_done(struct wsd_tag *t, int ok)
{
	struct wsd_call *call = wsd_container_of(t, struct wsd_call, t_send);

	call->send_pending = 0;
	grpc_byte_buffer_destroy(call->send_bb);
	call->send_bb = NULL;
	if (!ok)
		call_broken(call);
	else if (call->finishing && !call->status_started)
		call_start_status(call);
	else if (!wsd_call_ended(call) && call->ops != NULL && call->ops->sent != NULL)
		call->ops->sent(call);
	call_maybe_free(call);
}

static void
call_start_status(struct wsd_call *call)
{
	grpc_op ops[3];
	size_t n;

	call->status_started = 1;
	if (call->broken)
		return;
	n = call_add_md(call, ops);
	if (call->status_bb != NULL) {
		memset(&ops[n], 0, sizeof(ops[n]));
		ops[n].op = GRPC_OP_SEND_MESSAGE;
		ops[n].data.send_message.send_message = call->status_bb;
		n++;
	}
	memset(&ops[n], 0, sizeof(ops[n]));
	ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
	ops[n].data.send_status_from_server.status = call->fin_code;
	if (call->fin_details != NULL && call->fin_details[0] != '\0') {
		call->status_details = grpc_slice_from_copied_string(call->fin_details);
		ops[n].data.send_status_from_server.status_details = &call->status_details;
	}
	n++;
	if (grpc_call_start_batch(call->gcall, ops, n, &call->t_status, NULL) != GRPC_CALL_OK) {
		log_error("%s: cannot send the status", call->method);
		grpc_call_cancel(call->gcall, NULL);
		return;
	}
	call->status_pending = 1;
}

static void
call_status_done(struct wsd_tag *t, int ok)
{
	struct wsd_call *call = wsd_container_of(t, struct wsd_call, t_status);

	call->status_pending = 0;
	if (call->status_bb != NULL) {
		grpc_byte_buffer_destroy(call->status_bb);
		call->status_bb = NULL;
	}
	if (!ok)
		call_broken(call);
	call_maybe_free(call);
}

void
wsd_call_finish(struct wsd_call *call, grpc_status_code code, const char *details)
{
	if (call->finishing)
		return;
	call->finishing = 1;
	wsd_server_drop_ids(call->srv, call);
	call->fin_code = code;
	call->fin_details = details != NULL ? strdup(details) : NULL;
	if (code != GRPC_STATUS_OK)
		log_debug("%s: ending with status %d: %s", call->method, (int)code,
		    details != NULL ? details : "");
	if (!call->send_pending)
		call_start_status(call);
}

void
wsd_call_reply(struct wsd_call *call, const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	grpc_slice s = grpc_slice_malloc(len);

	protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(s));
	call->status_bb = grpc_raw_byte_buffer_create(&s, 1);
	grpc_slice_unref(s);
	wsd_call_finish(call, GRPC_STATUS_OK, NULL);
}

static void
call_close_done(struct wsd_tag *t, int ok)
{
	struct wsd_call *call = wsd_container_of(t, struct wsd_call, t_close);

	call->close_pending = 0;
	if (!ok || call->client_cancelled)
		call_broken(call);
	call_maybe_free(call);
}

grpc_byte_buffer *
wsd_frame_bytes(int field, const uint8_t *data, size_t len)
{
	uint8_t hdr[16];
	size_t h = 0, v = len;
	grpc_slice s;
	grpc_byte_buffer *bb;

	hdr[h++] = (uint8_t)((field << 3) | 2);
	do {
		hdr[h] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v != 0)
			hdr[h] |= 0x80;
		h++;
	} while (v != 0);
	s = grpc_slice_malloc(h + len);
	memcpy(GRPC_SLICE_START_PTR(s), hdr, h);
	if (len > 0)
		memcpy(GRPC_SLICE_START_PTR(s) + h, data, len);
	bb = grpc_raw_byte_buffer_create(&s, 1);
	grpc_slice_unref(s);
	return bb;
}
