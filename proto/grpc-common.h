/* What the gRPC client calls (child) and the server helper (workspaced) share:
 * error codes, the protobuf-c codec, data messages in place and the CQ pump. */
#ifndef GRPC_COMMON_H
#define GRPC_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <protobuf-c/protobuf-c.h>

enum grpcc_err {
	GRPCC_OK = 0,
	GRPCC_ERR_NOMEM = -1,
	GRPCC_ERR_SYS = -2,	/* a system call failed; errno is kept */
	GRPCC_ERR_BUSY = -3,	/* a send (or receive) is already in flight */
	GRPCC_ERR_STATE = -4,	/* not allowed in the call's state (ended, half-closed) */
	GRPCC_ERR_ARG = -5,	/* bad argument (e.g. a metadata key not lowercase) */
	GRPCC_ERR_GRPC = -6,	/* gRPC refused (start_batch, add_port, register) */
	GRPCC_ERR_CAFILE = -7,	/* the TLS CA / certificate / key file cannot be read */
};

const char *grpcc_strerror(int err);

/* Serialise msg into a byte buffer holding one malloc'd slice that gRPC frees
 * (no copy). NULL when out of memory. */
grpc_byte_buffer *grpcc_pack(const ProtobufCMessage *msg);

/* Parse bb (borrowed) as a desc message; NULL when it does not parse. A buffer
 * made of one uncompressed slice is parsed in place. Free with grpcc_msg_free. */
ProtobufCMessage *grpcc_unpack(const ProtobufCMessageDescriptor *desc,
    grpc_byte_buffer *bb);
void grpcc_msg_free(ProtobufCMessage *msg);

/*
 * Data messages without a copy. A k8shelld data message (PortForwardResponse
 * .data, ExecResponse .stdout, ExecRequest .input, ...) is one length-delimited
 * field and nothing else: a tag, a varint length, the bytes. Fields are named
 * by a mask of GRPCC_FIELD() bits (field numbers 1..31).
 */
#define GRPCC_FIELD(n)	(1u << (n))

/* Received: the bytes of a data message, read in place from the byte buffer's
 * slices (or from an unpacked message that owns them). */
struct grpcc_data;

/* When bb is exactly one length-delimited field in fields (uncompressed, the
 * length spanning the rest of the message), *dp is a view on its bytes that
 * takes bb; else *dp is NULL and bb stays the caller's: unpack it (protobuf-c
 * then judges anything malformed). GRPCC_ERR_NOMEM leaves bb too. */
int grpcc_data_take(grpc_byte_buffer *bb, uint32_t fields, struct grpcc_data **dp);
/* The same for bytes an unpacked message holds: the view takes msg. */
int grpcc_data_wrap(ProtobufCMessage *msg, uint32_t field, const uint8_t *p,
    size_t len, struct grpcc_data **dp);
uint32_t grpcc_data_field(const struct grpcc_data *d);
/* Bytes not yet consumed. */
size_t grpcc_data_len(const struct grpcc_data *d);
/* The next contiguous piece of them (*lenp is 0 once all are consumed). */
const uint8_t *grpcc_data_peek(const struct grpcc_data *d, size_t *lenp);
/* The next min(max, unconsumed) bytes as one piece: in place when a slice
 * holds them, else copied into scratch (max bytes). For a writer that pays per
 * call more than per byte. */
const uint8_t *grpcc_data_gather(const struct grpcc_data *d, uint8_t *scratch, size_t max,
    size_t *lenp);
void grpcc_data_consume(struct grpcc_data *d, size_t n);
/* The unconsumed bytes as up to max iovecs, in place (for writev); returns
 * how many were filled; their total may be less than grpcc_data_len(). */
struct iovec;
size_t grpcc_data_iov(const struct grpcc_data *d, struct iovec *iov, size_t max);
void grpcc_data_free(struct grpcc_data *d);

/* To send: one slice with room for the header in front of cap payload bytes;
 * the caller copies the bytes into grpcc_dbuf_ptr() and sets their count. */
