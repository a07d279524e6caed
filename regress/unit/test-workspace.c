/* Unit test of the connection's workspace (child/workspace.h): the Handshake
 * against an in-process k8shelld, shared waiters, failures and retries. */
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <grpc/status.h>

#include "child/workspace.h"
#include "daemon/config.h"
#include "proto/grpc-server.h"
#include "regress/unit/gsrv-thread.h"
#include "proto/k8shelld.pb-c.h"

#define M_HANDSHAKE	"/k8shelld.SystemService/Handshake"
#define WAIT_MS		8000

/* workspace.c ends the connection through child.c on a broken gRPC queue. */
void
child_finish(struct child *c, int code)
{
	if (c->exit_code < 0)
		c->exit_code = code;
}

/* ---- k8shelld's Handshake, on its own thread -------------------------- */

struct srv {
	struct gsrv *gs;
	struct gsrv_thread *thr;	/* runs gs's dispatch loop */
	int port;
	pthread_mutex_t mu;
	int handshakes;
	const char *reject;	/* NULL: accept; else accepted=false with this message */
};

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
srv_hs_call(struct gsrv_call *sc, void *arg)
{
	(void)arg;
	SRV_CHECK(srv_ok(gsrv_call_recv_start(sc)));
}

static void
srv_hs_msg(struct gsrv_call *sc, ProtobufCMessage *msg, void *arg)
{
	K8shelld__HandshakeResponse resp = K8SHELLD__HANDSHAKE_RESPONSE__INIT;
	struct srv *s = arg;
	const char *reject;

	grpcc_msg_free(msg);
	pthread_mutex_lock(&s->mu);
	s->handshakes++;
	reject = s->reject;
	pthread_mutex_unlock(&s->mu);
	resp.server_version = "test-9.9";
	resp.accepted = reject == NULL;
	if (reject != NULL)
		resp.message = (char *)reject;
	SRV_CHECK(srv_ok(gsrv_call_send(sc, &resp.base)));
	SRV_CHECK(srv_ok(gsrv_call_finish(sc, GRPC_STATUS_OK, NULL)));
}

static void
srv_hs_done(struct gsrv_call *sc, int cancelled, void *arg)
{
	(void)cancelled;
	(void)arg;
	gsrv_call_free(sc);
}

static int
srv_start(void **state)
{
	static const struct gsrv_method_cbs hs_cbs = {
		.on_call = srv_hs_call,
		.on_message = srv_hs_msg,
		.on_done = srv_hs_done,
	};
	struct srv *s;

	assert_int_equal(ssh_init(), SSH_OK);
	assert_non_null(s = calloc(1, sizeof(*s)));
	pthread_mutex_init(&s->mu, NULL);
	assert_int_equal(gsrv_new(&s->gs), 0);
	assert_int_equal(gsrv_register(s->gs, M_HANDSHAKE,
	    &k8shelld__handshake_request__descriptor, &hs_cbs, s), 0);
	assert_int_equal(gsrv_add_port(s->gs, "127.0.0.1:0", NULL, NULL, &s->port), 0);
	assert_int_equal(gsrv_start(s->gs), 0);
	assert_int_equal(gsrv_thread_start(s->gs, &s->thr), 0);
	*state = s;
	return 0;
}

static int
srv_stop(void **state)
{
	struct srv *s = *state;

	gsrv_thread_stop(s->thr);
	pthread_mutex_destroy(&s->mu);
	free(s);
	ssh_finalize();
	return 0;
}

static void
srv_set(struct srv *s, const char *reject)
{
	pthread_mutex_lock(&s->mu);
	s->reject = reject;
	pthread_mutex_unlock(&s->mu);
}

static int
srv_handshakes(struct srv *s)
{
	int n;

	pthread_mutex_lock(&s->mu);
	n = s->handshakes;
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* ---- the connection side: a struct child with just what workspace.c uses */

struct conn {
	struct child c;
	struct config cfg;
	char addr[64];
};

static void
conn_init(struct conn *k, const char *static_addr, const char *grpc_addr)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->addr, sizeof(k->addr), "%s", static_addr);
	k->cfg.provisioner.address = (char *)grpc_addr;
	k->cfg.provisioner_static.address = k->addr;
	k->cfg.k8shelld.token_file = "";
	k->c.cfg = &k->cfg;
	k->c.exit_code = -1;
	snprintf(k->c.connid, sizeof(k->c.connid), "local-1-aaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_non_null(k->c.event = ssh_event_new());
}

static void
conn_free(struct conn *k)
{
	workspace_free(&k->c);
	assert_null(k->c.ws);
	ssh_event_free(k->c.event);
	assert_int_equal(k->c.exit_code, -1);
}

struct res {
	int calls;
	int with_chan;
	char error[256];
};

static void
ready_cb(struct child *c, struct gcall_chan *chan, const char *error, void *arg)
{
	struct res *r = arg;

	(void)c;
	r->calls++;
	r->with_chan = chan != NULL;
	snprintf(r->error, sizeof(r->error), "%s", error != NULL ? error : "");
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The child's loop, until r has been called (or WAIT_MS). */
static void
pump_until(struct conn *k, const struct res *r)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (r->calls == 0 && ms_since(&t0) < WAIT_MS)
		ssh_event_dopoll(k->c.event, 50);
}

