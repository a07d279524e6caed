/* The "session" channel: pty-req, env, window-change, and shell/exec/subsystem.
 * Until a workspace backend exists, a command gets a clear message and exit status 1. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libssh/ssh2.h>

#include "child/channel.h"
#include "daemon/log.h"

#define SESSION_NO_BACKEND	"ssh-proxy: no workspace backend is configured\r\n"
#define SESSION_TERM_MAX	64

struct session {
	bool pty;
	char term[SESSION_TERM_MAX];
	int cols, rows;
	const char *started;		/* "shell", "exec" or "subsystem" once requested */
	bool refuse_pending;		/* answer it after libssh sent the request's reply */
};

static int
session_data(ssh_session s, ssh_channel channel, void *data, uint32_t len, int is_stderr,
    void *userdata)
{
	(void)s;
	(void)channel;
	(void)data;
	(void)is_stderr;
	(void)userdata;
	/* Nothing runs yet: input is consumed so the window keeps moving. */
	return (int)len;
}

static int
session_pty(ssh_session s, ssh_channel channel, const char *term, int cols, int rows,
    int pxw, int pxh, void *userdata)
{
	struct channel *ch = userdata;
	struct session *st = ch->state;

	(void)s;
	(void)channel;
	(void)pxw;
	(void)pxh;
	st->pty = true;
	snprintf(st->term, sizeof(st->term), "%s", term != NULL ? term : "");
	st->cols = cols;
	st->rows = rows;
	log_debug("%s: pty-req %s %dx%d", ch->id, st->term, cols, rows);
	return 0;
}

static int
session_window(ssh_session s, ssh_channel channel, int cols, int rows, int pxw, int pxh,
    void *userdata)
{
	struct channel *ch = userdata;
	struct session *st = ch->state;

	(void)s;
	(void)channel;
	(void)pxw;
	(void)pxh;
	st->cols = cols;
	st->rows = rows;
	return 0;
}

static int
session_env(ssh_session s, ssh_channel channel, const char *name, const char *value,
    void *userdata)
{
	struct channel *ch = userdata;

	(void)s;
	(void)channel;
	(void)value;
	log_debug("%s: env %s", ch->id, name);
	return 0;
}

/* The first of shell/exec/subsystem fixes what the channel runs. */
static int
session_start(struct channel *ch, const char *what, const char *arg)
{
	struct session *st = ch->state;

	if (st->started != NULL) {
		log_info("%s: %s refused: the channel already ran a %s", ch->id, what, st->started);
		return -1;
	}
	st->started = what;
	st->refuse_pending = true;
	log_info("%s: %s%s%s: no workspace backend is configured",
	    ch->id, what, arg != NULL ? " " : "", arg != NULL ? arg : "");
	return 0;
}

static int
session_shell(ssh_session s, ssh_channel channel, void *userdata)
{
	(void)s;
	(void)channel;
	return session_start(userdata, "shell", NULL);
}

static int
session_exec(ssh_session s, ssh_channel channel, const char *command, void *userdata)
{
	(void)s;
	(void)channel;
	(void)command;
	/* The command line may hold secrets: it is not logged. */
	return session_start(userdata, "exec", NULL);
}

static int
session_subsystem(ssh_session s, ssh_channel channel, const char *subsystem, void *userdata)
{
	(void)s;
	(void)channel;
	return session_start(userdata, "subsystem", subsystem);
}

static void
session_run(struct channel *ch)
{
	struct session *st = ch->state;

	if (!st->refuse_pending)
		return;
	st->refuse_pending = false;
	/* Message, status, EOF, close: the client ends with status 1, never hangs. */
	if (ssh_channel_write_stderr(ch->ssh, SESSION_NO_BACKEND, sizeof(SESSION_NO_BACKEND) - 1) < 0 ||
	    ssh_channel_request_send_exit_status(ch->ssh, 1) != SSH_OK ||
	    ssh_channel_send_eof(ch->ssh) != SSH_OK)
		log_debug("%s: cannot send the refusal: %s", ch->id, ssh_get_error(ch->c->session));
	ssh_channel_close(ch->ssh);
}

static int
session_open(struct channel *ch, ssh_message msg)
{
	struct session *st;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		channel_reject(ch, msg, SSH2_OPEN_RESOURCE_SHORTAGE, "out of memory");
		return -1;
	}
	st->cols = 80;
	st->rows = 24;
	ch->state = st;
	channel_set_id(ch, "sh");
	ch->cb.channel_data_function = session_data;
	ch->cb.channel_pty_request_function = session_pty;
	ch->cb.channel_pty_window_change_function = session_window;
	ch->cb.channel_env_request_function = session_env;
	ch->cb.channel_shell_request_function = session_shell;
	ch->cb.channel_exec_request_function = session_exec;
	ch->cb.channel_subsystem_request_function = session_subsystem;
	if (channel_accept(ch, msg) != 0)
		return -1;
	log_debug("%s: session channel open", ch->id);
	return 0;
}

static void
session_free(struct channel *ch)
{
	free(ch->state);
	ch->state = NULL;
}

const struct channel_kind channel_kind_session = {
	.name = "session",
	.ssh_type = SSH_CHANNEL_SESSION,
	.open = session_open,
	.run = session_run,
	.free = session_free,
};
