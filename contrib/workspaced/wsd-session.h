/* A process started for a call (Exec or Shell) and its stdio relayed over that
 * call's stream: output in order, then one final message carrying the exit code. */
#ifndef WSD_SESSION_H
#define WSD_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <grpc/grpc.h>

struct wsd_call;
struct wsd_spawn;
struct grpcc_data;
struct wsd_session;

/* How long output fds may stay open after the process exited (a background
 * child holding them) before the final message goes out anyway. */
#define WSD_DRAIN_GRACE_MS 250

struct wsd_session_conf {
	int out_field;		/* response field for stdout bytes */
	int err_field;		/* response field for stderr bytes (unused with a pty) */
	/* First message, before any output (e.g. the pty name); NULL: none. */
	grpc_byte_buffer *(*first)(const char *pty);
	/* Terminal message; the call then ends with OK. */
	grpc_byte_buffer *(*last)(int exit_code);
};

/* Starts sp->path. When no process can be started the session still exists
 * and reports one line on the error field and exit code 1. -ENOMEM otherwise. */
int wsd_session_new(struct wsd_call *call, const struct wsd_spawn *sp,
    const struct wsd_session_conf *conf, struct wsd_session **sessp);
/* Stdin bytes (borrowed); the session re-arms the call's receive once written. */
void wsd_session_input(struct wsd_session *s, const uint8_t *data, size_t len);
/* The same for a received data message's bytes, in place (d taken). */
void wsd_session_input_data(struct wsd_session *s, struct grpcc_data *d);
/* The client half-closed: close stdin once pending bytes are written. */
void wsd_session_eof(struct wsd_session *s);
int wsd_session_signal(struct wsd_session *s, int sig);
int wsd_session_resize(struct wsd_session *s, unsigned int cols, unsigned int rows);
/* The pty master, or -1 without a pty. */
int wsd_session_pty(const struct wsd_session *s);
/* Forwarded from the call's sent hook. */
void wsd_session_sent(struct wsd_session *s);
/* Closes the fds and releases the process group (SIGHUP, then SIGKILL). */
void wsd_session_free(struct wsd_session *s);

#endif
