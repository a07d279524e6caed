/* Relays a spawned process's stdio over a call with one send in flight: the
 * output fds are only read while no send is pending, and drained before the exit code. */
#include "autoconf.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "daemon/log.h"
#include "proto/grpc-common.h"
#include "contrib/workspaced/wsd-call.h"
#include "contrib/workspaced/wsd-loop.h"
#include "contrib/workspaced/wsd-proc.h"
#include "contrib/workspaced/wsd-relay.h"
#include "contrib/workspaced/wsd-server.h"
#include "contrib/workspaced/wsd-session.h"

struct wsd_session {
	struct wsd_call *call;
	struct wsd_loop *loop;
	struct wsd_proc *proc;
	struct wsd_source out, err;
	struct wsd_sink in;
	int pty;
	struct wsd_timer grace;
	grpc_byte_buffer *first;
	grpc_byte_buffer *(*last)(int exit_code);
	int code;
	uint64_t nmsg, nbytes;		/* output relayed, for the debug log */
	unsigned int exited:1, grace_started:1, grace_over:1, last_sent:1, eof:1, err_first:1;
};

static void session_pump(struct wsd_session *s);

static void
session_watch_output(struct wsd_session *s, short events)
{
	wsd_watch_set(s->loop, &s->out.watch, s->out.fd >= 0 ? events : 0);
	wsd_watch_set(s->loop, &s->err.watch, s->err.fd >= 0 ? events : 0);
}

static void
session_send(struct wsd_session *s, grpc_byte_buffer *bb)
{
	session_watch_output(s, 0);
	if (wsd_call_send(s->call, bb) < 0)
		log_debug("%s: send refused", wsd_call_method(s->call));
}

/* Reads what the process wrote and sends it; the exit code goes last, once the
 * output fds are at EOF (or stayed open past the grace after the exit). */
static void
session_pump(struct wsd_session *s)
{
	grpc_byte_buffer *bb;
	int i, r;

	if (wsd_call_ended(s->call) || s->last_sent)
		return;
	if (wsd_call_sending(s->call)) {
		session_watch_output(s, 0);
		return;
	}
	if (s->first != NULL) {
		bb = s->first;
		s->first = NULL;
		session_send(s, bb);
		return;
	}
	for (i = 0; i < 2; i++) {
		struct wsd_source *src = (i == 0) == !s->err_first ? &s->out : &s->err;

		if (src->fd < 0)
			continue;
		r = wsd_source_read(src, &bb);
		if (r > 0) {
			/* Alternate so a chatty stdout cannot starve stderr. */
			s->err_first = src == &s->out;
			s->nmsg++;
			s->nbytes += (uint64_t)r;
			session_send(s, bb);
			return;
		}
		if (r != -EAGAIN) {
			if (r < 0)
				log_debug("%s: read: %s", wsd_call_method(s->call), strerror(-r));
			/* The pty master is the output fd: no resizes once it is closed. */
			if (src == &s->out)
				s->pty = -1;
			wsd_source_close(s->loop, src);
		}
	}
	if (s->exited && ((s->out.fd < 0 && s->err.fd < 0) || s->grace_over)) {
		log_debug("%s: exit code %d after %llu bytes in %llu messages",
		    wsd_call_method(s->call), s->code, (unsigned long long)s->nbytes,
		    (unsigned long long)s->nmsg);
		s->last_sent = 1;
		session_send(s, s->last(s->code));
		return;
	}
	if (s->exited && !s->grace_started) {
		s->grace_started = 1;
		wsd_timer_start(s->loop, &s->grace, WSD_DRAIN_GRACE_MS);
	}
	session_watch_output(s, POLLIN);
}

static void
session_out_cb(struct wsd_watch *w, short revents)
{
	(void)revents;
	session_pump(wsd_container_of(w, struct wsd_session, out.watch));
}

static void
session_err_cb(struct wsd_watch *w, short revents)
{
	(void)revents;
	session_pump(wsd_container_of(w, struct wsd_session, err.watch));
}

static void
session_grace_cb(struct wsd_timer *t)
{
	struct wsd_session *s = wsd_container_of(t, struct wsd_session, grace);

	s->grace_over = 1;
	session_pump(s);
}

static void
session_exited(void *arg, int status)
{
	struct wsd_session *s = arg;

	s->exited = 1;
	s->code = wsd_exit_code(status);
	log_debug("%s: pid %d exited with %d", wsd_call_method(s->call),
	    (int)wsd_proc_pid(s->proc), s->code);
	session_pump(s);
}

/* After stdin bytes are written (or dropped): take the next request. */
static void
session_input_done(struct wsd_session *s)
{
	if (s->eof)
		wsd_sink_close(s->loop, &s->in);
	else
		wsd_call_recv(s->call);
}

