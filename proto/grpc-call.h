/* gRPC client calls for the child: channels, per-RPC auth metadata, unary and
 * bidi-streaming calls driven from the child's single poll-loop thread. */
#ifndef GRPC_CALL_H
#define GRPC_CALL_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "proto/grpc-common.h"

/*
 * Threading: gcall_ctx_new() starts gRPC (grpc_init) and, when gRPC cannot
 * poll on the loop thread, one helper thread.
 * Call it ONLY in the re-exec'd child, never in the listener or monitor: gRPC
 * does not survive fork without exec (notes/spike.md Q3); after it the process
 * may only fork+exec. Every other function here, and every callback, runs on
 * the one loop thread: register gcall_ctx_fd() for POLLIN with the loop
 * (ssh_event_add_fd) and call gcall_ctx_dispatch() when it is readable:
 *
 *	static int grpc_readable(socket_t fd, int revents, void *ctx)
 *	{ gcall_ctx_dispatch(ctx); return 0; }
 *	ssh_event_add_fd(ev, gcall_ctx_fd(ctx), POLLIN, grpc_readable, ctx);
 *	... ssh_event_remove_fd(ev, gcall_ctx_fd(ctx)) before gcall_ctx_free().
 *
 * Ownership: a call handle belongs to the caller until gcall_free(); after
 * gcall_free() returns no callback of that call runs again. gcall_free() may be
 * called from inside that call's callbacks. Received messages are handed over
 * (take): free them with grpcc_msg_free().
 */
struct gcall_ctx;
struct gcall_chan;
struct gcall;

int gcall_ctx_new(struct gcall_ctx **ctxp);
int gcall_ctx_fd(const struct gcall_ctx *ctx);
int gcall_ctx_dispatch(struct gcall_ctx *ctx);
/* When gRPC's I/O runs on the loop thread (inline pump, see grpc-common.h),
 * what completes inside a start or cancel, and what gRPC's timers post
 * (deadlines, keepalive failures), wakes nobody: before each wait the loop
 * asks this and calls gcall_ctx_dispatch() once that much time has passed
 * (0: now). -1: no need (a helper thread, or no live call). */
int gcall_ctx_tick_ms(const struct gcall_ctx *ctx);
/* Not from a callback. Cancels and releases calls and channels still open
 * (their handles become invalid), then stops gRPC. */
void gcall_ctx_free(struct gcall_ctx *ctx);

struct gcall_chan_opts {
	const char *target;	/* "host:port", "dns:///host:port" (round_robin), "unix:/path" */
	const char *ca_file;	/* NULL or "": plaintext h2c; else TLS, roots = this PEM only */
	const char *server_name; /* TLS name to verify (SNI); NULL: from the target */
	const char *token_file;	/* NULL or "": no authorization header */
	int keepalive_time_ms;	/* 0: gRPC default (no keepalive pings); servers
				 * by default close a connection pinging more
				 * often than every 5 min */
	int keepalive_timeout_ms; /* 0: gRPC default */
};
#define GCALL_MAX_RECV (32 << 20)	/* receive limit on every channel */

/* Returns GRPCC_ERR_CAFILE when ca_file cannot be read. Connecting is lazy:
 * an unreachable target shows as UNAVAILABLE on the first call. */
int gcall_chan_new(struct gcall_ctx *ctx, const struct gcall_chan_opts *opts,
    struct gcall_chan **chp);
/* Calls started on the channel keep running; free them on their own. */
void gcall_chan_free(struct gcall_chan *ch);

/* Extra request metadata, copied. Keys [a-z0-9._-] (e.g. "exec-id"), values
 * printable ASCII, never "authorization": else GRPCC_ERR_ARG. */
struct gcall_md {
	const char *key;
	const char *value;
};

struct gcall_status {
	int code;		/* grpc_status_code: GRPC_STATUS_OK, _CANCELLED, ... */
	const char *details;	/* never NULL; valid during the callback */
	int local;		/* 1: raised client-side before reaching the server */
};

/*
 * Every call sends "authorization: Bearer <token>" when the channel has a
 * token_file, re-read and whitespace-trimmed on each call (rotation). If it
 * cannot be read, is empty or is no valid header value, the call still starts
 * but ends at once, never reaching the network, with UNAUTHENTICATED, local=1
 * and details naming the file and the reason.
 * timeout_ms <= 0: no deadline.
 */

/* Unary: cb runs once with the status and, only when code is OK, the response
 * (take). callp NULL: the call frees itself after cb; else gcall_free() it. */
typedef void (*gcall_unary_cb)(struct gcall *call, const struct gcall_status *st,
    ProtobufCMessage *resp, void *arg);
int gcall_unary(struct gcall_chan *ch, const char *method,
    const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp_desc,
    const struct gcall_md *md, size_t nmd, int64_t timeout_ms,
    gcall_unary_cb cb, void *arg, struct gcall **callp);

/*
 * Bidi (and client/server) streaming. Flow control is explicit: at most one
 * send and one receive in flight. on_send_done(ok) says the next gcall_send()
 * may go (ok == 0: the stream broke, on_status follows). Nothing is read until
 * gcall_recv_start(); each on_message needs a new gcall_recv_start(), so a
 * consumer that stops re-arming stops gRPC reads: HTTP/2 flow control stalls
 * the server once the stream window is full (a fixed 1 MiB per stream, no
 * BDP probing: see gcall_chan_new()).
 * on_status runs once, last, when no send or receive is left in flight; gRPC
 * holds a server's status behind its unread messages, so none is lost
 * (unless the call was cancelled or timed out).
 *
 * Data without copies: with on_data set, a message that is nothing but one
 * length-delimited field named in data_fields (GRPCC_FIELD bits) arrives
 * there as a view on the received bytes (take: grpcc_data_free), not unpacked;
 * every other message still goes to on_message. Sending: gcall_send_data().
 */
struct gcall_stream_cbs {
	void (*on_message)(struct gcall *call, ProtobufCMessage *msg, void *arg);
	void (*on_data)(struct gcall *call, uint32_t field, struct grpcc_data *data,
	    void *arg);
	uint32_t data_fields;
	void (*on_send_done)(struct gcall *call, int ok, void *arg);
	void (*on_status)(struct gcall *call, const struct gcall_status *st,
	    void *arg);
};
int gcall_stream(struct gcall_chan *ch, const char *method,
    const ProtobufCMessageDescriptor *resp_desc, const struct gcall_md *md,
    size_t nmd, int64_t timeout_ms, const struct gcall_stream_cbs *cbs,
    void *arg, struct gcall **callp);

/* GRPCC_ERR_BUSY while a send is in flight; GRPCC_ERR_STATE after half-close
 * or once the call has ended. */
int gcall_send(struct gcall *call, const ProtobufCMessage *msg);
/* The same for the message "field: b's payload" (grpcc_dbuf), sent without a
 * pack or a copy; takes b whatever the result. */
int gcall_send_data(struct gcall *call, uint32_t field, struct grpcc_dbuf *b);
int gcall_send_busy(const struct gcall *call);
/* GRPCC_ERR_BUSY while a receive is armed; GRPCC_ERR_STATE after the end. */
int gcall_recv_start(struct gcall *call);
/* Half-close; queued behind a send in flight. GRPCC_ERR_STATE once ended. */
int gcall_close_send(struct gcall *call);
/* Ends the call: on_status reports CANCELLED (unless it already ended). */
void gcall_cancel(struct gcall *call);
/* Cancels the call if still running and releases the handle. */
void gcall_free(struct gcall *call);

#endif
