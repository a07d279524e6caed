/* Shared by the child's gRPC client and workspaced's server: error strings, the
 * protobuf-c <-> byte buffer codec, data messages in place, the completion pump. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>

#include "proto/grpc-common.h"
#include "proto/grpc-poll.h"

const char *
grpcc_strerror(int err)
{
	switch (err) {
	case GRPCC_OK:
		return "success";
	case GRPCC_ERR_NOMEM:
		return "out of memory";
	case GRPCC_ERR_SYS:
		return "system call failed";
	case GRPCC_ERR_BUSY:
		return "an operation of this kind is already in flight";
	case GRPCC_ERR_STATE:
		return "not allowed in the call's current state";
	case GRPCC_ERR_ARG:
		return "invalid argument";
	case GRPCC_ERR_GRPC:
		return "gRPC refused the operation";
	case GRPCC_ERR_CAFILE:
		return "cannot read a TLS certificate file";
	}
	return "unknown error";
}

grpc_byte_buffer *
grpcc_pack(const ProtobufCMessage *msg)
{
	grpc_byte_buffer *bb;
	grpc_slice slice;
	uint8_t *buf;
	size_t len;

	len = protobuf_c_message_get_packed_size(msg);
	if (len == 0) {
		slice = grpc_empty_slice();
	} else {
		if ((buf = malloc(len)) == NULL)
			return NULL;
		protobuf_c_message_pack(msg, buf);
		/* gRPC owns buf from here and calls free() when done with it. */
		slice = grpc_slice_new(buf, len, free);
	}
	bb = grpc_raw_byte_buffer_create(&slice, 1);
	grpc_slice_unref(slice);
	return bb;
}

ProtobufCMessage *
grpcc_unpack(const ProtobufCMessageDescriptor *desc, grpc_byte_buffer *bb)
{
	grpc_byte_buffer_reader rd;
	ProtobufCMessage *msg;
	grpc_slice all;

	if (bb->type == GRPC_BB_RAW &&
	    bb->data.raw.compression == GRPC_COMPRESS_NONE &&
	    bb->data.raw.slice_buffer.count == 1) {
		all = bb->data.raw.slice_buffer.slices[0];
		return protobuf_c_message_unpack(desc, NULL,
		    GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));
	}
	if (!grpc_byte_buffer_reader_init(&rd, bb))
		return NULL;
	all = grpc_byte_buffer_reader_readall(&rd);
	msg = protobuf_c_message_unpack(desc, NULL, GRPC_SLICE_LENGTH(all),
	    GRPC_SLICE_START_PTR(all));
	grpc_slice_unref(all);
	grpc_byte_buffer_reader_destroy(&rd);
	return msg;
}

/* --- data messages in place ------------------------------------------------- */

/* Room for a tag (2 bytes for fields up to 31) and a 32-bit varint length (5);
 * 16 keeps the payload 16-byte aligned inside gRPC's allocation. */
/* Completions run per take in inline mode, so the SSH side gets its turn. */
#define GRPCC_PUMP_BATCH 32
#define DBUF_ROOM	16
#define WIRE_LEN	2	/* protobuf wire type: length-delimited */

struct grpcc_data {
	grpc_byte_buffer *bb;		/* the received message, or NULL */
	ProtobufCMessage *msg;		/* or an unpacked message holding flat */
	const uint8_t *flat;
	uint32_t field;
	size_t left;			/* bytes not yet consumed */
	size_t slice, off;		/* bb: the next byte is slices[slice] + off */
};

struct grpcc_dbuf {
	grpc_slice s;			/* DBUF_ROOM + cap bytes */
	size_t cap, len;
};

/* A cursor over a slice buffer, for the few header bytes. */
struct sb_cursor {
	const grpc_slice_buffer *sb;
	size_t slice, off, pos;
};

