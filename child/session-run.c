/* A session channel's workspace side: the Shell or Exec stream (spec k8shelld.md),
 * the stdin pump (SSH -> gRPC) and the output pump (gRPC -> SSH), both bounded. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/status.h>

#include "child/agent.h"
#include "child/session.h"
#include "child/workspace.h"
#include "daemon/config.h"
#include "daemon/log.h"
#include "proto/k8shelld.pb-c.h"

/*
 * Re-entrancy: an SSH write may poll the whole loop (libssh flushes through
 * ssh_handle_packets), which runs gRPC completions and other channels' SSH
 * callbacks. So every callback here only records state and calls
 * channel_wake(); SSH writes happen in session_run() alone, which re-reads
 * state after each write.
 */

#define SESSION_PREFIX	"ssh-proxy: "

/* The bytes fields of k8shelld.proto: what goes through without a pack. */
#define SHELL_REQ_DATA	3	/* ShellRequest.data */
#define SHELL_RESP_DATA	2	/* ShellResponse.data */
#define EXEC_REQ_INPUT	2	/* ExecRequest.input */
#define EXEC_RESP_STDOUT 1	/* ExecResponse.stdout */
#define EXEC_RESP_STDERR 2	/* ExecResponse.stderr */

static const char *
what_name(enum session_what w)
{
	switch (w) {
	case SESSION_SHELL:
		return "shell";
	case SESSION_EXEC:
		return "exec";
	case SESSION_SFTP:
		return "sftp";
	default:
		return "session";
	}
}

static void
session_fail(struct session *st, const char *msg)
{
	if (!st->failing) {
		st->failing = true;
		snprintf(st->fail, sizeof(st->fail), "%s", msg);
	}
	channel_wake(st->ch);
}

/* Done with the message being written: the one held behind it takes its place. */
static void
out_clear(struct session *st)
{
	grpcc_data_free(st->out);
	st->out = st->next;
	st->out_stderr = st->next_stderr;
	st->next = NULL;
}

/* One receive in flight, none while two messages are held, none after the
 * exit code or the end (the status follows). */
static void
recv_next(struct session *st)
{
	int r;

	if (st->call == NULL || st->recv_armed || st->next != NULL || st->have_exit || st->ended)
		return;
	/* GRPCC_ERR_STATE: the call ended, on_status follows. */
	if ((r = gcall_recv_start(st->call)) == 0)
		st->recv_armed = true;
	else if (r != GRPCC_ERR_STATE)
		log_debug("%s: gcall_recv_start: %s", st->ch->id, grpcc_strerror(r));
}

/* Output (taken) to write to the client. The next message is fetched while
 * this one is written (the write happens in session_run). */
static void
out_set(struct session *st, struct grpcc_data *d, bool err)
{
	size_t len = grpcc_data_len(d);

	workspace_count(st->ch->c, 0, len);
	if (len == 0)
		grpcc_data_free(d);
	else if (st->out == NULL) {
		st->out = d;
		st->out_stderr = err;
	} else {
		st->next = d;
		st->next_stderr = err;
	}
	recv_next(st);
	channel_wake(st->ch);
}

/* The same for output that came in an unpacked message (msg taken). */
static void
out_set_msg(struct session *st, ProtobufCMessage *msg, uint32_t field, const uint8_t *p,
    size_t len, bool err)
{
	struct grpcc_data *d;

	if (grpcc_data_wrap(msg, field, p, len, &d) != 0) {
		grpcc_msg_free(msg);
		log_error("%s: out of memory", st->ch->id);
		session_fail(st, "internal error, retry shortly");
		return;
	}
	out_set(st, d, err);
}

/* The exit code (or the shell's terminate) came: no receive after it. */
static void
exit_set(struct session *st, int code)
{
	st->have_exit = true;
	st->exit_code = code;
	channel_wake(st->ch);
}

