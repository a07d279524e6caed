/* gRPC client calls for the child: channels, per-RPC auth metadata, unary and
 * bidi-streaming calls, completions run on the loop thread via the pump. */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/status.h>
#include <grpc/support/time.h>

#include "daemon/monotime.h"
#include "proto/grpc-call.h"
#include "proto/grpc-poll.h"

#define TOKEN_MAX	(64 * 1024)
#define GCALL_STREAM_WINDOW	(1024 * 1024)	/* HTTP/2 receive window per stream */
#define CAFILE_MAX	(1024 * 1024)

enum call_op { OP_START, OP_UNARY, OP_SEND, OP_RECV, OP_CLOSE, OP_STATUS, OP_MAX };

struct call_tag {
	struct gcall *call;
	enum call_op op;
};

struct gcall_ctx {
	struct grpcc_pump *pump;
	LIST_HEAD(, gcall) calls;
	LIST_HEAD(, gcall_chan) chans;
	uint64_t last_done_ms;	/* when a dispatch last took a completion */
};

struct gcall_chan {
	struct gcall_ctx *ctx;
	grpc_channel *gch;
	char *token_file;
	LIST_ENTRY(gcall_chan) entry;
};

struct gcall {
	struct gcall_ctx *ctx;
	LIST_ENTRY(gcall) entry;
	grpc_call *gc;		/* NULL when the call failed before creation */
	const ProtobufCMessageDescriptor *resp_desc;
	gcall_unary_cb unary_cb;
	struct gcall_stream_cbs cbs;
	void *arg;
	struct call_tag tags[OP_MAX];
	int pending;		/* batches and posted completions not yet run */
	int in_cb;		/* >0 while one of our callbacks runs */
	unsigned unary:1, auto_free:1, freed:1, send_busy:1, recv_busy:1,
	    close_queued:1, closed:1, recv_eof:1, ended:1, reported:1;

	grpc_metadata *md;	/* request metadata; slices are ours */
	size_t nmd;
	grpc_byte_buffer *send_bb, *recv_bb;
	grpc_metadata_array initial_md, trailing_md;
	grpc_status_code status;
	grpc_slice details;
	char *details_str;	/* details as a C string, built on delivery */

	int local_code;		/* client-side failure, see call_fail_local() */
	char *local_details;
};

int
gcall_ctx_new(struct gcall_ctx **ctxp)
{
	struct gcall_ctx *ctx;
	int r;

	*ctxp = NULL;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return GRPCC_ERR_NOMEM;
	LIST_INIT(&ctx->calls);
	LIST_INIT(&ctx->chans);
	if ((r = grpcc_pump_new_inline(&ctx->pump)) != 0) {
		free(ctx);
		return r;
	}
	*ctxp = ctx;
	return 0;
}

int
gcall_ctx_fd(const struct gcall_ctx *ctx)
{
	return grpcc_pump_fd(ctx->pump);
}

static void
call_destroy(struct gcall *call)
{
	size_t i;

	LIST_REMOVE(call, entry);
	for (i = 0; i < call->nmd; i++) {
		grpc_slice_unref(call->md[i].key);
		grpc_slice_unref(call->md[i].value);
	}
	free(call->md);
	if (call->send_bb != NULL)
		grpc_byte_buffer_destroy(call->send_bb);
	if (call->recv_bb != NULL)
		grpc_byte_buffer_destroy(call->recv_bb);
	grpc_metadata_array_destroy(&call->initial_md);
	grpc_metadata_array_destroy(&call->trailing_md);
	grpc_slice_unref(call->details);
	if (call->gc != NULL)
		grpc_call_unref(call->gc);
	free(call->details_str);
	free(call->local_details);
	free(call);
}

/* Our own memory may go only when gRPC holds no pointer into it (pending)
 * and no callback of ours is still on the stack (in_cb). */
static void
call_maybe_destroy(struct gcall *call)
{
	if (call->freed && call->pending == 0 && call->in_cb == 0)
		call_destroy(call);
}

/* Every start and cancel goes through these two: in the pump's inline mode
 * what gRPC completes inside them must be taken by the loop (kick). */
static grpc_call_error
call_batch(struct gcall *call, const grpc_op *ops, size_t n, void *tag)
{
	grpc_call_error ge = grpc_call_start_batch(call->gc, ops, n, tag, NULL);

	grpcc_pump_kick(call->ctx->pump);
	return ge;
}

