/* The session channel's state, shared by channel-session.c (SSH requests) and
 * session-run.c (the Shell/Exec stream to the workspace and its two pumps). */
#ifndef CHILD_SESSION_H
#define CHILD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "child/channel.h"
#include "child/pump.h"

#define SESSION_TERM_MAX	64
#define SESSION_SIGQ		10		/* signals queued for an exec (spec/flows.md §7) */
#define SESSION_ENV_MAX		1024		/* client env entries kept */
#define SESSION_CHUNK		(128 * 1024)	/* most stdin bytes per gRPC message */

enum session_what { SESSION_NONE, SESSION_SHELL, SESSION_EXEC, SESSION_SFTP };

enum session_phase {
	SESSION_IDLE,		/* requests only, nothing started */
	SESSION_WAIT,		/* waiting for the workspace */
	SESSION_RUN,		/* the stream runs */
	SESSION_DONE,		/* exit-status and close sent (or the client left) */
};

struct workspace_waiter;
struct gcall;
struct gcall_chan;

struct session {
	struct channel *ch;

	/* What the requests before the start asked for. */
	bool pty;
	char term[SESSION_TERM_MAX];
	uint32_t cols, rows;
	char **env;			/* client "NAME=VALUE" entries, arrival order */
	size_t nenv;
	bool agent;			/* auth-agent-req@openssh.com */
	char agent_id[CHANNEL_ID_MAX];	/* ux-<connId><seq> */
	char agent_sock[CHANNEL_ID_MAX + 32];

	enum session_what what;
	char *command;			/* exec: the command line; sftp: server.sftpBinary */
	char call_id[CHANNEL_ID_MAX];	/* session-id (sh-) or exec-id (ex-, sf-) */
	enum session_phase phase;
	struct workspace_waiter *waiter;
	struct gcall_chan *gch;		/* the workspace's channel, once ready */
	struct gcall *call;		/* the Shell or Exec stream */
	bool failing;			/* fail holds a user-facing message to deliver */
	char fail[256];

	/* SSH -> workspace: at most one send in flight (gcall). */
	struct pump_held in_held;	/* stdin taken from libssh, not sent yet */
	size_t in_buffered;		/* stdin bytes libssh holds for us */
	bool in_eof;			/* the client sent EOF */
	bool in_closed;			/* half-close queued */
	bool resize_pending;		/* exec with a pty: window-change to send */
	char *sigq[SESSION_SIGQ];
	size_t nsig;

	/* workspace -> SSH: the message being written and at most one more; the
	 * next is received while one is written, none while two are held. */
	struct grpcc_data *out;		/* its bytes, in gRPC's slices */
	uint8_t *out_scratch;		/* SESSION_CHUNK bytes gathered for one write */
	bool out_stderr;
	struct grpcc_data *next;	/* arrived meanwhile (only while out is set) */
	bool next_stderr;
	bool recv_armed;		/* a receive is in flight */
	bool have_exit;			/* exit_code (exec) or terminate (shell) seen */
	int exit_code;
	bool ended;			/* on_status seen */
	int status_code;
	bool status_local;		/* raised client-side (gcall_status.local) */
	char status_msg[256];
};

/* channel-session.c */
/* The environment list of spec k8shelld.md (USER, LOGNAME, client entries);
 * *envp is malloc'd (entries too), free with session_env_free. */
int session_env_list(const struct session *st, char ***envp, size_t *np);
void session_env_free(char **env, size_t n);

/* session-run.c */
/* Starts the workspace side for the first shell/exec/subsystem request. */
int session_start(struct channel *ch);
/* stdin data from the client: bytes taken (0 = keep them buffered in libssh). */
int session_input(struct channel *ch, const void *data, uint32_t len);
/* window-change while running. */
void session_resize(struct channel *ch);
/* signal while an exec runs: 0 queued, -1 refused. */
int session_signal(struct channel *ch, const char *name);
/* Deferred work (the two pumps, the end), after every loop turn. */
void session_run(struct channel *ch);
/* Cancels the wait and the stream, frees what session-run.c holds. */
void session_stop(struct channel *ch);

#endif
