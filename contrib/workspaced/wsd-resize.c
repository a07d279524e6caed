/* SshService.ResizeTerminal: sets the window size of the live Shell named by the
 * session-id metadata (the kernel then sends SIGWINCH to its foreground group). */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "daemon/log.h"
#include "proto/k8shelld.pb-c.h"
#include "contrib/workspaced/wsd-call.h"
#include "contrib/workspaced/wsd-handlers.h"
#include "contrib/workspaced/wsd-server.h"

void
wsd_resize_start(struct wsd_call *call, const uint8_t *data, size_t len)
{
	K8shelld__ResizeTerminalResponse resp = K8SHELLD__RESIZE_TERMINAL_RESPONSE__INIT;
	K8shelld__ResizeTerminalRequest *req;
	const char *id = wsd_call_metadata(call, "session-id");
	struct wsd_call *shell;
	struct winsize ws;
	char msg[128];
	int fd;

	if (id == NULL || id[0] == '\0') {
		wsd_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT, "missing session-id metadata");
		return;
	}
	if ((req = k8shelld__resize_terminal_request__unpack(NULL, len, data)) == NULL) {
		wsd_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT, "malformed ResizeTerminalRequest");
		return;
	}
	memset(&ws, 0, sizeof(ws));
	ws.ws_col = (unsigned short)req->width;
	ws.ws_row = (unsigned short)req->height;
	k8shelld__resize_terminal_request__free_unpacked(req, NULL);

	if ((shell = wsd_server_find_id(wsd_call_server(call), "session", id)) == NULL) {
		wsd_call_finish(call, GRPC_STATUS_NOT_FOUND, "no live shell with this session-id");
		return;
	}
	/* A shell without a pty has no window: nothing to do. */
	if ((fd = wsd_shell_pty(shell)) >= 0 && ioctl(fd, TIOCSWINSZ, &ws) < 0) {
		snprintf(msg, sizeof(msg), "TIOCSWINSZ: %s", strerror(errno));
		wsd_call_finish(call, GRPC_STATUS_INTERNAL, msg);
		return;
	}
	log_debug("shell %s resized to %ux%u", id, ws.ws_col, ws.ws_row);
	wsd_call_reply(call, &resp.base);
}