static void
on_shell_message(struct session *st, K8shelld__ShellResponse *r)
{
	switch (r->response_case) {
	case K8SHELLD__SHELL_RESPONSE__RESPONSE_DATA:
		out_set_msg(st, &r->base, SHELL_RESP_DATA, r->data.data, r->data.len, false);
		return;
	case K8SHELLD__SHELL_RESPONSE__RESPONSE_TERMINATE:
		/* The Shell stream carries no status: 0, so `ssh host` ends cleanly. */
		exit_set(st, 0);
		break;
	case K8SHELLD__SHELL_RESPONSE__RESPONSE_START_RESPONSE:
		log_debug("%s: shell started, pty %s", st->ch->id,
		    r->start_response != NULL && r->start_response->pty[0] != '\0' ?
		    r->start_response->pty : "none");
		/* FALLTHROUGH */
	default:
		recv_next(st);
		break;
	}
	grpcc_msg_free(&r->base);
}

static void
on_exec_message(struct session *st, K8shelld__ExecResponse *r)
{
	switch (r->response_case) {
	case K8SHELLD__EXEC_RESPONSE__RESPONSE_STDOUT:
		out_set_msg(st, &r->base, EXEC_RESP_STDOUT, r->stdout.data, r->stdout.len, false);
		return;
	case K8SHELLD__EXEC_RESPONSE__RESPONSE_STDERR:
		out_set_msg(st, &r->base, EXEC_RESP_STDERR, r->stderr.data, r->stderr.len, true);
		return;
	case K8SHELLD__EXEC_RESPONSE__RESPONSE_EXIT_CODE:
		exit_set(st, r->exit_code);
		break;
	case K8SHELLD__EXEC_RESPONSE__RESPONSE_PTY:
		log_debug("%s: pty %s", st->call_id, r->pty);
		/* FALLTHROUGH */
	default:
		recv_next(st);
		break;
	}
	grpcc_msg_free(&r->base);
}

static void
on_message(struct gcall *call, ProtobufCMessage *msg, void *arg)
{
	struct channel *ch = arg;
	struct session *st = ch->state;

	(void)call;
	st->recv_armed = false;
	if (st->what == SESSION_SHELL)
		on_shell_message(st, (K8shelld__ShellResponse *)msg);
	else
		on_exec_message(st, (K8shelld__ExecResponse *)msg);
}

/* A bare stdout/stderr/data message, read in place. */
static void
on_data(struct gcall *call, uint32_t field, struct grpcc_data *d, void *arg)
{
	struct channel *ch = arg;
	struct session *st = ch->state;

	(void)call;
	st->recv_armed = false;
	out_set(st, d, st->what != SESSION_SHELL && field == EXEC_RESP_STDERR);
}

static void
on_send_done(struct gcall *call, int ok, void *arg)
{
	struct channel *ch = arg;

	(void)call;
	(void)ok;	/* !ok: the stream broke, on_status follows */
	channel_wake(ch);
}

static void
on_status(struct gcall *call, const struct gcall_status *gs, void *arg)
{
	struct channel *ch = arg;
	struct session *st = ch->state;
	size_t i;

	(void)call;
	st->ended = true;
	st->status_code = gs->code;
	st->status_local = gs->local != 0;
	snprintf(st->status_msg, sizeof(st->status_msg), "%s", gs->details);
	for (i = 0; st->status_msg[i] != '\0'; i++)
		if ((unsigned char)st->status_msg[i] < 0x20)
			st->status_msg[i] = ' ';
	log_debug("%s: %s stream ended: status %d%s%s", ch->id, st->call_id, gs->code,
	    st->status_msg[0] != '\0' ? ": " : "", st->status_msg);
	channel_wake(ch);
}

static const struct gcall_stream_cbs session_cbs = {
	.on_message = on_message,
	.on_data = on_data,
	.on_send_done = on_send_done,
	.on_status = on_status,
};

/* One stdin message (taken). */
static int
send_data(struct session *st, struct grpcc_dbuf *b)
{
	size_t n = grpcc_dbuf_len(b);
	int r;

	r = gcall_send_data(st->call, st->what == SESSION_SHELL ? SHELL_REQ_DATA :
	    EXEC_REQ_INPUT, b);
	if (r != 0) {
		log_debug("%s: stdin dropped: %s", st->ch->id, grpcc_strerror(r));
		return -1;
	}
	workspace_count(st->ch->c, n, 0);
	return 0;
}

