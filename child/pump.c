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
	uint8_t *up;
	size_t up_cap, up_off, up_len;

	/* workspace -> SSH: the message being written and at most one more that
	 * arrived meanwhile (taken from gRPC); the next receive waits for room. */
	ProtobufCMessage *down_msg, *next_msg;
	const uint8_t *down;
	size_t down_len;

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

static int
portforward_data(struct gcall *call, const uint8_t *data, size_t len)
{
	K8shelld__PortForwardRequest req = K8SHELLD__PORT_FORWARD_REQUEST__INIT;

	req.request_case = K8SHELLD__PORT_FORWARD_REQUEST__REQUEST_DATA;
	req.data.data = (uint8_t *)data;
	req.data.len = len;
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
	.send_data = portforward_data,
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

static int
unixsocket_data(struct gcall *call, const uint8_t *data, size_t len)
{
	K8shelld__UnixSocketRequest req = K8SHELLD__UNIX_SOCKET_REQUEST__INIT;

	req.request_case = K8SHELLD__UNIX_SOCKET_REQUEST__REQUEST_DATA;
	req.data.data = (uint8_t *)data;
	req.data.len = len;
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
	.send_data = unixsocket_data,
	.recv_data = unixsocket_recv,
};

/* --- gRPC side ---------------------------------------------------------------- */

/* Makes msg (taken) the one being written. */
static void
pump_down_take(struct pump *p, ProtobufCMessage *msg)
{
	p->proto->recv_data(msg, &p->down, &p->down_len);
	p->down_msg = msg;
}

/* One receive in flight, and only while there is room for its message. */
static void
pump_recv_arm(struct pump *p)
{
	if (!p->started || p->ended || p->recv_armed || p->recv_done || p->next_msg != NULL)
		return;
	if (gcall_recv_start(p->call) == 0)
		p->recv_armed = true;
	else
		p->recv_done = true;	/* the server's side ended: status follows */
}

static void
pump_on_message(struct gcall *call, ProtobufCMessage *msg, void *arg)
{
	struct channel *ch = arg;
	struct pump *p = pump_of(ch);
	const uint8_t *data;
	size_t len;

	(void)call;
	p->recv_armed = false;
	p->proto->recv_data(msg, &data, &len);
	if (len == 0) {
		grpcc_msg_free(msg);
	} else {
		p->bytes_out += len;
		workspace_count(ch->c, 0, len);
		if (p->down_msg == NULL)
			pump_down_take(p, msg);
		else
			p->next_msg = msg;
	}
	/* The next one is fetched while this one is written. The write happens
	 * in the run hook: an SSH write may poll and re-enter callbacks. */
	pump_recv_arm(p);
	channel_wake(ch);
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
	.on_send_done = pump_on_send_done,
	.on_status = pump_on_status,
};

static void
pump_ready(struct child *c, struct gcall_chan *chan, const char *error, void *arg)
{
	struct channel *ch = arg;
	struct pump *p = pump_of(ch);
	struct gcall_md md = { .key = p->proto->id_key, .value = ch->id };
	int r;

	(void)c;
	p->waiter = NULL;
	channel_wake(ch);
	if (error != NULL) {
		log_info("%s: %s", ch->id, error);
		p->ended = true;
		return;
	}
	if ((r = gcall_stream(chan, p->proto->method, p->proto->resp, &md, 1, 0,
	    &pump_cbs, ch, &p->call)) != 0) {
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

/* One data message; on failure the stream is cancelled (its status follows). */
static int
pump_send(struct channel *ch, const uint8_t *data, size_t len)
{
	struct pump *p = pump_of(ch);
	int r;

	if ((r = p->proto->send_data(p->call, data, len)) != 0) {
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
	if (!pump_can_send(p) || p->up_off < p->up_len) {
		p->ssh_pending = len;
		return 0;
	}
	n = len < PUMP_CHUNK ? len : PUMP_CHUNK;
	if (pump_send(ch, data, n) != 0) {
		p->ssh_pending = len;
		return 0;
	}
	/* The rest waits for this send to complete (on_send_done wakes us). */
	p->ssh_pending = len - n;
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

	while (p->down_msg != NULL) {
		while (p->down_len > 0) {
			uint32_t win = ssh_channel_window_size(ch->ssh);
			size_t n = p->down_len < win ? p->down_len : win;
			int w;

			if (n == 0)
				return 0;	/* the window adjust wakes the loop */
			if ((w = ssh_channel_write(ch->ssh, p->down, (uint32_t)n)) < 0) {
				log_info("%s: write to the client: %s", ch->id,
				    ssh_get_error(ch->c->session));
				return -1;
			}
			p->down += w;
			p->down_len -= (size_t)w;
			if ((size_t)w < n || ch->remote_closed)
				return 0;
		}
		grpcc_msg_free(p->down_msg);
		p->down_msg = NULL;
		p->down = NULL;
		if (p->next_msg != NULL) {
			pump_down_take(p, p->next_msg);
			p->next_msg = NULL;
		}
	}
	pump_recv_arm(p);
	return 0;
}

/* SSH -> workspace: the bytes libssh kept while a send was in flight, then EOF. */
static int
pump_up(struct channel *ch)
{
	struct pump *p = pump_of(ch);
	size_t n;
	int r;

	if (!pump_can_send(p))
		return 0;
	if (p->up_off == p->up_len && p->ssh_pending > 0) {
		/* All of it: a partial read would widen the client's window while
		 * libssh still holds the rest, and nothing would bound it. */
		if (p->ssh_pending > p->up_cap) {
			uint8_t *b = realloc(p->up, p->ssh_pending);

			if (b == NULL) {
				log_error("%s: out of memory", ch->id);
				return -1;
			}
			p->up = b;
			p->up_cap = p->ssh_pending;
		}
		if ((r = ssh_channel_read_nonblocking(ch->ssh, p->up, (uint32_t)p->ssh_pending, 0)) < 0) {
			log_info("%s: read from the client: %s", ch->id, ssh_get_error(ch->c->session));
			return -1;
		}
		p->up_off = 0;
		p->up_len = (size_t)r;
		p->ssh_pending = (size_t)r < p->ssh_pending ? p->ssh_pending - (size_t)r : 0;
		if (r == 0)
			p->ssh_pending = 0;	/* never spin on a count libssh disowns */
	}
	if (p->up_off < p->up_len) {
		n = p->up_len - p->up_off;
		if (n > PUMP_CHUNK)
			n = PUMP_CHUNK;
		if (pump_send(ch, p->up + p->up_off, n) == 0)
			p->up_off += n;
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
	if (p->ended && p->waiter == NULL && p->down_msg == NULL && !p->closed)
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
	if (p->down_msg != NULL)
		grpcc_msg_free(p->down_msg);
	if (p->next_msg != NULL)
		grpcc_msg_free(p->next_msg);
	p->down_msg = p->next_msg = NULL;
	p->down = NULL;
	p->down_len = 0;
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
	if (p->down_msg != NULL)
		grpcc_msg_free(p->down_msg);
	if (p->next_msg != NULL)
		grpcc_msg_free(p->next_msg);
	free(p->up);
	free(p->target);
	free(p);
	ch->state = NULL;
}