static void
session_input_cb(struct wsd_watch *w, short revents)
{
	struct wsd_session *s = wsd_container_of(w, struct wsd_session, in.watch);
	int r;

	(void)revents;
	if ((r = wsd_sink_flush(&s->in)) == 1)
		return;
	wsd_watch_set(s->loop, &s->in.watch, 0);
	if (r < 0)
		wsd_sink_close(s->loop, &s->in);
	session_input_done(s);
}

/* After a sink write returned r: wait for POLLOUT, or take the next request. */
static void
session_input_wrote(struct wsd_session *s, int r)
{
	if (r == 1) {
		wsd_watch_set(s->loop, &s->in.watch, POLLOUT);
		return;
	}
	/* The process closed its stdin: later input is dropped, as sshd does. */
	if (r < 0)
		wsd_sink_close(s->loop, &s->in);
	session_input_done(s);
}

void
wsd_session_input(struct wsd_session *s, const uint8_t *data, size_t len)
{
	if (s->in.fd < 0)
		session_input_done(s);
	else
		session_input_wrote(s, wsd_sink_write(&s->in, data, len));
}

void
wsd_session_input_data(struct wsd_session *s, struct grpcc_data *d)
{
	if (s->in.fd < 0) {
		grpcc_data_free(d);
		session_input_done(s);
	} else
		session_input_wrote(s, wsd_sink_write_data(&s->in, d));
}

void
wsd_session_eof(struct wsd_session *s)
{
	s->eof = 1;
	if (!wsd_sink_pending(&s->in))
		wsd_sink_close(s->loop, &s->in);
}

int
wsd_session_signal(struct wsd_session *s, int sig)
{
	if (s->proc == NULL)
		return -ESRCH;
	return wsd_proc_signal(s->proc, sig);
}

int
wsd_session_resize(struct wsd_session *s, unsigned int cols, unsigned int rows)
{
	struct winsize ws;

	if (s->pty < 0)
		return -ENOTTY;
	memset(&ws, 0, sizeof(ws));
	ws.ws_col = (unsigned short)cols;
	ws.ws_row = (unsigned short)rows;
	if (ioctl(s->pty, TIOCSWINSZ, &ws) < 0)
		return -errno;
	return 0;
}

int
wsd_session_pty(const struct wsd_session *s)
{
	return s->pty;
}

void
wsd_session_sent(struct wsd_session *s)
{
	if (s->last_sent)
		wsd_call_finish(s->call, GRPC_STATUS_OK, NULL);
	else
		session_pump(s);
}

int
wsd_session_new(struct wsd_call *call, const struct wsd_spawn *sp,
    const struct wsd_session_conf *conf, struct wsd_session **sessp)
{
	struct wsd_server *srv = wsd_call_server(call);
	struct wsd_session *s;
	struct wsd_stdio io;
	char line[512];
	int r;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->call = call;
	s->loop = wsd_call_loop(call);
	s->last = conf->last;
	s->pty = -1;
	wsd_timer_init(&s->grace, session_grace_cb);
	r = wsd_proc_spawn(wsd_server_procs(srv), sp, &io, session_exited, s, &s->proc);
	if (r < 0) {
		/* Reported like an exec failure: one line on stderr, then a status. */
		log_error("%s: cannot start %s: %s", wsd_call_method(call), sp->path, strerror(-r));
		snprintf(line, sizeof(line), "workspaced: cannot start %s: %s\n", sp->path,
		    strerror(-r));
		s->first = wsd_frame_bytes(sp->use_pty || conf->err_field <= 0 ?
		    conf->out_field : conf->err_field, (const uint8_t *)line, strlen(line));
		s->proc = NULL;
		s->exited = 1;
		s->code = 1;
		io.in = io.out = io.err = -1;
	} else if (conf->first != NULL)
		s->first = conf->first(io.pty);
	wsd_source_init(&s->out, io.out, conf->out_field, session_out_cb);
	wsd_source_init(&s->err, io.err, conf->err_field, session_err_cb);
	wsd_sink_init(&s->in, io.in, session_input_cb);
	if (sp->use_pty && r == 0)
		s->pty = io.out;
	*sessp = s;
	session_pump(s);
	return 0;
}

void
wsd_session_free(struct wsd_session *s)
{
	if (s == NULL)
		return;
	wsd_timer_stop(s->loop, &s->grace);
	wsd_source_close(s->loop, &s->out);
	wsd_source_close(s->loop, &s->err);
	wsd_sink_close(s->loop, &s->in);
	if (s->first != NULL)
		grpc_byte_buffer_destroy(s->first);
	wsd_proc_release(s->proc);
	free(s);
}
