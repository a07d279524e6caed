/* workspaced's gRPC server: listening port, method registration, the bearer-token
 * check, the table of live call IDs, and the orderly shutdown. */
#ifndef WSD_SERVER_H
#define WSD_SERVER_H

struct wsd_loop;
struct wsd_procs;
struct wsd_server;
struct wsd_call;

struct wsd_server_conf {
	const char *listen;		/* "ADDR:PORT"; PORT 0 picks a free one */
	const char *token_file;		/* NULL: no authorization required */
	const char *default_user;	/* user for an empty as_user; NULL: ourselves */
	const char *tls_cert;		/* PEM certificate chain; NULL: plaintext */
	const char *tls_key;		/* PEM private key, with tls_cert */
	int keepalive_ms;		/* ping an idle proxy this often, drop it after
					 * as long without an answer; 0: 30 s / 20 s */
	int grpc_epfd;			/* grpcp_init()'s epoll set; -1: a CQ thread */
};

int wsd_server_new(struct wsd_loop *loop, struct wsd_procs *procs,
    const struct wsd_server_conf *conf, struct wsd_server **srvp, int *portp);
/* Stops accepting and cancels every call; wsd_server_idle() says when all are gone. */
void wsd_server_shutdown(struct wsd_server *srv);
int wsd_server_idle(const struct wsd_server *srv);
void wsd_server_free(struct wsd_server *srv);

struct wsd_loop *wsd_server_loop(const struct wsd_server *srv);
struct wsd_procs *wsd_server_procs(const struct wsd_server *srv);
const char *wsd_server_default_user(const struct wsd_server *srv);

/* Binds call to (kind, id) while it lives: -EEXIST when a live call holds it. */
int wsd_server_claim_id(struct wsd_server *srv, struct wsd_call *call, const char *kind,
    const char *id);
struct wsd_call *wsd_server_find_id(struct wsd_server *srv, const char *kind, const char *id);
/* The call ended (status sent or cancelled): its IDs are free for new calls. */
void wsd_server_drop_ids(struct wsd_server *srv, struct wsd_call *call);
/* The call is gone: drops its IDs and its accounting. */
void wsd_server_call_gone(struct wsd_server *srv, struct wsd_call *call);

#endif
