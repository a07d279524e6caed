/* Unit test of the gRPC client call layer (proto/grpc-call.h), driven from a
 * poll() loop, against proto/grpc-server.h serving k8shelld on its own thread. */
#include "autoconf.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <grpc/byte_buffer.h>
#include <grpc/slice.h>
#include <grpc/status.h>

#include "proto/grpc-call.h"
#include "proto/grpc-server.h"
#include "regress/unit/gsrv-thread.h"
#include "regress/unit/test-cert.h"
#include "proto/k8shelld.pb-c.h"

#define M_HANDSHAKE	"/k8shelld.SystemService/Handshake"
#define M_PORTFORWARD	"/k8shelld.SshService/PortForward"
#define CHUNK		(32 * 1024)
#define ECHO_MSGS	256		/* 256 x 32 KiB = 8 MiB */
#define FLOOD_MSGS	1024		/* 32 MiB offered by the server */
#define WAIT_MS		8000
#define DATA_MSG	(128 * 1024)	/* the child's message size */

/* ---- the server, on its own thread ------------------------------------ */

enum pf_mode { PF_NONE, PF_ECHO, PF_BIG, PF_FLOOD };

struct pf_call {
	struct srv *s;
	enum pf_mode mode;
	uint32_t n, sent;
};

struct srv {
	struct gsrv *gs;
	struct gsrv_thread *thr;	/* runs gs's dispatch loop */
	int port;
	int tls_port;
	char dir[64];
	char cert[96], key[96];
	uint8_t flood[CHUNK];

	pthread_mutex_t mu;	/* guards what the test thread reads below */
	char auth[256];
	char exec_id[64];
	int handshakes;
	int pf_half_closed;
	char watch_id[64];	/* the PortForward call whose end is awaited */
	int watch_done, watch_cancelled;
	uint32_t flood_sent;
};

static struct srv *srv;

/* cmocka's asserts belong to the test thread; the server thread aborts
 * loudly instead. Once the client has gone, STATE is an expected answer. */
#define SRV_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "server thread: %s:%d: check failed: %s\n", \
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

static int
srv_ok(int r)
{
	return r == 0 || r == GRPCC_ERR_STATE;
}

static void
srv_handshake_call(struct gsrv_call *sc, void *arg)
{
	SRV_CHECK(srv_ok(gsrv_call_recv_start(sc)));
}

static void
srv_handshake_msg(struct gsrv_call *sc, ProtobufCMessage *msg, void *arg)
{
	K8shelld__HandshakeRequest *req = (K8shelld__HandshakeRequest *)msg;
	K8shelld__HandshakeResponse resp = K8SHELLD__HANDSHAKE_RESPONSE__INIT;
	struct srv *s = arg;
	const char *v;
	int hang;

	pthread_mutex_lock(&s->mu);
	s->handshakes++;
	v = gsrv_call_md(sc, "authorization");
	snprintf(s->auth, sizeof(s->auth), "%s", v ? v : "(none)");
	v = gsrv_call_md(sc, "exec-id");
	snprintf(s->exec_id, sizeof(s->exec_id), "%s", v ? v : "(none)");
	pthread_mutex_unlock(&s->mu);
	hang = strcmp(req->client_version, "hang") == 0;
	grpcc_msg_free(msg);
	if (hang)
		return;		/* never answer: the client's deadline ends it */
	resp.server_version = "test-1.2.3";
	resp.accepted = 1;
	SRV_CHECK(srv_ok(gsrv_call_send(sc, &resp.base)));
	SRV_CHECK(srv_ok(gsrv_call_finish(sc, GRPC_STATUS_OK, NULL)));
}

static void
srv_handshake_done(struct gsrv_call *sc, int cancelled, void *arg)
{
	gsrv_call_free(sc);
}

static void
pf_send_data(struct gsrv_call *sc, const uint8_t *data, size_t len)
{
	K8shelld__PortForwardResponse resp = K8SHELLD__PORT_FORWARD_RESPONSE__INIT;
	int r;

	resp.data.data = (uint8_t *)data;
	resp.data.len = len;
	r = gsrv_call_send(sc, &resp.base);
	SRV_CHECK(srv_ok(r));
	/* One send in flight on this side too. */
	if (r == 0)
		SRV_CHECK(gsrv_call_send(sc, &resp.base) == GRPCC_ERR_BUSY);
}

/* Other messages on the PortForward stream, by kind: what they look like on
 * the wire is what the client's data fast path must tell apart. */
enum odd_kind {
	ODD_EMPTY = 1,		/* no bytes at all */
	ODD_MIXED,		/* field 1 "abc", then field 2 (varint 1) */
	ODD_OTHER,		/* field 3 "xyz" alone: length-delimited, not ours */
	ODD_WIRETYPE,		/* field 1 as a varint (5) */
};

static void
srv_send_odd(struct gsrv_call *sc, uint32_t kind)
{
	K8shelld__PortForwardResponse empty = K8SHELLD__PORT_FORWARD_RESPONSE__INIT;
	K8shelld__HandshakeResponse hs = K8SHELLD__HANDSHAKE_RESPONSE__INIT;
	K8shelld__TerminalSize ts = K8SHELLD__TERMINAL_SIZE__INIT;
	ProtobufCMessage *m = &hs.base;

	switch (kind) {
	case ODD_EMPTY:
		m = &empty.base;
		break;
	case ODD_MIXED:
		hs.server_version = "abc";
		hs.accepted = 1;
		break;
	case ODD_OTHER:
		hs.message = "xyz";
		break;
	case ODD_WIRETYPE:
		ts.width = 5;
		m = &ts.base;
		break;
	default:
		SRV_CHECK(!"unknown odd kind");
	}
	SRV_CHECK(srv_ok(gsrv_call_send(sc, m)));
}

static void
srv_pf_call(struct gsrv_call *sc, void *arg)
{
	struct pf_call *pc;

	SRV_CHECK((pc = calloc(1, sizeof(*pc))) != NULL);
	pc->s = arg;
	gsrv_call_set_data(sc, pc);
	SRV_CHECK(srv_ok(gsrv_call_recv_start(sc)));
}

static void
srv_pf_msg(struct gsrv_call *sc, ProtobufCMessage *msg, void *arg)
{
	K8shelld__PortForwardRequest *req = (K8shelld__PortForwardRequest *)msg;
	struct pf_call *pc = gsrv_call_data(sc);
	uint8_t *big;

	switch (req->request_case) {
	case K8SHELLD__PORT_FORWARD_REQUEST__REQUEST_DESTINATION:
		if (strcmp(req->destination->ip, "echo") == 0) {
			pc->mode = PF_ECHO;
			SRV_CHECK(srv_ok(gsrv_call_recv_start(sc)));
		} else if (strcmp(req->destination->ip, "big") == 0) {
			/* One message of `port` bytes, then the status. */
			pc->mode = PF_BIG;
			SRV_CHECK((big = malloc(req->destination->port)) != NULL);
			memset(big, 'B', req->destination->port);
			pf_send_data(sc, big, req->destination->port);
			free(big);
			SRV_CHECK(srv_ok(gsrv_call_finish(sc, GRPC_STATUS_OK, NULL)));
		} else if (strcmp(req->destination->ip, "odd") == 0) {
			/* One message that is not a bare data field, then the status;
			 * none after one the client must refuse (its status wins). */
			srv_send_odd(sc, req->destination->port);
			if (req->destination->port != ODD_WIRETYPE)
				SRV_CHECK(srv_ok(gsrv_call_finish(sc, GRPC_STATUS_OK, NULL)));
		} else if (strcmp(req->destination->ip, "flood") == 0) {
			pc->mode = PF_FLOOD;
			pc->n = req->destination->port;
			pf_send_data(sc, pc->s->flood, CHUNK);
		} else
			SRV_CHECK(!"unexpected destination");
		break;
	case K8SHELLD__PORT_FORWARD_REQUEST__REQUEST_DATA:
		/* Echo; read the next message only once this one is out. */
		SRV_CHECK(pc->mode == PF_ECHO);
		pf_send_data(sc, req->data.data, req->data.len);
		break;
	default:
		SRV_CHECK(!"empty PortForwardRequest");
	}
	grpcc_msg_free(msg);
}