static int
send_shell_start(struct session *st)
{
	K8shelld__ShellRequest req = K8SHELLD__SHELL_REQUEST__INIT;
	K8shelld__ShellStartRequest start = K8SHELLD__SHELL_START_REQUEST__INIT;
	char **env;
	size_t n;
	int r;

	if (session_env_list(st, &env, &n) != 0)
		return GRPCC_ERR_NOMEM;
	start.as_user = (char *)workspace_as_user(st->ch->c);
	start.cmdshell = "/bin/sh";
	start.setenvvars = env;
	start.n_setenvvars = n;
	start.usepty = st->pty;
	start.width = st->cols;
	start.height = st->rows;
	start.show_init_script_status = 1;
	req.request_case = K8SHELLD__SHELL_REQUEST__REQUEST_START_REQUEST;
	req.start_request = &start;
	r = gcall_send(st->call, &req.base);
	session_env_free(env, n);
	return r;
}

static int
send_command(struct session *st)
{
	K8shelld__ExecRequest req = K8SHELLD__EXEC_REQUEST__INIT;
	K8shelld__CommandDetails cd = K8SHELLD__COMMAND_DETAILS__INIT;
	char **env = NULL;
	size_t n = 0;
	int r;

	cd.as_user = (char *)workspace_as_user(st->ch->c);
	cd.command = st->command;
	if (st->what == SESSION_SFTP) {
		/* Forced /bin/sh and no environment: no rc-file noise in the SFTP stream. */
		cd.shell_binary = "/bin/sh";
	} else {
		/* Empty: k8shelld runs the user's login shell (no User.shell here). */
		if (session_env_list(st, &env, &n) != 0)
			return GRPCC_ERR_NOMEM;
		cd.env_vars = env;
		cd.n_env_vars = n;
		cd.use_pty = st->pty;
		cd.width = st->cols;
		cd.height = st->rows;
	}
	req.request_case = K8SHELLD__EXEC_REQUEST__REQUEST_COMMAND_DETAILS;
	req.command_details = &cd;
	r = gcall_send(st->call, &req.base);
	session_env_free(env, n);
	return r;
}

static int
stream_start(struct session *st, struct gcall_chan *chan)
{
	struct gcall_stream_cbs cbs = session_cbs;
	struct gcall_md md;
	int r;

	cbs.data_fields = st->what == SESSION_SHELL ? GRPCC_FIELD(SHELL_RESP_DATA) :
	    GRPCC_FIELD(EXEC_RESP_STDOUT) | GRPCC_FIELD(EXEC_RESP_STDERR);
	md.key = st->what == SESSION_SHELL ? "session-id" : "exec-id";
	md.value = st->call_id;
	r = gcall_stream(chan, st->what == SESSION_SHELL ? "/k8shelld.SshService/Shell" :
	    "/k8shelld.SshService/Exec", st->what == SESSION_SHELL ?
	    &k8shelld__shell_response__descriptor : &k8shelld__exec_response__descriptor,
	    &md, 1, 0, &cbs, st->ch, &st->call);
	if (r != 0) {
		log_error("%s: cannot start the %s stream: %s", st->ch->id, what_name(st->what),
		    grpcc_strerror(r));
		return -1;
	}
	/* A call that ended at once (e.g. an unreadable token file) refuses the
	 * send; its on_status tells why, so that is not an error here. */
	r = st->what == SESSION_SHELL ? send_shell_start(st) : send_command(st);
	if (r != 0 && r != GRPCC_ERR_STATE) {
		log_error("%s: cannot send the %s start: %s", st->ch->id, what_name(st->what),
		    grpcc_strerror(r));
		return -1;
	}
	recv_next(st);
	return 0;
}

static void
session_ready(struct child *c, struct gcall_chan *chan, const char *error, void *arg)
{
	struct channel *ch = arg;
	struct session *st = ch->state;

	(void)c;
	st->waiter = NULL;
	if (error != NULL) {
		session_fail(st, error);
		return;
	}
	st->gch = chan;
	/* For exec too (`ssh -A host ssh-add -l`); sftp has no environment to use
	 * it. First, so the LISTEN reaches the workspace before the command
	 * starts and can look for the socket. */
	if (st->agent && st->what != SESSION_SFTP &&
	    agent_start(ch, st->agent_id, st->agent_sock) != 0)
		log_warn("%s: agent forwarding not started (%s)", ch->id, st->agent_id);
	if (stream_start(st, chan) != 0) {
		session_fail(st, "internal error, retry shortly");
		return;
	}
	st->phase = SESSION_RUN;
	log_info("%s: %s started (%s)", ch->id, what_name(st->what), st->call_id);
	/* stdin that arrived while waiting is in libssh: the pump takes it. */
	channel_wake(ch);
}

