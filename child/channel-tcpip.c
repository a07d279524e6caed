/* The "direct-tcpip" channel (ssh -L, -W, -D): at most server.maxDirectTCPIPConnections
 * per connection, each bridged to a k8shelld PortForward stream (spec/flows.md §8e). */
#include "autoconf.h"

#include <stdio.h>

#include <libssh/ssh2.h>

#include "child/channel.h"
#include "child/pump.h"
#include "daemon/config.h"
#include "daemon/log.h"

/* Open direct-tcpip channels, those closing included: the spec's limit is on
 * concurrent channels, and a channel counts until the client confirmed its close. */
static int
tcpip_count(const struct child *c)
{
	int n = 0;

	for (const struct channel *ch = c->channels; ch != NULL; ch = ch->next)
		if (ch->kind == &channel_kind_tcpip)
			n++;
	return n;
}

static int
tcpip_open(struct channel *ch, ssh_message msg)
{
	const char *host = ssh_message_channel_request_open_destination(msg);
	const char *orig = ssh_message_channel_request_open_originator(msg);
	int port = ssh_message_channel_request_open_destination_port(msg);
	int oport = ssh_message_channel_request_open_originator_port(msg);
	int max = ch->c->cfg->server.max_direct_tcpip;
	char text[96];

	if (tcpip_count(ch->c) >= max) {
		snprintf(text, sizeof(text), "maximum direct-tcpip connections exceeded (%d)", max);
		channel_reject(ch, msg, SSH2_OPEN_RESOURCE_SHORTAGE, text);
		return -1;
	}
	/* libssh refuses opens it cannot parse; this is what is left to check. */
	if (host == NULL || port < 0 || port > 65535) {
		channel_reject(ch, msg, SSH2_OPEN_UNKNOWN_CHANNEL_TYPE, "invalid payload");
		return -1;
	}
	channel_set_id(ch, "pf");
	/* k8shelld dials from inside the workspace; "" means its own loopback. */
	if (pump_accept(ch, msg, &pump_portforward, host[0] != '\0' ? host : "localhost",
	    (uint32_t)port) != 0)
		return -1;
	log_info("%s: direct-tcpip to %s:%d (originator %s:%d)", ch->id, host, port,
	    orig != NULL ? orig : "", oport);
	pump_begin(ch);
	return 0;
}

static void
tcpip_free(struct channel *ch)
{
	pump_free(ch);
}

const struct channel_kind channel_kind_tcpip = {
	.name = "direct-tcpip",
	.ssh_type = SSH_CHANNEL_DIRECT_TCPIP,
	.open = tcpip_open,
	.run = pump_run,
	.free = tcpip_free,
};
