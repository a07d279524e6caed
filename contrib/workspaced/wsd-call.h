/* One server-side gRPC call of workspaced: its batches (one send and one receive
 * in flight), metadata, final status, and the hooks a method handler implements. */
#ifndef WSD_CALL_H
#define WSD_CALL_H

#include <stddef.h>
#include <stdint.h>

#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>

struct grpcc_data;
struct wsd_call;
struct wsd_server;
struct wsd_loop;

struct wsd_call_ops {
	/* A request message (borrowed for the call); re-arm with wsd_call_recv(). */
	void (*message)(struct wsd_call *call, const uint8_t *data, size_t len);
	/* A request that is only one of the bytes fields in data_fields
	 * (GRPCC_FIELD bits), as a view on gRPC's slices (taken): stdin or socket
	 * bytes reach the fd without a copy. Other requests go to message. */
	uint32_t data_fields;
	void (*data)(struct wsd_call *call, struct grpcc_data *d);
	/* The client half-closed its side of the stream. */
	void (*halfclose)(struct wsd_call *call);
	/* The send in flight completed; the next may start. */
	void (*sent)(struct wsd_call *call);
	/* The client went away (cancel, deadline, broken transport): stop all work now. */
	void (*cancelled)(struct wsd_call *call);
	/* Last hook of a call: release the handler's state. */
	void (*destroy)(struct wsd_call *call);
};

void wsd_call_set_handler(struct wsd_call *call, const struct wsd_call_ops *ops, void *impl);
void *wsd_call_impl(const struct wsd_call *call);
struct wsd_server *wsd_call_server(const struct wsd_call *call);
struct wsd_loop *wsd_call_loop(const struct wsd_call *call);
const char *wsd_call_method(const struct wsd_call *call);

/* Value of request metadata key (lowercase), or NULL. Valid for the call's life. */
const char *wsd_call_metadata(const struct wsd_call *call, const char *key);

/* Arms one RECV_MESSAGE; -EBUSY when one is pending, -EPIPE after the end. */
int wsd_call_recv(struct wsd_call *call);
/* Sends bb (taken, also on error); -EBUSY while a send is in flight. */
int wsd_call_send(struct wsd_call *call, grpc_byte_buffer *bb);
int wsd_call_send_msg(struct wsd_call *call, const ProtobufCMessage *msg);
int wsd_call_sending(const struct wsd_call *call);
/* Ends the call with a status, after the send in flight; later sends fail. */
void wsd_call_finish(struct wsd_call *call, grpc_status_code code, const char *details);
/* Unary reply: the message and OK in one batch. */
void wsd_call_reply(struct wsd_call *call, const ProtobufCMessage *msg);
/* Finished or cancelled: a handler does no more work. */
int wsd_call_ended(const struct wsd_call *call);
/* Keeps the call (and its handler state) alive across work on another thread. */
void wsd_call_hold(struct wsd_call *call);
void wsd_call_unhold(struct wsd_call *call);

/* Used by the server only: takes gcall, copies md. */
struct wsd_call *wsd_call_new(struct wsd_server *srv, const char *method, grpc_call *gcall,
    const grpc_metadata_array *md);
void wsd_call_start(struct wsd_call *call);

/* Frames data as a message holding only bytes field `field` (every data-carrying
 * response of k8shelld is one); returns the byte buffer or NULL. */
grpc_byte_buffer *wsd_frame_bytes(int field, const uint8_t *data, size_t len);

#endif