static void
call_cancel_gc(struct gcall *call, grpc_status_code code, const char *details)
{
	if (details != NULL)
		grpc_call_cancel_with_status(call->gc, code, details, NULL);
	else
		grpc_call_cancel(call->gc, NULL);
	grpcc_pump_kick(call->ctx->pump);
}

/* Post the terminal completion of a call that ended client-side, so it is
 * reported from dispatch like any other and never from inside a start. */
static void
call_post_end(struct gcall *call)
{
	if (call->gc != NULL)
		call_cancel_gc(call, GRPC_STATUS_CANCELLED, NULL);
	call->pending++;
	grpcc_pump_post(call->ctx->pump,
	    &call->tags[call->unary ? OP_UNARY : OP_STATUS], 1);
}

static void __attribute__((format(printf, 3, 4)))
call_fail_local(struct gcall *call, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&call->local_details, fmt, ap) < 0)
		call->local_details = NULL;
	va_end(ap);
	call->local_code = code;
	call_post_end(call);
}

static void
call_status(struct gcall *call, struct gcall_status *st)
{
	size_t len;

	memset(st, 0, sizeof(*st));
	if (call->local_code != 0 || call->local_details != NULL) {
		st->code = call->local_code;
		st->details = call->local_details ? call->local_details :
		    "client-side failure (out of memory)";
		st->local = 1;
		return;
	}
	st->code = call->status;
	if (call->details_str == NULL) {
		len = GRPC_SLICE_LENGTH(call->details);
		if ((call->details_str = malloc(len + 1)) != NULL) {
			memcpy(call->details_str, GRPC_SLICE_START_PTR(call->details), len);
			call->details_str[len] = '\0';
		}
	}
	st->details = call->details_str ? call->details_str : "";
}

static void
call_report_unary(struct gcall *call)
{
	struct gcall_status st;
	ProtobufCMessage *resp = NULL;

	call->ended = 1;
	call_status(call, &st);
	if (st.code == GRPC_STATUS_OK && !st.local) {
		if (call->recv_bb == NULL) {
			st.code = GRPC_STATUS_INTERNAL;
			st.details = "the server sent no response message";
			st.local = 1;
		} else if ((resp = grpcc_unpack(call->resp_desc,
		    call->recv_bb)) == NULL) {
			st.code = GRPC_STATUS_INTERNAL;
			st.details = "cannot parse the server's response";
			st.local = 1;
		}
	}
	call->reported = 1;
	if (!call->freed && call->unary_cb != NULL) {
		call->in_cb++;
		call->unary_cb(call, &st, resp, call->arg);
		call->in_cb--;
	} else
		grpcc_msg_free(resp);
	if (call->auto_free)
		call->freed = 1;
}

/* Streams report their status last: after the send and the receive in
 * flight have come back, so on_status is always the final callback. */
static void
call_maybe_report(struct gcall *call)
{
	struct gcall_status st;

	if (call->unary || !call->ended || call->reported || call->freed ||
	    call->send_busy || call->recv_busy)
		return;
	call->reported = 1;
	call_status(call, &st);
	if (call->cbs.on_status != NULL) {
		call->in_cb++;
		call->cbs.on_status(call, &st, call->arg);
		call->in_cb--;
	}
}

static int
call_start_close(struct gcall *call)
{
	grpc_op op;

	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	call->closed = 1;
	if (call_batch(call, &op, 1, &call->tags[OP_CLOSE]) != GRPC_CALL_OK)
		return GRPCC_ERR_GRPC;
	call->pending++;
	return 0;
}