static int
cursor_byte(struct sb_cursor *c, uint8_t *b)
{
	while (c->slice < c->sb->count) {
		const grpc_slice *s = &c->sb->slices[c->slice];

		if (c->off < GRPC_SLICE_LENGTH(*s)) {
			*b = GRPC_SLICE_START_PTR(*s)[c->off++];
			c->pos++;
			return 0;
		}
		c->slice++;
		c->off = 0;
	}
	return -1;
}

/* A varint of at most 5 bytes (32 bits); -1 when cut short or longer. */
static int
cursor_varint32(struct sb_cursor *c, uint64_t *v)
{
	uint8_t b;
	int i;

	*v = 0;
	for (i = 0; i < 5; i++) {
		if (cursor_byte(c, &b) != 0)
			return -1;
		*v |= (uint64_t)(b & 0x7f) << (7 * i);
		if ((b & 0x80) == 0)
			return 0;
	}
	return -1;
}

/* Skip empty slices so a view always points at a byte when any are left. */
static void
data_settle(struct grpcc_data *d)
{
	const grpc_slice_buffer *sb = &d->bb->data.raw.slice_buffer;

	while (d->left > 0 && d->slice < sb->count &&
	    d->off == GRPC_SLICE_LENGTH(sb->slices[d->slice])) {
		d->slice++;
		d->off = 0;
	}
}

int
grpcc_data_take(grpc_byte_buffer *bb, uint32_t fields, struct grpcc_data **dp)
{
	struct sb_cursor c;
	struct grpcc_data *d;
	uint64_t tag, len, field;

	*dp = NULL;
	if (bb->type != GRPC_BB_RAW ||
	    bb->data.raw.compression != GRPC_COMPRESS_NONE)
		return 0;
	memset(&c, 0, sizeof(c));
	c.sb = &bb->data.raw.slice_buffer;
	/* Anything but "tag, length, exactly the rest" is protobuf-c's to judge. */
	if (cursor_varint32(&c, &tag) != 0 || (tag & 7) != WIRE_LEN)
		return 0;
	field = tag >> 3;
	if (field < 1 || field > 31 || (fields & GRPCC_FIELD(field)) == 0)
		return 0;
	if (cursor_varint32(&c, &len) != 0 || len != c.sb->length - c.pos)
		return 0;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return GRPCC_ERR_NOMEM;
	d->bb = bb;
	d->field = (uint32_t)field;
	d->left = (size_t)len;
	d->slice = c.slice;
	d->off = c.off;
	data_settle(d);
	*dp = d;
	return 0;
}

int
grpcc_data_wrap(ProtobufCMessage *msg, uint32_t field, const uint8_t *p, size_t len,
    struct grpcc_data **dp)
{
	struct grpcc_data *d;

	*dp = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return GRPCC_ERR_NOMEM;
	d->msg = msg;
	d->flat = p;
	d->field = field;
	d->left = len;
	*dp = d;
	return 0;
}

uint32_t
grpcc_data_field(const struct grpcc_data *d)
{
	return d->field;
}

size_t
grpcc_data_len(const struct grpcc_data *d)
{
	return d->left;
}

const uint8_t *
grpcc_data_peek(const struct grpcc_data *d, size_t *lenp)
{
	const grpc_slice *s;
	size_t n;

	if (d->left == 0) {
		*lenp = 0;
		return NULL;
	}
	if (d->bb == NULL) {
		*lenp = d->left;
		return d->flat + d->off;
	}
	s = &d->bb->data.raw.slice_buffer.slices[d->slice];
	n = GRPC_SLICE_LENGTH(*s) - d->off;
	*lenp = n < d->left ? n : d->left;
	return GRPC_SLICE_START_PTR(*s) + d->off;
}

const uint8_t *
grpcc_data_gather(const struct grpcc_data *d, uint8_t *scratch, size_t max, size_t *lenp)
{
	const grpc_slice_buffer *sb;
	const uint8_t *p;
	size_t want, n, got, i, off;

	want = d->left < max ? d->left : max;
	p = grpcc_data_peek(d, &n);
	if (n >= want) {
		*lenp = want;
		return p;
	}
	sb = &d->bb->data.raw.slice_buffer;
	for (got = 0, i = d->slice, off = d->off; got < want; i++, off = 0) {
		n = GRPC_SLICE_LENGTH(sb->slices[i]) - off;
		if (n > want - got)
			n = want - got;
		memcpy(scratch + got, GRPC_SLICE_START_PTR(sb->slices[i]) + off, n);
		got += n;
	}
	*lenp = want;
	return scratch;
}

