/* Test-side gRPC client for workspaced's tests: one completion queue, calls with
 * one send and one receive in flight, and blocking helpers built on them. */
#ifndef WSDT_CLIENT_H
#define WSDT_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>

struct wsdt_call;

struct wsdt_tag {
	struct wsdt_call *call;
	int kind;
};

struct wsdt_call {
	grpc_call *gcall;
	grpc_metadata_array init_md, trail_md;
	grpc_status_code status;
	grpc_slice details;
	char *details_str;
	grpc_byte_buffer *send_bb, *recv_bb;
	struct wsdt_tag t_start, t_send, t_recv, t_status, t_close;
	int start_busy, send_busy, recv_busy, status_done, close_busy;
	int recv_ready;			/* a receive finished and was not consumed */
	int recv_ok;
};

int wsdt_init(const char *target);
void wsdt_shutdown(void);

/* md: NULL-terminated key, value pairs. timeout_ms 0: 30 s. */
struct wsdt_call *wsdt_call_start(const char *method, const char *const *md, int timeout_ms);
/* Waits for the previous send, then starts this one (msg packed now). */
int wsdt_send(struct wsdt_call *c, const ProtobufCMessage *msg);
int wsdt_send_start(struct wsdt_call *c, const ProtobufCMessage *msg);
int wsdt_close_send(struct wsdt_call *c);
/* Blocking receive: the message (free with protobuf_c_message_free_unpacked),
 * or NULL at the end of the stream / on timeout (*ended says which). */
ProtobufCMessage *wsdt_recv(struct wsdt_call *c, const ProtobufCMessageDescriptor *d,
    int timeout_ms, int *ended);
int wsdt_recv_start(struct wsdt_call *c);
/* Takes a finished receive: 1 with *msg (NULL = end of stream), 0 when none ready. */
int wsdt_recv_take(struct wsdt_call *c, const ProtobufCMessageDescriptor *d, ProtobufCMessage **msg);
/* Handles one completion; 0 on timeout. */
int wsdt_pump(int timeout_ms);
/* Waits for the final status; returns it (-1 on timeout), details in c->details_str. */
int wsdt_status(struct wsdt_call *c, int timeout_ms);
void wsdt_cancel(struct wsdt_call *c);
/* Waits for everything in flight, then frees. */
void wsdt_call_free(struct wsdt_call *c);

/* Unary call: returns the status; *resp set only for OK. */
int wsdt_unary(const char *method, const char *const *md, const ProtobufCMessage *req,
    const ProtobufCMessageDescriptor *d, ProtobufCMessage **resp, char **details);

#endif