static void
call_complete(struct gcall *call, enum call_op op, int ok)
{
	struct grpcc_data *data;
	ProtobufCMessage *msg;
	grpc_byte_buffer *bb;

	call->pending--;
	switch (op) {
	case OP_START:
	case OP_CLOSE:
	case OP_MAX:
		break;
	case OP_UNARY:
		call_report_unary(call);
		break;
	case OP_SEND:
		call->send_busy = 0;
		grpc_byte_buffer_destroy(call->send_bb);
		call->send_bb = NULL;
		if (call->close_queued) {
			call->close_queued = 0;
			if (!call->ended)
				(void)call_start_close(call);
		}
		if (!call->freed && call->cbs.on_send_done != NULL) {
			call->in_cb++;
			call->cbs.on_send_done(call, ok, call->arg);
			call->in_cb--;
		}
		break;
	case OP_RECV:
		call->recv_busy = 0;
		bb = call->recv_bb;
		call->recv_bb = NULL;
		if (bb == NULL) {
			/* End of the server's stream (or failure): status follows. */
			call->recv_eof = 1;
			break;
		}
		if (call->cbs.on_data != NULL && !call->freed &&
		    grpcc_data_take(bb, call->cbs.data_fields, &data) == 0 &&
		    data != NULL) {
			call->in_cb++;
			call->cbs.on_data(call, grpcc_data_field(data), data,
			    call->arg);
			call->in_cb--;
			break;
		}
		msg = grpcc_unpack(call->resp_desc, bb);
		grpc_byte_buffer_destroy(bb);
		if (msg == NULL) {
			call_cancel_gc(call, GRPC_STATUS_INTERNAL,
			    "cannot parse the server's message");
			break;
		}
		if (!call->freed && call->cbs.on_message != NULL) {
			call->in_cb++;
			call->cbs.on_message(call, msg, call->arg);
			call->in_cb--;
		} else
			grpcc_msg_free(msg);
		break;
	case OP_STATUS:
		call->ended = 1;
		break;
	}
	call_maybe_report(call);
	call_maybe_destroy(call);
}

int
gcall_ctx_dispatch(struct gcall_ctx *ctx)
{
	struct grpcc_ev *evs;
	struct call_tag *t;
	size_t i, n;
	int r;

	if ((r = grpcc_pump_take(ctx->pump, &evs, &n)) != 0)
		return r;
	if (n > 0)
		ctx->last_done_ms = monotime_ms();
	for (i = 0; i < n; i++) {
		t = evs[i].tag;
		call_complete(t->call, t->op, evs[i].ok);
	}
	free(evs);
	return 0;
}

/* A unary call (the 5 s Handshake) waits on a deadline: look often then.
 * Streams: soon after their last completion (gRPC may finish work on its own
 * threads, proto/grpc-poll.h), backing off to a few looks a second, which
 * keeps an idle connection cheap and still sees a keepalive failure. */
#define CTX_TICK_UNARY_MS	GRPCP_TICK_MS
#define CTX_TICK_STREAM_MS	250

int
gcall_ctx_tick_ms(const struct gcall_ctx *ctx)
{
	const struct gcall *call;
	int tick = -1;

	if (!grpcc_pump_inline(ctx->pump))
		return -1;
	if (grpcc_pump_kicked(ctx->pump))
		return 0;	/* a start may have completed something: take it now */
	LIST_FOREACH(call, &ctx->calls, entry) {
		if (call->gc == NULL || call->ended)
			continue;
		if (call->unary)
			return CTX_TICK_UNARY_MS;
		tick = CTX_TICK_STREAM_MS;
	}
	if (tick < 0)
		return tick;
	return grpcp_tick_ms(ctx->last_done_ms, monotime_ms(), tick);
}

void
gcall_ctx_free(struct gcall_ctx *ctx)
{
	struct gcall *call, *tmp;
	struct gcall_chan *ch;
	struct grpcc_ev *evs;
	size_t i, n;

	if (ctx == NULL)
		return;
	/* Teardown order (notes/spike.md Q3): end the calls, drop the channels,
	 * then drain and stop the queue, and only then release the calls. */
	for (call = LIST_FIRST(&ctx->calls); call != NULL; call = tmp) {
		tmp = LIST_NEXT(call, entry);
		call->freed = 1;
		if (call->gc != NULL && !call->ended)
			call_cancel_gc(call, GRPC_STATUS_CANCELLED, NULL);
		call_maybe_destroy(call);
	}
	while ((ch = LIST_FIRST(&ctx->chans)) != NULL)
		gcall_chan_free(ch);
	grpcc_pump_shutdown(ctx->pump);
	if (grpcc_pump_take(ctx->pump, &evs, &n) == 0) {
		for (i = 0; i < n; i++) {
			struct call_tag *t = evs[i].tag;

			call_complete(t->call, t->op, evs[i].ok);
		}
		free(evs);
	}
	/* Every batch has completed by now; nothing can still be pending. */
	while ((call = LIST_FIRST(&ctx->calls)) != NULL)
		call_destroy(call);
	grpcc_pump_free(ctx->pump);
	free(ctx);
}

