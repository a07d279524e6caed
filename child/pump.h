/* The byte path of a forwarding channel (direct-tcpip, direct-streamlocal, agent):
 * one SSH channel <-> one k8shelld bidi stream of raw data, back-pressure both ways. */
#ifndef CHILD_PUMP_H
#define CHILD_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "child/channel.h"
#include "child/pump-held.h"
#include "proto/grpc-call.h"

/*
 * SSH -> workspace: one gRPC send in flight. The channel's data callback
 * copies into one message being filled (pump_held_fill, up to PUMP_CHUNK) and
 * leaves the rest to libssh (which then stops widening the client's window);
 * the run hook sends the filled message at the end of the loop turn, or when
 * the send in flight completes, so packets that arrive together go as one
 * message (a turn or two later when more are already waiting in the socket:
 * pump_held_wait). After it the run hook takes all that libssh holds (libssh bounds it
 * to about 2 MB) and sends it in PUMP_CHUNK messages. Bytes are copied once,
 * from libssh straight into the message that carries them.
 * Workspace -> SSH: messages are written only within the client's window; one
 * receive is in flight while a message is written, none while a second one
 * waits, so at most two messages are held. Data is written from gRPC's own
 * slices (grpcc_data, no unpack), gathered into one piece per write when they
 * split it: libssh flushes the socket on every ssh_channel_write.
 *
 * End: the client's EOF half-closes the stream after the last bytes went out;
 * the stream's end (the workspace closed, or an error) is followed by EOF and
 * CLOSE on the channel once the received bytes are written. A channel the
 * client closes is freed by channel.c, and pump_free() cancels the stream.
 */
#define PUMP_CHUNK	(128 * 1024)

/* What differs between the streams: the method, the id's metadata key, the
 * first message and the data fields. */
struct pump_proto {
	const char *method;		/* "/k8shelld.SshService/PortForward" */
	const ProtobufCMessageDescriptor *resp;
	const char *id_key;		/* metadata key for ch->id: "portforward-id" */
	/* The stream's first message, from pump_new()'s target and num. */
	int (*send_start)(struct gcall *call, const char *target, uint32_t num);
	uint32_t up_field;		/* the request's bytes field (data) */
	uint32_t down_field;		/* the response's bytes field (data) */
	/* The bytes a response that came unpacked carries (borrowed from msg). */
	void (*recv_data)(const ProtobufCMessage *msg, const uint8_t **data, size_t *len);
};

/* PortForward (target = host, num = port) and UnixSocket (target = socket
 * path, num = K8SHELLD__UNIX_SOCKET_MODE__*). */
extern const struct pump_proto pump_portforward;
extern const struct pump_proto pump_unixsocket;

struct pump;

/* A pump for ch, stored as ch->state; it fills ch->cb with the data and EOF
 * callbacks (call before channel_accept). target (copied) and num go into the
 * first message. Returns 0 or -1 (out of memory). */
int pump_new(struct channel *ch, const struct pump_proto *proto, const char *target,
    uint32_t num);
/* A client-opened channel: pump_new(), then channel_accept(). On failure the
 * open is refused (or channel_accept failed) and -1 is returned, as the kind's
 * open hook does. The kind logs the open, then calls pump_begin(). */
int pump_accept(struct channel *ch, ssh_message msg, const struct pump_proto *proto,
    const char *target, uint32_t num);
/* After pump_accept(): the SSH side is open; asks for the workspace, and stops
 * the pump (closing the accepted channel) when that fails. */
void pump_begin(struct channel *ch);
/* The kind's own state (borrowed; the kind frees it before pump_free). */
void pump_set_data(struct channel *ch, void *data);
void *pump_data(const struct channel *ch);
/* Asks for the workspace and starts the stream. Returns 0 or -1 (out of memory). */
int pump_start(struct channel *ch);
/* The SSH channel is open (server-opened channels: once the client confirmed;
 * channel_accept'ed ones: at once). Until then only the first message goes out. */
void pump_ssh_open(struct channel *ch);
/* From the kind's run hook: moves what can move, closes the channel at the end. */
void pump_run(struct channel *ch);
/* Ends the stream now (cancel) and closes the SSH channel if it is open. */
void pump_stop(struct channel *ch);
/* From the kind's free hook: cancels what still runs and releases ch->state. */
void pump_free(struct channel *ch);

#endif
