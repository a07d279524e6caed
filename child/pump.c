/* The byte path of a forwarding channel: SSH channel <-> k8shelld PortForward or
 * UnixSocket stream, one gRPC send and one receive in flight, the SSH window respected. */
#include "autoconf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/status.h>
#include <libssh/ssh2.h>

#include "child/pump.h"
#include "child/workspace.h"
#include "daemon/log.h"
#include "proto/k8shelld.pb-c.h"

struct pump {
	struct channel *ch;
	const struct pump_proto *proto;
	char *target;			/* first message: host or socket path */
	uint32_t num;			/* first message: port or UnixSocket mode */
	void *data;			/* the kind's (pump_set_data) */

	struct workspace_waiter *waiter;
	struct gcall *call;
	bool ssh_open;			/* the SSH channel may be written */
	bool started;			/* stream created, first message sent */
	bool sending;			/* a gcall_send in flight */
	bool recv_armed, recv_done;
	bool half_closed;		/* gcall_close_send after the client's EOF */
	bool ended;			/* the stream is over (or never started) */
	bool closed;			/* we sent CLOSE on the SSH channel */
	bool ssh_eof;			/* the client sent EOF */

	/* SSH -> workspace: what libssh holds for us, and what we took from it. */
	size_t ssh_pending;
	struct pump_held held;

	/* workspace -> SSH: the message being written and at most one more that
	 * arrived meanwhile (taken from gRPC); the next receive waits for room. */
	struct grpcc_data *down, *next;
	uint8_t *scratch;		/* PUMP_CHUNK bytes gathered for one write */

	unsigned long long bytes_in, bytes_out;
};

static struct pump *
pump_of(struct channel *ch)
{
	return ch->state;
}

/* --- k8shelld messages ------------------------------------------------------ */

static int
portforward_start(struct gcall *call, const char *host, uint32_t port)
{
	K8shelld__PortForwardRequest req = K8SHELLD__PORT_FORWARD_REQUEST__INIT;
	K8shelld__Destination dest = K8SHELLD__DESTINATION__INIT;

	dest.ip = (char *)host;
	dest.port = port;
	req.request_case = K8SHELLD__PORT_FORWARD_REQUEST__REQUEST_DESTINATION;
	req.destination = &dest;
	return gcall_send(call, &req.base);
}

static void
portforward_recv(const ProtobufCMessage *msg, const uint8_t **data, size_t *len)
{
	const K8shelld__PortForwardResponse *r = (const K8shelld__PortForwardResponse *)msg;

	*data = r->data.data;
	*len = r->data.len;
}

const struct pump_proto pump_portforward = {
	.method = "/k8shelld.SshService/PortForward",
	.resp = &k8shelld__port_forward_response__descriptor,
	.id_key = "portforward-id",
	.send_start = portforward_start,
	.up_field = 2,		/* PortForwardRequest.data */
	.down_field = 1,	/* PortForwardResponse.data */
	.recv_data = portforward_recv,
};

static int
unixsocket_start(struct gcall *call, const char *path, uint32_t mode)
{
	K8shelld__UnixSocketRequest req = K8SHELLD__UNIX_SOCKET_REQUEST__INIT;
	K8shelld__UnixSocketStartRequest start = K8SHELLD__UNIX_SOCKET_START_REQUEST__INIT;

	start.mode = (K8shelld__UnixSocketMode)mode;
	start.socketpath = (char *)path;
	req.request_case = K8SHELLD__UNIX_SOCKET_REQUEST__REQUEST_START_REQUEST;
	req.start_request = &start;
	return gcall_send(call, &req.base);
}

static void
unixsocket_recv(const ProtobufCMessage *msg, const uint8_t **data, size_t *len)
{
	const K8shelld__UnixSocketResponse *r = (const K8shelld__UnixSocketResponse *)msg;

	*data = r->data.data;
	*len = r->data.len;
}

const struct pump_proto pump_unixsocket = {
	.method = "/k8shelld.SshService/UnixSocket",
	.resp = &k8shelld__unix_socket_response__descriptor,
	.id_key = "unixsocket-id",
	.send_start = unixsocket_start,
	.up_field = 2,		/* UnixSocketRequest.data */
	.down_field = 1,	/* UnixSocketResponse.data */
	.recv_data = unixsocket_recv,
};

/* --- gRPC side ---------------------------------------------------------------- */