static void
srv_pf_send_done(struct gsrv_call *sc, int ok, void *arg)
{
	struct pf_call *pc = gsrv_call_data(sc);

	if (!ok)
		return;
	if (pc->mode == PF_ECHO) {
		SRV_CHECK(srv_ok(gsrv_call_recv_start(sc)));
	} else if (pc->mode == PF_FLOOD) {
		pc->sent++;
		pthread_mutex_lock(&pc->s->mu);
		pc->s->flood_sent = pc->sent;
		pthread_mutex_unlock(&pc->s->mu);
		if (pc->sent < pc->n)
			pf_send_data(sc, pc->s->flood, CHUNK);
		else
			SRV_CHECK(srv_ok(gsrv_call_finish(sc, GRPC_STATUS_OK, NULL)));
	}
}

static void
srv_pf_half_close(struct gsrv_call *sc, void *arg)
{
	struct srv *s = arg;

	pthread_mutex_lock(&s->mu);
	s->pf_half_closed++;
	pthread_mutex_unlock(&s->mu);
	SRV_CHECK(srv_ok(gsrv_call_finish(sc, GRPC_STATUS_OK, NULL)));
}

static void
srv_pf_done(struct gsrv_call *sc, int cancelled, void *arg)
{
	struct srv *s = arg;

	const char *id = gsrv_call_md(sc, "portforward-id");

	pthread_mutex_lock(&s->mu);
	if (id != NULL && strcmp(id, s->watch_id) == 0) {
		s->watch_done = 1;
		s->watch_cancelled = cancelled;
	}
	pthread_mutex_unlock(&s->mu);
	free(gsrv_call_data(sc));
	gsrv_call_free(sc);
}

static int
srv_start(void **state)
{
	static const struct gsrv_method_cbs hs_cbs = {
		.on_call = srv_handshake_call,
		.on_message = srv_handshake_msg,
		.on_done = srv_handshake_done,
	};
	static const struct gsrv_method_cbs pf_cbs = {
		.on_call = srv_pf_call,
		.on_message = srv_pf_msg,
		.on_half_close = srv_pf_half_close,
		.on_send_done = srv_pf_send_done,
		.on_done = srv_pf_done,
	};
	struct srv *s;

	assert_non_null(s = calloc(1, sizeof(*s)));
	pthread_mutex_init(&s->mu, NULL);
	memset(s->flood, 'F', sizeof(s->flood));
	assert_int_equal(gsrv_new(&s->gs), 0);
	assert_int_equal(gsrv_register(s->gs, M_HANDSHAKE,
	    &k8shelld__handshake_request__descriptor, &hs_cbs, s), 0);
	assert_int_equal(gsrv_register(s->gs, M_PORTFORWARD,
	    &k8shelld__port_forward_request__descriptor, &pf_cbs, s), 0);
	assert_int_equal(gsrv_add_port(s->gs, "127.0.0.1:0", NULL, NULL,
	    &s->port), 0);
	assert_true(s->port > 0);
	snprintf(s->dir, sizeof(s->dir), "/tmp/test-grpc-srv.XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->cert, sizeof(s->cert), "%s/cert.pem", s->dir);
	snprintf(s->key, sizeof(s->key), "%s/key.pem", s->dir);
	assert_int_equal(test_cert_make(s->cert, s->key, "workspace.test"), 0);
	assert_int_equal(gsrv_add_port(s->gs, "127.0.0.1:0", s->cert, s->key,
	    &s->tls_port), 0);
	assert_true(s->tls_port > 0 && s->tls_port != s->port);
	assert_int_equal(gsrv_start(s->gs), 0);
	assert_int_equal(gsrv_thread_start(s->gs, &s->thr), 0);
	srv = s;
	*state = s;
	return 0;
}

static int
srv_stop(void **state)
{
	struct srv *s = *state;

	gsrv_thread_stop(s->thr);
	unlink(s->cert);
	unlink(s->key);
	rmdir(s->dir);
	pthread_mutex_destroy(&s->mu);
	free(s);
	srv = NULL;
	return 0;
}

/* ---- the client side: one context per test, poll() as the loop -------- */

struct cli {
	struct gcall_ctx *ctx;
	struct gcall_chan *ch;
	char dir[64];
	char token[128];
};
static struct cli cli;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One turn of the loop: wait up to ms for the fd, dispatch. */
static void
loop_once(int ms)
{
	struct pollfd pfd = { .fd = gcall_ctx_fd(cli.ctx), .events = POLLIN };

	if (poll(&pfd, 1, ms) > 0)
		assert_int_equal(gcall_ctx_dispatch(cli.ctx), 0);
}

/* Run the loop until cond holds; fail after WAIT_MS. */
#define LOOP_UNTIL(cond) do {						\
	int64_t end_ = now_ms() + WAIT_MS;				\
	while (!(cond)) {						\
		assert_true(now_ms() < end_);				\
		loop_once(20);						\
	}								\
} while (0)

static void
loop_until(const int *flag)
{
	LOOP_UNTIL(*flag);
}

/* Run the loop for ms milliseconds whatever happens. */
static void
loop_for(int ms)
{
	int64_t end = now_ms() + ms;

	while (now_ms() < end)
		loop_once(10);
}