static int
md_key_ok(const char *key)
{
	const char *p;

	if (key == NULL || *key == '\0' || *key == ':')
		return 0;
	for (p = key; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '_' || *p == '.'))
			return 0;
	}
	return 1;
}

/* Printable ASCII: what HTTP/2 carries in a non-binary header value. */
static int
md_value_ok(const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v < 0x20 || *v > 0x7e)
			return 0;
	}
	return 1;
}

/* The bearer token, re-read on every call so a rotated file takes effect. */
static char *
token_load(const char *path, char **why)
{
	size_t len, start = 0;
	char *buf;
	int err = 0;

	*why = NULL;
	if ((buf = grpcc_file_read(path, TOKEN_MAX, &len, &err)) == NULL) {
		if (asprintf(why, "cannot read token file %s: %s", path,
		    err == EFBIG ? "file too large" : err == EINVAL ?
		    "not a regular file" : strerror(err)) < 0)
			*why = NULL;
		return NULL;
	}
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		buf[--len] = '\0';
	while (start < len && isspace((unsigned char)buf[start]))
		start++;
	if (start == len) {
		free(buf);
		if (asprintf(why, "token file %s is empty", path) < 0)
			*why = NULL;
		return NULL;
	}
	memmove(buf, buf + start, len - start + 1);
	/* Checked here, not by gRPC: its rejection would log the token. */
	if (!md_value_ok(buf)) {
		explicit_bzero(buf, len);
		free(buf);
		if (asprintf(why, "token file %s holds characters not allowed "
		    "in a header", path) < 0)
			*why = NULL;
		return NULL;
	}
	return buf;
}

static void
md_add(struct gcall *call, const char *key, const char *value)
{
	call->md[call->nmd].key = grpc_slice_from_copied_string(key);
	call->md[call->nmd].value = grpc_slice_from_copied_string(value);
	call->nmd++;
}

/* A new call, registered with the context. A token failure is recorded as
 * a local failure, reported by the caller through call_post_end(). */
static int
call_new(struct gcall_chan *ch, const char *method, const struct gcall_md *md,
    size_t nmd, int64_t timeout_ms, struct gcall **callp)
{
	struct gcall *call;
	gpr_timespec deadline;
	grpc_slice mslice;
	char *token, *bearer, *why;
	size_t i;
	int j;

	*callp = NULL;
	if (method == NULL || method[0] != '/' || (nmd > 0 && md == NULL))
		return GRPCC_ERR_ARG;
	for (i = 0; i < nmd; i++) {
		if (!md_key_ok(md[i].key) || md[i].value == NULL ||
		    !md_value_ok(md[i].value) ||
		    strcmp(md[i].key, "authorization") == 0)
			return GRPCC_ERR_ARG;
	}
	if ((call = calloc(1, sizeof(*call))) == NULL)
		return GRPCC_ERR_NOMEM;
	if ((call->md = calloc(nmd + 1, sizeof(*call->md))) == NULL) {
		free(call);
		return GRPCC_ERR_NOMEM;
	}
	call->ctx = ch->ctx;
	for (j = 0; j < OP_MAX; j++) {
		call->tags[j].call = call;
		call->tags[j].op = (enum call_op)j;
	}
	grpc_metadata_array_init(&call->initial_md);
	grpc_metadata_array_init(&call->trailing_md);
	call->details = grpc_empty_slice();
	LIST_INSERT_HEAD(&ch->ctx->calls, call, entry);
	*callp = call;

	if (ch->token_file != NULL) {
		if ((token = token_load(ch->token_file, &why)) == NULL) {
			call->local_code = GRPC_STATUS_UNAUTHENTICATED;
			call->local_details = why;
			return 0;
		}
		if (asprintf(&bearer, "Bearer %s", token) < 0) {
			free(token);
			call->local_code = GRPC_STATUS_RESOURCE_EXHAUSTED;
			return 0;
		}
		md_add(call, "authorization", bearer);
		explicit_bzero(bearer, strlen(bearer));
		explicit_bzero(token, strlen(token));
		free(bearer);
		free(token);
	}
	for (i = 0; i < nmd; i++)
		md_add(call, md[i].key, md[i].value);

	deadline = timeout_ms > 0 ?
	    gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
	    gpr_time_from_millis(timeout_ms, GPR_TIMESPAN)) :
	    gpr_inf_future(GPR_CLOCK_MONOTONIC);
	mslice = grpc_slice_from_copied_string(method);
	call->gc = grpc_channel_create_call(ch->gch, NULL, GRPC_PROPAGATE_DEFAULTS,
	    grpcc_pump_cq(ch->ctx->pump), mslice, NULL, deadline, NULL);
	grpc_slice_unref(mslice);
	if (call->gc == NULL) {
		call->local_code = GRPC_STATUS_INTERNAL;
		call->local_details = strdup("grpc_channel_create_call failed");
	}
	return 0;
}

