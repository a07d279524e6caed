/* Client-side tests of workspaced over real gRPC on loopback: one test per run,
 * `wsd-test ADDR NAME [ARG]`; exit 0 pass, 1 fail (with the reason on stderr). */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proto/k8shelld.pb-c.h"
#include "contrib/workspaced/tests/wsdt-client.h"

#define M_HANDSHAKE "/k8shelld.SystemService/Handshake"
#define M_SHELL "/k8shelld.SshService/Shell"
#define M_RESIZE "/k8shelld.SshService/ResizeTerminal"
#define M_EXEC "/k8shelld.SshService/Exec"
#define M_PORTFWD "/k8shelld.SshService/PortForward"
#define M_UNIXSOCK "/k8shelld.SshService/UnixSocket"

static const char *test_arg;

#define FAIL(...) do { fprintf(stderr, "FAIL %s:%d: ", __func__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); return 1; } while (0)
#define CHECK(cond, ...) do { if (!(cond)) FAIL(__VA_ARGS__); } while (0)

struct buf {
	uint8_t *p;
	size_t n, cap;
};

static void
buf_add(struct buf *b, const void *data, size_t len)
{
	if (b->n + len + 1 > b->cap) {
		b->cap = (b->n + len + 1) * 2;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, data, len);
	b->n += len;
	b->p[b->n] = '\0';
}

