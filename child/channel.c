/* Channel dispatch: channel opens go to the kind registered for their type,
 * requests without a libssh callback to the kind's request hook; closed channels are reaped. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libssh/ssh2.h>

#include "child/channel.h"
#include "daemon/log.h"

/* One entry per supported channel type; new kinds are added here. */
static const struct channel_kind *const channel_kinds[] = {
	&channel_kind_session,
	&channel_kind_tcpip,
	&channel_kind_streamlocal,
};

static const struct channel_kind *
kind_lookup(int ssh_type)
{
	for (size_t i = 0; i < sizeof(channel_kinds) / sizeof(channel_kinds[0]); i++)
		if (channel_kinds[i]->ssh_type == ssh_type)
			return channel_kinds[i];
	return NULL;
}

void
channel_set_id(struct channel *ch, const char *type)
{
	snprintf(ch->id, sizeof(ch->id), "%s-%s%lu", type, ch->c->connid, ++ch->c->seq);
}

void
channel_wake(struct channel *ch)
{
	ch->c->wake = true;
}

static void
base_close(ssh_session session, ssh_channel channel, void *userdata)
{
	struct channel *ch = userdata;

	(void)session;
	(void)channel;
	/* Freeing happens in channel_run, outside libssh's packet handling. */
	ch->remote_closed = true;
}

int
channel_accept(struct channel *ch, ssh_message msg)
{
	ch->ssh = ssh_channel_new(ch->c->session);
	if (ch->ssh == NULL)
		goto fail;
	ch->cb.userdata = ch;
	ssh_callbacks_init(&ch->cb);
	memset(&ch->base_cb, 0, sizeof(ch->base_cb));
	ch->base_cb.userdata = ch;
	ch->base_cb.channel_close_function = base_close;
	ssh_callbacks_init(&ch->base_cb);
	if (ssh_set_channel_callbacks(ch->ssh, &ch->cb) != SSH_OK ||
	    ssh_add_channel_callbacks(ch->ssh, &ch->base_cb) != SSH_OK ||
	    ssh_message_channel_request_open_reply_accept_channel(msg, ch->ssh) != SSH_OK)
		goto fail;
	return 0;
fail:
	log_error("%s channel: cannot accept the open: %s", ch->kind->name,
	    ssh_get_error(ch->c->session));
	if (ch->ssh != NULL) {
		ssh_remove_channel_callbacks(ch->ssh, &ch->cb);
		ssh_remove_channel_callbacks(ch->ssh, &ch->base_cb);
		ssh_channel_free(ch->ssh);
		ch->ssh = NULL;
	}
	return -1;
}

void
channel_reject(struct channel *ch, ssh_message msg, int reason, const char *text)
{
	log_info("%s channel open refused (reason %d): %s",
	    ch != NULL ? ch->kind->name : "unknown", reason, text);
	/* libssh patch 0003: the client sees the reason and the text. A send
	 * failure breaks the session, which the loop notices. */
	if (ssh_message_channel_request_open_reply_failure(msg, (uint32_t)reason, text) != SSH_OK)
		log_debug("cannot send the open failure");
}

int
channel_open(struct child *c, ssh_message msg)
{
	const struct channel_kind *kind;
	struct channel *ch;

	if ((kind = kind_lookup(ssh_message_subtype(msg))) == NULL) {
		channel_reject(NULL, msg, SSH2_OPEN_UNKNOWN_CHANNEL_TYPE, "channel type not supported");
		return 0;
	}
	if ((ch = calloc(1, sizeof(*ch))) == NULL) {
		channel_reject(NULL, msg, SSH2_OPEN_RESOURCE_SHORTAGE, "out of memory");
		return 0;
	}
	ch->c = c;
	ch->kind = kind;
	if (kind->open(ch, msg) != 0) {
		if (kind->free != NULL)
			kind->free(ch);
		free(ch);
		return 0;
	}
	ch->next = c->channels;
	c->channels = ch;
	return 0;
}

int
channel_request(struct child *c, ssh_message msg)
{
	ssh_channel target = ssh_message_channel_request_channel(msg);

	for (struct channel *ch = c->channels; ch != NULL; ch = ch->next)
		if (ch->ssh == target && ch->kind->request != NULL)
			return ch->kind->request(ch, msg);
	log_debug("channel request type %d refused", ssh_message_subtype(msg));
	return 1;
}

static void
channel_free(struct channel *ch)
{
	if (ch->ssh != NULL) {
		/* libssh may outlive us with this channel: it must not call back into freed memory. */
		ssh_remove_channel_callbacks(ch->ssh, &ch->cb);
		ssh_remove_channel_callbacks(ch->ssh, &ch->base_cb);
		ssh_channel_free(ch->ssh);
	}
	if (ch->kind->free != NULL)
		ch->kind->free(ch);
	free(ch);
}

void
channel_run(struct child *c)
{
	struct channel *ch, **pp;

	c->wake = false;
	/* A run hook may poll (an SSH write flushes through the loop), so channels
	 * can open or close meanwhile: new ones sit at the head and wait for the
	 * next turn, and freeing happens only in the second pass. */
	for (ch = c->channels; ch != NULL; ch = ch->next)
		if (!ch->remote_closed && ch->kind->run != NULL)
			ch->kind->run(ch);
again:
	for (pp = &c->channels; *pp != NULL; pp = &(*pp)->next) {
		ch = *pp;
		if (!ch->remote_closed)
			continue;
		log_debug("channel %s closed", ch->id);
		*pp = ch->next;
		/* Freeing may poll too: walk again from the head. */
		channel_free(ch);
		goto again;
	}
}

void
channel_free_all(struct child *c)
{
	while (c->channels != NULL) {
		struct channel *ch = c->channels;

		c->channels = ch->next;
		channel_free(ch);
	}
}