/* One receive in flight, and only while there is room for its message. */
static void
pump_recv_arm(struct pump *p)
{
	if (!p->started || p->ended || p->recv_armed || p->recv_done || p->next != NULL)
		return;
	if (gcall_recv_start(p->call) == 0)
		p->recv_armed = true;
	else
		p->recv_done = true;	/* the server's side ended: status follows */
}

/* A received message's bytes (taken) queue for the client. */
static void
pump_down_add(struct channel *ch, struct grpcc_data *d)
{
	struct pump *p = pump_of(ch);
	size_t len = grpcc_data_len(d);

	p->recv_armed = false;
	if (len == 0) {
		grpcc_data_free(d);
	} else {
		p->bytes_out += len;
		workspace_count(ch->c, 0, len);
		if (p->down == NULL)
			p->down = d;
		else
			p->next = d;
	}
	/* The next one is fetched while this one is written. The write happens
	 * in the run hook: an SSH write may poll and re-enter callbacks. */
	pump_recv_arm(p);
	channel_wake(ch);
}

static void
pump_on_data(struct gcall *call, uint32_t field, struct grpcc_data *d, void *arg)
{
	(void)call;
	(void)field;
	pump_down_add(arg, d);
}

/* Not a bare data message (say, with fields we do not know): its bytes. */
static void
pump_on_message(struct gcall *call, ProtobufCMessage *msg, void *arg)
{
	struct channel *ch = arg;
	struct pump *p = pump_of(ch);
	struct grpcc_data *d;
	const uint8_t *data;
	size_t len;

	p->proto->recv_data(msg, &data, &len);
	if (grpcc_data_wrap(msg, p->proto->down_field, data, len, &d) != 0) {
		log_error("%s: out of memory", ch->id);
		grpcc_msg_free(msg);
		p->recv_armed = false;
		gcall_cancel(call);
		return;
	}
	pump_down_add(ch, d);
}

static void
pump_on_send_done(struct gcall *call, int ok, void *arg)
{
	struct channel *ch = arg;

	(void)call;
	(void)ok;	/* !ok: the stream broke, on_status follows */
	pump_of(ch)->sending = false;
	channel_wake(ch);
}

static void
pump_on_status(struct gcall *call, const struct gcall_status *st, void *arg)
{
	struct channel *ch = arg;
	struct pump *p = pump_of(ch);

	(void)call;
	p->ended = true;
	p->recv_armed = false;
	if (st->code == GRPC_STATUS_OK)
		log_debug("%s: the workspace ended the stream", ch->id);
	else if (st->code == GRPC_STATUS_CANCELLED && !st->local)
		log_debug("%s: stream cancelled", ch->id);
	else
		log_info("%s: workspace stream error: %s (code %d)", ch->id, st->details, st->code);
	channel_wake(ch);
}

static const struct gcall_stream_cbs pump_cbs = {
	.on_message = pump_on_message,
	.on_data = pump_on_data,
	.on_send_done = pump_on_send_done,
	.on_status = pump_on_status,
};

static void
pump_ready(struct child *c, struct gcall_chan *chan, const char *error, void *arg)
{
	struct channel *ch = arg;
	struct pump *p = pump_of(ch);
	struct gcall_md md = { .key = p->proto->id_key, .value = ch->id };
	struct gcall_stream_cbs cbs;
	int r;

	(void)c;
	p->waiter = NULL;
	channel_wake(ch);
	if (error != NULL) {
		log_info("%s: %s", ch->id, error);
		p->ended = true;
		return;
	}
	cbs = pump_cbs;
	cbs.data_fields = GRPCC_FIELD(p->proto->down_field);
	if ((r = gcall_stream(chan, p->proto->method, p->proto->resp, &md, 1, 0,
	    &cbs, ch, &p->call)) != 0) {
		log_error("%s: cannot start %s: %s", ch->id, p->proto->method, grpcc_strerror(r));
		p->ended = true;
		return;
	}
	/* A failure here shows as the stream's status. */
	if ((r = p->proto->send_start(p->call, p->target, p->num)) != 0) {
		log_error("%s: cannot send the first message: %s", ch->id, grpcc_strerror(r));
		gcall_cancel(p->call);
		return;
	}
	p->started = true;
	p->sending = true;
}

/* One data message (taken); on failure the stream is cancelled (its status
 * follows). */
