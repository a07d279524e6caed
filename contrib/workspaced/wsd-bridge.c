/* Socket <-> stream relay shared by PortForward and UnixSocket, with one send in
 * flight: the socket is only read while no send is pending, and written before the next receive. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/log.h"
#include "proto/grpc-common.h"
#include "contrib/workspaced/wsd-bridge.h"
#include "contrib/workspaced/wsd-call.h"
#include "contrib/workspaced/wsd-loop.h"
#include "contrib/workspaced/wsd-relay.h"

#define WSD_BRIDGE_FIELD 1	/* PortForwardResponse.data, UnixSocketResponse.data */
#define WSD_BRIDGE_REQ_FIELD 2	/* PortForwardRequest.data, UnixSocketRequest.data */

struct wsd_bridge {
	struct wsd_call *call;
	struct wsd_loop *loop;
	const struct wsd_bridge_kind *kind;
	void *state;
	struct wsd_source src;		/* the socket (or the current client) */
	struct wsd_sink sink;		/* a dup of it, so each side closes on its own */
	int lfd;			/* LISTEN: the listening socket */
	struct wsd_watch lwatch;
	char *path;			/* LISTEN: unlinked at the end */
	dev_t path_dev;			/* ... if it is still our socket */
	ino_t path_ino;
	unsigned int opened:1, eof:1, listening:1, cleaned:1;
};

static const char *
bridge_id(const struct wsd_bridge *b)
{
	const char *id = wsd_call_metadata(b->call, b->kind->idkey);

	return id != NULL ? id : "-";
}

struct wsd_call *
wsd_bridge_call(const struct wsd_bridge *b)
{
	return b->call;
}

void *
wsd_bridge_state(const struct wsd_bridge *b)
{
	return b->state;
}

void
wsd_bridge_set_state(struct wsd_bridge *b, void *state)
{
	b->state = state;
}

int
wsd_bridge_opened(const struct wsd_bridge *b)
{
	return b->opened;
}

void
wsd_bridge_set_opened(struct wsd_bridge *b)
{
	b->opened = 1;
}

static void
bridge_close_peer(struct wsd_bridge *b)
{
	wsd_source_close(b->loop, &b->src);
	wsd_sink_close(b->loop, &b->sink);
}

/* Everything the bridge holds outside memory: sockets, the socket file, kind state. */
static void
bridge_release(struct wsd_bridge *b)
{
	bridge_close_peer(b);
	wsd_watch_set(b->loop, &b->lwatch, 0);
	if (b->lfd >= 0)
		close(b->lfd);
	b->lfd = -1;
	if (b->path != NULL) {
		struct stat st;

		if (lstat(b->path, &st) < 0 || st.st_dev != b->path_dev ||
		    st.st_ino != b->path_ino)
			log_debug("%s %s: %s was replaced; left alone", b->kind->name,
			    bridge_id(b), b->path);
		else if (unlink(b->path) < 0 && errno != ENOENT)
			log_warn("%s %s: unlink %s: %s", b->kind->name, bridge_id(b), b->path,
			    strerror(errno));
		free(b->path);
		b->path = NULL;
	}
	if (!b->cleaned && b->kind->cleanup != NULL)
		b->kind->cleanup(b);
	b->cleaned = 1;
}

void
wsd_bridge_fail(struct wsd_bridge *b, grpc_status_code code, const char *msg)
{
	log_info("%s %s: %s", b->kind->name, bridge_id(b), msg);
	wsd_call_finish(b->call, code, msg);
	bridge_release(b);
}

static void
bridge_end(struct wsd_bridge *b)
{
	log_debug("%s %s: closed", b->kind->name, bridge_id(b));
	wsd_call_finish(b->call, GRPC_STATUS_OK, NULL);
	bridge_release(b);
}

static void bridge_written(struct wsd_bridge *b);

/* The peer socket is done: the stream ends, or in LISTEN mode the next client
 * gets its turn (and a request that waited for the old one is dropped). */
