/* The "session" channel's SSH side: pty-req, env, auth-agent-req, window-change,
 * signal and the first shell/exec/subsystem, which session-run.c then runs. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libssh/ssh2.h>

#include "child/session.h"
#include "child/workspace.h"
#include "daemon/config.h"
#include "daemon/log.h"

/* Names the login variables own; a client's value for them is dropped (spec). */
static bool
env_is_login_var(const char *entry)
{
	static const char *const login[] = { "SHELL=", "USER=", "LOGNAME=" };

	for (size_t i = 0; i < sizeof(login) / sizeof(login[0]); i++)
		if (strncmp(entry, login[i], strlen(login[i])) == 0)
			return true;
	return false;
}

static ssize_t
env_find(const struct session *st, const char *name, size_t namelen)
{
	for (size_t i = 0; i < st->nenv; i++)
		if (strncmp(st->env[i], name, namelen) == 0 && st->env[i][namelen] == '=')
			return (ssize_t)i;
	return -1;
}

/* Appends NAME=VALUE, or replaces an entry of that name when replace is set. */
static int
env_add(struct session *st, const char *name, const char *value, bool replace)
{
	size_t namelen = strlen(name);
	ssize_t at = env_find(st, name, namelen);
	char *entry, **grown;

	if (at >= 0 && !replace)
		return 0;
	if (at < 0 && st->nenv >= SESSION_ENV_MAX)
		return -1;
	if (asprintf(&entry, "%s=%s", name, value) < 0)
		return -1;
	if (at >= 0) {
		free(st->env[at]);
		st->env[at] = entry;
		return 0;
	}
	if ((grown = realloc(st->env, (st->nenv + 1) * sizeof(*grown))) == NULL) {
		free(entry);
		return -1;
	}
	st->env = grown;
	st->env[st->nenv++] = entry;
	return 0;
}

void
session_env_free(char **env, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(env[i]);
	free(env);
}

int
session_env_list(const struct session *st, char ***envp, size_t *np)
{
	const char *user = workspace_as_user(st->ch->c);
	char **env;
	size_t n = 0;

	*envp = NULL;
	*np = 0;
	if (user[0] == '\0')
		user = st->ch->c->user != NULL ? st->ch->c->user : "";
	if ((env = calloc(st->nenv + 2, sizeof(*env))) == NULL)
		return -1;
	/* SHELL= would come first: the static identity has no User.shell. */
	if (asprintf(&env[n], "USER=%s", user) < 0)
		goto fail;
	n++;
	if (asprintf(&env[n], "LOGNAME=%s", user) < 0)
		goto fail;
	n++;
	for (size_t i = 0; i < st->nenv; i++) {
		if (env_is_login_var(st->env[i]))
			continue;
		if ((env[n] = strdup(st->env[i])) == NULL)
			goto fail;
		n++;
	}
	*envp = env;
	*np = n;
	return 0;
fail:
	session_env_free(env, n);
	return -1;
}

static int
session_data(ssh_session s, ssh_channel channel, void *data, uint32_t len, int is_stderr,
    void *userdata)
{
	(void)s;
	(void)channel;
	/* Extended data from a client has no meaning for a session: dropped. */
	if (is_stderr)
		return (int)len;
	return session_input(userdata, data, len);
}

static void
session_eof(ssh_session s, ssh_channel channel, void *userdata)
{
	struct channel *ch = userdata;
	struct session *st = ch->state;

	(void)s;
	(void)channel;
	log_debug("%s: client EOF", ch->id);
	st->in_eof = true;
	channel_wake(ch);
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
	if (st->what != SESSION_NONE) {
		log_info("%s: pty-req after %s refused", ch->id, st->what == SESSION_SHELL ?
		    "shell" : "exec");
		return -1;
	}
	st->pty = true;
	snprintf(st->term, sizeof(st->term), "%s", term != NULL ? term : "");
	/* Default 80x24 (spec): a client that sends 0 has no size to give. */
	st->cols = cols > 0 ? (uint32_t)cols : 80;
	st->rows = rows > 0 ? (uint32_t)rows : 24;
	if (st->term[0] != '\0' && env_add(st, "TERM", st->term, true) != 0)
		return -1;
	log_debug("%s: pty-req %s %ux%u", ch->id, st->term, st->cols, st->rows);
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
	if (cols <= 0 || rows <= 0)
		return 0;
	st->cols = (uint32_t)cols;
	st->rows = (uint32_t)rows;
	session_resize(ch);
	return 0;
}