static int
pump_send(struct channel *ch, struct grpcc_dbuf *b)
{
	struct pump *p = pump_of(ch);
	size_t len = grpcc_dbuf_len(b);
	int r;

	if ((r = gcall_send_data(p->call, p->proto->up_field, b)) != 0) {
		log_info("%s: cannot send to the workspace: %s", ch->id, grpcc_strerror(r));
		gcall_cancel(p->call);
		return -1;
	}
	p->sending = true;
	p->bytes_in += len;
	workspace_count(ch->c, len, 0);
	return 0;
}

/* --- SSH side ----------------------------------------------------------------- */

static bool
pump_can_send(const struct pump *p)
{
	return p->started && !p->sending && !p->ended && !p->half_closed;
}

/* libssh hands over everything it holds each time; what we leave stays there
 * (and is counted in ssh_pending) until the run hook takes it. */
static int
pump_ssh_data(ssh_session s, ssh_channel channel, void *data, uint32_t len, int is_stderr,
    void *userdata)
{
	struct channel *ch = userdata;
	struct pump *p = pump_of(ch);
	size_t n;

	(void)s;
	(void)channel;
	/* Extended data has no place in a byte stream; the stream's end drops the rest. */
	if (is_stderr || p->ended) {
		if (!is_stderr)
			p->ssh_pending = 0;
		return (int)len;
	}
	if (!p->started || p->half_closed) {
		p->ssh_pending = len;	/* not yet, or no more: libssh keeps them */
		return 0;
	}
	/* Into the message being filled; the run hook sends it at the end of
	 * this loop turn (or when the send in flight completes), so packets
	 * that arrive together go out as one message. The rest stays in libssh. */
	n = pump_held_fill(&p->held, data, len, PUMP_CHUNK);
	p->ssh_pending = len - n;
	if (n > 0)
		channel_wake(ch);
	return (int)n;
}

static void
pump_ssh_eof(ssh_session s, ssh_channel channel, void *userdata)
{
	struct channel *ch = userdata;

	(void)s;
	(void)channel;
	log_debug("%s: client EOF", ch->id);
	pump_of(ch)->ssh_eof = true;
	channel_wake(ch);
}

/* Workspace -> SSH, within the client's window. Returns -1 when the channel broke. */
static int
pump_down(struct channel *ch)
{
	struct pump *p = pump_of(ch);

	while (p->down != NULL) {
		while (grpcc_data_len(p->down) > 0) {
			uint32_t win = ssh_channel_window_size(ch->ssh);
			size_t n;
			const uint8_t *d;
			int w;

			if (win == 0)
				return 0;	/* the window adjust wakes the loop */
			if (child_output_full(ch->c))
				return 0;	/* POLLOUT drains it and wakes the loop */
			/* libssh flushes on every write: one call per PUMP_CHUNK,
			 * gathered from gRPC's slices when they split it. */
			if (p->scratch == NULL && (p->scratch = malloc(PUMP_CHUNK)) == NULL) {
				log_error("%s: out of memory", ch->id);
				return -1;
			}
			d = grpcc_data_gather(p->down, p->scratch, win < PUMP_CHUNK ? win :
			    PUMP_CHUNK, &n);
			if ((w = ssh_channel_write(ch->ssh, d, (uint32_t)n)) < 0) {
				log_info("%s: write to the client: %s", ch->id,
				    ssh_get_error(ch->c->session));
				return -1;
			}
			if (p->down == NULL)
				return 0;	/* stopped while the write polled */
			grpcc_data_consume(p->down, (size_t)w);
			if ((size_t)w < n || ch->remote_closed)
				return 0;
		}
		grpcc_data_free(p->down);
		p->down = p->next;
		p->next = NULL;
	}
	pump_recv_arm(p);
	return 0;
}

/* SSH -> workspace: the bytes libssh kept while a send was in flight, then EOF. */
static int
pump_up(struct channel *ch)
{
	struct pump *p = pump_of(ch);
	struct grpcc_dbuf *b;
	size_t n;

	if (!pump_can_send(p))
		return 0;
	if (!pump_held_busy(&p->held) && p->ssh_pending > 0) {
		/* All of it (struct pump_held says why). */
		if (pump_held_read(&p->held, ch, p->ssh_pending, PUMP_CHUNK, &n) != 0)
			return -1;
		p->ssh_pending = n < p->ssh_pending ? p->ssh_pending - n : 0;
		if (n == 0)
			p->ssh_pending = 0;	/* never spin on a count libssh disowns */
		if (!pump_can_send(p))
			return 0;
	}
	if (pump_held_wait(&p->held, ssh_get_fd(ch->c->session)))
		return 0;	/* the socket is readable: the loop comes back at once */
	if ((b = pump_held_pop(&p->held)) != NULL) {
		(void)pump_send(ch, b);
		return 0;
	}
	if (p->ssh_eof && p->ssh_pending == 0) {
		/* k8shelld ends the forward once the bytes before it are delivered. */
		log_debug("%s: half-closing the stream", ch->id);
		p->half_closed = true;
		(void)gcall_close_send(p->call);
	}
	return 0;
}