static void
test_ready_once(void **state)
{
	struct srv *s = *state;
	struct workspace_waiter *w = NULL;
	struct res r1 = { 0 }, r2 = { 0 };
	struct conn k;
	char addr[64];
	int before = srv_handshakes(s);

	srv_set(s, NULL);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", s->port);
	conn_init(&k, addr, "");
	assert_int_equal(workspace_request(&k.c, ready_cb, &r1, &w), 0);
	/* The Handshake is in flight: nothing yet, a wait to cancel. */
	assert_int_equal(r1.calls, 0);
	assert_non_null(w);
	pump_until(&k, &r1);
	assert_int_equal(r1.calls, 1);
	assert_string_equal(r1.error, "");
	assert_int_equal(r1.with_chan, 1);
	/* Connected: the next channel gets it at once, no second Handshake. */
	w = (struct workspace_waiter *)&r2;
	assert_int_equal(workspace_request(&k.c, ready_cb, &r2, &w), 0);
	assert_int_equal(r2.calls, 1);
	assert_null(w);
	assert_string_equal(r2.error, "");
	assert_int_equal(r2.with_chan, 1);
	assert_int_equal(srv_handshakes(s) - before, 1);
	assert_string_equal(workspace_as_user(&k.c), "");
	workspace_count(&k.c, 10, 20);
	conn_free(&k);
}

static void
test_waiters_share(void **state)
{
	struct srv *s = *state;
	struct workspace_waiter *w1, *w2, *w3;
	struct res r1 = { 0 }, r2 = { 0 }, r3 = { 0 };
	struct conn k;
	char addr[64];
	int before = srv_handshakes(s);

	srv_set(s, NULL);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", s->port);
	conn_init(&k, addr, "");
	assert_int_equal(workspace_request(&k.c, ready_cb, &r1, &w1), 0);
	assert_int_equal(workspace_request(&k.c, ready_cb, &r2, &w2), 0);
	assert_int_equal(workspace_request(&k.c, ready_cb, &r3, &w3), 0);
	assert_non_null(w1);
	assert_non_null(w2);
	assert_non_null(w3);
	/* A channel closed before the workspace answered. */
	workspace_waiter_cancel(w2);
	workspace_waiter_cancel(NULL);
	pump_until(&k, &r3);
	assert_int_equal(r1.calls, 1);
	assert_int_equal(r2.calls, 0);
	assert_int_equal(r3.calls, 1);
	assert_string_equal(r1.error, "");
	assert_string_equal(r3.error, "");
	assert_int_equal(srv_handshakes(s) - before, 1);
	conn_free(&k);
}

static void
test_rejected_then_retry(void **state)
{
	struct srv *s = *state;
	struct workspace_waiter *w;
	struct res r1 = { 0 }, r2 = { 0 };
	struct conn k;
	char addr[64];
	int before = srv_handshakes(s);

	/* The message is collapsed to one line for the user. */
	srv_set(s, "no seats\nleft");
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", s->port);
	conn_init(&k, addr, "");
	assert_int_equal(workspace_request(&k.c, ready_cb, &r1, &w), 0);
	pump_until(&k, &r1);
	assert_int_equal(r1.calls, 1);
	assert_int_equal(r1.with_chan, 0);
	assert_string_equal(r1.error, "connection rejected: no seats left");
	/* Not remembered: the next request runs a new Handshake. */
	srv_set(s, NULL);
	assert_int_equal(workspace_request(&k.c, ready_cb, &r2, &w), 0);
	assert_int_equal(r2.calls, 0);
	pump_until(&k, &r2);
	assert_int_equal(r2.calls, 1);
	assert_string_equal(r2.error, "");
	assert_int_equal(srv_handshakes(s) - before, 2);
	conn_free(&k);
}

static void
test_unreachable(void **state)
{
	struct workspace_waiter *w;
	struct res r = { 0 };
	struct conn k;

	(void)state;
	/* Port 1 on loopback: nothing listens, the connect is refused. */
	conn_init(&k, "127.0.0.1:1", "");
	assert_int_equal(workspace_request(&k.c, ready_cb, &r, &w), 0);
	pump_until(&k, &r);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.with_chan, 0);
	assert_string_equal(r.error, "workspace unreachable, retry shortly");
	conn_free(&k);
}

static void
test_config_errors(void **state)
{
	struct workspace_waiter *w;
	struct res r1 = { 0 }, r2 = { 0 };
	struct conn k;

	(void)state;
	/* The gRPC provisioner is a later issue: refused at once, readable. */
	conn_init(&k, "127.0.0.1:1", "provisioner.example:443");
	w = (struct workspace_waiter *)&r1;
	assert_int_equal(workspace_request(&k.c, ready_cb, &r1, &w), 0);
	assert_null(w);
	assert_int_equal(r1.calls, 1);
	assert_string_equal(r1.error, "workspace provisioning is not available on this server");
	conn_free(&k);

	conn_init(&k, "", "");
	assert_int_equal(workspace_request(&k.c, ready_cb, &r2, &w), 0);
	assert_null(w);
	assert_int_equal(r2.calls, 1);
	assert_string_equal(r2.error, "no workspace is configured on this server");
	conn_free(&k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_once),
		cmocka_unit_test(test_waiters_share),
		cmocka_unit_test(test_rejected_then_retry),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_config_errors),
	};

	return cmocka_run_group_tests(tests, srv_start, srv_stop);
}
