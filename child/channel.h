/* Channel kinds plug in here: one file per kind (channel-session.c, later
 * channel-tcpip.c, channel-streamlocal.c), registered in channel.c's table. */
#ifndef CHILD_CHANNEL_H
#define CHILD_CHANNEL_H

#include <stdbool.h>

#include "child/child.h"

struct channel;

struct channel_kind {
	const char *name;		/* SSH channel type, for logs */
	int ssh_type;			/* libssh's enum ssh_channel_type_e */
	/* Accept the open with channel_accept() (after filling ch->cb) and return
	 * 0, or refuse it with channel_reject() and return -1. */
	int (*open)(struct channel *ch, ssh_message msg);
	/* Optional: a request libssh has no channel callback for; 0 when answered,
	 * 1 for libssh's default reply (failure). */
	int (*request)(struct channel *ch, ssh_message msg);
	/* Optional: work deferred out of libssh callbacks, run after every loop turn. */
	void (*run)(struct channel *ch);
	/* Optional: releases ch->state; the libssh channel is freed by channel.c. */
	void (*free)(struct channel *ch);
};

#define CHANNEL_ID_MAX	(CONNID_MAX + 24)

struct channel {
	struct child *c;
	const struct channel_kind *kind;
	ssh_channel ssh;			/* set by channel_accept() */
	struct ssh_channel_callbacks_struct cb;	/* the kind's; userdata = this channel */
	struct ssh_channel_callbacks_struct base_cb;	/* channel.c's close tracking */
	void *state;				/* the kind's */
	char id[CHANNEL_ID_MAX];		/* "<type>-<connId><seq>" (spec/flows.md §1) */
	bool remote_closed;			/* peer sent CHANNEL_CLOSE: reaped after this turn */
	struct channel *next;
};

/* Registers ch->cb and confirms the open. Returns 0 or -1 (open refused). */
int channel_accept(struct channel *ch, ssh_message msg);
/* Refuses an open with reason (an SSH2_OPEN_* code) and text, both sent to
 * the client (libssh patch 0003) and logged. */
void channel_reject(struct channel *ch, ssh_message msg, int reason, const char *text);
/* Allocates the next per-connection id of this type ("sh", "ex", "pf", ...). */
void channel_set_id(struct channel *ch, const char *type);
/* Work was queued for the kind's run hook: the loop runs the channels again
 * before it sleeps. Callbacks (libssh's, gRPC's) queue and call this; SSH
 * writes belong in run, since a write may poll and re-enter callbacks. */
void channel_wake(struct channel *ch);

extern const struct channel_kind channel_kind_session;
extern const struct channel_kind channel_kind_tcpip;
extern const struct channel_kind channel_kind_streamlocal;

#endif