static void
pump_close(struct channel *ch)
{
	struct pump *p = pump_of(ch);

	p->closed = true;
	if (ssh_channel_send_eof(ch->ssh) != SSH_OK || ssh_channel_close(ch->ssh) != SSH_OK)
		log_debug("%s: cannot close the channel: %s", ch->id, ssh_get_error(ch->c->session));
	log_info("%s: closed (%llu bytes to the workspace, %llu from it)", ch->id,
	    p->bytes_in, p->bytes_out);
}

/* --- Interface ------------------------------------------------------------------ */

int
pump_new(struct channel *ch, const struct pump_proto *proto, const char *target, uint32_t num)
{
	struct pump *p;

	if ((p = calloc(1, sizeof(*p))) == NULL || (p->target = strdup(target)) == NULL) {
		free(p);
		return -1;
	}
	p->ch = ch;
	p->proto = proto;
	p->num = num;
	ch->state = p;
	ch->cb.channel_data_function = pump_ssh_data;
	ch->cb.channel_eof_function = pump_ssh_eof;
	return 0;
}

int
pump_accept(struct channel *ch, ssh_message msg, const struct pump_proto *proto,
    const char *target, uint32_t num)
{
	if (pump_new(ch, proto, target, num) != 0) {
		channel_reject(ch, msg, SSH2_OPEN_RESOURCE_SHORTAGE, "out of memory");
		return -1;
	}
	return channel_accept(ch, msg) != 0 ? -1 : 0;
}

void
pump_begin(struct channel *ch)
{
	pump_ssh_open(ch);
	/* Accepted first, as the spec does: a workspace failure then closes it. */
	if (pump_start(ch) != 0) {
		log_error("%s: out of memory", ch->id);
		pump_stop(ch);
	}
}

void
pump_set_data(struct channel *ch, void *data)
{
	pump_of(ch)->data = data;
}

void *
pump_data(const struct channel *ch)
{
	return ((const struct pump *)ch->state)->data;
}

int
pump_start(struct channel *ch)
{
	struct pump *p = pump_of(ch);

	return workspace_request(ch->c, pump_ready, ch, &p->waiter);
}

void
pump_ssh_open(struct channel *ch)
{
	pump_of(ch)->ssh_open = true;
	channel_wake(ch);
}

void
pump_run(struct channel *ch)
{
	struct pump *p = pump_of(ch);

	if (p == NULL || !p->ssh_open || p->closed || ch->remote_closed)
		return;
	if (pump_down(ch) != 0 || pump_up(ch) != 0) {
		pump_stop(ch);
		return;
	}
	if (ch->remote_closed)
		return;
	/* The stream is over: deliver what it sent, then EOF and CLOSE. */
	if (p->ended && p->waiter == NULL && p->down == NULL && !p->closed)
		pump_close(ch);
}

void
pump_stop(struct channel *ch)
{
	struct pump *p = pump_of(ch);

	workspace_waiter_cancel(p->waiter);
	p->waiter = NULL;
	if (p->call != NULL)
		gcall_cancel(p->call);
	p->ended = true;
	grpcc_data_free(p->down);
	grpcc_data_free(p->next);
	p->down = p->next = NULL;
	pump_held_clear(&p->held);
	if (p->ssh_open && !p->closed && !ch->remote_closed)
		pump_close(ch);
}

void
pump_free(struct channel *ch)
{
	struct pump *p = pump_of(ch);

	if (p == NULL)
		return;
	if (!p->closed)
		log_info("%s: closed by the client or the disconnect (%llu bytes to the "
		    "workspace, %llu from it)", ch->id, p->bytes_in, p->bytes_out);
	workspace_waiter_cancel(p->waiter);
	gcall_free(p->call);
	grpcc_data_free(p->down);
	grpcc_data_free(p->next);
	pump_held_clear(&p->held);
	free(p->scratch);
	free(p->target);
	free(p);
	ch->state = NULL;
}