static int
session_env(ssh_session s, ssh_channel channel, const char *name, const char *value,
    void *userdata)
{
	struct channel *ch = userdata;
	struct session *st = ch->state;

	(void)s;
	(void)channel;
	if (name == NULL || name[0] == '\0' || strchr(name, '=') != NULL || value == NULL)
		return -1;
	if (st->what != SESSION_NONE)
		return -1;
	/* No allow-list (spec); a TERM from pty-req wins over the client's. */
	if (env_add(st, name, value, strcmp(name, "TERM") != 0) != 0) {
		log_info("%s: env %s refused (too many variables)", ch->id, name);
		return -1;
	}
	log_debug("%s: env %s", ch->id, name);
	return 0;
}

static void
session_agent(ssh_session s, ssh_channel channel, void *userdata)
{
	struct channel *ch = userdata;
	struct session *st = ch->state;
	struct child *c = ch->c;

	(void)s;
	(void)channel;
	/* libssh answers success for us; a second request changes nothing. */
	if (st->agent || st->what != SESSION_NONE)
		return;
	snprintf(st->agent_id, sizeof(st->agent_id), "ux-%s%lu", c->connid, ++c->seq);
	snprintf(st->agent_sock, sizeof(st->agent_sock), "/var/run/ssh-agent-%s.sock",
	    st->agent_id);
	if (env_add(st, "SSH_AUTH_SOCK", st->agent_sock, true) != 0) {
		log_warn("%s: agent forwarding: out of memory", ch->id);
		return;
	}
	st->agent = true;
	log_debug("%s: agent forwarding requested (%s)", ch->id, st->agent_id);
}

static void
session_sig(ssh_session s, ssh_channel channel, const char *signal, void *userdata)
{
	struct channel *ch = userdata;

	(void)s;
	(void)channel;
	/* libssh sends no reply to a signal request; OpenSSH never asks for one. */
	if (session_signal(ch, signal) != 0)
		log_debug("%s: signal %s dropped", ch->id, signal != NULL ? signal : "");
}

/* The first of shell/exec/subsystem fixes what the channel runs. */
static int
session_begin(struct channel *ch, enum session_what what, const char *command)
{
	struct session *st = ch->state;

	if (st->what != SESSION_NONE) {
		log_info("%s: second shell/exec/subsystem request refused", ch->id);
		return -1;
	}
	if (command != NULL && (st->command = strdup(command)) == NULL)
		return -1;
	st->what = what;
	return session_start(ch);
}

static int
session_shell(ssh_session s, ssh_channel channel, void *userdata)
{
	(void)s;
	(void)channel;
	return session_begin(userdata, SESSION_SHELL, NULL);
}

static int
session_exec(ssh_session s, ssh_channel channel, const char *command, void *userdata)
{
	(void)s;
	(void)channel;
	/* The command line may hold secrets: never logged here. */
	return session_begin(userdata, SESSION_EXEC, command != NULL ? command : "");
}

static int
session_subsystem(ssh_session s, ssh_channel channel, const char *subsystem, void *userdata)
{
	struct channel *ch = userdata;

	(void)s;
	(void)channel;
	if (subsystem == NULL || strcmp(subsystem, "sftp") != 0) {
		log_info("%s: subsystem %s refused", ch->id, subsystem != NULL ? subsystem : "");
		return -1;
	}
	return session_begin(ch, SESSION_SFTP, ch->c->cfg->server.sftp_binary);
}

/* Requests libssh has no callback for (x11-req, unknown ones): refused. */
static int
session_request(struct channel *ch, ssh_message msg)
{
	log_debug("%s: channel request type %d refused", ch->id, ssh_message_subtype(msg));
	return 1;
}

static int
session_open(struct channel *ch, ssh_message msg)
{
	struct session *st;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		channel_reject(ch, msg, SSH2_OPEN_RESOURCE_SHORTAGE, "out of memory");
		return -1;
	}
	st->ch = ch;
	st->cols = 80;
	st->rows = 24;
	ch->state = st;
	channel_set_id(ch, "sh");
	ch->cb.channel_data_function = session_data;
	ch->cb.channel_eof_function = session_eof;
	ch->cb.channel_pty_request_function = session_pty;
	ch->cb.channel_pty_window_change_function = session_window;
	ch->cb.channel_env_request_function = session_env;
	ch->cb.channel_auth_agent_req_function = session_agent;
	ch->cb.channel_signal_function = session_sig;
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
	struct session *st = ch->state;

	if (st == NULL)
		return;
	session_stop(ch);
	session_env_free(st->env, st->nenv);
	free(st->command);
	free(st);
	ch->state = NULL;
}

const struct channel_kind channel_kind_session = {
	.name = "session",
	.ssh_type = SSH_CHANNEL_SESSION,
	.open = session_open,
	.request = session_request,
	.run = session_run,
	.free = session_free,
};
