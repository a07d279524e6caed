/* gRPC server helper (contrib/workspaced, test stubs): registered methods,
 * per-call receive/send of protobuf-c messages, driven from one poll loop. */
#ifndef GRPC_SERVER_H
#define GRPC_SERVER_H

#include <protobuf-c/protobuf-c.h>

#include "proto/grpc-common.h"

/*
 * Same threading as the client (proto/grpc-call.h): gsrv_new() calls
 * grpc_init() and starts a helper thread, so only a process that never forks
 * without exec may use it. Everything else runs on one loop thread: poll
 * gsrv_fd() for POLLIN and call gsrv_dispatch().
 *
 * A call is driven like the client side: at most one send and one receive in
 * flight, gsrv_call_recv_start() re-armed after each on_message. Unary
 * methods are handled the same way (one message each way, then finish).
 * Received messages are handed over: free them with grpcc_msg_free().
 */
struct gsrv;
struct gsrv_call;

struct gsrv_method_cbs {
	/* A client started a call; the handler keeps sc until gsrv_call_free(). */
	void (*on_call)(struct gsrv_call *sc, void *arg);
	void (*on_message)(struct gsrv_call *sc, ProtobufCMessage *msg, void *arg);
	/* The client half-closed (no more messages will come). */
	void (*on_half_close)(struct gsrv_call *sc, void *arg);
	void (*on_send_done)(struct gsrv_call *sc, int ok, void *arg);
	/* Last callback: the call is over; cancelled = 1 when it did not end
	 * with our status (client cancel, deadline, connection lost). */
	void (*on_done)(struct gsrv_call *sc, int cancelled, void *arg);
};

int gsrv_new(struct gsrv **srvp);
/* addr "127.0.0.1:0", "[::]:2822", "unix:/path". TLS when cert_file is set
 * (PEM chain + key, no client certificates). *portp: the bound port. */
int gsrv_add_port(struct gsrv *srv, const char *addr, const char *cert_file,
    const char *key_file, int *portp);
/* method: "/k8shelld.SshService/Exec"; req_desc: what on_message parses. */
int gsrv_register(struct gsrv *srv, const char *method,
    const ProtobufCMessageDescriptor *req_desc,
    const struct gsrv_method_cbs *cbs, void *arg);
int gsrv_start(struct gsrv *srv);
int gsrv_fd(const struct gsrv *srv);
int gsrv_dispatch(struct gsrv *srv);
/* Not from a callback. Cancels every call; each live call still gets its
 * on_done (cancelled) from inside gsrv_free, where the handler frees it; a
 * handle not freed there becomes invalid. Then shuts gRPC down. */
void gsrv_free(struct gsrv *srv);

/* The first value of a request metadata key (lowercase), NULL if absent. */
const char *gsrv_call_md(const struct gsrv_call *sc, const char *key);
/* The method's name as registered. */
const char *gsrv_call_method(const struct gsrv_call *sc);
void gsrv_call_set_data(struct gsrv_call *sc, void *data);
void *gsrv_call_data(const struct gsrv_call *sc);
/* GRPCC_ERR_BUSY while one is in flight, GRPCC_ERR_STATE once finished. */
int gsrv_call_recv_start(struct gsrv_call *sc);
int gsrv_call_send(struct gsrv_call *sc, const ProtobufCMessage *msg);
int gsrv_call_send_busy(const struct gsrv_call *sc);
/* Send the status (queued behind a send in flight); code 0 = OK. */
int gsrv_call_finish(struct gsrv_call *sc, int code, const char *details);
void gsrv_call_cancel(struct gsrv_call *sc);
/* Cancels the call if it is not over and releases the handle; allowed
 * inside its own callbacks, none of which runs afterwards. */
void gsrv_call_free(struct gsrv_call *sc);

#endif
