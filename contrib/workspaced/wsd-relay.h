/* The byte path of workspaced: a source fd read in chunks straight into framed
 * gRPC messages, and a sink fd that takes request bytes and keeps what would block. */
#ifndef WSD_RELAY_H
#define WSD_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include <grpc/grpc.h>

#include "contrib/workspaced/wsd-loop.h"

/* Each message costs a round of syscalls and wake-ups in both processes:
 * 128 KiB reads (not 32) cut the download CPU per byte by about a third, 256
 * KiB another ~15% of workspaced's (the proxy holds at most two per channel). */
#define WSD_CHUNK (256 * 1024)

struct wsd_source {
	int fd;			/* -1 once closed */
	int field;		/* protobuf field number of the bytes in the response */
	struct wsd_watch watch;
};

struct grpcc_data;

struct wsd_sink {
	int fd;			/* -1 once closed */
	uint8_t *buf;		/* bytes that would have blocked */
	size_t len, off;
	struct grpcc_data *data;	/* or a received message's, in place */
	struct wsd_watch watch;
};

void wsd_source_init(struct wsd_source *src, int fd, int field,
    void (*cb)(struct wsd_watch *, short));
/* One read of up to WSD_CHUNK bytes framed as a response message in *bbp.
 * Returns the byte count, 0 at EOF (EIO from a hung-up pty counts as EOF),
 * -EAGAIN when nothing is there, or another -errno. */
int wsd_source_read(struct wsd_source *src, grpc_byte_buffer **bbp);
void wsd_source_close(struct wsd_loop *loop, struct wsd_source *src);

void wsd_sink_init(struct wsd_sink *sink, int fd, void (*cb)(struct wsd_watch *, short));
/* Writes data (borrowed); returns 0 when all went out, 1 when the rest waits
 * for wsd_sink_flush() on POLLOUT, or -errno. Only call with nothing pending. */
int wsd_sink_write(struct wsd_sink *sink, const uint8_t *data, size_t len);
/* The same for the bytes of a received data message, written from gRPC's
 * slices with writev (no copy); takes d, also on error. */
int wsd_sink_write_data(struct wsd_sink *sink, struct grpcc_data *d);
int wsd_sink_flush(struct wsd_sink *sink);
int wsd_sink_pending(const struct wsd_sink *sink);
void wsd_sink_close(struct wsd_loop *loop, struct wsd_sink *sink);

/* Non-blocking, close-on-exec. */
int wsd_fd_nonblock(int fd);

#endif
