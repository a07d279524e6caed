/* Entry points of workspaced's RPC handlers, one file each: called by the server
 * for a new call after authorization; unary ones get the request payload. */
#ifndef WSD_HANDLERS_H
#define WSD_HANDLERS_H

#include <stddef.h>
#include <stdint.h>

struct wsd_call;

void wsd_handshake_start(struct wsd_call *call, const uint8_t *req, size_t len);
void wsd_resize_start(struct wsd_call *call, const uint8_t *req, size_t len);
void wsd_shell_start(struct wsd_call *call);
void wsd_exec_start(struct wsd_call *call);
void wsd_portfwd_start(struct wsd_call *call);
void wsd_unixsock_start(struct wsd_call *call);

/* The pty master of the live Shell with this session-id, or -1. */
int wsd_shell_pty(struct wsd_call *shell_call);

#endif
