/* A socket bridged to a call's stream (PortForward, UnixSocket): request bytes to
 * the socket, socket bytes back as `data`; or a listening socket whose clients take turns. */
#ifndef WSD_BRIDGE_H
#define WSD_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include <grpc/grpc.h>

struct wsd_call;
struct wsd_bridge;

struct wsd_bridge_kind {
	const char *name;	/* for logs: "portforward", "unixsocket" */
	const char *idkey;	/* metadata key of the stream's ID */
	const char *first;	/* the error for bytes before the first message */
	/* Every request message: the first opens (wsd_bridge_attach/listen/fail),
	 * later ones carry bytes for wsd_bridge_data(). */
	void (*message)(struct wsd_bridge *b, const uint8_t *data, size_t len);
	/* Releases what the kind's state holds (a connect in progress); runs once, maybe
	 * before the end. The state itself is malloc'd and freed with the bridge. */
	void (*cleanup)(struct wsd_bridge *b);
};

void wsd_bridge_start(struct wsd_call *call, const struct wsd_bridge_kind *kind);
struct wsd_call *wsd_bridge_call(const struct wsd_bridge *b);
void *wsd_bridge_state(const struct wsd_bridge *b);
void wsd_bridge_set_state(struct wsd_bridge *b, void *state);
/* The first message was handled (attached, listening, or connecting). */
int wsd_bridge_opened(const struct wsd_bridge *b);
void wsd_bridge_set_opened(struct wsd_bridge *b);

/* Relays the connected socket fd (taken); its EOF ends the stream with OK. */
void wsd_bridge_attach(struct wsd_bridge *b, int fd);
/* Accepts clients of the listening socket lfd (taken) one at a time and relays
 * each in turn; path (taken) is unlinked when the stream ends. */
void wsd_bridge_listen(struct wsd_bridge *b, int lfd, char *path);
/* Bytes from the client for the socket (borrowed); re-arms the receive when written. */
void wsd_bridge_data(struct wsd_bridge *b, const uint8_t *data, size_t len);
/* Ends the stream with an error status. */
void wsd_bridge_fail(struct wsd_bridge *b, grpc_status_code code, const char *msg);

#endif