static int
call_has_local_failure(const struct gcall *call)
{
	return call->local_code != 0 || call->local_details != NULL;
}

/* Starts the call's own batch ops under tag op; gRPC refusing it fails the
 * call locally (its status then reports that). Returns 0 or -1 (refused). */
static int
call_start_ops(struct gcall *call, const grpc_op *ops, size_t nops, enum call_op op)
{
	grpc_call_error ge;

	ge = call_batch(call, ops, nops, &call->tags[op]);
	if (ge != GRPC_CALL_OK) {
		call_fail_local(call, GRPC_STATUS_INTERNAL,
		    "grpc_call_start_batch: %s", grpc_call_error_to_string(ge));
		return -1;
	}
	call->pending++;
	return 0;
}

int
gcall_unary(struct gcall_chan *ch, const char *method,
    const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp_desc,
    const struct gcall_md *md, size_t nmd, int64_t timeout_ms,
    gcall_unary_cb cb, void *arg, struct gcall **callp)
{
	struct gcall *call;
	grpc_op ops[6];
	int r;

	if (callp != NULL)
		*callp = NULL;
	if (req == NULL || resp_desc == NULL || cb == NULL)
		return GRPCC_ERR_ARG;
	if ((r = call_new(ch, method, md, nmd, timeout_ms, &call)) != 0)
		return r;
	call->unary = 1;
	call->auto_free = callp == NULL;
	call->resp_desc = resp_desc;
	call->unary_cb = cb;
	call->arg = arg;
	if (callp != NULL)
		*callp = call;
	if (call_has_local_failure(call)) {
		call_post_end(call);
		return 0;
	}
	if ((call->send_bb = grpcc_pack(req)) == NULL) {
		call_fail_local(call, GRPC_STATUS_RESOURCE_EXHAUSTED,
		    "out of memory packing the request");
		return 0;
	}
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[0].data.send_initial_metadata.count = call->nmd;
	ops[0].data.send_initial_metadata.metadata = call->md;
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = call->send_bb;
	ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[3].data.recv_initial_metadata.recv_initial_metadata = &call->initial_md;
	ops[4].op = GRPC_OP_RECV_MESSAGE;
	ops[4].data.recv_message.recv_message = &call->recv_bb;
	ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[5].data.recv_status_on_client.trailing_metadata = &call->trailing_md;
	ops[5].data.recv_status_on_client.status = &call->status;
	ops[5].data.recv_status_on_client.status_details = &call->details;
	call_start_ops(call, ops, 6, OP_UNARY);
	return 0;
}

int
gcall_stream(struct gcall_chan *ch, const char *method,
    const ProtobufCMessageDescriptor *resp_desc, const struct gcall_md *md,
    size_t nmd, int64_t timeout_ms, const struct gcall_stream_cbs *cbs,
    void *arg, struct gcall **callp)
{
	struct gcall *call;
	grpc_op ops[2];
	int r;

	*callp = NULL;
	if (resp_desc == NULL || cbs == NULL || cbs->on_status == NULL)
		return GRPCC_ERR_ARG;
	if ((r = call_new(ch, method, md, nmd, timeout_ms, &call)) != 0)
		return r;
	call->resp_desc = resp_desc;
	call->cbs = *cbs;
	call->arg = arg;
	*callp = call;
	if (call_has_local_failure(call)) {
		call_post_end(call);
		return 0;
	}
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[0].data.send_initial_metadata.count = call->nmd;
	ops[0].data.send_initial_metadata.metadata = call->md;
	ops[1].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[1].data.recv_initial_metadata.recv_initial_metadata = &call->initial_md;
	if (call_start_ops(call, ops, 2, OP_START) != 0)
		return 0;
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[0].data.recv_status_on_client.trailing_metadata = &call->trailing_md;
	ops[0].data.recv_status_on_client.status = &call->status;
	ops[0].data.recv_status_on_client.status_details = &call->details;
	call_start_ops(call, ops, 1, OP_STATUS);
	return 0;
}