static const char *
buf_str(struct buf *b)
{
	return b->p != NULL ? (const char *)b->p : "";
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --- Exec helpers --- */

static struct wsdt_call *
exec_start(const char *id, const char *command, const char *shell, int use_pty,
    unsigned int w, unsigned int h, const char *as_user)
{
	const char *md[] = { "exec-id", id, NULL };
	K8shelld__ExecRequest req = K8SHELLD__EXEC_REQUEST__INIT;
	K8shelld__CommandDetails cd = K8SHELLD__COMMAND_DETAILS__INIT;
	char *env[] = { "WSDT_VAR=from-test", "LANG=C" };
	struct wsdt_call *c = wsdt_call_start(M_EXEC, id != NULL ? md : NULL, 60000);

	cd.command = (char *)command;
	cd.shell_binary = (char *)(shell != NULL ? shell : "");
	cd.as_user = (char *)(as_user != NULL ? as_user : "");
	cd.env_vars = env;
	cd.n_env_vars = 2;
	cd.use_pty = use_pty;
	cd.width = w;
	cd.height = h;
	req.request_case = K8SHELLD__EXEC_REQUEST__REQUEST_COMMAND_DETAILS;
	req.command_details = &cd;
	wsdt_send(c, &req.base);
	return c;
}

static void
exec_send_input(struct wsdt_call *c, const void *data, size_t len)
{
	K8shelld__ExecRequest req = K8SHELLD__EXEC_REQUEST__INIT;

	req.request_case = K8SHELLD__EXEC_REQUEST__REQUEST_INPUT;
	req.input.data = (uint8_t *)data;
	req.input.len = len;
	wsdt_send(c, &req.base);
}

static void
exec_send_signal(struct wsdt_call *c, const char *name)
{
	K8shelld__ExecRequest req = K8SHELLD__EXEC_REQUEST__INIT;

	req.request_case = K8SHELLD__EXEC_REQUEST__REQUEST_SIGNAL;
	req.signal = (char *)name;
	wsdt_send(c, &req.base);
}

struct exec_result {
	struct buf out, err;
	char pty[64];
	int code;		/* -1 when no exit_code arrived */
	int after_exit;		/* messages after exit_code (must be 0) */
	int status;
	char details[256];
};

/* Reads until stdout contains want (NULL: until the end), then the status if ended. */
static int
exec_collect(struct wsdt_call *c, struct exec_result *r, const char *want, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	K8shelld__ExecResponse *m;
	int ended;

	if (r->code == 0 && r->out.n == 0 && r->err.n == 0 && r->pty[0] == '\0')
		r->code = -1;
	while (now_ms() < end) {
		if (want != NULL && strstr(buf_str(&r->out), want) != NULL)
			return 0;
		m = (K8shelld__ExecResponse *)wsdt_recv(c, &k8shelld__exec_response__descriptor,
		    (int)(end - now_ms()), &ended);
		if (m == NULL) {
			if (!ended)
				return -1;
			r->status = wsdt_status(c, 5000);
			snprintf(r->details, sizeof(r->details), "%s",
			    c->details_str != NULL ? c->details_str : "");
			return want != NULL ? -1 : 0;
		}
		if (r->code != -1)
			r->after_exit++;
		switch (m->response_case) {
		case K8SHELLD__EXEC_RESPONSE__RESPONSE_STDOUT:
			buf_add(&r->out, m->stdout.data, m->stdout.len);
			break;
		case K8SHELLD__EXEC_RESPONSE__RESPONSE_STDERR:
			buf_add(&r->err, m->stderr.data, m->stderr.len);
			break;
		case K8SHELLD__EXEC_RESPONSE__RESPONSE_EXIT_CODE:
			r->code = m->exit_code;
			break;
		case K8SHELLD__EXEC_RESPONSE__RESPONSE_PTY:
			snprintf(r->pty, sizeof(r->pty), "%s", m->pty);
			break;
		default:
			break;
		}
		protobuf_c_message_free_unpacked(&m->base, NULL);
	}
	return -1;
}

static void
exec_result_free(struct exec_result *r)
{
	free(r->out.p);
	free(r->err.p);
}

/* Runs a command to the end with stdin closed at once. */
static int
exec_run(const char *id, const char *command, const char *shell, const char *as_user,
    struct exec_result *r)
{
	struct wsdt_call *c = exec_start(id, command, shell, 0, 0, 0, as_user);
	int rc;

	memset(r, 0, sizeof(*r));
	wsdt_close_send(c);
	rc = exec_collect(c, r, NULL, 20000);
	wsdt_call_free(c);
	return rc;
}

/* --- tests --- */

static int
t_handshake(void)
{
	K8shelld__HandshakeRequest req = K8SHELLD__HANDSHAKE_REQUEST__INIT;
	K8shelld__HandshakeResponse *resp;
	char *details;
	int st;

	st = wsdt_unary(M_HANDSHAKE, NULL, &req.base, &k8shelld__handshake_response__descriptor,
	    (ProtobufCMessage **)&resp, &details);
	CHECK(st == GRPC_STATUS_OK, "status %d (%s)", st, details);
	CHECK(resp->accepted == 1, "accepted %d", resp->accepted);
	CHECK(strncmp(resp->server_version, "workspaced/", 11) == 0, "version %s",
	    resp->server_version);
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	free(details);
	return 0;
}

/* Handshake against an instance started with --token-file: test_arg is the token. */
static int
t_auth(void)
{
	K8shelld__HandshakeRequest req = K8SHELLD__HANDSHAKE_REQUEST__INIT;
	ProtobufCMessage *resp;
	char good[512], *details;
	const char *md_good[] = { "authorization", good, NULL };
	const char *md_bad[] = { "authorization", "Bearer wrong-token", NULL };
	int st;

	snprintf(good, sizeof(good), "Bearer %s", test_arg);
	st = wsdt_unary(M_HANDSHAKE, NULL, &req.base, &k8shelld__handshake_response__descriptor,
	    &resp, &details);
	CHECK(st == GRPC_STATUS_UNAUTHENTICATED, "no token: status %d", st);
	free(details);
	st = wsdt_unary(M_HANDSHAKE, md_bad, &req.base, &k8shelld__handshake_response__descriptor,
	    &resp, &details);
	CHECK(st == GRPC_STATUS_UNAUTHENTICATED, "wrong token: status %d", st);
	free(details);
	st = wsdt_unary(M_HANDSHAKE, md_good, &req.base,
	    &k8shelld__handshake_response__descriptor, &resp, &details);
	CHECK(st == GRPC_STATUS_OK, "good token: status %d (%s)", st, details);
	CHECK(((K8shelld__HandshakeResponse *)resp)->accepted == 1, "not accepted");
	protobuf_c_message_free_unpacked(resp, NULL);
	free(details);
	return 0;
}

static int
t_exec_basic(void)
{
	struct exec_result r;

	CHECK(exec_run("ex-t-1-aa1", "echo hi; echo err >&2; exit 7", NULL, NULL, &r) == 0,
	    "no end");
	CHECK(r.status == GRPC_STATUS_OK, "status %d (%s)", r.status, r.details);
	CHECK(r.out.n == 3 && memcmp(r.out.p, "hi\n", 3) == 0, "stdout \"%s\"", buf_str(&r.out));
	CHECK(r.err.n == 4 && memcmp(r.err.p, "err\n", 4) == 0, "stderr \"%s\"", buf_str(&r.err));
	CHECK(r.code == 7, "exit_code %d", r.code);
	CHECK(r.after_exit == 0, "%d messages after exit_code", r.after_exit);
	CHECK(r.pty[0] == '\0', "pty \"%s\" without use_pty", r.pty);
	exec_result_free(&r);
	return 0;
}

/* Environment from env_vars, and the working directory is the user's home. */
static int
t_exec_env(void)
{
	struct exec_result r;
	char want[600];
	const char *home = getenv("HOME");

	CHECK(exec_run("ex-t-1-aa2", "printf '%s|%s|' \"$WSDT_VAR\" \"$LANG\"; pwd", NULL, NULL,
	    &r) == 0, "no end");
	CHECK(r.code == 0, "exit_code %d: %s", r.code, buf_str(&r.err));
	snprintf(want, sizeof(want), "from-test|C|%s\n", home != NULL ? home : "/root");
	CHECK(strcmp(buf_str(&r.out), want) == 0, "stdout \"%s\" want \"%s\"", buf_str(&r.out),
	    want);
	exec_result_free(&r);
	return 0;
}

static int
t_exec_exitcodes(void)
{
	struct exec_result r;

	CHECK(exec_run("ex-t-1-ab1", "exit 0", NULL, NULL, &r) == 0 && r.code == 0,
	    "exit 0 -> %d", r.code);
	exec_result_free(&r);
	CHECK(exec_run("ex-t-1-ab2", "exit 255", NULL, NULL, &r) == 0 && r.code == 255,
	    "exit 255 -> %d", r.code);
	exec_result_free(&r);
	CHECK(exec_run("ex-t-1-ab3", "kill -9 $$", NULL, NULL, &r) == 0 && r.code == 137,
	    "kill -9 -> %d", r.code);
	exec_result_free(&r);
	/* Spawn failures: one stderr line, then 127 / 126. */
	CHECK(exec_run("ex-t-1-ab4", "true", "/nonexistent/sh", NULL, &r) == 0, "no end");
	CHECK(r.code == 127, "missing shell -> %d", r.code);
	CHECK(strstr(buf_str(&r.err), "/nonexistent/sh") != NULL &&
	    strchr(buf_str(&r.err), '\n') == (char *)r.err.p + r.err.n - 1,
	    "stderr \"%s\"", buf_str(&r.err));
	CHECK(r.status == GRPC_STATUS_OK, "status %d", r.status);
	exec_result_free(&r);
	CHECK(exec_run("ex-t-1-ab5", "true", "/etc/hostname", NULL, &r) == 0, "no end");
	CHECK(r.code == 126, "non-executable shell -> %d", r.code);
	CHECK(strstr(buf_str(&r.err), "/etc/hostname") != NULL, "stderr \"%s\"", buf_str(&r.err));
	exec_result_free(&r);
	return 0;
}

static int
t_exec_ids(void)
{
	struct wsdt_call *a, *b;
	struct exec_result r;
	int st;

	/* Missing exec-id. */
	a = exec_start(NULL, "true", NULL, 0, 0, 0, NULL);
	st = wsdt_status(a, 10000);
	CHECK(st == GRPC_STATUS_INVALID_ARGUMENT, "no exec-id: status %d", st);
	wsdt_call_free(a);
	/* Duplicate live exec-id. */
	memset(&r, 0, sizeof(r));
	a = exec_start("ex-t-1-dup", "echo started; sleep 30", NULL, 0, 0, 0, NULL);
	CHECK(exec_collect(a, &r, "started\n", 10000) == 0, "first not started");
	b = exec_start("ex-t-1-dup", "true", NULL, 0, 0, 0, NULL);
	st = wsdt_status(b, 10000);
	CHECK(st == GRPC_STATUS_ALREADY_EXISTS, "duplicate: status %d", st);
	wsdt_call_free(b);
	exec_send_signal(a, "KILL");
	CHECK(exec_collect(a, &r, NULL, 10000) == 0, "first did not end");
	CHECK(r.code == 137, "KILL -> %d", r.code);
	wsdt_call_free(a);
	exec_result_free(&r);
	/* The id is free again once its call ended. */
	CHECK(exec_run("ex-t-1-dup", "exit 3", NULL, NULL, &r) == 0 && r.code == 3,
	    "reuse -> %d", r.code);
	exec_result_free(&r);
	return 0;
}

/* 1 MiB through `cat`, sent and received concurrently, stdin closed by half-close. */
static int
t_exec_stdin(void)
{
	const size_t total = 1 << 20, chunk = 16384;
	K8shelld__ExecRequest req = K8SHELLD__EXEC_REQUEST__INIT;
	struct wsdt_call *c = exec_start("ex-t-1-cat", "cat", NULL, 0, 0, 0, NULL);
	uint8_t *data = malloc(total);
	struct exec_result r;
	K8shelld__ExecResponse *m;
	size_t sent = 0, i;
	int closed = 0, ended = 0;
	uint64_t end = now_ms() + 30000;

	memset(&r, 0, sizeof(r));
	r.code = -1;
	srandom(7);
	for (i = 0; i < total; i++)
		data[i] = (uint8_t)random();
	req.request_case = K8SHELLD__EXEC_REQUEST__REQUEST_INPUT;
	while (!ended && now_ms() < end) {
		if (!c->send_busy && sent < total) {
			req.input.data = data + sent;
			req.input.len = chunk;
			wsdt_send_start(c, &req.base);
			sent += chunk;
		} else if (!c->send_busy && sent == total && !closed) {
			wsdt_close_send(c);
			closed = 1;
		}
		wsdt_recv_start(c);
		wsdt_pump(1000);
		while (wsdt_recv_take(c, &k8shelld__exec_response__descriptor,
		    (ProtobufCMessage **)&m)) {
			if (m == NULL) {
				ended = 1;
				break;
			}
			if (m->response_case == K8SHELLD__EXEC_RESPONSE__RESPONSE_STDOUT)
				buf_add(&r.out, m->stdout.data, m->stdout.len);
			else if (m->response_case == K8SHELLD__EXEC_RESPONSE__RESPONSE_EXIT_CODE)
				r.code = m->exit_code;
			protobuf_c_message_free_unpacked(&m->base, NULL);
		}
	}
	r.status = wsdt_status(c, 5000);
	wsdt_call_free(c);
	CHECK(ended, "stream did not end");
	CHECK(r.status == GRPC_STATUS_OK, "status %d", r.status);
	CHECK(r.code == 0, "exit_code %d", r.code);
	CHECK(r.out.n == total, "got %zu bytes of %zu", r.out.n, total);
	CHECK(memcmp(r.out.p, data, total) == 0, "data differs");
	free(data);
	exec_result_free(&r);
	return 0;
}

static int
t_exec_signal(void)
{
	struct wsdt_call *c = exec_start("ex-t-1-sig", "echo ready; sleep 100", NULL, 0, 0, 0, NULL);
	struct exec_result r;
	uint64_t t0;

	memset(&r, 0, sizeof(r));
	CHECK(exec_collect(c, &r, "ready\n", 10000) == 0, "not ready");
	t0 = now_ms();
	exec_send_signal(c, "TERM");
	CHECK(exec_collect(c, &r, NULL, 10000) == 0, "no end after TERM");
	CHECK(r.code == 143, "exit_code %d", r.code);
	CHECK(r.status == GRPC_STATUS_OK, "status %d", r.status);
	CHECK(now_ms() - t0 < 3000, "took %llu ms", (unsigned long long)(now_ms() - t0));
	wsdt_call_free(c);
	exec_result_free(&r);
	/* Unknown names mean TERM; INT reaches the whole group. */
	c = exec_start("ex-t-1-sig2", "echo ready; sleep 100", NULL, 0, 0, 0, NULL);
	memset(&r, 0, sizeof(r));
	CHECK(exec_collect(c, &r, "ready\n", 10000) == 0, "not ready");
	exec_send_signal(c, "NOSUCHSIG");
	CHECK(exec_collect(c, &r, NULL, 10000) == 0 && r.code == 143, "unknown -> %d", r.code);
	wsdt_call_free(c);
	exec_result_free(&r);
	c = exec_start("ex-t-1-sig3", "echo ready; sleep 100", NULL, 0, 0, 0, NULL);
	memset(&r, 0, sizeof(r));
	CHECK(exec_collect(c, &r, "ready\n", 10000) == 0, "not ready");
	exec_send_signal(c, "INT");
	CHECK(exec_collect(c, &r, NULL, 10000) == 0 && r.code == 130, "INT -> %d", r.code);
	wsdt_call_free(c);
	exec_result_free(&r);
	return 0;
}

static int
t_exec_pty(void)
{
	K8shelld__ExecRequest req = K8SHELLD__EXEC_REQUEST__INIT;
	K8shelld__TerminalSize ts = K8SHELLD__TERMINAL_SIZE__INIT;
	struct wsdt_call *c;
	struct exec_result r;

	memset(&r, 0, sizeof(r));
	c = exec_start("ex-t-1-pty", "tty; echo err >&2; stty size", NULL, 1, 100, 30, NULL);
	wsdt_close_send(c);
	CHECK(exec_collect(c, &r, NULL, 10000) == 0, "no end");
	CHECK(r.code == 0, "exit_code %d", r.code);
	CHECK(strncmp(r.pty, "/dev/pts/", 9) == 0, "pty \"%s\"", r.pty);
	CHECK(strncmp(buf_str(&r.out), r.pty, strlen(r.pty)) == 0, "tty printed \"%s\"",
	    buf_str(&r.out));
	/* stderr is merged into stdout on a pty; the line discipline adds \r. */
	CHECK(strstr(buf_str(&r.out), "err\r\n30 100\r\n") != NULL, "stdout \"%s\"", buf_str(&r.out));
	CHECK(r.err.n == 0, "stderr \"%s\"", buf_str(&r.err));
	wsdt_call_free(c);
	exec_result_free(&r);

	/* A resize message changes what the command sees. */
	memset(&r, 0, sizeof(r));
	c = exec_start("ex-t-1-pty2", "echo ready; read x; stty size", NULL, 1, 80, 24, NULL);
	CHECK(exec_collect(c, &r, "ready\r\n", 10000) == 0, "not ready: \"%s\"", buf_str(&r.out));
	ts.width = 120;
	ts.height = 40;
	req.request_case = K8SHELLD__EXEC_REQUEST__REQUEST_RESIZE;
	req.resize = &ts;
	wsdt_send(c, &req.base);
	exec_send_input(c, "\n", 1);
	CHECK(exec_collect(c, &r, NULL, 10000) == 0, "no end");
	CHECK(strstr(buf_str(&r.out), "40 120\r\n") != NULL, "stdout \"%s\"", buf_str(&r.out));
	CHECK(r.code == 0, "exit_code %d", r.code);
	wsdt_call_free(c);
	exec_result_free(&r);
	return 0;
}

/* Output of all sizes arrives whole and before the exit code. */
static int
t_exec_drain(void)
{
	struct exec_result r;

	CHECK(exec_run("ex-t-1-drn", "head -c 3000000 /dev/zero; head -c 100000 /dev/zero >&2; "
	    "exit 5", NULL, NULL, &r) == 0, "no end");
	CHECK(r.out.n == 3000000, "stdout %zu bytes", r.out.n);
	CHECK(r.err.n == 100000, "stderr %zu bytes", r.err.n);
	CHECK(r.code == 5 && r.after_exit == 0, "exit_code %d, %d after", r.code, r.after_exit);
	exec_result_free(&r);
	/* A background child holding stdout does not hold back the exit code for long. */
	CHECK(exec_run("ex-t-1-drn2", "sleep 30 & echo bg", NULL, NULL, &r) == 0, "no end");
	CHECK(strcmp(buf_str(&r.out), "bg\n") == 0 && r.code == 0, "out \"%s\" code %d",
	    buf_str(&r.out), r.code);
	exec_result_free(&r);
	return 0;
}

/* Cancel mid-exec: the command and its background child are gone afterwards. */
static int
t_exec_cancel(void)
{
	struct wsdt_call *c = exec_start("ex-t-1-cxl", "sleep 100 & echo $$ $!; wait", NULL, 0, 0,
	    0, NULL);
	struct exec_result r;
	int sh = 0, bg = 0;
	uint64_t end;

	memset(&r, 0, sizeof(r));
	CHECK(exec_collect(c, &r, "\n", 10000) == 0, "no pids");
	CHECK(sscanf(buf_str(&r.out), "%d %d", &sh, &bg) == 2 && sh > 1 && bg > 1,
	    "pids \"%s\"", buf_str(&r.out));
	CHECK(kill(sh, 0) == 0 && kill(bg, 0) == 0, "not running before the cancel");
	wsdt_cancel(c);
	wsdt_call_free(c);
	end = now_ms() + 5000;
	while ((kill(sh, 0) == 0 || kill(bg, 0) == 0) && now_ms() < end)
		usleep(50000);
	CHECK(kill(sh, 0) < 0 && errno == ESRCH, "shell %d still there", sh);
	CHECK(kill(bg, 0) < 0 && errno == ESRCH, "background %d still there", bg);
	exec_result_free(&r);

	/* A process ignoring SIGHUP is SIGKILLed after the grace. */
	c = exec_start("ex-t-1-cxl2", "trap '' HUP; echo $$; while :; do sleep 1; done", NULL, 0,
	    0, 0, NULL);
	memset(&r, 0, sizeof(r));
	CHECK(exec_collect(c, &r, "\n", 10000) == 0, "no pid");
	sh = atoi(buf_str(&r.out));
	CHECK(sh > 1, "pid \"%s\"", buf_str(&r.out));
	wsdt_cancel(c);
	wsdt_call_free(c);
	end = now_ms() + 5000;
	while (kill(sh, 0) == 0 && now_ms() < end)
		usleep(50000);
	CHECK(kill(sh, 0) < 0 && errno == ESRCH, "HUP-ignoring %d still there", sh);
	exec_result_free(&r);
	return 0;
}

static int
t_exec_user(void)
{
	struct wsdt_call *c;
	struct exec_result r;

	if (geteuid() == 0) {
		/* nobody has no login shell: name one. */
		CHECK(exec_run("ex-t-1-usr", "id -un; pwd", "/bin/sh", "nobody", &r) == 0, "no end");
		CHECK(r.code == 0, "exit %d: %s%s", r.code, buf_str(&r.out), buf_str(&r.err));
		CHECK(strncmp(buf_str(&r.out), "nobody\n", 7) == 0, "out \"%s\"", buf_str(&r.out));
		exec_result_free(&r);
		/* Its pty is its own. */
		c = exec_start("ex-t-1-usr3", "stat -c %U \"$(tty)\"", "/bin/sh", 1, 80, 24, "nobody");
		wsdt_close_send(c);
		memset(&r, 0, sizeof(r));
		CHECK(exec_collect(c, &r, NULL, 10000) == 0, "no end");
		CHECK(strcmp(buf_str(&r.out), "nobody\r\n") == 0 && r.code == 0, "pty owner \"%s\"",
		    buf_str(&r.out));
		wsdt_call_free(c);
		exec_result_free(&r);
	} else {
		c = exec_start("ex-t-1-usr", "id -un", NULL, 0, 0, 0, "root");
		CHECK(wsdt_status(c, 10000) == GRPC_STATUS_PERMISSION_DENIED, "status %d",
		    (int)c->status);
		wsdt_call_free(c);
	}
	c = exec_start("ex-t-1-usr2", "true", NULL, 0, 0, 0, "no-such-user-wsdt");
	CHECK(wsdt_status(c, 10000) == GRPC_STATUS_NOT_FOUND, "unknown user: status %d",
	    (int)c->status);
	wsdt_call_free(c);
	return 0;
}

/* Against a workspaced that is not root (test_arg: the user it runs as). */
static int
t_exec_user_nonroot(void)
{
	struct wsdt_call *c;
	struct exec_result r;
	char want[64];

	CHECK(test_arg != NULL, "needs the daemon's user name");
	c = exec_start("ex-t-1-nr1", "id -un", "/bin/sh", 0, 0, 0, "root");
	CHECK(wsdt_status(c, 10000) == GRPC_STATUS_PERMISSION_DENIED, "as root: status %d",
	    (int)c->status);
	wsdt_call_free(c);
	CHECK(exec_run("ex-t-1-nr2", "id -un", "/bin/sh", NULL, &r) == 0, "no end");
	snprintf(want, sizeof(want), "%s\n", test_arg);
	CHECK(strcmp(buf_str(&r.out), want) == 0 && r.code == 0, "id -un \"%s\" code %d",
	    buf_str(&r.out), r.code);
	exec_result_free(&r);
	CHECK(exec_run("ex-t-1-nr3", "id -un", "/bin/sh", test_arg, &r) == 0, "no end");
	CHECK(strcmp(buf_str(&r.out), want) == 0 && r.code == 0, "as itself: \"%s\"",
	    buf_str(&r.out));
	exec_result_free(&r);
	return 0;
}

/* --- Shell --- */

static struct wsdt_call *
shell_start(const char *id, int pty, const char *term)
{
	const char *md[] = { "session-id", id, NULL };
	K8shelld__ShellRequest req = K8SHELLD__SHELL_REQUEST__INIT;
	K8shelld__ShellStartRequest st = K8SHELLD__SHELL_START_REQUEST__INIT;
	char termvar[64], *env[2];
	struct wsdt_call *c = wsdt_call_start(M_SHELL, id != NULL ? md : NULL, 60000);

	snprintf(termvar, sizeof(termvar), "TERM=%s", term);
	env[0] = termvar;
	env[1] = "USER=wsdt";
	st.cmdshell = "/bin/sh";
	st.setenvvars = env;
	st.n_setenvvars = 2;
	st.usepty = pty;
	st.width = 80;
	st.height = 24;
	req.request_case = K8SHELLD__SHELL_REQUEST__REQUEST_START_REQUEST;
	req.start_request = &st;
	wsdt_send(c, &req.base);
	return c;
}

static void
shell_send(struct wsdt_call *c, const char *s)
{
	K8shelld__ShellRequest req = K8SHELLD__SHELL_REQUEST__INIT;

	req.request_case = K8SHELLD__SHELL_REQUEST__REQUEST_DATA;
	req.data.data = (uint8_t *)s;
	req.data.len = strlen(s);
	wsdt_send(c, &req.base);
}

struct shell_result {
	char pty[64];
	int started;
	struct buf out;
	int terminated;
	int after_terminate;
	int status;
};

static int
shell_collect(struct wsdt_call *c, struct shell_result *r, const char *want, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	K8shelld__ShellResponse *m;
	int ended;

	while (now_ms() < end) {
		if (want != NULL && strstr(buf_str(&r->out), want) != NULL)
			return 0;
		m = (K8shelld__ShellResponse *)wsdt_recv(c, &k8shelld__shell_response__descriptor,
		    (int)(end - now_ms()), &ended);
		if (m == NULL) {
			if (!ended)
				return -1;
			r->status = wsdt_status(c, 5000);
			return want != NULL ? -1 : 0;
		}
		if (r->terminated)
			r->after_terminate++;
		switch (m->response_case) {
		case K8SHELLD__SHELL_RESPONSE__RESPONSE_START_RESPONSE:
			r->started++;
			snprintf(r->pty, sizeof(r->pty), "%s", m->start_response->pty);
			break;
		case K8SHELLD__SHELL_RESPONSE__RESPONSE_DATA:
			buf_add(&r->out, m->data.data, m->data.len);
			break;
		case K8SHELLD__SHELL_RESPONSE__RESPONSE_TERMINATE:
			r->terminated = m->terminate;
			break;
		default:
			break;
		}
		protobuf_c_message_free_unpacked(&m->base, NULL);
	}
	return -1;
}

static int
t_shell_pty(void)
{
	struct wsdt_call *c = shell_start("sh-t-1-pty", 1, "xterm-wsdt");
	struct shell_result r;

	memset(&r, 0, sizeof(r));
	shell_send(c, "echo \"T=$TERM\"; exit\n");
	CHECK(shell_collect(c, &r, NULL, 15000) == 0, "no end: \"%s\"", buf_str(&r.out));
	CHECK(r.started == 1, "start_response %d", r.started);
	CHECK(strncmp(r.pty, "/dev/pts/", 9) == 0, "pty \"%s\"", r.pty);
	CHECK(strstr(buf_str(&r.out), "T=xterm-wsdt\r\n") != NULL, "output \"%s\"", buf_str(&r.out));
	CHECK(r.terminated == 1 && r.after_terminate == 0, "terminate %d, %d after", r.terminated,
	    r.after_terminate);
	CHECK(r.status == GRPC_STATUS_OK, "status %d", r.status);
	wsdt_call_free(c);
	free(r.out.p);
	return 0;
}

static int
t_shell_pipe(void)
{
	struct wsdt_call *c = shell_start("sh-t-1-pip", 0, "dumb");
	struct shell_result r;

	memset(&r, 0, sizeof(r));
	shell_send(c, "echo out; echo err >&2; echo \"$USER\"\n");
	wsdt_close_send(c);
	CHECK(shell_collect(c, &r, NULL, 15000) == 0, "no end: \"%s\"", buf_str(&r.out));
	CHECK(r.started == 1 && r.pty[0] == '\0', "start %d pty \"%s\"", r.started, r.pty);
	CHECK(strstr(buf_str(&r.out), "out\n") != NULL && strstr(buf_str(&r.out), "err\n") != NULL &&
	    strstr(buf_str(&r.out), "wsdt\n") != NULL, "output \"%s\"", buf_str(&r.out));
	CHECK(r.terminated == 1 && r.status == GRPC_STATUS_OK, "terminate %d status %d",
	    r.terminated, r.status);
	wsdt_call_free(c);
	free(r.out.p);
	/* session-id is required. */
	c = shell_start(NULL, 0, "dumb");
	CHECK(wsdt_status(c, 10000) == GRPC_STATUS_INVALID_ARGUMENT, "no session-id: %d",
	    (int)c->status);
	wsdt_call_free(c);
	return 0;
}

/* Cancel mid-shell: a job in its own process group that ignores SIGHUP is gone too. */
static int
t_shell_cancel(void)
{
	struct wsdt_call *c = shell_start("sh-t-1-cxl", 1, "xterm");
	struct shell_result r;
	const char *p;
	int job = 0;
	uint64_t end;

	memset(&r, 0, sizeof(r));
	shell_send(c, "(trap '' HUP; exec sleep 300) & echo \"JOB=$!=\"\n");
	CHECK(shell_collect(c, &r, "=\r\n", 15000) == 0, "no job pid: \"%s\"", buf_str(&r.out));
	p = strstr(buf_str(&r.out), "JOB=");
	while (p != NULL && p[4] == '$')
		p = strstr(p + 4, "JOB=");	/* skip the echoed command line */
	CHECK(p != NULL && (job = atoi(p + 4)) > 1, "job pid in \"%s\"", buf_str(&r.out));
	CHECK(kill(job, 0) == 0, "job %d not running", job);
	wsdt_cancel(c);
	wsdt_call_free(c);
	end = now_ms() + 5000;
	while (kill(job, 0) == 0 && now_ms() < end)
		usleep(50000);
	CHECK(kill(job, 0) < 0 && errno == ESRCH, "job %d survived the shell", job);
	free(r.out.p);
	return 0;
}

static int
resize(const char *id, unsigned int w, unsigned int h)
{
	const char *md[] = { "session-id", id, NULL };
	K8shelld__ResizeTerminalRequest req = K8SHELLD__RESIZE_TERMINAL_REQUEST__INIT;
	ProtobufCMessage *resp;
	int st;

	req.width = w;
	req.height = h;
	st = wsdt_unary(M_RESIZE, id != NULL ? md : NULL, &req.base,
	    &k8shelld__resize_terminal_response__descriptor, &resp, NULL);
	if (resp != NULL)
		protobuf_c_message_free_unpacked(resp, NULL);
	return st;
}

static int
t_shell_resize(void)
{
	struct wsdt_call *c = shell_start("sh-t-1-rsz", 1, "xterm");
	struct shell_result r;
	int st;

	memset(&r, 0, sizeof(r));
	shell_send(c, "echo READY\n");
	CHECK(shell_collect(c, &r, "READY\r\n", 15000) == 0, "not ready: \"%s\"", buf_str(&r.out));
	st = resize("sh-t-1-rsz", 132, 43);
	CHECK(st == GRPC_STATUS_OK, "resize status %d", st);
	shell_send(c, "stty size; exit\n");
	CHECK(shell_collect(c, &r, NULL, 15000) == 0, "no end");
	CHECK(strstr(buf_str(&r.out), "43 132\r\n") != NULL, "output \"%s\"", buf_str(&r.out));
	CHECK(r.terminated == 1, "no terminate");
	wsdt_call_free(c);
	free(r.out.p);
	st = resize("sh-t-1-none", 10, 10);
	CHECK(st == GRPC_STATUS_NOT_FOUND, "unknown session: %d", st);
	st = resize(NULL, 10, 10);
	CHECK(st == GRPC_STATUS_INVALID_ARGUMENT, "no session-id: %d", st);
	return 0;
}

/* --- echo servers for the forwarding tests --- */

static void *
echo_thread(void *arg)
{
	int lfd = (int)(intptr_t)arg, fd;
	char b[65536];
	ssize_t n;

	while ((fd = accept(lfd, NULL, NULL)) >= 0) {
		while ((n = read(fd, b, sizeof(b))) > 0)
			if (write(fd, b, (size_t)n) != n)
				break;
		close(fd);
	}
	return NULL;
}

static int
echo_tcp(int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	pthread_t t;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		return -1;
	*port = ntohs(sin.sin_port);
	pthread_create(&t, NULL, echo_thread, (void *)(intptr_t)fd);
	pthread_detach(t);
	return 0;
}

static int
unix_listen_at(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 8) < 0)
		return -1;
	return fd;
}

