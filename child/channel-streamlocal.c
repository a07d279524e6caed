/* The "direct-streamlocal@openssh.com" channel (ssh -L sock:/path/in/workspace), bridged
 * to a k8shelld UnixSocket DIAL stream (spec/flows.md §8f; libssh patch 0002 parses the open). */
#include "autoconf.h"

#include <libssh/ssh2.h>

#include "child/channel.h"
#include "child/pump.h"
#include "daemon/log.h"
#include "proto/k8shelld.pb-c.h"

static int
streamlocal_open(struct channel *ch, ssh_message msg)
{
	/* The socket path; the reserved fields of the payload are ignored. */
	const char *path = ssh_message_channel_request_open_destination(msg);

	if (path == NULL || path[0] == '\0') {
		channel_reject(ch, msg, SSH2_OPEN_ADMINISTRATIVELY_PROHIBITED,
		    "bad direct-streamlocal payload");
		return -1;
	}
	channel_set_id(ch, "ux");
	if (pump_accept(ch, msg, &pump_unixsocket, path,
	    K8SHELLD__UNIX_SOCKET_MODE__UNIX_SOCKET_MODE_DIAL) != 0)
		return -1;
	log_info("%s: direct-streamlocal to %s", ch->id, path);
	pump_begin(ch);
	return 0;
}

static void
streamlocal_free(struct channel *ch)
{
	pump_free(ch);
}

const struct channel_kind channel_kind_streamlocal = {
	.name = "direct-streamlocal@openssh.com",
	.ssh_type = SSH_CHANNEL_DIRECT_STREAMLOCAL,
	.open = streamlocal_open,
	.run = pump_run,
	.free = streamlocal_free,
};