int
session_start(struct channel *ch)
{
	struct session *st = ch->state;
	struct child *c = ch->c;
	const char *type = st->what == SESSION_SFTP ? "sf" : "ex";

	if (st->what == SESSION_SHELL)
		snprintf(st->call_id, sizeof(st->call_id), "%s", ch->id);
	else
		snprintf(st->call_id, sizeof(st->call_id), "%s-%s%lu", type, c->connid, ++c->seq);
	st->phase = SESSION_WAIT;
	if (workspace_request(c, session_ready, ch, &st->waiter) != 0)
		session_fail(st, "internal error, retry shortly");
	/* The request is accepted either way; a failure is reported on the channel. */
	return 0;
}

int
session_input(struct channel *ch, const void *data, uint32_t len)
{
	struct session *st = ch->state;
	size_t n;

	switch (st->phase) {
	case SESSION_DONE:
		return (int)len;	/* nothing reads it any more */
	case SESSION_IDLE:
	case SESSION_WAIT:
		st->in_buffered = len;	/* kept in libssh: its window pushes back */
		return 0;
	case SESSION_RUN:
		break;
	}
	if (st->failing || st->ended || st->in_closed)
		return (int)len;
	/* Signals and resizes go first: bytes behind them wait in libssh. Else
	 * into the message being filled, which the run hook sends at the end of
	 * this loop turn or when the send in flight completes. */
	n = st->nsig == 0 && !st->resize_pending ?
	    pump_held_fill(&st->in_held, data, len, SESSION_CHUNK) : 0;
	st->in_buffered = len - n;
	if (n > 0)
		channel_wake(ch);
	return (int)n;
}

static void
resize_done(struct gcall *call, const struct gcall_status *gs, ProtobufCMessage *resp, void *arg)
{
	(void)call;
	(void)arg;
	if (gs->code != GRPC_STATUS_OK)
		log_debug("ResizeTerminal failed: status %d: %s", gs->code, gs->details);
	grpcc_msg_free(resp);
}

void
session_resize(struct channel *ch)
{
	K8shelld__ResizeTerminalRequest req = K8SHELLD__RESIZE_TERMINAL_REQUEST__INIT;
	struct session *st = ch->state;
	struct gcall_md md;
	int r;

	/* Before the start the size goes in the start message. */
	if (st->phase != SESSION_RUN || !st->pty || st->ended)
		return;
	if (st->what == SESSION_EXEC) {
		st->resize_pending = true;
		channel_wake(ch);
		return;
	}
	if (st->what != SESSION_SHELL)
		return;
	md.key = "session-id";
	md.value = st->call_id;
	req.width = st->cols;
	req.height = st->rows;
	r = gcall_unary(st->gch, "/k8shelld.SshService/ResizeTerminal", &req.base,
	    &k8shelld__resize_terminal_response__descriptor, &md, 1, 10000,
	    resize_done, NULL, NULL);
	if (r != 0)
		log_debug("%s: ResizeTerminal: %s", ch->id, grpcc_strerror(r));
}

int
session_signal(struct channel *ch, const char *name)
{
	struct session *st = ch->state;

	/* Shells never get signals (spec/flows.md §7). */
	if (st->what != SESSION_EXEC || st->phase != SESSION_RUN || st->ended ||
	    name == NULL || name[0] == '\0' || st->nsig >= SESSION_SIGQ)
		return -1;
	if ((st->sigq[st->nsig] = strdup(name)) == NULL)
		return -1;
	st->nsig++;
	log_debug("%s: signal %s", ch->id, name);
	channel_wake(ch);
	return 0;
}

