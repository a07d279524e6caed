/* The per-connection SSH server process (ssh-proxy --child): unprivileged,
 * the only process that speaks SSH, gRPC and NATS. State shared by child/ files. */
#ifndef CHILD_CHILD_H
#define CHILD_CHILD_H

/* child_main() is declared in daemon/proxy.h. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Our channel_* names clash with libssh's 0.4 legacy API: leave it out. */
#ifndef LIBSSH_LEGACY_0_4
#define LIBSSH_LEGACY_0_4
#endif
#include <libssh/libssh.h>
#include <libssh/callbacks.h>
#include <libssh/server.h>

#include "child/connid.h"

struct config;
struct proxy_args;
struct kexsign;
struct channel;
struct auth_backend;
struct workspace;
struct rcvlowat;

/* Where the client is: the PROXY header's source, else the socket peer. */
struct child_peer {
	char ip[INET6_ADDRSTRLEN];	/* "" when the socket is not IP (socketpair) */
	int port;			/* -1 when unknown */
	bool proxied;			/* taken from a PROXY header */
};

/* One connection's whole state; every callback gets it as userdata. */
struct child {
	const struct proxy_args *args;
	int monitor_fd;			/* PRIVSEP_MONITOR_FD, or -1 when run without monitor */
	struct config *cfg;
	char connid[CONNID_MAX];
	unsigned long seq;		/* per-connection id counter (spec/flows.md §1) */
	struct child_peer peer;

	/* SSHHandshakeTimeout: covers PROXY header, version exchange, KEX and auth. */
	bool deadline_armed;
	struct timespec deadline;	/* CLOCK_MONOTONIC */

	struct kexsign *keys;
	ssh_bind bind;
	ssh_session session;
	ssh_event event;
	struct ssh_server_callbacks_struct server_cb;
	bool kex_done;

	const struct auth_backend *auth;
	int auth_attempts;		/* every userauth request seen */
	int auth_failures;		/* counted like OpenSSH for MaxAuthTries */
	bool authenticated;
	char *user;			/* authenticated user */

	struct channel *channels;	/* open channels, newest first */
	struct workspace *ws;		/* workspace.c; NULL until a channel needs it */
	bool wake;			/* channel work queued: poll without sleeping */
	struct rcvlowat *lowat;		/* the client socket's SO_RCVLOWAT (rcvlowat.c) */
	int exit_code;			/* -1 while the connection runs (privsep.h codes) */
};

/* child.c */
/* Ends the connection with code (privsep.h) after the current loop turn. */
void child_finish(struct child *c, int code);
/* The client's socket is nonblocking (the loop also runs the workspace's gRPC
 * streams), so what it does not take queues in libssh: channel data waits
 * while more than this is queued, and goes on when POLLOUT drained it. */
#define CHILD_OUTPUT_MAX	(1024 * 1024)
bool child_output_full(const struct child *c);
/* Public key as an SSH wire blob (malloc'd). Returns 0 or -1. */
int child_key_blob(const ssh_key key, uint8_t **blob, size_t *len);
/* "SHA256:..." fingerprint (malloc'd, free with ssh_string_free_char), or NULL. */
char *child_key_fingerprint(const ssh_key key);

/* peer.c: the client's address. */
#define PEER_E_TIMEOUT	-20	/* handshake deadline passed while waiting for the header */
#define PEER_E_CLOSED	-21	/* client closed the connection before sending anything */
#define PEER_E_IO	-22	/* socket error */
#define PEER_E_TRUNCATED -23	/* client closed inside the PROXY header */
/* Fills p from getpeername(fd). Returns 0 or PEER_E_IO. */
int peer_from_socket(struct child_peer *p, int fd);
/* Reads a PROXY v1 header if there is one, without consuming any byte after it;
 * replaces p with its source (not for UNKNOWN). deadline may be NULL.
 * Returns 0 (header applied, UNKNOWN, or no header), a PROXYHDR_E_* or PEER_E_*. */
int peer_read_proxy(struct child_peer *p, int fd, const struct timespec *deadline);
const char *peer_strerror(int err);

/* kexsign.c: host keys in the child. */
/* Imports the monitor's public host keys into bind; signatures come from
 * kexsign_sign (the hostkey_sign_function callback, userdata = struct child). */
int kexsign_load_monitor(struct kexsign **out, int monitor_fd, ssh_bind bind);
/* Debug only (no monitor): imports the private key files of cfg into bind. */
int kexsign_load_files(struct kexsign **out, const struct config *cfg, ssh_bind bind);
int kexsign_sign(ssh_session session, ssh_key hostkey, const char *sig_alg,
    const unsigned char *data, size_t datalen, ssh_string *signature, void *userdata);
void kexsign_free(struct kexsign *k);

/* auth.c: user authentication (dispatch to the identity backend). */
/* Picks the backend for c->cfg. Returns 0, or -1 (logged) when none can serve. */
int auth_init(struct child *c);
/* The auth_pubkey_function server callback (userdata = struct child). */
int auth_pubkey(ssh_session session, const char *user, struct ssh_key_struct *pubkey,
    char signature_state, void *userdata);
/* Any other userauth request (none, password, ...): counted, then refused. */
void auth_other(struct child *c, ssh_message msg);
/* MaxAuthTries reached: the connection must be closed. */
bool auth_exhausted(const struct child *c);

/* channel.c: channel dispatch (kinds in channel-*.c, see channel.h). */
/* A channel open the server callbacks did not take: 0 handled, 1 default reply. */
int channel_open(struct child *c, ssh_message msg);
/* A channel request libssh had no channel callback for: 0 handled, 1 default reply. */
int channel_request(struct child *c, ssh_message msg);
/* Deferred work and reaping of closed channels, after every loop turn. */
void channel_run(struct child *c);
void channel_free_all(struct child *c);

#endif