size_t
grpcc_data_iov(const struct grpcc_data *d, struct iovec *iov, size_t max)
{
	const grpc_slice_buffer *sb;
	size_t i, n, left = d->left, off = d->off, k = 0;

	if (left == 0 || max == 0)
		return 0;
	if (d->bb == NULL) {
		iov[0].iov_base = (void *)(d->flat + d->off);
		iov[0].iov_len = left;
		return 1;
	}
	sb = &d->bb->data.raw.slice_buffer;
	for (i = d->slice; i < sb->count && left > 0 && k < max; i++, off = 0) {
		n = GRPC_SLICE_LENGTH(sb->slices[i]) - off;
		if (n == 0)
			continue;
		if (n > left)
			n = left;
		iov[k].iov_base = GRPC_SLICE_START_PTR(sb->slices[i]) + off;
		iov[k].iov_len = n;
		left -= n;
		k++;
	}
	return k;
}

void
grpcc_data_consume(struct grpcc_data *d, size_t n)
{
	const grpc_slice_buffer *sb;
	size_t avail;

	if (n > d->left)
		abort();	/* the caller wrote more than it was given */
	d->left -= n;
	if (d->bb == NULL) {
		d->off += n;
		return;
	}
	sb = &d->bb->data.raw.slice_buffer;
	while (n > 0) {
		avail = GRPC_SLICE_LENGTH(sb->slices[d->slice]) - d->off;
		if (n < avail) {
			d->off += n;
			break;
		}
		n -= avail;
		d->slice++;
		d->off = 0;
	}
	data_settle(d);
}

void
grpcc_data_free(struct grpcc_data *d)
{
	if (d == NULL)
		return;
	if (d->bb != NULL)
		grpc_byte_buffer_destroy(d->bb);
	grpcc_msg_free(d->msg);
	free(d);
}

int
grpcc_dbuf_new(size_t cap, struct grpcc_dbuf **bp)
{
	struct grpcc_dbuf *b;

	*bp = NULL;
	if (cap > UINT32_MAX)
		return GRPCC_ERR_ARG;
	if ((b = malloc(sizeof(*b))) == NULL)
		return GRPCC_ERR_NOMEM;
	/* One allocation (gRPC's refcount in front of the bytes). */
	b->s = grpc_slice_malloc(DBUF_ROOM + cap);
	b->cap = cap;
	b->len = 0;
	*bp = b;
	return 0;
}

uint8_t *
grpcc_dbuf_ptr(struct grpcc_dbuf *b)
{
	return GRPC_SLICE_START_PTR(b->s) + DBUF_ROOM;
}

size_t
grpcc_dbuf_cap(const struct grpcc_dbuf *b)
{
	return b->cap;
}

size_t
grpcc_dbuf_len(const struct grpcc_dbuf *b)
{
	return b->len;
}

void
grpcc_dbuf_set_len(struct grpcc_dbuf *b, size_t len)
{
	if (len > b->cap)
		abort();	/* written past the payload room */
	b->len = len;
}

grpc_byte_buffer *
grpcc_dbuf_finish(struct grpcc_dbuf *b, uint32_t field)
{
	grpc_byte_buffer *bb = NULL;
	uint8_t hdr[DBUF_ROOM];
	grpc_slice sub;
	uint64_t v;
	size_t h = 0;
	int i;

	if (field >= 1 && field <= 31) {
		for (i = 0; i < 2; i++) {
			v = i == 0 ? ((uint64_t)field << 3 | WIRE_LEN) : b->len;
			for (; v >= 0x80; v >>= 7)
				hdr[h++] = (uint8_t)(v | 0x80);
			hdr[h++] = (uint8_t)v;
		}
		memcpy(GRPC_SLICE_START_PTR(b->s) + DBUF_ROOM - h, hdr, h);
		sub = grpc_slice_sub(b->s, DBUF_ROOM - h, DBUF_ROOM + b->len);
		bb = grpc_raw_byte_buffer_create(&sub, 1);
		grpc_slice_unref(sub);
	}
	grpcc_dbuf_free(b);
	return bb;
}