/* SSH -> workspace: signals, resizes, then stdin, then the half-close. */
static void
pump_in(struct session *st)
{
	struct channel *ch = st->ch;
	struct grpcc_dbuf *b;
	size_t got;
	int k;

	while (st->phase == SESSION_RUN && !st->ended && !st->in_closed &&
	    !gcall_send_busy(st->call)) {
		if (st->nsig > 0) {
			K8shelld__ExecRequest req = K8SHELLD__EXEC_REQUEST__INIT;
			char *name = st->sigq[0];

			memmove(st->sigq, st->sigq + 1, (st->nsig - 1) * sizeof(st->sigq[0]));
			st->nsig--;
			req.request_case = K8SHELLD__EXEC_REQUEST__REQUEST_SIGNAL;
			req.signal = name;
			k = gcall_send(st->call, &req.base);
			free(name);
			if (k != 0)
				return;
			continue;
		}
		if (st->resize_pending) {
			K8shelld__ExecRequest req = K8SHELLD__EXEC_REQUEST__INIT;
			K8shelld__TerminalSize ts = K8SHELLD__TERMINAL_SIZE__INIT;

			st->resize_pending = false;
			ts.width = st->cols;
			ts.height = st->rows;
			req.request_case = K8SHELLD__EXEC_REQUEST__REQUEST_RESIZE;
			req.resize = &ts;
			if (gcall_send(st->call, &req.base) != 0)
				return;
			continue;
		}
		if (pump_held_wait(&st->in_held, ssh_get_fd(ch->c->session)))
			return;		/* the socket is readable: back at once */
		if ((b = pump_held_pop(&st->in_held)) != NULL) {
			if (send_data(st, b) != 0) {
				pump_held_clear(&st->in_held);
				return;
			}
			continue;
		}
		if (st->in_buffered > 0) {
			/* All of it (struct pump_held says why); only what libssh
			 * holds: it never polls. */
			if (pump_held_read(&st->in_held, ch, st->in_buffered, SESSION_CHUNK,
			    &got) != 0 || got == 0) {
				st->in_buffered = 0;
				continue;
			}
			st->in_buffered = got < st->in_buffered ? st->in_buffered - got : 0;
			continue;
		}
		if (st->in_eof) {
			/* Half-close; the output and the status still come. */
			st->in_closed = true;
			if (gcall_close_send(st->call) != 0)
				log_debug("%s: half-close: call already ended", ch->id);
		}
		return;
	}
}

/* Writes text (a one-line message) within the window; best effort. */
static void
write_line(struct session *st, const char *text, bool to_stderr)
{
	char line[sizeof(st->fail) + sizeof(SESSION_PREFIX) + 2];
	uint32_t w = ssh_channel_window_size(st->ch->ssh);
	int n;

	/* A terminal needs \r\n; plain pipes get \n, as any command prints. */
	n = snprintf(line, sizeof(line), SESSION_PREFIX "%s%s", text,
	    st->pty || st->what == SESSION_SHELL ? "\r\n" : "\n");
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	if ((uint32_t)n > w)
		n = (int)w;
	if (n > 0 && (to_stderr ? ssh_channel_write_stderr(st->ch->ssh, line, (uint32_t)n) :
	    ssh_channel_write(st->ch->ssh, line, (uint32_t)n)) < 0)
		log_debug("%s: cannot write the message: %s", st->ch->id,
		    ssh_get_error(st->ch->c->session));
}

static void
release(struct session *st)
{
	if (st->agent)
		agent_stop(st->ch);
	workspace_waiter_cancel(st->waiter);
	st->waiter = NULL;
	if (st->call != NULL) {
		gcall_free(st->call);
		st->call = NULL;
	}
	out_clear(st);
	out_clear(st);		/* and the one held behind it */
	free(st->out_scratch);
	st->out_scratch = NULL;
	pump_held_clear(&st->in_held);
	while (st->nsig > 0)
		free(st->sigq[--st->nsig]);
}

/* exit-status, EOF, close: OpenSSH's client exits with code. */
static void
end_channel(struct session *st, int code, const char *msg, bool to_stderr)
{
	struct channel *ch = st->ch;

	st->phase = SESSION_DONE;
	release(st);
	if (msg != NULL)
		write_line(st, msg, to_stderr);
	if (ssh_channel_request_send_exit_status(ch->ssh, code) != SSH_OK ||
	    ssh_channel_send_eof(ch->ssh) != SSH_OK)
		log_debug("%s: cannot send the exit status: %s", ch->id,
		    ssh_get_error(ch->c->session));
	ssh_channel_close(ch->ssh);
	channel_wake(ch);
}

