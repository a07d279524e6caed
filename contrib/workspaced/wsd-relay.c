/* workspaced's byte path: reads a source fd into a data message (grpcc_dbuf, the
 * header in front, no extra copy), and writes request bytes to a sink fd. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "proto/grpc-common.h"
#include "contrib/workspaced/wsd-relay.h"

/* A 128 KiB message arrives in a few dozen slices at most. */
#define SINK_IOV 64

int
wsd_fd_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

void
wsd_source_init(struct wsd_source *src, int fd, int field, void (*cb)(struct wsd_watch *, short))
{
	src->fd = fd;
	src->field = field;
	wsd_watch_init(&src->watch, fd, cb);
}

int
wsd_source_read(struct wsd_source *src, grpc_byte_buffer **bbp)
{
	struct grpcc_dbuf *b;
	ssize_t n;
	int err;

	*bbp = NULL;
	if (src->fd < 0)
		return 0;
	/* Read straight into the message, its header goes in front (no copy). */
	if (grpcc_dbuf_new(WSD_CHUNK, &b) != 0)
		return -ENOMEM;
	do
		n = read(src->fd, grpcc_dbuf_ptr(b), WSD_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		err = n == 0 ? 0 : errno;
		grpcc_dbuf_free(b);
		if (n == 0 || err == EIO)
			return 0;
		return err == EWOULDBLOCK ? -EAGAIN : -err;
	}
	grpcc_dbuf_set_len(b, (size_t)n);
	if ((*bbp = grpcc_dbuf_finish(b, (uint32_t)src->field)) == NULL)
		return -EINVAL;
	return (int)n;
}

void
wsd_source_close(struct wsd_loop *loop, struct wsd_source *src)
{
	wsd_watch_set(loop, &src->watch, 0);
	if (src->fd >= 0)
		close(src->fd);
	src->fd = -1;
	src->watch.fd = -1;
}

void
wsd_sink_init(struct wsd_sink *sink, int fd, void (*cb)(struct wsd_watch *, short))
{
	sink->fd = fd;
	sink->buf = NULL;
	sink->len = sink->off = 0;
	sink->data = NULL;
	wsd_watch_init(&sink->watch, fd, cb);
}

/* Writes until done or blocked; returns bytes written or -errno. */
static ssize_t
sink_write_some(int fd, const uint8_t *data, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = write(fd, data + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		off += (size_t)n;
	}
	return (ssize_t)off;
}

int
wsd_sink_write(struct wsd_sink *sink, const uint8_t *data, size_t len)
{
	ssize_t n;

	if (sink->fd < 0)
		return -EPIPE;
	if ((n = sink_write_some(sink->fd, data, len)) < 0)
		return (int)n;
	if ((size_t)n == len)
		return 0;
	if ((sink->buf = malloc(len - (size_t)n)) == NULL)
		return -ENOMEM;
	memcpy(sink->buf, data + n, len - (size_t)n);
	sink->len = len - (size_t)n;
	sink->off = 0;
	return 1;
}

/* The view's bytes, gRPC's slices straight to writev, until done or blocked:
 * 0 when all went out (d freed), 1 when some wait in sink->data, or -errno. */
static int
sink_writev_data(struct wsd_sink *sink, struct grpcc_data *d)
{
	struct iovec iov[SINK_IOV];
	size_t k;
	ssize_t n;

	while ((k = grpcc_data_iov(d, iov, sizeof(iov) / sizeof(iov[0]))) > 0) {
		if ((n = writev(sink->fd, iov, (int)k)) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EWOULDBLOCK) {
				sink->data = d;
				return 1;
			}
			grpcc_data_free(d);
			return -errno;
		}
		grpcc_data_consume(d, (size_t)n);
	}
	grpcc_data_free(d);
	return 0;
}

int
wsd_sink_write_data(struct wsd_sink *sink, struct grpcc_data *d)
{
	if (sink->fd < 0) {
		grpcc_data_free(d);
		return -EPIPE;
	}
	return sink_writev_data(sink, d);
}

int
wsd_sink_flush(struct wsd_sink *sink)
{
	struct grpcc_data *d = sink->data;
	ssize_t n;

	if (d != NULL) {
		sink->data = NULL;
		if (sink->fd < 0) {
			grpcc_data_free(d);
			return -EPIPE;
		}
		return sink_writev_data(sink, d);
	}
	if (sink->buf == NULL)
		return 0;
	if (sink->fd < 0)
		return -EPIPE;
	if ((n = sink_write_some(sink->fd, sink->buf + sink->off, sink->len - sink->off)) < 0)
		return (int)n;
	sink->off += (size_t)n;
	if (sink->off < sink->len)
		return 1;
	free(sink->buf);
	sink->buf = NULL;
	sink->len = sink->off = 0;
	return 0;
}

int
wsd_sink_pending(const struct wsd_sink *sink)
{
	return sink->buf != NULL || sink->data != NULL;
}

void
wsd_sink_close(struct wsd_loop *loop, struct wsd_sink *sink)
{
	wsd_watch_set(loop, &sink->watch, 0);
	if (sink->fd >= 0)
		close(sink->fd);
	sink->fd = -1;
	sink->watch.fd = -1;
	free(sink->buf);
	sink->buf = NULL;
	sink->len = sink->off = 0;
	grpcc_data_free(sink->data);
	sink->data = NULL;
}