static void
token_write(const char *text)
{
	FILE *f;

	assert_non_null(f = fopen(cli.token, "w"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int
cli_setup(void **state)
{
	struct gcall_chan_opts o;
	char target[64];

	memset(&cli, 0, sizeof(cli));
	snprintf(cli.dir, sizeof(cli.dir), "/tmp/test-grpc-call.XXXXXX");
	assert_non_null(mkdtemp(cli.dir));
	snprintf(cli.token, sizeof(cli.token), "%s/token", cli.dir);
	token_write("  tok-one \n");
	snprintf(target, sizeof(target), "127.0.0.1:%d", srv->port);
	memset(&o, 0, sizeof(o));
	o.target = target;
	o.token_file = cli.token;
	o.keepalive_time_ms = 300000;
	o.keepalive_timeout_ms = 20000;
	assert_int_equal(gcall_ctx_new(&cli.ctx), 0);
	assert_int_equal(gcall_chan_new(cli.ctx, &o, &cli.ch), 0);
	return 0;
}

static int
cli_teardown(void **state)
{
	gcall_chan_free(cli.ch);
	gcall_ctx_free(cli.ctx);
	unlink(cli.token);
	rmdir(cli.dir);
	return 0;
}

static void
srv_snapshot(char *auth, size_t authlen, char *exec_id, size_t idlen,
    int *handshakes)
{
	pthread_mutex_lock(&srv->mu);
	if (auth != NULL)
		snprintf(auth, authlen, "%s", srv->auth);
	if (exec_id != NULL)
		snprintf(exec_id, idlen, "%s", srv->exec_id);
	if (handshakes != NULL)
		*handshakes = srv->handshakes;
	pthread_mutex_unlock(&srv->mu);
}

/* ---- unary -------------------------------------------------------------- */

struct unary_res {
	int done;
	int code;
	int local;
	char details[256];
	int have_resp;
	int accepted;
	char server_version[64];
};

static void
unary_cb(struct gcall *call, const struct gcall_status *st,
    ProtobufCMessage *resp, void *arg)
{
	struct unary_res *r = arg;
	K8shelld__HandshakeResponse *hr = (K8shelld__HandshakeResponse *)resp;

	r->done = 1;
	r->code = st->code;
	r->local = st->local;
	snprintf(r->details, sizeof(r->details), "%s", st->details);
	if (hr != NULL) {
		r->have_resp = 1;
		r->accepted = hr->accepted;
		snprintf(r->server_version, sizeof(r->server_version), "%s",
		    hr->server_version);
	}
	grpcc_msg_free(resp);
}

static void
handshake(const char *client_version, int64_t timeout_ms, struct unary_res *r)
{
	K8shelld__HandshakeRequest req = K8SHELLD__HANDSHAKE_REQUEST__INIT;
	static const struct gcall_md md[] = { { "exec-id", "ex-local-1-abc1" } };

	memset(r, 0, sizeof(*r));
	req.client_version = (char *)client_version;
	assert_int_equal(gcall_unary(cli.ch, M_HANDSHAKE, &req.base,
	    &k8shelld__handshake_response__descriptor, md, 1, timeout_ms,
	    unary_cb, r, NULL), 0);
	loop_until(&r->done);
}

static void
test_unary_handshake(void **state)
{
	struct unary_res r;
	char auth[256], exec_id[64];
	int n0, n1;

	srv_snapshot(NULL, 0, NULL, 0, &n0);
	handshake("", 5000, &r);
	assert_int_equal(r.code, GRPC_STATUS_OK);
	assert_int_equal(r.local, 0);
	assert_int_equal(r.have_resp, 1);
	assert_int_equal(r.accepted, 1);
	assert_string_equal(r.server_version, "test-1.2.3");
	srv_snapshot(auth, sizeof(auth), exec_id, sizeof(exec_id), &n1);
	assert_int_equal(n1, n0 + 1);
	assert_string_equal(auth, "Bearer tok-one");
	assert_string_equal(exec_id, "ex-local-1-abc1");

	/* The file is read again on the next call: rotation takes effect. */
	token_write("tok-two\n");
	handshake("", 5000, &r);
	assert_int_equal(r.code, GRPC_STATUS_OK);
	assert_int_equal(r.accepted, 1);
	srv_snapshot(auth, sizeof(auth), NULL, 0, &n1);
	assert_int_equal(n1, n0 + 2);
	assert_string_equal(auth, "Bearer tok-two");
}

static void
test_unary_handle(void **state)
{
	K8shelld__HandshakeRequest req = K8SHELLD__HANDSHAKE_REQUEST__INIT;
	struct unary_res r;
	struct gcall *call;

	/* With a handle the caller frees the call, here after it ended. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(gcall_unary(cli.ch, M_HANDSHAKE, &req.base,
	    &k8shelld__handshake_response__descriptor, NULL, 0, 5000,
	    unary_cb, &r, &call), 0);
	assert_non_null(call);
	/* Unary calls have no stream operations. */
	assert_int_equal(gcall_send(call, &req.base), GRPCC_ERR_STATE);
	assert_int_equal(gcall_recv_start(call), GRPCC_ERR_STATE);
	loop_until(&r.done);
	assert_int_equal(r.code, GRPC_STATUS_OK);
	assert_int_equal(r.accepted, 1);
	gcall_free(call);

	/* Bad metadata keys are refused before anything starts. */
	{
		static const struct gcall_md bad[] = { { "Exec-Id", "x" },
		    { "exec-id", "a\nb" }, { "authorization", "Bearer x" } };
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			assert_int_equal(gcall_unary(cli.ch, M_HANDSHAKE, &req.base,
			    &k8shelld__handshake_response__descriptor, &bad[i], 1,
			    5000, unary_cb, &r, NULL), GRPCC_ERR_ARG);
	}
}

static void
test_token_unreadable(void **state)
{
	char want[300];
	struct unary_res r;
	int n0, n1;

	srv_snapshot(NULL, 0, NULL, 0, &n0);
	assert_int_equal(unlink(cli.token), 0);
	handshake("", 5000, &r);
	assert_int_equal(r.code, GRPC_STATUS_UNAUTHENTICATED);
	assert_int_equal(r.local, 1);
	assert_int_equal(r.have_resp, 0);
	snprintf(want, sizeof(want), "cannot read token file %s: %s", cli.token,
	    strerror(ENOENT));
	assert_string_equal(r.details, want);

	/* An empty (whitespace only) file fails the same way. */
	token_write(" \n\t\n");
	handshake("", 5000, &r);
	assert_int_equal(r.code, GRPC_STATUS_UNAUTHENTICATED);
	assert_int_equal(r.local, 1);
	snprintf(want, sizeof(want), "token file %s is empty", cli.token);
	assert_string_equal(r.details, want);

	/* A token that cannot be a header value never leaves the client. */
	token_write("tok\001bad\n");
	handshake("", 5000, &r);
	assert_int_equal(r.local, 1);
	assert_int_equal(r.code, GRPC_STATUS_UNAUTHENTICATED);
	snprintf(want, sizeof(want), "token file %s holds characters not "
	    "allowed in a header", cli.token);
	assert_string_equal(r.details, want);

	/* Nothing reached the server. */
	srv_snapshot(NULL, 0, NULL, 0, &n1);
	assert_int_equal(n1, n0);
}

static void
test_deadline(void **state)
{
	struct unary_res r;
	int64_t t0, dt;

	t0 = now_ms();
	handshake("hang", 300, &r);
	dt = now_ms() - t0;
	assert_int_equal(r.code, GRPC_STATUS_DEADLINE_EXCEEDED);
	assert_int_equal(r.have_resp, 0);
	assert_true(dt >= 290);
	assert_true(dt < 1500);
}

/* ---- streaming ---------------------------------------------------------- */

struct stream {
	struct gcall *call;
	int status_done;
	int code;
	char details[256];
	int rearm;		/* re-arm the receive after each message */

	/* sending: msgs_total data messages of CHUNK bytes, then half-close */
	uint8_t *src;
	size_t msgs_total, msgs_sent;
	int outstanding, max_outstanding, busy_seen;
	EVP_MD_CTX *tx_md, *rx_md;

	size_t rx_msgs, rx_bytes, rx_last_len;

	/* on_data (st_data_cbs): views, their pieces, what the bytes must be */
	size_t rx_views, rx_pieces, rx_last_pieces;
	uint32_t rx_field;
	int expect_byte;		/* >= 0: every byte received equals it */
	int bad_bytes;
	uint8_t *rx_copy;		/* when set: bytes received, in order */
	size_t rx_copy_len;
	uint8_t last_msg[8];		/* on_message: the start of its data */
};

static void
stream_send_next(struct stream *s)
{
	K8shelld__PortForwardRequest req = K8SHELLD__PORT_FORWARD_REQUEST__INIT;
	uint8_t *p = s->src + s->msgs_sent * CHUNK;

	req.request_case = K8SHELLD__PORT_FORWARD_REQUEST__REQUEST_DATA;
	req.data.data = p;
	req.data.len = CHUNK;
	assert_int_equal(gcall_send(s->call, &req.base), 0);
	EVP_DigestUpdate(s->tx_md, p, CHUNK);
	s->msgs_sent++;
	if (++s->outstanding > s->max_outstanding)
		s->max_outstanding = s->outstanding;
	/* A second send while one is in flight is refused. */
	assert_int_equal(gcall_send_busy(s->call), 1);
	assert_int_equal(gcall_send(s->call, &req.base), GRPCC_ERR_BUSY);
	s->busy_seen++;
}

static void
rx_bytes_check(struct stream *s, const uint8_t *p, size_t n)
{
	size_t i;

	if (s->expect_byte >= 0)
		for (i = 0; i < n; i++)
			s->bad_bytes += p[i] != (uint8_t)s->expect_byte;
	if (s->rx_copy != NULL) {
		memcpy(s->rx_copy + s->rx_copy_len, p, n);
		s->rx_copy_len += n;
	}
}

static void
st_on_message(struct gcall *call, ProtobufCMessage *msg, void *arg)
{
	K8shelld__PortForwardResponse *resp = (K8shelld__PortForwardResponse *)msg;
	struct stream *s = arg;

	s->rx_msgs++;
	s->rx_bytes += resp->data.len;
	s->rx_last_len = resp->data.len;
	memset(s->last_msg, 0, sizeof(s->last_msg));
	if (resp->data.len > 0) {
		memcpy(s->last_msg, resp->data.data, resp->data.len < sizeof(s->last_msg) ?
		    resp->data.len : sizeof(s->last_msg) - 1);
		rx_bytes_check(s, resp->data.data, resp->data.len);
	}
	if (s->rx_md != NULL)
		EVP_DigestUpdate(s->rx_md, resp->data.data, resp->data.len);
	grpcc_msg_free(msg);
	if (s->rearm)
		assert_int_equal(gcall_recv_start(call), 0);
}

static void
st_on_send_done(struct gcall *call, int ok, void *arg)
{
	struct stream *s = arg;

	s->outstanding--;
	if (!ok || s->src == NULL)
		return;
	if (s->msgs_sent < s->msgs_total)
		stream_send_next(s);
	else
		assert_int_equal(gcall_close_send(call), 0);
}

static void
st_on_status(struct gcall *call, const struct gcall_status *st, void *arg)
{
	struct stream *s = arg;

	/* on_status is last: nothing of ours is in flight any more. */
	assert_int_equal(s->outstanding, 0);
	s->status_done = 1;
	s->code = st->code;
	snprintf(s->details, sizeof(s->details), "%s", st->details);
}

/* A view: read piece by piece, as the child writes it to the SSH channel. */
static void
st_on_data(struct gcall *call, uint32_t field, struct grpcc_data *d, void *arg)
{
	struct stream *s = arg;
	const uint8_t *p;
	size_t n, len = grpcc_data_len(d), pieces = 0;

	assert_int_equal(grpcc_data_field(d), field);
	s->rx_views++;
	s->rx_field = field;
	s->rx_bytes += len;
	s->rx_last_len = len;
	while ((p = grpcc_data_peek(d, &n)) != NULL) {
		assert_true(n > 0);
		rx_bytes_check(s, p, n);
		grpcc_data_consume(d, n);
		pieces++;
	}
	assert_int_equal(n, 0);
	assert_int_equal(grpcc_data_len(d), 0);
	s->rx_pieces += pieces;
	s->rx_last_pieces = pieces;
	grpcc_data_free(d);
	if (s->rearm)
		assert_int_equal(gcall_recv_start(call), 0);
}

static const struct gcall_stream_cbs st_cbs = {
	.on_message = st_on_message,
	.on_send_done = st_on_send_done,
	.on_status = st_on_status,
};

/* PortForwardResponse.data (field 1) arrives as a view. */
static const struct gcall_stream_cbs st_data_cbs = {
	.on_message = st_on_message,
	.on_data = st_on_data,
	.data_fields = GRPCC_FIELD(1),
	.on_send_done = st_on_send_done,
	.on_status = st_on_status,
};

static void
stream_open_cbs(struct stream *s, const char *id, const char *ip, uint32_t port,
    const struct gcall_stream_cbs *cbs)
{
	K8shelld__PortForwardRequest req = K8SHELLD__PORT_FORWARD_REQUEST__INIT;
	K8shelld__Destination dst = K8SHELLD__DESTINATION__INIT;
	struct gcall_md md[] = { { "portforward-id", id } };

	memset(s, 0, sizeof(*s));
	s->rearm = 1;
	s->expect_byte = -1;
	assert_int_equal(gcall_stream(cli.ch, M_PORTFORWARD,
	    &k8shelld__port_forward_response__descriptor, md, 1, 0, cbs, s,
	    &s->call), 0);
	dst.ip = (char *)ip;
	dst.port = port;
	req.request_case = K8SHELLD__PORT_FORWARD_REQUEST__REQUEST_DESTINATION;
	req.destination = &dst;
	assert_int_equal(gcall_send(s->call, &req.base), 0);
	s->outstanding = 1;
	s->max_outstanding = 1;
	assert_int_equal(gcall_recv_start(s->call), 0);
	assert_int_equal(gcall_recv_start(s->call), GRPCC_ERR_BUSY);
}

static void
stream_open_id(struct stream *s, const char *id, const char *ip, uint32_t port)
{
	stream_open_cbs(s, id, ip, port, &st_cbs);
}

static void
stream_open(struct stream *s, const char *ip, uint32_t port)
{
	stream_open_id(s, "pf-local-1-abc2", ip, port);
}

static void
test_bidi_echo(void **state)
{
	K8shelld__PortForwardRequest empty = K8SHELLD__PORT_FORWARD_REQUEST__INIT;
	unsigned char tx[32], rx[32];
	unsigned int txlen, rxlen;
	uint32_t x = 2463534242u;
	struct stream s;
	size_t i;
	int half0, half1;

	pthread_mutex_lock(&srv->mu);
	half0 = srv->pf_half_closed;
	pthread_mutex_unlock(&srv->mu);

	stream_open(&s, "echo", 0);
	assert_non_null(s.src = malloc(ECHO_MSGS * CHUNK));
	for (i = 0; i < ECHO_MSGS * CHUNK; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		s.src[i] = (uint8_t)x;
	}
	s.msgs_total = ECHO_MSGS;
	assert_non_null(s.tx_md = EVP_MD_CTX_new());
	assert_non_null(s.rx_md = EVP_MD_CTX_new());
	EVP_DigestInit_ex(s.tx_md, EVP_sha256(), NULL);
	EVP_DigestInit_ex(s.rx_md, EVP_sha256(), NULL);
	/* The destination is still in flight: data has to wait. */
	assert_int_equal(gcall_send(s.call, &empty.base), GRPCC_ERR_BUSY);

	loop_until(&s.status_done);
	assert_int_equal(s.code, GRPC_STATUS_OK);
	assert_int_equal(s.msgs_sent, ECHO_MSGS);
	assert_int_equal(s.busy_seen, ECHO_MSGS);
	assert_int_equal(s.max_outstanding, 1);
	assert_int_equal(s.rx_msgs, ECHO_MSGS);
	assert_int_equal(s.rx_bytes, (size_t)8 << 20);
	EVP_DigestFinal_ex(s.tx_md, tx, &txlen);
	EVP_DigestFinal_ex(s.rx_md, rx, &rxlen);
	assert_int_equal(txlen, 32);
	assert_memory_equal(tx, rx, 32);
	/* After the end, stream operations are refused. */
	assert_int_equal(gcall_send(s.call, &empty.base), GRPCC_ERR_STATE);
	assert_int_equal(gcall_recv_start(s.call), GRPCC_ERR_STATE);
	assert_int_equal(gcall_close_send(s.call), GRPCC_ERR_STATE);

	pthread_mutex_lock(&srv->mu);
	half1 = srv->pf_half_closed;
	pthread_mutex_unlock(&srv->mu);
	assert_int_equal(half1, half0 + 1);

	gcall_free(s.call);
	EVP_MD_CTX_free(s.tx_md);
	EVP_MD_CTX_free(s.rx_md);
	free(s.src);
}

static void
test_half_close(void **state)
{
	struct stream s;
	int half0, half1;

	pthread_mutex_lock(&srv->mu);
	half0 = srv->pf_half_closed;
	pthread_mutex_unlock(&srv->mu);
	stream_open(&s, "echo", 0);
	/* Queued behind the destination still in flight. */
	assert_int_equal(gcall_close_send(s.call), 0);
	{
		K8shelld__PortForwardRequest req = K8SHELLD__PORT_FORWARD_REQUEST__INIT;

		assert_int_equal(gcall_send(s.call, &req.base), GRPCC_ERR_STATE);
	}
	loop_until(&s.status_done);
	assert_int_equal(s.code, GRPC_STATUS_OK);
	assert_int_equal(s.rx_msgs, 0);
	pthread_mutex_lock(&srv->mu);
	half1 = srv->pf_half_closed;
	pthread_mutex_unlock(&srv->mu);
	assert_int_equal(half1, half0 + 1);
	gcall_free(s.call);
}

static void
test_cancel(void **state)
{
	uint8_t buf[CHUNK];
	struct stream s;
	int done, cancelled;
	int64_t end;

	pthread_mutex_lock(&srv->mu);
	snprintf(srv->watch_id, sizeof(srv->watch_id), "pf-local-1-cancel1");
	srv->watch_done = srv->watch_cancelled = 0;
	pthread_mutex_unlock(&srv->mu);

	memset(buf, 'c', sizeof(buf));
	stream_open_id(&s, "pf-local-1-cancel1", "echo", 0);
	/* One data message through and back, then cancel. */
	LOOP_UNTIL(s.outstanding == 0);
	{
		K8shelld__PortForwardRequest req = K8SHELLD__PORT_FORWARD_REQUEST__INIT;

		req.request_case = K8SHELLD__PORT_FORWARD_REQUEST__REQUEST_DATA;
		req.data.data = buf;
		req.data.len = sizeof(buf);
		assert_int_equal(gcall_send(s.call, &req.base), 0);
		s.outstanding++;
	}
	LOOP_UNTIL(s.rx_msgs == 1);
	assert_int_equal(s.rx_last_len, CHUNK);
	gcall_cancel(s.call);
	loop_until(&s.status_done);
	assert_int_equal(s.code, GRPC_STATUS_CANCELLED);

	/* The server saw the cancellation. */
	end = now_ms() + WAIT_MS;
	for (;;) {
		pthread_mutex_lock(&srv->mu);
		done = srv->watch_done;
		cancelled = srv->watch_cancelled;
		pthread_mutex_unlock(&srv->mu);
		if (done || now_ms() > end)
			break;
		usleep(10000);
	}
	assert_int_equal(done, 1);
	assert_int_equal(cancelled, 1);
	gcall_free(s.call);
}

static void
test_recv_limit(void **state)
{
	struct stream s;

	/* Just under 32 MiB once serialised: delivered whole. */
	stream_open(&s, "big", (32 << 20) - 64);
	assert_int_equal(gcall_close_send(s.call), 0);
	loop_until(&s.status_done);
	assert_int_equal(s.code, GRPC_STATUS_OK);
	assert_int_equal(s.rx_msgs, 1);
	assert_int_equal(s.rx_last_len, (32 << 20) - 64);
	gcall_free(s.call);

	/* 33 MiB: refused by the client's receive limit. */
	stream_open(&s, "big", 33 << 20);
	loop_until(&s.status_done);
	assert_int_equal(s.code, GRPC_STATUS_RESOURCE_EXHAUSTED);
	assert_int_equal(s.rx_msgs, 0);
	gcall_free(s.call);
}

static uint32_t
flood_sent(void)
{
	uint32_t n;

	pthread_mutex_lock(&srv->mu);
	n = srv->flood_sent;
	pthread_mutex_unlock(&srv->mu);
	return n;
}

static void
test_recv_backpressure(void **state)
{
	struct stream s;
	uint32_t sent1, sent2;
	int64_t end;

	/* Take one message and stop reading: the server must stall well
	 * short of the 32 MiB it wants to send (HTTP/2 flow control). */
	stream_open(&s, "flood", FLOOD_MSGS);
	s.rearm = 0;
	LOOP_UNTIL(s.rx_msgs == 1);
	end = now_ms() + WAIT_MS;
	sent1 = flood_sent();
	for (;;) {
		loop_for(300);
		sent2 = flood_sent();
		if (sent2 == sent1 || now_ms() > end)
			break;
		sent1 = sent2;
	}
	if (getenv("TEST_GRPC_VERBOSE") != NULL)
		fprintf(stderr, "server stalled after %u messages\n", sent2);
	assert_int_equal(s.rx_msgs, 1);
	assert_int_equal(s.status_done, 0);
	assert_int_equal(sent1, sent2);		/* stalled */
	assert_true(sent2 < FLOOD_MSGS / 2);

	/* Reading again drains everything, then the status. */
	s.rearm = 1;
	assert_int_equal(gcall_recv_start(s.call), 0);
	assert_int_equal(gcall_close_send(s.call), 0);
	loop_until(&s.status_done);
	assert_int_equal(s.code, GRPC_STATUS_OK);
	assert_int_equal(s.rx_msgs, FLOOD_MSGS);
	assert_int_equal(s.rx_bytes, (size_t)FLOOD_MSGS * CHUNK);
	gcall_free(s.call);
}

static void
test_status_behind_messages(void **state)
{
	struct stream s;

	/* The server sends two messages and its status at once; the status
	 * waits until the reader has taken the second message. */
	stream_open(&s, "flood", 2);
	s.rearm = 0;
	LOOP_UNTIL(s.rx_msgs == 1);
	loop_for(300);
	assert_int_equal(s.rx_msgs, 1);
	assert_int_equal(s.status_done, 0);
	assert_int_equal(gcall_recv_start(s.call), 0);
	loop_until(&s.status_done);
	assert_int_equal(s.code, GRPC_STATUS_OK);
	assert_int_equal(s.rx_msgs, 2);
	gcall_free(s.call);
}

/* ---- data messages in place (on_data, gcall_send_data) ----------------- */

static uint8_t
pattern(size_t i)
{
	return (uint8_t)(i * 131 + (i >> 9));
}

/* A byte buffer of these parts, each its own slice (static: never merged). */
static grpc_byte_buffer *
bb_of(const uint8_t *const *parts, const size_t *lens, size_t n)
{
	grpc_slice sl[16];
	grpc_byte_buffer *bb;
	size_t i;

	assert_true(n <= 16);
	for (i = 0; i < n; i++)
		sl[i] = grpc_slice_from_static_buffer(parts[i], lens[i]);
	bb = grpc_raw_byte_buffer_create(sl, n);
	for (i = 0; i < n; i++)
		grpc_slice_unref(sl[i]);
	return bb;
}

static void
test_data_view_slices(void **state)
{
	/* PortForwardResponse{data: 128 KiB}: tag 0x0a, length 131072 as the
	 * varint 80 80 08, cut inside the varint and around empty slices; each
	 * part its own allocation (gRPC merges slices adjacent in memory). */
	static const uint8_t nothing[1];
	uint8_t *buf[5], *payload, *scratch;
	const uint8_t *p, *first, *second, *third;
	const uint8_t *parts[7];
	size_t lens[7], n, i, off;
	grpc_byte_buffer *bb;
	struct grpcc_data *d;
	struct iovec iov[8];
	K8shelld__PortForwardResponse *r;

	assert_non_null(payload = malloc(DATA_MSG));
	assert_non_null(scratch = malloc(DATA_MSG));
	for (i = 0; i < DATA_MSG; i++)
		payload[i] = pattern(i);
	assert_non_null(buf[0] = malloc(1));
	assert_non_null(buf[1] = malloc(1));
	assert_non_null(buf[2] = malloc(2 + 1000));
	assert_non_null(buf[3] = malloc(49000));
	assert_non_null(buf[4] = malloc(DATA_MSG - 50000));
	buf[0][0] = 0x0a;
	buf[1][0] = 0x80;
	buf[2][0] = 0x80;
	buf[2][1] = 0x08;
	memcpy(buf[2] + 2, payload, 1000);
	memcpy(buf[3], payload + 1000, 49000);
	memcpy(buf[4], payload + 50000, DATA_MSG - 50000);
	first = buf[2] + 2;
	second = buf[3];
	third = buf[4];
	parts[0] = buf[0];	lens[0] = 1;
	parts[1] = buf[1];	lens[1] = 1;
	parts[2] = nothing;	lens[2] = 0;
	parts[3] = buf[2];	lens[3] = 2 + 1000;
	parts[4] = buf[3];	lens[4] = 49000;
	parts[5] = nothing;	lens[5] = 0;
	parts[6] = buf[4];	lens[6] = DATA_MSG - 50000;

	/* Not a field the caller named: left alone, and it unpacks. */
	bb = bb_of(parts, lens, 7);
	assert_true(bb->data.raw.slice_buffer.count >= 5);
	assert_int_equal(grpcc_data_take(bb, GRPCC_FIELD(2) | GRPCC_FIELD(3), &d), 0);
	assert_null(d);
	assert_non_null(r = (K8shelld__PortForwardResponse *)grpcc_unpack(
	    &k8shelld__port_forward_response__descriptor, bb));
	assert_int_equal(r->data.len, DATA_MSG);
	assert_memory_equal(r->data.data, payload, DATA_MSG);
	grpcc_msg_free(&r->base);

	/* Named: a view on the slices themselves, nothing copied. */
	assert_int_equal(grpcc_data_take(bb, GRPCC_FIELD(1) | GRPCC_FIELD(2), &d), 0);
	assert_non_null(d);
	assert_int_equal(grpcc_data_field(d), 1);
	assert_int_equal(grpcc_data_len(d), DATA_MSG);
	p = grpcc_data_peek(d, &n);
	assert_ptr_equal(p, first);
	assert_int_equal(n, 1000);
	/* Gathering within a piece stays in place; across pieces it copies. */
	p = grpcc_data_gather(d, scratch, 600, &n);
	assert_ptr_equal(p, first);
	assert_int_equal(n, 600);
	p = grpcc_data_gather(d, scratch, 60000, &n);
	assert_ptr_equal(p, scratch);
	assert_int_equal(n, 60000);
	assert_memory_equal(scratch, payload, 60000);
	/* Consumed part way into a piece, then over a piece boundary. */
	grpcc_data_consume(d, 10);
	p = grpcc_data_peek(d, &n);
	assert_ptr_equal(p, first + 10);
	assert_int_equal(n, 990);
	/* As iovecs (writev): in place, past the empty slice, the first one
	 * starting where consumption stopped; max bounds the count. */
	n = grpcc_data_iov(d, iov, 8);
	assert_int_equal(n, 3);
	assert_ptr_equal(iov[0].iov_base, first + 10);
	assert_int_equal(iov[0].iov_len, 990);
	assert_ptr_equal(iov[1].iov_base, second);
	assert_int_equal(iov[1].iov_len, 49000);
	assert_ptr_equal(iov[2].iov_base, third);
	assert_int_equal(iov[2].iov_len, DATA_MSG - 50000);
	assert_int_equal(grpcc_data_iov(d, iov, 1), 1);
	assert_ptr_equal(iov[0].iov_base, first + 10);
	assert_int_equal(grpcc_data_iov(d, iov, 0), 0);
	grpcc_data_consume(d, 990 + 49000 - 5);
	p = grpcc_data_peek(d, &n);
	assert_ptr_equal(p, second + 49000 - 5);
	assert_int_equal(n, 5);
	n = grpcc_data_iov(d, iov, 8);
	assert_int_equal(n, 2);
	assert_ptr_equal(iov[0].iov_base, second + 49000 - 5);
	assert_int_equal(iov[0].iov_len, 5);
	assert_int_equal(iov[1].iov_len, DATA_MSG - 50000);
	p = grpcc_data_gather(d, scratch, DATA_MSG, &n);
	assert_ptr_equal(p, scratch);
	assert_int_equal(n, DATA_MSG - 49995);
	assert_memory_equal(scratch, payload + 49995, n);
	grpcc_data_consume(d, 5);
	/* The last piece: past the empty slice before it. */
	p = grpcc_data_peek(d, &n);
	assert_ptr_equal(p, third);
	assert_int_equal(n, DATA_MSG - 50000);
	p = grpcc_data_gather(d, scratch, DATA_MSG, &n);
	assert_ptr_equal(p, third);
	assert_int_equal(n, DATA_MSG - 50000);
	grpcc_data_consume(d, n);
	assert_int_equal(grpcc_data_len(d), 0);
	assert_null(grpcc_data_peek(d, &n));
	assert_int_equal(n, 0);
	assert_int_equal(grpcc_data_iov(d, iov, 8), 0);
	grpcc_data_free(d);	/* and the byte buffer */

	/* Every byte, piece by piece, once more. */
	bb = bb_of(parts, lens, 7);
	assert_int_equal(grpcc_data_take(bb, GRPCC_FIELD(1), &d), 0);
	assert_non_null(d);
	for (off = 0, i = 0; (p = grpcc_data_peek(d, &n)) != NULL; i++) {
		assert_memory_equal(p, payload + off, n);
		off += n;
		grpcc_data_consume(d, n);
	}
	assert_int_equal(off, DATA_MSG);
	assert_int_equal(i, 3);
	grpcc_data_free(d);
	for (i = 0; i < 5; i++)
		free(buf[i]);
	free(scratch);
	free(payload);
}

/* Byte buffers that are not a bare data field: no view, bb untouched; what
 * protobuf-c then makes of them (NULL: refused). */
struct odd_case {
	const char *what;
	uint8_t bytes[16];
	size_t len;
	size_t cut;		/* > 0: second slice from here */
	int unpacks;
	size_t data_len;
};

static void
test_data_not_data(void **state)
{
	static const struct odd_case cases[] = {
		{ "truncated length", { 0x0a, 0x80 }, 2, 1, 0, 0 },
		{ "truncated tag", { 0x8a }, 1, 0, 0, 0 },
		{ "length past the end", { 0x0a, 0x05, 'a', 'b' }, 4, 2, 0, 0 },
		{ "a field after the data", { 0x0a, 0x01, 'a', 0x10, 0x01 }, 5, 3, 1, 1 },
		{ "wrong wire type", { 0x08, 0x05 }, 2, 1, 0, 0 },
		{ "six-byte length", { 0x0a, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 'a' }, 8, 4, 0, 0 },
		{ "another field", { 0x1a, 0x01, 'x' }, 3, 0, 1, 0 },
		{ "field 0", { 0x02, 0x00 }, 2, 0, 0, 0 },
	};
	static const uint8_t one[] = { 0x0a, 0x01, 'a' }, none[] = { 0x0a, 0x00 };
	const uint8_t *parts[2];
	size_t lens[2], i, n;
	grpc_byte_buffer *bb;
	grpc_slice sl;
	struct grpcc_data *d;
	ProtobufCMessage *m;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct odd_case *c = &cases[i];
		K8shelld__PortForwardResponse *r;

		parts[0] = c->bytes;
		lens[0] = c->cut > 0 ? c->cut : c->len;
		parts[1] = c->bytes + lens[0];
		lens[1] = c->len - lens[0];
		bb = bb_of(parts, lens, c->cut > 0 ? 2 : 1);
		assert_int_equal(grpcc_data_take(bb, GRPCC_FIELD(0) | GRPCC_FIELD(1) |
		    GRPCC_FIELD(2), &d), 0);
		if (d != NULL)
			fail_msg("%s: taken as data", c->what);
		m = grpcc_unpack(&k8shelld__port_forward_response__descriptor, bb);
		if ((m != NULL) != c->unpacks)
			fail_msg("%s: unpack %s", c->what, m != NULL ? "accepted" : "refused");
		if (m != NULL) {
			r = (K8shelld__PortForwardResponse *)m;
			assert_int_equal(r->data.len, c->data_len);
			grpcc_msg_free(m);
		}
		grpc_byte_buffer_destroy(bb);
	}

	/* No bytes at all: an empty message, unpacked. */
	bb = grpc_raw_byte_buffer_create(NULL, 0);
	assert_int_equal(grpcc_data_take(bb, GRPCC_FIELD(1), &d), 0);
	assert_null(d);
	assert_non_null(m = grpcc_unpack(&k8shelld__port_forward_response__descriptor, bb));
	assert_int_equal(((K8shelld__PortForwardResponse *)m)->data.len, 0);
	grpcc_msg_free(m);
	grpc_byte_buffer_destroy(bb);

	/* Compressed: never read in place. */
	sl = grpc_slice_from_static_buffer(one, sizeof(one));
	bb = grpc_raw_compressed_byte_buffer_create(&sl, 1, GRPC_COMPRESS_GZIP);
	assert_int_equal(grpcc_data_take(bb, GRPCC_FIELD(1), &d), 0);
	assert_null(d);
	grpc_byte_buffer_destroy(bb);

	/* An empty data field is still data: a view of nothing. */
	bb = bb_of((const uint8_t *const[]){ none }, (const size_t[]){ sizeof(none) }, 1);
	assert_int_equal(grpcc_data_take(bb, GRPCC_FIELD(1), &d), 0);
	assert_non_null(d);
	assert_int_equal(grpcc_data_len(d), 0);
	assert_null(grpcc_data_peek(d, &n));
	assert_int_equal(n, 0);
	grpcc_data_free(d);
}

/* Length of a varint. */
static size_t
varint_len(size_t v)
{
	size_t n = 1;

	for (; v >= 0x80; v >>= 7)
		n++;
	return n;
}

static void
test_data_frame(void **state)
{
	static const size_t lens[] = { 0, 1, 127, 128, 16383, 16384, 131072 };
	static const struct {
		const ProtobufCMessageDescriptor *desc;
		const char *name;
		uint32_t field;
	} reqs[] = {
		{ &k8shelld__port_forward_request__descriptor, "data", 2 },
		{ &k8shelld__unix_socket_request__descriptor, "data", 2 },
		{ &k8shelld__exec_request__descriptor, "input", 2 },
		{ &k8shelld__shell_request__descriptor, "data", 3 },
	};
	struct grpcc_dbuf *b;
	grpc_byte_buffer *bb;
	struct grpcc_data *d;
	ProtobufCMessage *m;
	const ProtobufCBinaryData *bin;
	uint8_t *payload;
	const uint8_t *p;
	size_t i, j, k, n;

	for (j = 0; j < sizeof(reqs) / sizeof(reqs[0]); j++) {
		/* The numbers the child uses are the proto's. */
		assert_int_equal(protobuf_c_message_descriptor_get_field_by_name(
		    reqs[j].desc, reqs[j].name)->id, reqs[j].field);
		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			assert_int_equal(grpcc_dbuf_new(lens[i], &b), 0);
			assert_int_equal(grpcc_dbuf_cap(b), lens[i]);
			assert_int_equal(grpcc_dbuf_len(b), 0);
			payload = grpcc_dbuf_ptr(b);
			for (k = 0; k < lens[i]; k++)
				payload[k] = pattern(k + i);
			grpcc_dbuf_set_len(b, lens[i]);
			assert_non_null(bb = grpcc_dbuf_finish(b, reqs[j].field));
			/* One slice: the tag, the length, the payload in place. */
			assert_int_equal(bb->data.raw.slice_buffer.count, 1);
			assert_int_equal(grpc_byte_buffer_length(bb),
			    1 + varint_len(lens[i]) + lens[i]);

			/* protobuf-c reads it back as the request's bytes field. */
			assert_non_null(m = grpcc_unpack(reqs[j].desc, bb));
			bin = NULL;
			if (reqs[j].desc == &k8shelld__port_forward_request__descriptor) {
				K8shelld__PortForwardRequest *r = (void *)m;

				assert_int_equal(r->request_case,
				    K8SHELLD__PORT_FORWARD_REQUEST__REQUEST_DATA);
				bin = &r->data;
			} else if (reqs[j].desc == &k8shelld__unix_socket_request__descriptor) {
				K8shelld__UnixSocketRequest *r = (void *)m;

				assert_int_equal(r->request_case,
				    K8SHELLD__UNIX_SOCKET_REQUEST__REQUEST_DATA);
				bin = &r->data;
			} else if (reqs[j].desc == &k8shelld__exec_request__descriptor) {
				K8shelld__ExecRequest *r = (void *)m;

				assert_int_equal(r->request_case,
				    K8SHELLD__EXEC_REQUEST__REQUEST_INPUT);
				bin = &r->input;
			} else {
				K8shelld__ShellRequest *r = (void *)m;

				assert_int_equal(r->request_case,
				    K8SHELLD__SHELL_REQUEST__REQUEST_DATA);
				bin = &r->data;
			}
			assert_int_equal(bin->len, lens[i]);
			for (k = 0; k < lens[i]; k++)
				if (bin->data[k] != pattern(k + i))
					fail_msg("length %zu field %u: byte %zu differs",
					    lens[i], reqs[j].field, k);
			grpcc_msg_free(m);

			/* And the receive side sees it as data, in the same memory
			 * (a message short enough for an inlined slice is copied). */
			assert_int_equal(grpcc_data_take(bb, GRPCC_FIELD(reqs[j].field), &d), 0);
			assert_non_null(d);
			assert_int_equal(grpcc_data_len(d), lens[i]);
			p = grpcc_data_peek(d, &n);
			assert_int_equal(n, lens[i]);
			if (lens[i] > 20)
				assert_ptr_equal(p, payload);
			grpcc_data_free(d);
		}
	}

	/* Fields outside 1..31 have no place in the header. */
	assert_int_equal(grpcc_dbuf_new(4, &b), 0);
	assert_null(grpcc_dbuf_finish(b, 0));
	assert_int_equal(grpcc_dbuf_new(4, &b), 0);
	assert_null(grpcc_dbuf_finish(b, 32));
	grpcc_dbuf_free(NULL);
	grpcc_data_free(NULL);
}

static void
test_data_stream_big(void **state)
{
	struct stream s;

	/* 128 KiB over real HTTP/2: several slices (16 KiB frames at most),
	 * handed over as one view and read in place. */
	stream_open_cbs(&s, "pf-local-1-data1", "big", DATA_MSG, &st_data_cbs);
	s.expect_byte = 'B';
	assert_int_equal(gcall_close_send(s.call), 0);
	loop_until(&s.status_done);
	assert_int_equal(s.code, GRPC_STATUS_OK);
	assert_int_equal(s.rx_views, 1);
	assert_int_equal(s.rx_msgs, 0);
	assert_int_equal(s.rx_field, 1);
	assert_int_equal(s.rx_last_len, DATA_MSG);
	assert_int_equal(s.bad_bytes, 0);
	assert_true(s.rx_last_pieces > 1);
	gcall_free(s.call);

	/* The receive limit is the same for views. */
	stream_open_cbs(&s, "pf-local-1-data2", "big", (32 << 20) - 64, &st_data_cbs);
	s.expect_byte = 'B';
	assert_int_equal(gcall_close_send(s.call), 0);
	loop_until(&s.status_done);
	assert_int_equal(s.code, GRPC_STATUS_OK);
	assert_int_equal(s.rx_views, 1);
	assert_int_equal(s.rx_last_len, (32 << 20) - 64);
	assert_int_equal(s.bad_bytes, 0);
	gcall_free(s.call);
	stream_open_cbs(&s, "pf-local-1-data3", "big", 33 << 20, &st_data_cbs);
	loop_until(&s.status_done);
	assert_int_equal(s.code, GRPC_STATUS_RESOURCE_EXHAUSTED);
	assert_int_equal(s.rx_views + s.rx_msgs, 0);
	gcall_free(s.call);
}

static void
test_data_stream_odd(void **state)
{
	static const struct {
		enum odd_kind kind;
		int code;
		size_t msgs, len;
		const char *start;
	} cases[] = {
		{ ODD_EMPTY, GRPC_STATUS_OK, 1, 0, "" },
		{ ODD_MIXED, GRPC_STATUS_OK, 1, 3, "abc" },
		{ ODD_OTHER, GRPC_STATUS_OK, 1, 0, "" },
		{ ODD_WIRETYPE, GRPC_STATUS_INTERNAL, 0, 0, "" },
	};
	struct stream s;
	size_t i;

	/* Not bare data: through protobuf-c as before, or refused by it. */
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		stream_open_cbs(&s, "pf-local-1-odd", "odd", cases[i].kind, &st_data_cbs);
		loop_until(&s.status_done);
		if (s.code != cases[i].code)
			fail_msg("odd kind %d: status %d (%s), expected %d", cases[i].kind,
			    s.code, s.details, cases[i].code);
		assert_int_equal(s.rx_views, 0);
		assert_int_equal(s.rx_msgs, cases[i].msgs);
		assert_int_equal(s.rx_last_len, cases[i].len);
		assert_string_equal((const char *)s.last_msg, cases[i].start);
		if (cases[i].code == GRPC_STATUS_INTERNAL)
			assert_string_equal(s.details, "cannot parse the server's message");
		gcall_free(s.call);
	}
}