/* Streaming operations need a live gRPC call that has not ended. */
static int
call_stream_live(const struct gcall *call)
{
	return !call->unary && call->gc != NULL && !call->ended &&
	    !call_has_local_failure(call) && !call->freed;
}

/* Sends bb (taken). */
static int
call_send_bb(struct gcall *call, grpc_byte_buffer *bb)
{
	grpc_call_error ge;
	grpc_op op;

	call->send_bb = bb;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_SEND_MESSAGE;
	op.data.send_message.send_message = call->send_bb;
	ge = call_batch(call, &op, 1, &call->tags[OP_SEND]);
	if (ge != GRPC_CALL_OK) {
		grpc_byte_buffer_destroy(call->send_bb);
		call->send_bb = NULL;
		return GRPCC_ERR_GRPC;
	}
	call->send_busy = 1;
	call->pending++;
	return 0;
}

static int
call_send_ready(const struct gcall *call)
{
	if (!call_stream_live(call) || call->closed || call->close_queued)
		return GRPCC_ERR_STATE;
	if (call->send_busy)
		return GRPCC_ERR_BUSY;
	return 0;
}

int
gcall_send(struct gcall *call, const ProtobufCMessage *msg)
{
	grpc_byte_buffer *bb;
	int r;

	if ((r = call_send_ready(call)) != 0)
		return r;
	if ((bb = grpcc_pack(msg)) == NULL)
		return GRPCC_ERR_NOMEM;
	return call_send_bb(call, bb);
}

int
gcall_send_data(struct gcall *call, uint32_t field, struct grpcc_dbuf *b)
{
	grpc_byte_buffer *bb;
	int r;

	if ((r = call_send_ready(call)) != 0) {
		grpcc_dbuf_free(b);
		return r;
	}
	if ((bb = grpcc_dbuf_finish(b, field)) == NULL)
		return GRPCC_ERR_ARG;
	return call_send_bb(call, bb);
}

int
gcall_send_busy(const struct gcall *call)
{
	return call->send_busy;
}

int
gcall_recv_start(struct gcall *call)
{
	grpc_call_error ge;
	grpc_op op;

	if (!call_stream_live(call) || call->recv_eof)
		return GRPCC_ERR_STATE;
	if (call->recv_busy)
		return GRPCC_ERR_BUSY;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_MESSAGE;
	op.data.recv_message.recv_message = &call->recv_bb;
	ge = call_batch(call, &op, 1, &call->tags[OP_RECV]);
	if (ge != GRPC_CALL_OK)
		return GRPCC_ERR_GRPC;
	call->recv_busy = 1;
	call->pending++;
	return 0;
}

int
gcall_close_send(struct gcall *call)
{
	if (!call_stream_live(call))
		return GRPCC_ERR_STATE;
	if (call->closed || call->close_queued)
		return 0;
	if (call->send_busy) {
		call->close_queued = 1;
		return 0;
	}
	return call_start_close(call);
}

void
gcall_cancel(struct gcall *call)
{
	if (call->gc != NULL && !call->ended)
		call_cancel_gc(call, GRPC_STATUS_CANCELLED, NULL);
}

void
gcall_free(struct gcall *call)
{
	if (call == NULL)
		return;
	if (call->freed)
		abort();	/* double free: a broken invariant in the caller */
	call->freed = 1;
	if (call->gc != NULL && !call->ended)
		call_cancel_gc(call, GRPC_STATUS_CANCELLED, NULL);
	call_maybe_destroy(call);
}

static int
chan_creds(const struct gcall_chan_opts *opts, grpc_channel_credentials **credsp)
{
	char *pem;
	size_t len;
	int err = 0;

	if (opts->ca_file == NULL || opts->ca_file[0] == '\0') {
		*credsp = grpc_insecure_credentials_create();
		return 0;
	}
	if ((pem = grpcc_file_read(opts->ca_file, CAFILE_MAX, &len, &err)) == NULL) {
		errno = err;
		return GRPCC_ERR_CAFILE;
	}
	/* gRPC copies the roots; TLS >= 1.2 is its default minimum. */
	*credsp = grpc_ssl_credentials_create(pem, NULL, NULL, NULL);
	free(pem);
	return 0;
}