/* workspace -> SSH, within the client's window. Returns true if it wrote. */
static bool
pump_out(struct session *st)
{
	struct channel *ch = st->ch;
	bool wrote = false;

	while (st->out != NULL && st->phase == SESSION_RUN) {
		uint32_t w = ssh_channel_window_size(ch->ssh);
		size_t n;
		const uint8_t *p;
		int k;

		if (w == 0)
			break;	/* the WINDOW_ADJUST packet ends this loop turn: we run again */
		if (child_output_full(ch->c))
			break;	/* the client reads slowly: POLLOUT ends this loop turn */
		/* libssh flushes on every write: one call per SESSION_CHUNK,
		 * gathered from gRPC's slices when they split it. */
		if (st->out_scratch == NULL &&
		    (st->out_scratch = malloc(SESSION_CHUNK)) == NULL) {
			log_error("%s: out of memory", ch->id);
			break;
		}
		p = grpcc_data_gather(st->out, st->out_scratch, w < SESSION_CHUNK ? w :
		    SESSION_CHUNK, &n);
		k = st->out_stderr ? ssh_channel_write_stderr(ch->ssh, p, (uint32_t)n) :
		    ssh_channel_write(ch->ssh, p, (uint32_t)n);
		if (k < 0) {
			log_debug("%s: write to the client failed: %s", ch->id,
			    ssh_get_error(ch->c->session));
			st->phase = SESSION_DONE;
			release(st);
			break;
		}
		if (k == 0)
			break;	/* key re-exchange in progress: next turn */
		wrote = true;
		if (st->out == NULL)
			break;	/* released while the write polled */
		grpcc_data_consume(st->out, (size_t)k);
		if (grpcc_data_len(st->out) == 0) {
			out_clear(st);
			recv_next(st);
		}
	}
	return wrote;
}

static void
session_end(struct session *st)
{
	char msg[sizeof(st->status_msg) + 64];
	int code;

	if (st->have_exit) {
		/* Negative codes become 1 (spec). */
		code = st->exit_code < 0 ? 1 : st->exit_code;
		log_info("%s: %s ended, exit status %d", st->ch->id, what_name(st->what), code);
		end_channel(st, code, NULL, false);
		return;
	}
	if (st->status_code == GRPC_STATUS_OK) {
		log_info("%s: %s ended", st->ch->id, what_name(st->what));
		end_channel(st, 0, NULL, false);
		return;
	}
	log_warn("%s: %s stream %s failed: status %d%s: %s", st->ch->id, what_name(st->what),
	    st->call_id, st->status_code, st->status_local ? " (raised here)" : "", st->status_msg);
	/* A failure raised here (token file, memory) is the operator's to read in the log. */
	snprintf(msg, sizeof(msg), "workspace %s failed: %s", what_name(st->what),
	    st->status_local ? "internal error, retry shortly" :
	    st->status_msg[0] != '\0' ? st->status_msg : "stream error");
	end_channel(st, 1, msg, true);
}

void
session_run(struct channel *ch)
{
	struct session *st = ch->state;

	if (st->phase == SESSION_DONE)
		return;
	if (st->failing) {
		log_info("%s: %s: %s", ch->id, what_name(st->what), st->fail);
		/* A shell shows it on the terminal (spec); commands on stderr. */
		end_channel(st, 1, st->fail, st->what != SESSION_SHELL);
		return;
	}
	if (st->phase != SESSION_RUN)
		return;
	pump_in(st);
	/* A nested poll inside a write may have taken a WINDOW_ADJUST or a
	 * completion without waking us: look again next turn. */
	if (pump_out(st))
		channel_wake(ch);
	if (st->phase == SESSION_RUN && st->out == NULL && (st->have_exit || st->ended))
		session_end(st);
}

void
session_stop(struct channel *ch)
{
	struct session *st = ch->state;

	/* The client closed the channel or left: the workspace ends the process. */
	if (st->call != NULL && st->phase == SESSION_RUN)
		log_debug("%s: closing: cancelling %s", ch->id, st->call_id);
	release(st);
	st->phase = SESSION_DONE;
}