static void
bridge_peer_gone(struct wsd_bridge *b)
{
	int blocked = wsd_sink_pending(&b->sink);

	bridge_close_peer(b);
	if (!b->listening) {
		bridge_end(b);
		return;
	}
	wsd_watch_set(b->loop, &b->lwatch, POLLIN);
	if (blocked)
		bridge_written(b);
}

static void
bridge_pump(struct wsd_bridge *b)
{
	grpc_byte_buffer *bb;
	int r;

	if (wsd_call_ended(b->call) || b->src.fd < 0)
		return;
	if (wsd_call_sending(b->call)) {
		wsd_watch_set(b->loop, &b->src.watch, 0);
		return;
	}
	r = wsd_source_read(&b->src, &bb);
	if (r > 0) {
		wsd_watch_set(b->loop, &b->src.watch, 0);
		wsd_call_send(b->call, bb);
	} else if (r == -EAGAIN)
		wsd_watch_set(b->loop, &b->src.watch, POLLIN);
	else {
		if (r < 0)
			log_debug("%s %s: read: %s", b->kind->name, bridge_id(b), strerror(-r));
		bridge_peer_gone(b);
	}
}

static void
bridge_src_cb(struct wsd_watch *w, short revents)
{
	(void)revents;
	bridge_pump(wsd_container_of(w, struct wsd_bridge, src.watch));
}

static void
bridge_written(struct wsd_bridge *b)
{
	if (b->eof)
		bridge_end(b);
	else
		wsd_call_recv(b->call);
}

static void
bridge_sink_cb(struct wsd_watch *w, short revents)
{
	struct wsd_bridge *b = wsd_container_of(w, struct wsd_bridge, sink.watch);
	int r;

	(void)revents;
	if ((r = wsd_sink_flush(&b->sink)) == 1)
		return;
	if (r < 0) {
		log_debug("%s %s: write: %s", b->kind->name, bridge_id(b), strerror(-r));
		bridge_peer_gone(b);
		return;
	}
	wsd_watch_set(b->loop, &b->sink.watch, 0);
	bridge_written(b);
}