static void
test_data_echo(void **state)
{
	static const size_t lens[] = { 0, 1, 127, 128, 16383, 16384, 131072 };
	struct grpcc_dbuf *b;
	struct stream s;
	uint8_t *sent;
	size_t i, k, total = 0;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		total += lens[i];
	assert_non_null(sent = malloc(total));
	stream_open_cbs(&s, "pf-local-1-echo", "echo", 0, &st_data_cbs);
	assert_non_null(s.rx_copy = malloc(total));
	/* Built in place, sent one at a time; the server unpacks each with
	 * protobuf-c and echoes it. */
	for (total = 0, i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		LOOP_UNTIL(s.outstanding == 0);
		assert_int_equal(grpcc_dbuf_new(lens[i], &b), 0);
		for (k = 0; k < lens[i]; k++)
			sent[total + k] = grpcc_dbuf_ptr(b)[k] = pattern(total + k);
		grpcc_dbuf_set_len(b, lens[i]);
		total += lens[i];
		assert_int_equal(gcall_send_data(s.call, 2, b), 0);
		s.outstanding++;
		/* One send in flight: the next is refused and freed. */
		assert_int_equal(grpcc_dbuf_new(1, &b), 0);
		assert_int_equal(gcall_send_data(s.call, 2, b), GRPCC_ERR_BUSY);
	}
	LOOP_UNTIL(s.outstanding == 0);
	assert_int_equal(gcall_close_send(s.call), 0);
	loop_until(&s.status_done);
	assert_int_equal(s.code, GRPC_STATUS_OK);
	/* The empty one comes back as an empty message, the rest as views. */
	assert_int_equal(s.rx_msgs, 1);
	assert_int_equal(s.rx_views, sizeof(lens) / sizeof(lens[0]) - 1);
	assert_int_equal(s.rx_copy_len, total);
	assert_memory_equal(s.rx_copy, sent, total);
	/* After the end: refused, and b is still freed. */
	assert_int_equal(grpcc_dbuf_new(1, &b), 0);
	assert_int_equal(gcall_send_data(s.call, 2, b), GRPCC_ERR_STATE);
	gcall_free(s.call);
	free(s.rx_copy);
	free(sent);
}