void
grpcc_dbuf_free(struct grpcc_dbuf *b)
{
	if (b == NULL)
		return;
	grpc_slice_unref(b->s);
	free(b);
}

char *
grpcc_file_read(const char *path, size_t max, size_t *lenp, int *errp)
{
	struct stat sb;
	size_t len = 0;
	ssize_t r;
	char *buf;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		*errp = errno;
		return NULL;
	}
	if (fstat(fd, &sb) != 0) {
		*errp = errno;
		close(fd);
		return NULL;
	}
	if (!S_ISREG(sb.st_mode) || (size_t)sb.st_size > max) {
		*errp = S_ISREG(sb.st_mode) ? EFBIG : EINVAL;
		close(fd);
		return NULL;
	}
	if ((buf = malloc(max + 1)) == NULL) {
		*errp = ENOMEM;
		close(fd);
		return NULL;
	}
	while (len < max) {
		r = read(fd, buf + len, max - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*errp = errno;
			close(fd);
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

#define PEM_MAX		(1024 * 1024)

grpc_server_credentials *
grpcc_server_creds(const char *cert_file, const char *key_file, int *errp)
{
	grpc_ssl_pem_key_cert_pair pair;
	grpc_server_credentials *creds;
	char *cert, *key;
	size_t len;

	if (cert_file == NULL || cert_file[0] == '\0') {
		if (key_file != NULL && key_file[0] != '\0') {
			*errp = EINVAL;
			return NULL;
		}
		return grpc_insecure_server_credentials_create();
	}
	if (key_file == NULL || key_file[0] == '\0') {
		*errp = EINVAL;
		return NULL;
	}
	if ((cert = grpcc_file_read(cert_file, PEM_MAX, &len, errp)) == NULL)
		return NULL;
	if ((key = grpcc_file_read(key_file, PEM_MAX, &len, errp)) == NULL) {
		free(cert);
		return NULL;
	}
	pair.private_key = key;
	pair.cert_chain = cert;
	creds = grpc_ssl_server_credentials_create_ex(NULL, &pair, 1,
	    GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE, NULL);
	explicit_bzero(key, len);
	free(key);
	free(cert);
	if (creds == NULL)
		*errp = EINVAL;
	return creds;
}

void
grpcc_msg_free(ProtobufCMessage *msg)
{
	if (msg != NULL)
		protobuf_c_message_free_unpacked(msg, NULL);
}

struct grpcc_pump {
	grpc_completion_queue *cq;
	int efd;
	pthread_t thread;
	int thread_running;
	pthread_mutex_t mu;
	struct grpcc_ev *q;	/* guarded by mu */
	size_t qlen, qcap;
	/* Inline mode (proto/grpc-poll.h): no thread; gRPC's I/O runs in take().
	 * epfd holds efd and gRPC's epoll set, so the loop watches one fd. */
	int inline_io;
	int epfd;
	int kicked;		/* a start or cancel since the last take */
	int efd_set;		/* efd written since the last take */
	int shut;		/* inline: the queue is shut down and drained */
};

/* Called with mu held. Losing a completion would leak its call forever, so
 * running out of memory here is fatal. */
static void
pump_push_locked(struct grpcc_pump *pump, void *tag, int ok, int wake)
{
	struct grpcc_ev *nq;
	uint64_t one = 1;
	size_t ncap;
	ssize_t r;

	if (pump->qlen == pump->qcap) {
		ncap = pump->qcap ? pump->qcap * 2 : 64;
		if ((nq = realloc(pump->q, ncap * sizeof(*nq))) == NULL)
			abort();
		pump->q = nq;
		pump->qcap = ncap;
	}
	pump->q[pump->qlen].tag = tag;
	pump->q[pump->qlen].ok = ok;
	/* Only the first entry needs a wake-up: the reader takes them all. */
	if (pump->qlen++ == 0 && wake) {
		pump->efd_set = 1;
		do {
			r = write(pump->efd, &one, sizeof(one));
		} while (r < 0 && errno == EINTR);
	}
}

static void *
pump_thread(void *arg)
{
	struct grpcc_pump *pump = arg;
	grpc_event ev;

	for (;;) {
		ev = grpc_completion_queue_next(pump->cq,
		    gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
		if (ev.type == GRPC_QUEUE_SHUTDOWN)
			break;
		if (ev.type != GRPC_OP_COMPLETE)
			continue;
		pthread_mutex_lock(&pump->mu);
		pump_push_locked(pump, ev.tag, ev.success, 1);
		pthread_mutex_unlock(&pump->mu);
	}
	return NULL;
}

static int pump_new(struct grpcc_pump **pumpp, int try_inline);

/* One epoll set over our eventfd and gRPC's set: an epoll fd is readable
 * while its ready list is not empty, so the loop's poll(2) sees both. */
static int
pump_inline(struct grpcc_pump *pump, int gepfd)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if ((pump->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return -1;
	if (epoll_ctl(pump->epfd, EPOLL_CTL_ADD, pump->efd, &ev) < 0 ||
	    epoll_ctl(pump->epfd, EPOLL_CTL_ADD, gepfd, &ev) < 0) {
		close(pump->epfd);
		pump->epfd = -1;
		return -1;
	}
	pump->inline_io = 1;
	return 0;
}

int
grpcc_pump_new(struct grpcc_pump **pumpp)
{
	return pump_new(pumpp, 0);
}

int
grpcc_pump_new_inline(struct grpcc_pump **pumpp)
{
	return pump_new(pumpp, 1);
}

static int
pump_new(struct grpcc_pump **pumpp, int try_inline)
{
	struct grpcc_pump *pump;
	sigset_t all, old;
	int r, saved, gepfd;

	*pumpp = NULL;
	if ((pump = calloc(1, sizeof(*pump))) == NULL)
		return GRPCC_ERR_NOMEM;
	if ((pump->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		saved = errno;
		free(pump);
		errno = saved;
		return GRPCC_ERR_SYS;
	}
	pthread_mutex_init(&pump->mu, NULL);
	/* gRPC's threads and ours must not take the loop thread's signals. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (try_inline)
		gepfd = grpcp_init();
	else {
		grpc_init();
		gepfd = -1;
	}
	pump->cq = grpc_completion_queue_create_for_next(NULL);
	pump->epfd = -1;
	if (gepfd >= 0 && pump_inline(pump, gepfd) == 0)
		r = 0;
	else
		r = pthread_create(&pump->thread, NULL, pump_thread, pump);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		grpc_completion_queue_shutdown(pump->cq);
		grpc_completion_queue_destroy(pump->cq);
		grpc_shutdown();
		pthread_mutex_destroy(&pump->mu);
		close(pump->efd);
		free(pump);
		errno = r;
		return GRPCC_ERR_SYS;
	}
	pump->thread_running = !pump->inline_io;
	*pumpp = pump;
	return 0;
}

grpc_completion_queue *
grpcc_pump_cq(const struct grpcc_pump *pump)
{
	return pump->cq;
}

int
grpcc_pump_fd(const struct grpcc_pump *pump)
{
	return pump->inline_io ? pump->epfd : pump->efd;
}

int
grpcc_pump_inline(const struct grpcc_pump *pump)
{
	return pump->inline_io;
}

void
grpcc_pump_kick(struct grpcc_pump *pump)
{
	/* What a batch completed while nobody polled wakes nobody: the loop
	 * sees the flag (grpcc_pump_kicked) and takes before it sleeps. A flag,
	 * not an eventfd write: a start per message would cost two syscalls. */
	if (pump->inline_io)
		pump->kicked = 1;
}

int
grpcc_pump_kicked(const struct grpcc_pump *pump)
{
	return pump->kicked;
}

void
grpcc_pump_post(struct grpcc_pump *pump, void *tag, int ok)
{
	pthread_mutex_lock(&pump->mu);
	pump_push_locked(pump, tag, ok, 1);
	pthread_mutex_unlock(&pump->mu);
}

/* Inline: taken by the take() that drained it, so nobody needs waking. */
static void
pump_drained(void *tag, int ok, void *arg)
{
	struct grpcc_pump *pump = arg;

	pthread_mutex_lock(&pump->mu);
	pump_push_locked(pump, tag, ok, 0);
	pthread_mutex_unlock(&pump->mu);
}

int
grpcc_pump_take(struct grpcc_pump *pump, struct grpcc_ev **evs, size_t *n)
{
	uint64_t cnt;
	ssize_t r;

	/* Clear the eventfd before taking: an entry pushed after the take
	 * writes it again, one pushed before is in what we take. Inline, only
	 * this thread writes it: skip the read when it did not. */
	if (!pump->inline_io || pump->efd_set) {
		pump->efd_set = 0;
		do {
			r = read(pump->efd, &cnt, sizeof(cnt));
		} while (r < 0 && errno == EINTR);
		if (r < 0 && errno != EAGAIN)
			return GRPCC_ERR_SYS;
	}
	pump->kicked = 0;
	/* Inline: gRPC does the ready I/O here and queues what completes. A
	 * full batch may leave completions in the queue, which no fd shows:
	 * the loop comes back at once (the kick flag). */
	if (pump->inline_io && pump->cq != NULL &&
	    grpcp_drain(pump->cq, GRPCC_PUMP_BATCH, pump_drained, pump) >= GRPCC_PUMP_BATCH)
		pump->kicked = 1;
	pthread_mutex_lock(&pump->mu);
	*evs = pump->q;
	*n = pump->qlen;
	pump->q = NULL;
	pump->qlen = pump->qcap = 0;
	pthread_mutex_unlock(&pump->mu);
	return 0;
}

int
grpcc_pump_wait(struct grpcc_pump *pump, int timeout_ms)
{
	struct pollfd pfd = { .fd = grpcc_pump_fd(pump), .events = POLLIN };
	int r;

	/* Inline: completions from gRPC's timers wake nobody; come back soon. */
	if (pump->inline_io && (timeout_ms < 0 || timeout_ms > GRPCP_TICK_MS))
		timeout_ms = GRPCP_TICK_MS;
	do {
		r = poll(&pfd, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? GRPCC_ERR_SYS : 0;
}

void
grpcc_pump_shutdown(struct grpcc_pump *pump)
{
	grpc_event ev;

	if (pump->inline_io && pump->cq != NULL && !pump->shut) {
		/* This thread polls until every pending completion is queued. */
		pump->shut = 1;
		grpc_completion_queue_shutdown(pump->cq);
		do {
			ev = grpc_completion_queue_next(pump->cq,
			    gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
			if (ev.type == GRPC_OP_COMPLETE)
				pump_drained(ev.tag, ev.success, pump);
		} while (ev.type != GRPC_QUEUE_SHUTDOWN);
		return;
	}
	if (!pump->thread_running)
		return;
	/* Completions still pending are delivered before GRPC_QUEUE_SHUTDOWN. */
	grpc_completion_queue_shutdown(pump->cq);
	pthread_join(pump->thread, NULL);
	pump->thread_running = 0;
}

void
grpcc_pump_free(struct grpcc_pump *pump)
{
	if (pump == NULL)
		return;
	grpcc_pump_shutdown(pump);
	grpc_completion_queue_destroy(pump->cq);
	pthread_mutex_destroy(&pump->mu);
	free(pump->q);
	close(pump->efd);
	if (pump->epfd >= 0)
		close(pump->epfd);
	free(pump);
	grpc_shutdown();
}