struct grpcc_dbuf;

int grpcc_dbuf_new(size_t cap, struct grpcc_dbuf **bp);
uint8_t *grpcc_dbuf_ptr(struct grpcc_dbuf *b);
size_t grpcc_dbuf_cap(const struct grpcc_dbuf *b);
size_t grpcc_dbuf_len(const struct grpcc_dbuf *b);
void grpcc_dbuf_set_len(struct grpcc_dbuf *b, size_t len);	/* <= cap */
/* The message "field: the payload", one slice, no copy; takes b. NULL for a
 * field outside 1..31. */
grpc_byte_buffer *grpcc_dbuf_finish(struct grpcc_dbuf *b, uint32_t field);
void grpcc_dbuf_free(struct grpcc_dbuf *b);

/* A whole regular file of at most max bytes, NUL-terminated (malloc'd);
 * NULL with *errp = errno, EFBIG (too large) or EINVAL (not a file). */
char *grpcc_file_read(const char *path, size_t max, size_t *lenp, int *errp);

/* A server port's credentials: TLS with the PEM certificate chain and key in
 * these files, or plaintext when cert_file is NULL or "". NULL with *errp set
 * (errno of the file that failed, EINVAL for a key without a certificate). */
grpc_server_credentials *grpcc_server_creds(const char *cert_file, const char *key_file,
    int *errp);

/*
 * The pump: one completion queue whose completions are all handled on the
 * caller's poll-loop thread. Inline mode (grpcc_pump_new_inline(), see
 * proto/grpc-poll.h): the pump fd covers gRPC's epoll set and take() lets gRPC
 * do the ready socket I/O on the loop thread, so a message costs no thread
 * hop; the loop must also take() after starting batches (kick) and every few
 * milliseconds while calls live (completions from gRPC's timers wake nobody).
 * Thread mode: a helper thread drains the queue into {tag, ok} entries and
 * writes an eventfd. Both call grpc_init(): only in a process that never
 * forks without exec (notes/spike.md Q3).
 */
struct grpcc_pump;

/* Thread mode. */
int grpcc_pump_new(struct grpcc_pump **pumpp);
/* Inline mode when gRPC polls with epoll1 and this call is the process's first
 * grpc_init(); thread mode otherwise. The loop must then honour the tick. */
int grpcc_pump_new_inline(struct grpcc_pump **pumpp);
grpc_completion_queue *grpcc_pump_cq(const struct grpcc_pump *pump);
int grpcc_pump_fd(const struct grpcc_pump *pump);
/* 1 in inline mode. */
int grpcc_pump_inline(const struct grpcc_pump *pump);
/* After starting a batch or cancelling: completions gRPC queued without a
 * poller wake nobody, so the loop must take() before it sleeps again while
 * grpcc_pump_kicked() says so (inline mode only; take() clears it). */
void grpcc_pump_kick(struct grpcc_pump *pump);
int grpcc_pump_kicked(const struct grpcc_pump *pump);
/* Queue a completion that gRPC did not produce (a call failed client-side). */
void grpcc_pump_post(struct grpcc_pump *pump, void *tag, int ok);
/* Take what the helper queued: *n entries in a malloc'd array (NULL when none)
 * that the caller frees. Clears the eventfd first so nothing is stranded. */
struct grpcc_ev {
	void *tag;
	int ok;
};
int grpcc_pump_take(struct grpcc_pump *pump, struct grpcc_ev **evs, size_t *n);
/* Wait up to timeout_ms (-1: forever) for the fd; used only on teardown paths. */
int grpcc_pump_wait(struct grpcc_pump *pump, int timeout_ms);
/* Shut the queue down and join the helper; every completion still pending
 * lands in the queue first, so call grpcc_pump_take() once more afterwards. */
void grpcc_pump_shutdown(struct grpcc_pump *pump);
/* After shutdown and the last take: destroy the queue, grpc_shutdown(). */
void grpcc_pump_free(struct grpcc_pump *pump);

#endif
