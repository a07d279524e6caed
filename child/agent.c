/* Agent forwarding: the server-opened auth-agent@openssh.com channel of a session,
 * bridged to a k8shelld UnixSocket LISTEN stream on the session's agent socket. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "child/agent.h"
#include "child/channel.h"
#include "child/pump.h"
#include "daemon/log.h"
#include "proto/k8shelld.pb-c.h"

struct agent {
	struct channel *session;	/* NULL once agent_stop() ran */
	bool opening;			/* waiting for the client's open confirmation */
};

static const struct channel_kind channel_kind_agent;

static struct channel *
agent_find(const struct channel *session)
{
	for (struct channel *ch = session->c->channels; ch != NULL; ch = ch->next)
		if (ch->kind == &channel_kind_agent && ch->state != NULL &&
		    ((struct agent *)pump_data(ch))->session == session)
			return ch;
	return NULL;
}

static void
agent_close_cb(ssh_session s, ssh_channel channel, void *userdata)
{
	struct channel *ch = userdata;

	(void)s;
	(void)channel;
	/* Reaped by channel_run, outside libssh's packet handling. */
	ch->remote_closed = true;
}

static void
agent_free(struct channel *ch)
{
	if (ch->state != NULL)
		free(pump_data(ch));
	pump_free(ch);
}

static void
agent_discard(struct channel *ch)
{
	if (ch->ssh != NULL) {
		ssh_remove_channel_callbacks(ch->ssh, &ch->cb);
		ssh_remove_channel_callbacks(ch->ssh, &ch->base_cb);
		ssh_channel_free(ch->ssh);
	}
	agent_free(ch);
	free(ch);
}

int
agent_start(struct channel *session, const char *ux_id, const char *sock_path)
{
	struct child *c = session->c;
	struct channel *ch;
	struct agent *a;
	int rc;

	if (agent_find(session) != NULL) {
		log_info("%s: agent forwarding already runs for this session", session->id);
		return -1;
	}
	if ((ch = calloc(1, sizeof(*ch))) == NULL || (a = calloc(1, sizeof(*a))) == NULL) {
		free(ch);
		log_error("%s: out of memory", session->id);
		return -1;
	}
	ch->c = c;
	ch->kind = &channel_kind_agent;
	snprintf(ch->id, sizeof(ch->id), "%s", ux_id);
	a->session = session;
	if (pump_new(ch, &pump_unixsocket, sock_path,
	    K8SHELLD__UNIX_SOCKET_MODE__UNIX_SOCKET_MODE_LISTEN) != 0) {
		free(a);
		free(ch);
		log_error("%s: out of memory", session->id);
		return -1;
	}
	pump_set_data(ch, a);
	ch->cb.userdata = ch;
	ssh_callbacks_init(&ch->cb);
	ch->base_cb.userdata = ch;
	ch->base_cb.channel_close_function = agent_close_cb;
	ssh_callbacks_init(&ch->base_cb);
	if ((ch->ssh = ssh_channel_new(c->session)) == NULL ||
	    ssh_set_channel_callbacks(ch->ssh, &ch->cb) != SSH_OK ||
	    ssh_add_channel_callbacks(ch->ssh, &ch->base_cb) != SSH_OK ||
	    (rc = ssh_channel_open_auth_agent(ch->ssh)) == SSH_ERROR) {
		log_error("%s: cannot open the agent channel: %s", session->id,
		    ssh_get_error(c->session));
		agent_discard(ch);
		return -1;
	}
	/* Right behind its session in the list: the session's run hook may be
	 * what called us, and the loop then runs this channel in the same turn. */
	ch->next = session->next;
	session->next = ch;
	a->opening = rc == SSH_AGAIN;
	if (!a->opening)
		pump_ssh_open(ch);
	/* The socket is wanted before the shell's first command runs: listen at
	 * once, while the client confirms the channel. */
	if (pump_start(ch) != 0) {
		log_error("%s: out of memory", ch->id);
		pump_stop(ch);
	}
	log_info("%s: agent forwarding for %s on %s", ch->id, session->id, sock_path);
	channel_wake(ch);
	return 0;
}

void
agent_stop(struct channel *session)
{
	struct channel *ch = agent_find(session);

	if (ch == NULL)
		return;
	((struct agent *)pump_data(ch))->session = NULL;
	log_debug("%s: session %s ended", ch->id, session->id);
	/* Still opening: the run hook closes it once the client answered. */
	pump_stop(ch);
}

static void
agent_run(struct channel *ch)
{
	struct agent *a = pump_data(ch);

	if (a->opening) {
		/* Nonblocking: SSH_AGAIN until the client confirmed or refused. */
		int rc = ssh_channel_open_auth_agent(ch->ssh);

		if (rc == SSH_AGAIN || ch->remote_closed)
			return;
		a->opening = false;
		if (rc != SSH_OK) {
			log_info("%s: the client refused the agent channel", ch->id);
			pump_stop(ch);
			/* Never opened: nothing to close, reap it. */
			ch->remote_closed = true;
			return;
		}
		log_debug("%s: agent channel open", ch->id);
		pump_ssh_open(ch);
	}
	pump_run(ch);
}

/* Server-opened: not in channel.c's table of kinds the client may open. */
static const struct channel_kind channel_kind_agent = {
	.name = "auth-agent@openssh.com",
	.ssh_type = SSH_CHANNEL_AUTH_AGENT,
	.run = agent_run,
	.free = agent_free,
};