static int
bridge_set_peer(struct wsd_bridge *b, int fd)
{
	int dfd;

	if (wsd_fd_nonblock(fd) < 0 || (dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0) {
		close(fd);
		return -errno;
	}
	wsd_source_init(&b->src, fd, WSD_BRIDGE_FIELD, bridge_src_cb);
	wsd_sink_init(&b->sink, dfd, bridge_sink_cb);
	return 0;
}

void
wsd_bridge_attach(struct wsd_bridge *b, int fd)
{
	int r;

	b->opened = 1;
	if ((r = bridge_set_peer(b, fd)) < 0) {
		wsd_bridge_fail(b, GRPC_STATUS_INTERNAL, strerror(-r));
		return;
	}
	log_debug("%s %s: connected", b->kind->name, bridge_id(b));
	wsd_call_recv(b->call);
	bridge_pump(b);
}

static void
bridge_accept_cb(struct wsd_watch *w, short revents)
{
	struct wsd_bridge *b = wsd_container_of(w, struct wsd_bridge, lwatch);
	int fd;

	(void)revents;
	if ((fd = accept4(b->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("%s %s: accept: %s", b->kind->name, bridge_id(b), strerror(errno));
		return;
	}
	/* One client at a time: the next waits in the backlog. */
	wsd_watch_set(b->loop, &b->lwatch, 0);
	if (bridge_set_peer(b, fd) < 0) {
		wsd_watch_set(b->loop, &b->lwatch, POLLIN);
		return;
	}
	log_debug("%s %s: client connected to %s", b->kind->name, bridge_id(b), b->path);
	bridge_pump(b);
}

void
wsd_bridge_listen(struct wsd_bridge *b, int lfd, char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0) {
		b->path_dev = st.st_dev;
		b->path_ino = st.st_ino;
	}
	b->opened = 1;
	b->listening = 1;
	b->lfd = lfd;
	b->path = path;
	wsd_watch_init(&b->lwatch, lfd, bridge_accept_cb);
	wsd_watch_set(b->loop, &b->lwatch, POLLIN);
	log_debug("%s %s: listening on %s", b->kind->name, bridge_id(b), path);
	wsd_call_recv(b->call);
}

/* After a sink write returned r: wait for POLLOUT, or take the next request. */
static void
bridge_wrote(struct wsd_bridge *b, int r)
{
	if (r == 1) {
		wsd_watch_set(b->loop, &b->sink.watch, POLLOUT);
		return;
	}
	if (r < 0) {
		log_debug("%s %s: write: %s", b->kind->name, bridge_id(b), strerror(-r));
		bridge_peer_gone(b);
		if (wsd_call_ended(b->call))
			return;
	}
	wsd_call_recv(b->call);
}

void
wsd_bridge_data(struct wsd_bridge *b, const uint8_t *data, size_t len)
{
	/* LISTEN with no client connected: the bytes have nobody to go to. */
	if (b->sink.fd < 0)
		wsd_call_recv(b->call);
	else
		bridge_wrote(b, wsd_sink_write(&b->sink, data, len));
}

/* The request's bytes in place (PortForwardRequest.data, UnixSocketRequest.data). */
static void
bridge_data(struct wsd_call *call, struct grpcc_data *d)
{
	struct wsd_bridge *b = wsd_call_impl(call);

	if (!b->opened) {
		grpcc_data_free(d);
		wsd_bridge_fail(b, GRPC_STATUS_INVALID_ARGUMENT, b->kind->first);
	} else if (b->sink.fd < 0) {
		grpcc_data_free(d);
		wsd_call_recv(b->call);
	} else
		bridge_wrote(b, wsd_sink_write_data(&b->sink, d));
}

static void
bridge_message(struct wsd_call *call, const uint8_t *data, size_t len)
{
	struct wsd_bridge *b = wsd_call_impl(call);

	b->kind->message(b, data, len);
}

static void
bridge_halfclose(struct wsd_call *call)
{
	struct wsd_bridge *b = wsd_call_impl(call);

	if (!b->opened) {
		wsd_bridge_fail(b, GRPC_STATUS_INVALID_ARGUMENT, "stream closed before the start");
		return;
	}
	/* The client's EOF ends the forward, once its last bytes reached the socket. */
	b->eof = 1;
	if (!wsd_sink_pending(&b->sink))
		bridge_end(b);
}

static void
bridge_sent(struct wsd_call *call)
{
	bridge_pump(wsd_call_impl(call));
}

static void
bridge_cancelled(struct wsd_call *call)
{
	struct wsd_bridge *b = wsd_call_impl(call);

	log_debug("%s %s: cancelled by the client", b->kind->name, bridge_id(b));
	bridge_release(b);
}

static void
bridge_destroy(struct wsd_call *call)
{
	struct wsd_bridge *b = wsd_call_impl(call);

	bridge_release(b);
	free(b->state);
	free(b);
}

static const struct wsd_call_ops bridge_ops = {
	.message = bridge_message,
	.data_fields = GRPCC_FIELD(WSD_BRIDGE_REQ_FIELD),
	.data = bridge_data,
	.halfclose = bridge_halfclose,
	.sent = bridge_sent,
	.cancelled = bridge_cancelled,
	.destroy = bridge_destroy,
};

void
wsd_bridge_start(struct wsd_call *call, const struct wsd_bridge_kind *kind)
{
	struct wsd_bridge *b;

	if ((b = calloc(1, sizeof(*b))) == NULL) {
		wsd_call_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	b->call = call;
	b->loop = wsd_call_loop(call);
	b->kind = kind;
	b->lfd = -1;
	wsd_source_init(&b->src, -1, WSD_BRIDGE_FIELD, bridge_src_cb);
	wsd_sink_init(&b->sink, -1, bridge_sink_cb);
	wsd_watch_init(&b->lwatch, -1, bridge_accept_cb);
	wsd_call_set_handler(call, &bridge_ops, b);
	wsd_call_recv(call);
}