static int
unix_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends data over a PortForward/UnixSocket stream (both use field 2 for data)
 * and expects the same bytes back (field 1). */
static int
stream_roundtrip(struct wsdt_call *c, const ProtobufCMessageDescriptor *reqd,
    const ProtobufCMessageDescriptor *respd, size_t total)
{
	uint8_t *data = malloc(total);
	struct buf got = { NULL, 0, 0 };
	size_t sent = 0, i, chunk = 10000;
	uint64_t end = now_ms() + 20000;
	ProtobufCMessage *m;
	uint8_t msgbuf[10100];
	int rc = -1;

	for (i = 0; i < total; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	while (got.n < total && now_ms() < end) {
		if (!c->send_busy && sent < total) {
			/* oneof data = 2 in both request types: frame by hand. */
			size_t n = total - sent < chunk ? total - sent : chunk, h = 0, v = n;
			grpc_slice s;
			grpc_op op;

			msgbuf[h++] = (2 << 3) | 2;
			for (; v >= 0x80; v >>= 7)
				msgbuf[h++] = (uint8_t)(v | 0x80);
			msgbuf[h++] = (uint8_t)v;
			memcpy(msgbuf + h, data + sent, n);
			s = grpc_slice_from_copied_buffer((const char *)msgbuf, h + n);
			c->send_bb = grpc_raw_byte_buffer_create(&s, 1);
			grpc_slice_unref(s);
			memset(&op, 0, sizeof(op));
			op.op = GRPC_OP_SEND_MESSAGE;
			op.data.send_message.send_message = c->send_bb;
			grpc_call_start_batch(c->gcall, &op, 1, &c->t_send, NULL);
			c->send_busy = 1;
			sent += n;
		}
		wsdt_recv_start(c);
		wsdt_pump(1000);
		while (wsdt_recv_take(c, respd, &m)) {
			if (m == NULL)
				goto out;
			/* PortForwardResponse and UnixSocketResponse: bytes data = 1. */
			buf_add(&got, ((K8shelld__PortForwardResponse *)m)->data.data,
			    ((K8shelld__PortForwardResponse *)m)->data.len);
			protobuf_c_message_free_unpacked(m, NULL);
		}
	}
	rc = got.n == total && memcmp(got.p, data, total) == 0 ? 0 : -1;
	if (rc < 0)
		fprintf(stderr, "roundtrip: got %zu of %zu bytes\n", got.n, total);
out:
	(void)reqd;
	free(data);
	free(got.p);
	return rc;
}

static int
t_portfwd(void)
{
	const char *md[] = { "portforward-id", "pf-t-1-aa1", NULL };
	K8shelld__PortForwardRequest req = K8SHELLD__PORT_FORWARD_REQUEST__INIT;
	K8shelld__Destination dest = K8SHELLD__DESTINATION__INIT;
	struct wsdt_call *c;
	int port, st, closed_port;

	CHECK(echo_tcp(&port) == 0, "echo server");
	c = wsdt_call_start(M_PORTFWD, md, 30000);
	dest.ip = "127.0.0.1";
	dest.port = (uint32_t)port;
	req.request_case = K8SHELLD__PORT_FORWARD_REQUEST__REQUEST_DESTINATION;
	req.destination = &dest;
	wsdt_send(c, &req.base);
	CHECK(stream_roundtrip(c, &k8shelld__port_forward_request__descriptor,
	    &k8shelld__port_forward_response__descriptor, 300000) == 0, "roundtrip");
	wsdt_close_send(c);
	st = wsdt_status(c, 10000);
	CHECK(st == GRPC_STATUS_OK, "status %d", st);
	wsdt_call_free(c);

	/* Empty ip means localhost (a name: resolved off the loop). */
	c = wsdt_call_start(M_PORTFWD, md, 30000);
	dest.ip = "";
	wsdt_send(c, &req.base);
	CHECK(stream_roundtrip(c, &k8shelld__port_forward_request__descriptor,
	    &k8shelld__port_forward_response__descriptor, 1000) == 0, "roundtrip localhost");
	wsdt_close_send(c);
	CHECK(wsdt_status(c, 10000) == GRPC_STATUS_OK, "status %d", (int)c->status);
	wsdt_call_free(c);

	/* A closed port: UNAVAILABLE with the errno text. */
	CHECK(echo_tcp(&closed_port) == 0, "second listener");
	{
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sin;

		/* Find a port nobody listens on: bind, then close without listening. */
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		socklen_t len = sizeof(sin);
		bind(fd, (struct sockaddr *)&sin, sizeof(sin));
		getsockname(fd, (struct sockaddr *)&sin, &len);
		closed_port = ntohs(sin.sin_port);
		close(fd);
	}
	c = wsdt_call_start(M_PORTFWD, md, 30000);
	dest.ip = "127.0.0.1";
	dest.port = (uint32_t)closed_port;
	wsdt_send(c, &req.base);
	st = wsdt_status(c, 10000);
	CHECK(st == GRPC_STATUS_UNAVAILABLE, "closed port: status %d", st);
	CHECK(strstr(c->details_str, "Connection refused") != NULL, "details \"%s\"",
	    c->details_str);
	wsdt_call_free(c);
	return 0;
}

static int
unixsock_start_req(struct wsdt_call *c, int mode, const char *path)
{
	K8shelld__UnixSocketRequest req = K8SHELLD__UNIX_SOCKET_REQUEST__INIT;
	K8shelld__UnixSocketStartRequest st = K8SHELLD__UNIX_SOCKET_START_REQUEST__INIT;

	st.mode = mode;
	st.socketpath = (char *)path;
	req.request_case = K8SHELLD__UNIX_SOCKET_REQUEST__REQUEST_START_REQUEST;
	req.start_request = &st;
	return wsdt_send(c, &req.base);
}

static int
t_unix_dial(void)
{
	const char *md[] = { "unixsocket-id", "ux-t-1-aa1", NULL };
	char dir[] = "/tmp/wsdt-XXXXXX", path[96];
	struct wsdt_call *c;
	pthread_t t;
	int lfd, st;

	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof(path), "%s/echo.sock", dir);
	CHECK((lfd = unix_listen_at(path)) >= 0, "listen %s", path);
	pthread_create(&t, NULL, echo_thread, (void *)(intptr_t)lfd);
	pthread_detach(t);
	c = wsdt_call_start(M_UNIXSOCK, md, 30000);
	unixsock_start_req(c, K8SHELLD__UNIX_SOCKET_MODE__UNIX_SOCKET_MODE_DIAL, path);
	CHECK(stream_roundtrip(c, &k8shelld__unix_socket_request__descriptor,
	    &k8shelld__unix_socket_response__descriptor, 200000) == 0, "roundtrip");
	wsdt_close_send(c);
	st = wsdt_status(c, 10000);
	CHECK(st == GRPC_STATUS_OK, "status %d", st);
	wsdt_call_free(c);
	/* A path nobody listens on. */
	c = wsdt_call_start(M_UNIXSOCK, md, 30000);
	snprintf(path, sizeof(path), "%s/none.sock", dir);
	unixsock_start_req(c, K8SHELLD__UNIX_SOCKET_MODE__UNIX_SOCKET_MODE_DIAL, path);
	st = wsdt_status(c, 10000);
	CHECK(st == GRPC_STATUS_UNAVAILABLE, "missing socket: status %d", st);
	wsdt_call_free(c);
	snprintf(path, sizeof(path), "%s/echo.sock", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

/* LISTEN: local clients connect in turn; each one's bytes travel the same stream. */
static int
t_unix_listen(void)
{
	const char *md[] = { "unixsocket-id", "ux-t-1-aa2", NULL };
	K8shelld__UnixSocketRequest req = K8SHELLD__UNIX_SOCKET_REQUEST__INIT;
	K8shelld__UnixSocketResponse *m;
	char dir[] = "/tmp/wsdt-XXXXXX", path[96], b[64];
	struct wsdt_call *c;
	struct stat stbuf;
	uint64_t end;
	int fd, round, ended, st;
	ssize_t n;

	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof(path), "%s/agent.sock", dir);
	/* A regular file at the path is never deleted. */
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	c = wsdt_call_start(M_UNIXSOCK, md, 30000);
	unixsock_start_req(c, K8SHELLD__UNIX_SOCKET_MODE__UNIX_SOCKET_MODE_LISTEN, path);
	st = wsdt_status(c, 10000);
	CHECK(st == GRPC_STATUS_UNAVAILABLE && strstr(c->details_str, "File exists") != NULL,
	    "over a file: status %d \"%s\"", st, c->details_str);
	wsdt_call_free(c);
	CHECK(stat(path, &stbuf) == 0 && S_ISREG(stbuf.st_mode), "the file is gone");
	unlink(path);
	/* A stale socket is replaced. */
	fd = unix_listen_at(path);
	close(fd);
	c = wsdt_call_start(M_UNIXSOCK, md, 30000);
	unixsock_start_req(c, K8SHELLD__UNIX_SOCKET_MODE__UNIX_SOCKET_MODE_LISTEN, path);
	end = now_ms() + 5000;
	/* The stale socket (mode 0755 from our umask) gives way to a 0700 one. */
	while ((stat(path, &stbuf) < 0 || !S_ISSOCK(stbuf.st_mode) ||
	    (stbuf.st_mode & 0777) != 0700) && now_ms() < end)
		wsdt_pump(20);
	CHECK(S_ISSOCK(stbuf.st_mode), "no socket at %s", path);
	CHECK((stbuf.st_mode & 0777) == 0700, "mode %o", stbuf.st_mode & 0777);
	for (round = 1; round <= 2; round++) {
		char ping[16], pong[16];

		snprintf(ping, sizeof(ping), "ping%d", round);
		snprintf(pong, sizeof(pong), "pong%d", round);
		CHECK((fd = unix_connect(path)) >= 0, "connect %s: %s", path, strerror(errno));
		CHECK(write(fd, ping, strlen(ping)) == (ssize_t)strlen(ping), "write");
		m = (K8shelld__UnixSocketResponse *)wsdt_recv(c,
		    &k8shelld__unix_socket_response__descriptor, 5000, &ended);
		CHECK(m != NULL, "nothing relayed in round %d", round);
		CHECK(m->data.len == strlen(ping) && memcmp(m->data.data, ping, m->data.len) == 0,
		    "relayed %.*s", (int)m->data.len, m->data.data);
		protobuf_c_message_free_unpacked(&m->base, NULL);
		req.request_case = K8SHELLD__UNIX_SOCKET_REQUEST__REQUEST_DATA;
		req.data.data = (uint8_t *)pong;
		req.data.len = strlen(pong);
		wsdt_send(c, &req.base);
		n = read(fd, b, sizeof(b));
		CHECK(n == (ssize_t)strlen(pong) && memcmp(b, pong, (size_t)n) == 0,
		    "client read %zd", n);
		close(fd);
	}
	wsdt_close_send(c);
	st = wsdt_status(c, 10000);
	CHECK(st == GRPC_STATUS_OK, "status %d", st);
	wsdt_call_free(c);
	end = now_ms() + 2000;
	while (stat(path, &stbuf) == 0 && now_ms() < end)
		usleep(20000);
	CHECK(stat(path, &stbuf) < 0 && errno == ENOENT, "socket file left behind");
	rmdir(dir);
	return 0;
}

/* Not a pass/fail test: MB/s of `head -c SIZE /dev/zero` through Exec. */
static int
t_bench_exec(void)
{
	size_t size = test_arg != NULL ? strtoull(test_arg, NULL, 0) : (256u << 20);
	char cmd[128];
	struct wsdt_call *c;
	struct exec_result r;
	uint64_t t0;

	/* BENCH_CMD (e.g. dd with big blocks) must print exactly SIZE bytes. */
	if (getenv("BENCH_CMD") != NULL)
		snprintf(cmd, sizeof(cmd), "%s", getenv("BENCH_CMD"));
	else
		snprintf(cmd, sizeof(cmd), "head -c %zu /dev/zero", size);
	t0 = now_ms();
	c = exec_start("ex-t-1-bench", cmd, NULL, 0, 0, 0, NULL);
	wsdt_close_send(c);
	memset(&r, 0, sizeof(r));
	r.code = -1;
	{
		K8shelld__ExecResponse *m;
		int ended;
		size_t got = 0;

		while ((m = (K8shelld__ExecResponse *)wsdt_recv(c,
		    &k8shelld__exec_response__descriptor, 60000, &ended)) != NULL) {
			if (m->response_case == K8SHELLD__EXEC_RESPONSE__RESPONSE_STDOUT)
				got += m->stdout.len;
			else if (m->response_case == K8SHELLD__EXEC_RESPONSE__RESPONSE_EXIT_CODE)
				r.code = m->exit_code;
			protobuf_c_message_free_unpacked(&m->base, NULL);
		}
		CHECK(got == size && r.code == 0, "got %zu code %d", got, r.code);
	}
	printf("exec download %zu bytes: %.1f MB/s\n", size,
	    (double)size / 1e6 / ((double)(now_ms() - t0) / 1000.0));
	wsdt_call_free(c);
	return 0;
}

/* Not a pass/fail test: MB/s of SIZE bytes sent in 32 KiB inputs to `wc -c`. */
static int
t_bench_upload(void)
{
	size_t size = test_arg != NULL ? strtoull(test_arg, NULL, 0) : (256u << 20);
	const size_t chunk = 32768;
	K8shelld__ExecRequest req = K8SHELLD__EXEC_REQUEST__INIT;
	struct wsdt_call *c;
	struct exec_result r;
	uint8_t *data = calloc(1, chunk);
	size_t sent = 0;
	uint64_t t0 = now_ms();
	char want[32];

	c = exec_start("ex-t-1-up", "wc -c", NULL, 0, 0, 0, NULL);
	req.request_case = K8SHELLD__EXEC_REQUEST__REQUEST_INPUT;
	req.input.data = data;
	while (sent < size) {
		req.input.len = size - sent < chunk ? size - sent : chunk;
		wsdt_send(c, &req.base);
		sent += req.input.len;
	}
	wsdt_close_send(c);
	memset(&r, 0, sizeof(r));
	CHECK(exec_collect(c, &r, NULL, 60000) == 0, "no end");
	snprintf(want, sizeof(want), "%zu\n", size);
	CHECK(strcmp(buf_str(&r.out), want) == 0 && r.code == 0, "wc said \"%s\"", buf_str(&r.out));
	printf("exec upload %zu bytes: %.1f MB/s\n", size,
	    (double)size / 1e6 / ((double)(now_ms() - t0) / 1000.0));
	wsdt_call_free(c);
	exec_result_free(&r);
	free(data);
	return 0;
}

/* Not a pass/fail test: round trips of one byte through `cat`. */
static int
t_bench_rtt(void)
{
	struct wsdt_call *c = exec_start("ex-t-1-rtt", "cat", NULL, 0, 0, 0, NULL);
	K8shelld__ExecResponse *m;
	uint64_t t0;
	int i, n = 2000, ended;

	t0 = now_ms();
	for (i = 0; i < n; i++) {
		exec_send_input(c, "x", 1);
		m = (K8shelld__ExecResponse *)wsdt_recv(c, &k8shelld__exec_response__descriptor,
		    5000, &ended);
		CHECK(m != NULL && m->stdout.len == 1, "no echo");
		protobuf_c_message_free_unpacked(&m->base, NULL);
	}
	printf("exec rtt: %.1f us\n", (double)(now_ms() - t0) * 1000.0 / n);
	wsdt_cancel(c);
	wsdt_call_free(c);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(void);
} tests[] = {
	{ "bench-rtt", t_bench_rtt },
	{ "bench-upload", t_bench_upload },
	{ "handshake", t_handshake },
	{ "auth", t_auth },
	{ "exec-basic", t_exec_basic },
	{ "exec-env", t_exec_env },
	{ "exec-exitcodes", t_exec_exitcodes },
	{ "exec-ids", t_exec_ids },
	{ "exec-stdin", t_exec_stdin },
	{ "exec-signal", t_exec_signal },
	{ "exec-pty", t_exec_pty },
	{ "exec-drain", t_exec_drain },
	{ "exec-cancel", t_exec_cancel },
	{ "exec-user", t_exec_user },
	{ "exec-user-nonroot", t_exec_user_nonroot },
	{ "shell-pty", t_shell_pty },
	{ "shell-pipe", t_shell_pipe },
	{ "shell-resize", t_shell_resize },
	{ "shell-cancel", t_shell_cancel },
	{ "portforward", t_portfwd },
	{ "unix-dial", t_unix_dial },
	{ "unix-listen", t_unix_listen },
	{ "bench-exec", t_bench_exec },
};

int
main(int argc, char **argv)
{
	size_t i;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: wsd-test ADDR TEST [ARG]\n");
		return 2;
	}
	test_arg = argc > 3 ? argv[3] : NULL;
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (strcmp(tests[i].name, argv[2]) != 0)
			continue;
		wsdt_init(argv[1]);
		rc = tests[i].fn();
		wsdt_shutdown();
		return rc;
	}
	fprintf(stderr, "wsd-test: unknown test %s\n", argv[2]);
	return 2;
}