int
gcall_chan_new(struct gcall_ctx *ctx, const struct gcall_chan_opts *opts,
    struct gcall_chan **chp)
{
	static const char rr_config[] =
	    "{\"loadBalancingConfig\":[{\"round_robin\":{}}]}";
	static const char pf_config[] =
	    "{\"loadBalancingConfig\":[{\"pick_first\":{}}]}";
	grpc_channel_credentials *creds;
	grpc_channel_args cargs;
	grpc_arg args[8];
	struct gcall_chan *ch;
	int tls, r;
	size_t n = 0;

	*chp = NULL;
	if (opts == NULL || opts->target == NULL || opts->target[0] == '\0')
		return GRPCC_ERR_ARG;
	tls = opts->ca_file != NULL && opts->ca_file[0] != '\0';
	if ((ch = calloc(1, sizeof(*ch))) == NULL)
		return GRPCC_ERR_NOMEM;
	if (opts->token_file != NULL && opts->token_file[0] != '\0' &&
	    (ch->token_file = strdup(opts->token_file)) == NULL) {
		free(ch);
		return GRPCC_ERR_NOMEM;
	}
	if ((r = chan_creds(opts, &creds)) != 0) {
		free(ch->token_file);
		free(ch);
		return r;
	}

	memset(args, 0, sizeof(args));
	args[n].type = GRPC_ARG_INTEGER;
	args[n].key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
	args[n++].value.integer = GCALL_MAX_RECV;
	args[n].type = GRPC_ARG_STRING;
	args[n].key = (char *)GRPC_ARG_SERVICE_CONFIG;
	args[n++].value.string = (char *)(strncmp(opts->target, "dns:///", 7) == 0 ?
	    rr_config : pf_config);
	if (tls && opts->server_name != NULL && opts->server_name[0] != '\0') {
		args[n].type = GRPC_ARG_STRING;
		args[n].key = (char *)GRPC_SSL_TARGET_NAME_OVERRIDE_ARG;
		args[n++].value.string = (char *)opts->server_name;
	}
	if (opts->keepalive_time_ms > 0) {
		args[n].type = GRPC_ARG_INTEGER;
		args[n].key = (char *)GRPC_ARG_KEEPALIVE_TIME_MS;
		args[n++].value.integer = opts->keepalive_time_ms;
	}
	if (opts->keepalive_timeout_ms > 0) {
		args[n].type = GRPC_ARG_INTEGER;
		args[n].key = (char *)GRPC_ARG_KEEPALIVE_TIMEOUT_MS;
		args[n++].value.integer = opts->keepalive_timeout_ms;
	}
	/* A fixed receive window per stream, about the SSH client's own (2 MiB):
	 * with BDP probing gRPC grows it to many MiB and a child behind a slow
	 * client buffers all of it. On loopback 256 KiB to 4 MiB gave the same
	 * throughput; it caps a stream at 1 MiB per round trip to k8shelld. */
	args[n].type = GRPC_ARG_INTEGER;
	args[n].key = (char *)GRPC_ARG_HTTP2_BDP_PROBE;
	args[n++].value.integer = 0;
	args[n].type = GRPC_ARG_INTEGER;
	args[n].key = (char *)GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES;
	args[n++].value.integer = GCALL_STREAM_WINDOW;
	cargs.num_args = n;
	cargs.args = args;
	ch->gch = grpc_channel_create(opts->target, creds, &cargs);
	grpc_channel_credentials_release(creds);
	if (ch->gch == NULL) {
		free(ch->token_file);
		free(ch);
		return GRPCC_ERR_GRPC;
	}
	ch->ctx = ctx;
	LIST_INSERT_HEAD(&ctx->chans, ch, entry);
	*chp = ch;
	return 0;
}

void
gcall_chan_free(struct gcall_chan *ch)
{
	if (ch == NULL)
		return;
	LIST_REMOVE(ch, entry);
	/* Calls hold their own reference to the channel inside gRPC. */
	grpc_channel_destroy(ch->gch);
	grpcc_pump_kick(ch->ctx->pump);
	free(ch->token_file);
	free(ch);
}