static void
test_stream_token_unreadable(void **state)
{
	struct stream s;

	assert_int_equal(unlink(cli.token), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(gcall_stream(cli.ch, M_PORTFORWARD,
	    &k8shelld__port_forward_response__descriptor, NULL, 0, 0, &st_cbs,
	    &s, &s.call), 0);
	{
		K8shelld__PortForwardRequest req = K8SHELLD__PORT_FORWARD_REQUEST__INIT;

		assert_int_equal(gcall_send(s.call, &req.base), GRPCC_ERR_STATE);
	}
	loop_until(&s.status_done);
	assert_int_equal(s.code, GRPC_STATUS_UNAUTHENTICATED);
	gcall_free(s.call);
}

static void
test_free_live_call(void **state)
{
	struct stream s, s2;

	/* Freed by the caller mid-stream: no callback afterwards. */
	stream_open(&s, "echo", 0);
	gcall_free(s.call);
	loop_for(100);
	assert_int_equal(s.status_done, 0);

	/* Left open: the context tears it down. */
	stream_open(&s2, "echo", 0);
	loop_for(50);
	gcall_chan_free(cli.ch);
	cli.ch = NULL;
	gcall_ctx_free(cli.ctx);
	cli.ctx = NULL;
	assert_int_equal(s2.status_done, 0);
}

static void
test_unreachable(void **state)
{
	struct gcall_chan_opts o;
	struct gcall_chan *ch;
	K8shelld__HandshakeRequest req = K8SHELLD__HANDSHAKE_REQUEST__INIT;
	struct unary_res r;
	char target[64];

	memset(&o, 0, sizeof(o));
	o.target = "127.0.0.1:1";
	assert_int_equal(gcall_chan_new(cli.ctx, &o, &ch), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(gcall_unary(ch, M_HANDSHAKE, &req.base,
	    &k8shelld__handshake_response__descriptor, NULL, 0, 5000,
	    unary_cb, &r, NULL), 0);
	loop_until(&r.done);
	assert_int_equal(r.code, GRPC_STATUS_UNAVAILABLE);
	gcall_chan_free(ch);

	/* dns:/// targets get the round_robin policy and still connect. */
	{
		snprintf(target, sizeof(target), "dns:///127.0.0.1:%d", srv->port);
		o.target = target;
		o.token_file = cli.token;
		assert_int_equal(gcall_chan_new(cli.ctx, &o, &ch), 0);
		memset(&r, 0, sizeof(r));
		assert_int_equal(gcall_unary(ch, M_HANDSHAKE, &req.base,
		    &k8shelld__handshake_response__descriptor, NULL, 0, 5000,
		    unary_cb, &r, NULL), 0);
		loop_until(&r.done);
		assert_int_equal(r.code, GRPC_STATUS_OK);
		assert_int_equal(r.accepted, 1);
		gcall_chan_free(ch);
		o.token_file = NULL;
	}

	/* TLS with a CA file that is not there fails at channel creation. */
	o.ca_file = "/nonexistent/ca.pem";
	assert_int_equal(gcall_chan_new(cli.ctx, &o, &ch), GRPCC_ERR_CAFILE);
}

/* One handshake over a fresh channel with these TLS settings. */
static void
tls_handshake(const char *ca_file, const char *server_name, struct unary_res *r)
{
	K8shelld__HandshakeRequest req = K8SHELLD__HANDSHAKE_REQUEST__INIT;
	struct gcall_chan_opts o;
	struct gcall_chan *ch;
	char target[64];

	snprintf(target, sizeof(target), "127.0.0.1:%d", srv->tls_port);
	memset(&o, 0, sizeof(o));
	o.target = target;
	o.ca_file = ca_file;
	o.server_name = server_name;
	o.token_file = cli.token;
	assert_int_equal(gcall_chan_new(cli.ctx, &o, &ch), 0);
	memset(r, 0, sizeof(*r));
	assert_int_equal(gcall_unary(ch, M_HANDSHAKE, &req.base,
	    &k8shelld__handshake_response__descriptor, NULL, 0, 5000,
	    unary_cb, r, NULL), 0);
	loop_until(&r->done);
	gcall_chan_free(ch);
}

static void
test_tls(void **state)
{
	struct unary_res r;
	char auth[256];

	tls_handshake(srv->cert, "workspace.test", &r);
	assert_int_equal(r.code, GRPC_STATUS_OK);
	assert_int_equal(r.accepted, 1);
	srv_snapshot(auth, sizeof(auth), NULL, 0, NULL);
	assert_string_equal(auth, "Bearer tok-one");

	/* The certificate does not name 127.0.0.1 or other.test. */
	tls_handshake(srv->cert, NULL, &r);
	assert_int_equal(r.code, GRPC_STATUS_UNAVAILABLE);
	tls_handshake(srv->cert, "other.test", &r);
	assert_int_equal(r.code, GRPC_STATUS_UNAVAILABLE);
	/* Plaintext against the TLS port does not get through either. */
	tls_handshake(NULL, NULL, &r);
	assert_int_equal(r.code, GRPC_STATUS_UNAVAILABLE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unary_handshake, cli_setup, cli_teardown),
		cmocka_unit_test_setup_teardown(test_unary_handle, cli_setup, cli_teardown),
		cmocka_unit_test_setup_teardown(test_token_unreadable, cli_setup, cli_teardown),
		cmocka_unit_test_setup_teardown(test_stream_token_unreadable, cli_setup, cli_teardown),
		cmocka_unit_test_setup_teardown(test_deadline, cli_setup, cli_teardown),
		cmocka_unit_test_setup_teardown(test_bidi_echo, cli_setup, cli_teardown),
		cmocka_unit_test_setup_teardown(test_half_close, cli_setup, cli_teardown),
		cmocka_unit_test_setup_teardown(test_cancel, cli_setup, cli_teardown),
		cmocka_unit_test_setup_teardown(test_recv_limit, cli_setup, cli_teardown),
		cmocka_unit_test_setup_teardown(test_recv_backpressure, cli_setup, cli_teardown),
		cmocka_unit_test_setup_teardown(test_status_behind_messages, cli_setup, cli_teardown),
		cmocka_unit_test(test_data_view_slices),
		cmocka_unit_test(test_data_not_data),
		cmocka_unit_test(test_data_frame),
		cmocka_unit_test_setup_teardown(test_data_stream_big, cli_setup, cli_teardown),
		cmocka_unit_test_setup_teardown(test_data_stream_odd, cli_setup, cli_teardown),
		cmocka_unit_test_setup_teardown(test_data_echo, cli_setup, cli_teardown),
		cmocka_unit_test_setup_teardown(test_unreachable, cli_setup, cli_teardown),
		cmocka_unit_test_setup_teardown(test_tls, cli_setup, cli_teardown),
		cmocka_unit_test_setup_teardown(test_free_live_call, cli_setup, cli_teardown),
	};
	const char *t = getenv("TEST_GRPC_CALL_TIMEOUT");

	/* Bound the run: a hang fails the test instead of stalling make check. */
	alarm(t != NULL ? (unsigned)atoi(t) : 20);
	return cmocka_run_group_tests(tests, srv_start, srv_stop);
}
