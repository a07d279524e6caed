/* Unit test of proto/grpc-poll.h and the call layer's inline pump: gRPC's I/O
 * driven by one thread's poll(2), against a real ./workspaced over loopback. */
#include "autoconf.h"

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>

#include "proto/grpc-call.h"
#include "proto/grpc-poll.h"
#include "proto/k8shelld.pb-c.h"
#include "regress/unit/test-cert.h"

#define WAIT_MS		8000
#define DEADLINE_MS	300
#define TLS_NAME	"workspace.test"
#define TLS_ROUNDS	20

extern char **environ;

static int g_epfd = -1;
static pid_t g_wsd = -1, g_wsd_tls = -1;
static char g_target[64], g_target_tls[64];
static char g_dir[64], g_cert[96], g_key[96];
static const char *g_self;

struct op {
	int done, ok;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
op_done(void *tag, int ok, void *arg)
{
	struct op *o = tag;

	(void)arg;
	o->done = 1;
	o->ok = ok;
}

/* The only thing that moves gRPC here: poll the set, drain on readable or on
 * the tick. Returns the milliseconds since t0, or -1 on timeout. */
static int
run_until(grpc_completion_queue *cq, struct op *o, uint64_t t0)
{
	struct pollfd pfd = { .fd = g_epfd, .events = POLLIN };

	(void)grpcp_drain(cq, 64, op_done, NULL);	/* what start_batch queued */
	while (!o->done) {
		if (now_ms() - t0 > WAIT_MS)
			return -1;
		(void)poll(&pfd, 1, GRPCP_TICK_MS);
		(void)grpcp_drain(cq, 64, op_done, NULL);
	}
	return (int)(now_ms() - t0);
}

/* ./workspaced on a free loopback port (TLS with cert and key unless NULL),
 * its address from its first line. */
static int
wsd_start(const char *cert, const char *key, pid_t *pid, char *target)
{
	char path[512], line[256], *argv[9];
	const char *top = getenv("top_builddir");
	posix_spawn_file_actions_t fa;
	FILE *f;
	int p[2], n = 0;

	snprintf(path, sizeof(path), "%s/workspaced", top != NULL ? top : ".");
	argv[n++] = path;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--logtext";
	if (cert != NULL) {
		argv[n++] = "--tls-cert";
		argv[n++] = (char *)cert;
		argv[n++] = "--tls-key";
		argv[n++] = (char *)key;
	}
	argv[n] = NULL;
	if (pipe(p) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", 0, 0);
	posix_spawn_file_actions_addclose(&fa, p[0]);
	if (posix_spawn(pid, path, &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if ((f = fdopen(p[0], "r")) == NULL)
		return -1;
	/* "workspaced listening on 127.0.0.1:PORT" */
	if (fgets(line, sizeof(line), f) == NULL ||
	    sscanf(line, "workspaced listening on %63s", target) != 1) {
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

static void
wsd_stop(pid_t pid)
{
	int st;

	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, &st, 0);
	}
}

static int
setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/test-grpc-poll.XXXXXX");
	if (mkdtemp(g_dir) == NULL)
		return -1;
	snprintf(g_cert, sizeof(g_cert), "%s/cert.pem", g_dir);
	snprintf(g_key, sizeof(g_key), "%s/key.pem", g_dir);
	/* Before gRPC: its threads must not see a fork. */
	if (test_cert_make(g_cert, g_key, TLS_NAME) != 0 ||
	    wsd_start(NULL, NULL, &g_wsd, g_target) != 0 ||
	    wsd_start(g_cert, g_key, &g_wsd_tls, g_target_tls) != 0)
		return -1;
	g_epfd = grpcp_init();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	grpc_shutdown();
	wsd_stop(g_wsd);
	wsd_stop(g_wsd_tls);
	unlink(g_cert);
	unlink(g_key);
	rmdir(g_dir);
	return 0;
}

static void
test_finds_the_set(void **state)
{
	int probe;

	(void)state;
	assert_true(g_epfd >= 3);
	/* It is an epoll set: deleting an fd it does not hold says ENOENT. */
	assert_true((probe = eventfd(0, 0)) >= 0);
	assert_int_equal(epoll_ctl(g_epfd, EPOLL_CTL_DEL, probe, NULL), -1);
	assert_int_equal(errno, ENOENT);
	close(probe);
}

/* Releases a test's call, channel and queue; the queue is drained the same
 * way, on this thread. */
static void
call_end(grpc_call *call, grpc_channel *ch, grpc_channel_credentials *creds,
    grpc_completion_queue *cq)
{
	grpc_call_unref(call);
	grpc_channel_destroy(ch);
	grpc_channel_credentials_release(creds);
	grpc_completion_queue_shutdown(cq);
	while (grpcp_drain(cq, 64, op_done, NULL) >= 0)
		;
	grpc_completion_queue_destroy(cq);
}

/* A unary Handshake with nobody else polling: it completes only if draining
 * on this thread runs the connect, the writes and the reads. */
static void
test_unary_on_one_thread(void **state)
{
	K8shelld__HandshakeRequest req = K8SHELLD__HANDSHAKE_REQUEST__INIT;
	K8shelld__HandshakeResponse *resp;
	grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
	grpc_channel_credentials *creds = grpc_insecure_credentials_create();
	grpc_channel *ch = grpc_channel_create(g_target, creds, NULL);
	grpc_metadata_array imd, tmd;
	grpc_byte_buffer *send, *recv = NULL;
	grpc_byte_buffer_reader rd;
	grpc_status_code code;
	grpc_slice s, details;
	grpc_call *call;
	grpc_op ops[6];
	struct op o = { 0, 0 };
	uint8_t buf[64];
	size_t len;

	(void)state;
	req.client_version = "test-grpc-poll";
	len = k8shelld__handshake_request__pack(&req, buf);
	s = grpc_slice_from_copied_buffer((const char *)buf, len);
	send = grpc_raw_byte_buffer_create(&s, 1);
	grpc_slice_unref(s);
	grpc_metadata_array_init(&imd);
	grpc_metadata_array_init(&tmd);
	call = grpc_channel_create_call(ch, NULL, 0, cq,
	    grpc_slice_from_static_string("/k8shelld.SystemService/Handshake"), NULL,
	    gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(WAIT_MS, GPR_TIMESPAN)),
	    NULL);
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = send;
	ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[3].data.recv_initial_metadata.recv_initial_metadata = &imd;
	ops[4].op = GRPC_OP_RECV_MESSAGE;
	ops[4].data.recv_message.recv_message = &recv;
	ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[5].data.recv_status_on_client.trailing_metadata = &tmd;
	ops[5].data.recv_status_on_client.status = &code;
	ops[5].data.recv_status_on_client.status_details = &details;
	assert_int_equal(grpc_call_start_batch(call, ops, 6, &o, NULL), GRPC_CALL_OK);

	assert_true(run_until(cq, &o, now_ms()) >= 0);
	assert_true(o.ok);
	assert_int_equal(code, GRPC_STATUS_OK);
	assert_non_null(recv);
	assert_true(grpc_byte_buffer_reader_init(&rd, recv));
	s = grpc_byte_buffer_reader_readall(&rd);
	grpc_byte_buffer_reader_destroy(&rd);
	resp = k8shelld__handshake_response__unpack(NULL, GRPC_SLICE_LENGTH(s),
	    GRPC_SLICE_START_PTR(s));
	grpc_slice_unref(s);
	assert_non_null(resp);
	assert_true(resp->accepted);
	assert_true(strncmp(resp->server_version, "workspaced/", 11) == 0);
	k8shelld__handshake_response__free_unpacked(resp, NULL);

	grpc_byte_buffer_destroy(send);
	grpc_byte_buffer_destroy(recv);
	grpc_slice_unref(details);
	grpc_metadata_array_destroy(&imd);
	grpc_metadata_array_destroy(&tmd);
	call_end(call, ch, creds, cq);
}

/* A deadline is a completion that gRPC's timer thread posts, with no poller to
 * kick: the tick must find it. Exec waits for a first message we never send. */
static void
test_deadline_found_by_the_tick(void **state)
{
	grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
	grpc_channel_credentials *creds = grpc_insecure_credentials_create();
	grpc_channel *ch = grpc_channel_create(g_target, creds, NULL);
	grpc_metadata_array tmd;
	grpc_status_code code;
	grpc_slice details;
	grpc_call *call;
	grpc_op ops[2];
	struct op o = { 0, 0 };
	uint64_t t0;
	int ms;

	(void)state;
	grpc_metadata_array_init(&tmd);
	/* Before the deadline is computed: creating the call and starting the
	 * batch take tens of milliseconds under valgrind. */
	t0 = now_ms();
	call = grpc_channel_create_call(ch, NULL, 0, cq,
	    grpc_slice_from_static_string("/k8shelld.SshService/Exec"), NULL,
	    gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(DEADLINE_MS, GPR_TIMESPAN)),
	    NULL);
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[1].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[1].data.recv_status_on_client.trailing_metadata = &tmd;
	ops[1].data.recv_status_on_client.status = &code;
	ops[1].data.recv_status_on_client.status_details = &details;
	assert_int_equal(grpc_call_start_batch(call, ops, 2, &o, NULL), GRPC_CALL_OK);

	/* Found at all (run_until gives -1 after WAIT_MS), and not early; how
	 * late depends on the machine (valgrind), so no tighter upper bound. */
	ms = run_until(cq, &o, t0);
	assert_true(ms >= DEADLINE_MS - 10);
	assert_int_equal(code, GRPC_STATUS_DEADLINE_EXCEEDED);

	grpc_slice_unref(details);
	grpc_metadata_array_destroy(&tmd);
	call_end(call, ch, creds, cq);
}

/* This test binary again, in a fresh process (gRPC starts once per process):
 * it must exit 0. */
static void
assert_self_passes(char *mode, char *arg, char *arg2)
{
	char *argv[] = { (char *)g_self, mode, arg, arg2, NULL };
	pid_t pid;
	int st;

	assert_int_equal(posix_spawn(&pid, g_self, NULL, NULL, argv, environ), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* Another poll strategy has no epoll set: callers fall back to a CQ thread. */
static void
test_other_strategy_gives_minus_one(void **state)
{
	(void)state;
	assert_self_passes("--fallback", NULL, NULL);
}

/* The look-again wait after activity: the time since the last completion,
 * never 0 (a busy loop) and never past the caller's bound. */
static void
test_tick_backs_off(void **state)
{
	(void)state;
	assert_int_equal(grpcp_tick_ms(1000, 1000, 250), GRPCP_TICK_MIN_MS);
	assert_int_equal(grpcp_tick_ms(1000, 1001, 250), 1);
	assert_int_equal(grpcp_tick_ms(1000, 1037, 250), 37);
	assert_int_equal(grpcp_tick_ms(1000, 1249, 250), 249);
	assert_int_equal(grpcp_tick_ms(1000, 999999, 250), 250);
	assert_int_equal(grpcp_tick_ms(1000, 999999, 100), 100);
	/* A clock read before the completion was stamped. */
	assert_int_equal(grpcp_tick_ms(1000, 990, 250), GRPCP_TICK_MIN_MS);
}

/* ---- the child's call layer on an inline pump (a fresh process) -------- */

struct unary_res {
	int done, code;
	char version[64];
};

static void
unary_done(struct gcall *call, const struct gcall_status *st, ProtobufCMessage *resp, void *arg)
{
	struct unary_res *r = arg;

	(void)call;
	r->done = 1;
	r->code = st->code;
	if (resp != NULL) {
		snprintf(r->version, sizeof(r->version), "%s",
		    ((K8shelld__HandshakeResponse *)resp)->server_version);
		grpcc_msg_free(resp);
	}
}

/* The child's loop in miniature: poll the ctx fd no longer than the tick,
 * take completions when readable or when the tick is due, until *flag.
 * Returns the milliseconds since t0, or -1 after WAIT_MS. When not NULL,
 * *ticked is set if the context asked for the short tick, and *idle counts
 * the polls that ended on their timeout instead of on readiness. */
static int
gcall_loop(struct gcall_ctx *ctx, const int *flag, uint64_t t0, int *ticked, int *idle)
{
	struct pollfd pfd = { .fd = gcall_ctx_fd(ctx), .events = POLLIN };
	int tick;

	while (!*flag) {
		if (now_ms() - t0 > WAIT_MS)
			return -1;
		tick = gcall_ctx_tick_ms(ctx);
		if (tick == GRPCP_TICK_MS && ticked != NULL)
			*ticked = 1;
		if (poll(&pfd, 1, tick >= 0 ? tick : 1000) == 0 && tick != 0 && idle != NULL)
			(*idle)++;
		if (gcall_ctx_dispatch(ctx) != 0)
			return -1;
	}
	return (int)(now_ms() - t0);
}

/* Exit status: 0 when all holds, else the number of the check that failed. */
static int
gcall_inline(const char *target)
{
	K8shelld__HandshakeRequest req = K8SHELLD__HANDSHAKE_REQUEST__INIT;
	struct gcall_chan_opts o = { 0 };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	struct gcall_ctx *ctx;
	struct gcall_chan *ch, *mute;
	struct unary_res r = { 0 }, r2 = { 0 };
	char mute_target[64];
	uint64_t t0;
	int ticked = 0, ms, lfd;

	req.client_version = "test-grpc-poll";
	if (gcall_ctx_new(&ctx) != 0)
		return 2;
	o.target = target;
	if (gcall_chan_new(ctx, &o, &ch) != 0)
		return 3;
	if (gcall_unary(ch, "/k8shelld.SystemService/Handshake", &req.base,
	    &k8shelld__handshake_response__descriptor, NULL, 0, 5000, unary_done, &r, NULL) != 0)
		return 4;
	if (gcall_loop(ctx, &r.done, now_ms(), &ticked, NULL) < 0)
		return 5;
	if (r.code != GRPC_STATUS_OK || strncmp(r.version, "workspaced/", 11) != 0)
		return 6;
	if (gcall_ctx_tick_ms(ctx) != -1)
		return 7;

	/* A server that never speaks (a listening socket nobody accepts): only
	 * gRPC's timer thread ends the call, and only the tick finds it. The
	 * call is live for the whole deadline, so the loop must have been asked
	 * for the short tick (a helper thread would make it -1); the handshake
	 * above may finish before the loop ever asks. */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(lfd, 8) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &sl) < 0)
		return 8;
	snprintf(mute_target, sizeof(mute_target), "127.0.0.1:%u", ntohs(sin.sin_port));
	o.target = mute_target;
	if (gcall_chan_new(ctx, &o, &mute) != 0)
		return 9;
	t0 = now_ms();
	if (gcall_unary(mute, "/k8shelld.SystemService/Handshake", &req.base,
	    &k8shelld__handshake_response__descriptor, NULL, 0, DEADLINE_MS, unary_done, &r2,
	    NULL) != 0)
		return 10;
	ticked = 0;
	if ((ms = gcall_loop(ctx, &r2.done, t0, &ticked, NULL)) < DEADLINE_MS - 10 || !ticked)
		return 11;
	if (r2.code != GRPC_STATUS_DEADLINE_EXCEEDED)
		return 12;
	gcall_chan_free(mute);
	gcall_chan_free(ch);
	gcall_ctx_free(ctx);
	close(lfd);
	return 0;
}

static void
test_call_layer_inline(void **state)
{
	(void)state;
	assert_self_passes("--gcall", g_target, NULL);
}

/* ---- TLS on the inline pump (a fresh process) --------------------------- */

struct exec_res {
	int sent, echoed, status_done, code, exit_code;
	char out[64];
	size_t out_len, want;
};

static void
exec_message(struct gcall *call, ProtobufCMessage *msg, void *arg)
{
	K8shelld__ExecResponse *resp = (K8shelld__ExecResponse *)msg;
	struct exec_res *r = arg;
	size_t n;

	if (resp->response_case == K8SHELLD__EXEC_RESPONSE__RESPONSE_STDOUT) {
		n = resp->stdout.len;
		if (n > sizeof(r->out) - r->out_len)
			n = sizeof(r->out) - r->out_len;
		memcpy(r->out + r->out_len, resp->stdout.data, n);
		r->out_len += n;
		r->echoed = r->out_len >= r->want;
	} else if (resp->response_case == K8SHELLD__EXEC_RESPONSE__RESPONSE_EXIT_CODE)
		r->exit_code = resp->exit_code;
	grpcc_msg_free(msg);
	(void)gcall_recv_start(call);
}

static void
exec_send_done(struct gcall *call, int ok, void *arg)
{
	(void)call;
	(void)ok;
	((struct exec_res *)arg)->sent = 1;
}

static void
exec_status(struct gcall *call, const struct gcall_status *st, void *arg)
{
	struct exec_res *r = arg;

	(void)call;
	r->code = st->code;
	r->status_done = 1;
}

static int
tls_handshake(struct gcall_ctx *ctx, const char *target, const char *ca, const char *name,
    struct unary_res *r)
{
	K8shelld__HandshakeRequest req = K8SHELLD__HANDSHAKE_REQUEST__INIT;
	struct gcall_chan_opts o = { 0 };
	struct gcall_chan *ch;
	int idle = 0, ok;

	req.client_version = "test-grpc-poll";
	o.target = target;
	o.ca_file = ca;
	o.server_name = name;
	if (gcall_chan_new(ctx, &o, &ch) != 0)
		return -1;
	memset(r, 0, sizeof(*r));
	ok = gcall_unary(ch, "/k8shelld.SystemService/Handshake", &req.base,
	    &k8shelld__handshake_response__descriptor, NULL, 0, 5000, unary_done, r, NULL) == 0 &&
	    gcall_loop(ctx, &r->done, now_ms(), NULL, &idle) >= 0;
	gcall_chan_free(ch);
	return ok ? 0 : -1;
}

/* Exit status: 0 when all holds, else the number of the check that failed.
 * The handshake takes several round trips that only this thread's polls
 * drive; the name is checked; and a stream's messages are found when the
 * socket is readable, not by the 250 ms stream tick. */
static int
gcall_tls(const char *target, const char *ca)
{
	static const struct gcall_stream_cbs cbs = {
		.on_message = exec_message,
		.on_send_done = exec_send_done,
		.on_status = exec_status,
	};
	static const struct gcall_md md = { "exec-id", "ex-tls-1" };
	K8shelld__ExecRequest req = K8SHELLD__EXEC_REQUEST__INIT;
	K8shelld__CommandDetails cd = K8SHELLD__COMMAND_DETAILS__INIT;
	struct gcall_chan_opts o = { 0 };
	struct gcall_ctx *ctx;
	struct gcall_chan *ch;
	struct gcall *call;
	struct unary_res r;
	struct exec_res e = { 0 };
	char line[16];
	int i, idle = 0, want, probe;

	if (gcall_ctx_new(&ctx) != 0)
		return 2;
	/* Inline: the context's fd is an epoll set (a helper thread's is an eventfd). */
	if ((probe = eventfd(0, 0)) < 0 ||
	    epoll_ctl(gcall_ctx_fd(ctx), EPOLL_CTL_DEL, probe, NULL) != -1 || errno != ENOENT)
		return 3;
	close(probe);
	if (tls_handshake(ctx, target, ca, TLS_NAME, &r) != 0 || r.code != GRPC_STATUS_OK ||
	    strncmp(r.version, "workspaced/", 11) != 0)
		return 4;
	/* The certificate names workspace.test only; plaintext gets nowhere. */
	if (tls_handshake(ctx, target, ca, "other.test", &r) != 0 ||
	    r.code != GRPC_STATUS_UNAVAILABLE)
		return 5;
	if (tls_handshake(ctx, target, NULL, NULL, &r) != 0 || r.code != GRPC_STATUS_UNAVAILABLE)
		return 6;

	o.target = target;
	o.ca_file = ca;
	o.server_name = TLS_NAME;
	if (gcall_chan_new(ctx, &o, &ch) != 0 ||
	    gcall_stream(ch, "/k8shelld.SshService/Exec", &k8shelld__exec_response__descriptor,
	    &md, 1, 0, &cbs, &e, &call) != 0)
		return 7;
	cd.command = "cat";
	req.request_case = K8SHELLD__EXEC_REQUEST__REQUEST_COMMAND_DETAILS;
	req.command_details = &cd;
	if (gcall_send(call, &req.base) != 0 || gcall_recv_start(call) != 0 ||
	    gcall_loop(ctx, &e.sent, now_ms(), NULL, &idle) < 0)
		return 8;
	/* Round trips through cat: a line out, the same line back. */
	idle = 0;
	for (i = 0; i < TLS_ROUNDS; i++) {
		want = snprintf(line, sizeof(line), "ping %02d\n", i);
		e.sent = e.echoed = 0;
		e.out_len = 0;
		e.want = (size_t)want;
		req.request_case = K8SHELLD__EXEC_REQUEST__REQUEST_INPUT;
		req.input.data = (uint8_t *)line;
		req.input.len = (size_t)want;
		if (gcall_send(call, &req.base) != 0 || gcall_loop(ctx, &e.sent, now_ms(), NULL, &idle) < 0)
			return 9;
		if (gcall_loop(ctx, &e.echoed, now_ms(), NULL, &idle) < 0 || e.out_len != (size_t)want ||
		    memcmp(e.out, line, (size_t)want) != 0)
			return 10;
	}
	/* Each round trip found by readiness; a few slow polls are allowed for a
	 * busy machine, not one per message. */
	if (idle > TLS_ROUNDS / 4)
		return 11;
	if (gcall_close_send(call) != 0 || gcall_loop(ctx, &e.status_done, now_ms(), NULL, &idle) < 0 ||
	    e.code != GRPC_STATUS_OK || e.exit_code != 0)
		return 12;
	gcall_free(call);
	gcall_chan_free(ch);
	gcall_ctx_free(ctx);
	return 0;
}

static void
test_tls_inline(void **state)
{
	(void)state;
	assert_self_passes("--gcall-tls", g_target_tls, g_cert);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finds_the_set),
		cmocka_unit_test(test_unary_on_one_thread),
		cmocka_unit_test(test_deadline_found_by_the_tick),
		cmocka_unit_test(test_other_strategy_gives_minus_one),
		cmocka_unit_test(test_tick_backs_off),
		cmocka_unit_test(test_call_layer_inline),
		cmocka_unit_test(test_tls_inline),
	};

	if (argc == 2 && strcmp(argv[1], "--fallback") == 0) {
		int fd;

		setenv("GRPC_POLL_STRATEGY", "poll", 1);
		fd = grpcp_init();
		grpc_shutdown();
		return fd == -1 ? 0 : 1;
	}
	if (argc == 3 && strcmp(argv[1], "--gcall") == 0)
		return gcall_inline(argv[2]);
	if (argc == 4 && strcmp(argv[1], "--gcall-tls") == 0)
		return gcall_tls(argv[2], argv[3]);
	g_self = argv[0];
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
