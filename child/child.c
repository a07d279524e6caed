/* ssh-proxy --child: one client connection on fd 3. Finds its monitor (or becomes
 * one when run as root), reads the PROXY header, runs the libssh server and its event loop. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "child/child.h"
#include "child/rcvlowat.h"
#include "child/workspace.h"
#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/proxy.h"
#include "privsep/monitor-wrap.h"
#include "privsep/monitor.h"
#include "privsep/privsep.h"
#include "privsep/sandbox.h"

#define CHILD_BANNER	"ssh-proxy_" PROXY_VERSION "/" PROXY_COMMIT "_k8shell.io"

bool
child_output_full(const struct child *c)
{
	return ssh_get_pending_output(c->session) > CHILD_OUTPUT_MAX;
}

void
child_finish(struct child *c, int code)
{
	if (c->exit_code < 0)
		c->exit_code = code;
}

int
child_key_blob(const ssh_key key, uint8_t **blob, size_t *len)
{
	char *b64 = NULL;
	size_t b64len, max;
	uint8_t *bin;

	*blob = NULL;
	/* libssh 0.10 exports blobs only as base64: the same bytes, encoded. */
	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK || b64 == NULL)
		return -1;
	b64len = strlen(b64);
	max = b64len / 4 * 3 + 3;
	if ((bin = malloc(max)) == NULL ||
	    sodium_base642bin(bin, max, b64, b64len, NULL, len, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0) {
		free(bin);
		ssh_string_free_char(b64);
		return -1;
	}
	ssh_string_free_char(b64);
	*blob = bin;
	return 0;
}

char *
child_key_fingerprint(const ssh_key key)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp;

	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0)
		return NULL;
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	ssh_clean_pubkey_hash(&hash);
	return fp;
}

static bool
is_connected_stream(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss), tl;
	int type;

	tl = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_STREAM)
		return false;
	return getpeername(fd, (struct sockaddr *)&ss, &sl) == 0;
}

static bool
is_monitor_socket(int fd)
{
	socklen_t l;
	int type, domain;

	l = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) != 0 || type != SOCK_SEQPACKET)
		return false;
	l = sizeof(domain);
	return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &l) == 0 && domain == AF_UNIX;
}

/* Root without a monitor (systemd Accept=yes, inetd, by hand): become this
 * connection's monitor; it re-execs us unprivileged with fd 4. */
static int
child_become_monitor(const struct proxy_args *a)
{
	struct proxy_state st;
	int rc;

	memset(&st, 0, sizeof(st));
	log_set_component("monitor");
	if (proxy_state_load(&st, a) != 0)
		return EXIT_CHILD_CONFIG;
	st.mp.status_fd = -1;
	rc = monitor_run(PRIVSEP_CLIENT_FD, &st.mp);
	proxy_state_free(&st);
	return rc;
}

static int
child_config(struct child *c)
{
	struct config_error err;
	char *text = NULL;
	size_t len = 0;
	int rc;

	memset(&err, 0, sizeof(err));
	if (c->monitor_fd < 0) {
		rc = config_load(c->args->config_path, &c->cfg, &err);
	} else {
		if ((rc = mm_config(c->monitor_fd, &text, &len)) != 0) {
			log_error("cannot get the configuration from the monitor (%d)", rc);
			return -1;
		}
		rc = config_parse(text, len, "monitor", &c->cfg, &err);
		config_text_free(text, len);
	}
	if (rc != 0) {
		log_error("%s", err.message);
		return -1;
	}
	return 0;
}

static void
deadline_arm(struct child *c)
{
	int secs = c->cfg->server.handshake_timeout;

	if (secs <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &c->deadline);
	c->deadline.tv_sec += secs;
	c->deadline_armed = true;
}

/* Milliseconds left before the handshake deadline (0 = passed), -1 if none. */
static int
deadline_ms(const struct child *c)
{
	struct timespec now;
	long long ms;

	if (!c->deadline_armed)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(c->deadline.tv_sec - now.tv_sec) * 1000 +
	    (c->deadline.tv_nsec - now.tv_nsec) / 1000000;
	if (ms <= 0)
		return 0;
	return ms > 1000 ? 1000 : (int)ms;
}

static const char *
sock_ip(const struct child_peer *p)
{
	return p->ip[0] != '\0' ? p->ip : "local";
}

static int
child_peer(struct child *c)
{
	struct child_peer sock;
	char fields[256];
	int rc, one = 1;

	if (peer_from_socket(&c->peer, PRIVSEP_CLIENT_FD) != 0) {
		log_error("getpeername on the client socket: %s", strerror(errno));
		return EXIT_CHILD_INTERNAL;
	}
	/* The listener sets it already; systemd Accept=yes and inetd do not. */
	if (c->peer.ip[0] != '\0')
		setsockopt(PRIVSEP_CLIENT_FD, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	sock = c->peer;
	if (c->cfg->server.proxy_protocol) {
		rc = peer_read_proxy(&c->peer, PRIVSEP_CLIENT_FD,
		    c->deadline_armed ? &c->deadline : NULL);
		if (rc != 0) {
			snprintf(fields, sizeof(fields), "client=%s\nport=%d", sock_ip(&sock), sock.port);
			log_emit(rc == PEER_E_CLOSED ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN, __func__,
			    fields, "closing: %s", peer_strerror(rc));
			return EXIT_CHILD_HANDSHAKE;
		}
	}
	if (c->peer.proxied)
		snprintf(fields, sizeof(fields), "client=%s\nport=%d\nvia=%s\nvia_port=%d",
		    c->peer.ip, c->peer.port, sock_ip(&sock), sock.port);
	else
		snprintf(fields, sizeof(fields), "client=%s\nport=%d", sock_ip(&c->peer), c->peer.port);
	if (c->peer.ip[0] != '\0')
		log_infof(fields, "connection from %s port %d", c->peer.ip, c->peer.port);
	else
		log_infof(fields, "connection from a local socket");
	return 0;
}

/* libssh's own lines (already "function: message") go to our log at debug. */
static void
child_ssh_log(int priority, const char *function, const char *buffer, void *userdata)
{
	(void)priority;
	(void)function;
	(void)userdata;
	log_emit(LOG_LEVEL_DEBUG, "libssh", NULL, "%s", buffer);
}

/* Every message the server callbacks did not take. 0 = answered here,
 * 1 = libssh sends its default reply (a refusal). */
static int
child_message(ssh_session session, ssh_message msg, void *userdata)
{
	struct child *c = userdata;

	(void)session;
	switch (ssh_message_type(msg)) {
	case SSH_REQUEST_AUTH:
		auth_other(c, msg);
		return 1;
	case SSH_REQUEST_CHANNEL_OPEN:
		return channel_open(c, msg);
	case SSH_REQUEST_CHANNEL:
		return channel_request(c, msg);
	case SSH_REQUEST_GLOBAL:
		log_debug("global request %d refused", ssh_message_subtype(msg));
		return 1;
	default:
		return 1;
	}
}

/* The monitor never speaks first: fd 4 readable outside a request means it is gone. */
static int
child_monitor_event(socket_t fd, int revents, void *userdata)
{
	struct child *c = userdata;
	char b;

	/* The fd stays registered (removing it here would free libssh's handle
	 * under its feet); the loop ends after this turn. */
	if (c->exit_code < 0 && ((revents & (POLLHUP | POLLERR)) != 0 ||
	    recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) >= 0)) {
		log_error("the monitor closed its socket or spoke out of turn: ending the connection");
		child_finish(c, EXIT_CHILD_INTERNAL);
	}
	return 0;
}

/* Returns 0 or the exit code (privsep.h) for this connection. */
static int
child_ssh_setup(struct child *c)
{
	int verbosity = log_get_level() == LOG_LEVEL_DEBUG ? SSH_LOG_PROTOCOL : SSH_LOG_NOLOG;
	bool process_config = false;
	int fl;

	if (ssh_init() != SSH_OK) {
		log_error("libssh initialisation failed");
		return EXIT_CHILD_INTERNAL;
	}
	ssh_set_log_callback(child_ssh_log);
	ssh_set_log_level(verbosity);
	if ((c->bind = ssh_bind_new()) == NULL || (c->session = ssh_new()) == NULL)
		return EXIT_CHILD_INTERNAL;
	/* Never read /etc/ssh/libssh_server_config: the config file is ours. */
	if (ssh_bind_options_set(c->bind, SSH_BIND_OPTIONS_PROCESS_CONFIG, &process_config) != SSH_OK ||
	    ssh_bind_options_set(c->bind, SSH_BIND_OPTIONS_LOG_VERBOSITY, &verbosity) != SSH_OK ||
	    /* libssh prepends "SSH-2.0-" (spec/flows.md §2). */
	    ssh_bind_options_set(c->bind, SSH_BIND_OPTIONS_BANNER, CHILD_BANNER) != SSH_OK) {
		log_error("libssh bind options: %s", ssh_get_error(c->bind));
		return EXIT_CHILD_INTERNAL;
	}
	if (c->monitor_fd >= 0) {
		if (kexsign_load_monitor(&c->keys, c->monitor_fd, c->bind) != 0)
			return EXIT_CHILD_INTERNAL;
	} else if (kexsign_load_files(&c->keys, c->cfg, c->bind) != 0) {
		return EXIT_CHILD_CONFIG;
	}
	if (ssh_bind_accept_fd(c->bind, c->session, PRIVSEP_CLIENT_FD) != SSH_OK) {
		log_error("libssh cannot take the connection: %s", ssh_get_error(c->bind));
		return EXIT_CHILD_INTERNAL;
	}
	/* A client that stops reading must not stop the loop in send(): its
	 * gRPC streams (keepalive pings included) run on this thread too. Our
	 * libssh takes EAGAIN as "later" (contrib/libssh patch 0010). */
	if ((fl = fcntl(PRIVSEP_CLIENT_FD, F_GETFL)) < 0 ||
	    fcntl(PRIVSEP_CLIENT_FD, F_SETFL, fl | O_NONBLOCK) < 0) {
		log_error("nonblocking client socket: %s", strerror(errno));
		return EXIT_CHILD_INTERNAL;
	}
	if (rcvlowat_new(&c->lowat, c->session, PRIVSEP_CLIENT_FD) != 0)
		return EXIT_CHILD_INTERNAL;

	memset(&c->server_cb, 0, sizeof(c->server_cb));
	c->server_cb.userdata = c;
	c->server_cb.auth_pubkey_function = auth_pubkey;
	/* With a monitor, libssh holds public keys only and asks us for every signature. */
	if (c->monitor_fd >= 0)
		c->server_cb.hostkey_sign_function = kexsign_sign;
	ssh_callbacks_init(&c->server_cb);
	if (ssh_set_server_callbacks(c->session, &c->server_cb) != SSH_OK)
		return EXIT_CHILD_INTERNAL;
	ssh_set_message_callback(c->session, child_message, c);
	ssh_set_auth_methods(c->session, SSH_AUTH_METHOD_PUBLICKEY);
	/* One loop drives KEX, auth and channels, so the deadline is checked every turn. */
	ssh_set_blocking(c->session, 0);

	if ((c->event = ssh_event_new()) == NULL)
		return EXIT_CHILD_INTERNAL;
	/* The first call sends our version string and starts the KEX. */
	if (ssh_handle_key_exchange(c->session) == SSH_ERROR) {
		log_info("key exchange failed: %s", ssh_get_error(c->session));
		return EXIT_CHILD_HANDSHAKE;
	}
	/* Needs the poll handle the first KEX call created. */
	if (ssh_event_add_session(c->event, c->session) != SSH_OK)
		return EXIT_CHILD_INTERNAL;
	if (c->monitor_fd >= 0 &&
	    ssh_event_add_fd(c->event, c->monitor_fd, POLLIN, child_monitor_event, c) != SSH_OK)
		return EXIT_CHILD_INTERNAL;
	return 0;
}

static void
child_disconnect(struct child *c, const char *why)
{
	ssh_session_set_disconnect_message(c->session, why);
	/* Our libssh writes the DISCONNECT out before closing (patch 0004),
	 * waiting at most 1 s for a client that does not read. */
	ssh_disconnect(c->session);
}

static int
child_loop(struct child *c)
{
	while (c->exit_code < 0) {
		int ms = deadline_ms(c), tick = workspace_tick_ms(c), rc = SSH_AGAIN;

		if (tick >= 0 && (ms < 0 || tick < ms))
			ms = tick;
		ms = rcvlowat_poll_ms(c->lowat, ms);
		if (ms != 0)
			rc = ssh_event_dopoll(c->event, c->wake ? 0 : ms);
		rcvlowat_update(c->lowat);
		workspace_tick(c, tick);
		if (!c->kex_done && c->exit_code < 0) {
			int k = ssh_handle_key_exchange(c->session);
			if (k == SSH_OK) {
				c->kex_done = true;
				log_debug("key exchange done");
			} else if (k == SSH_ERROR) {
				log_info("key exchange failed: %s", ssh_get_error(c->session));
				child_finish(c, EXIT_CHILD_HANDSHAKE);
				break;
			}
		}
		channel_run(c);
		if (c->exit_code >= 0)
			break;
		if (!c->authenticated && auth_exhausted(c)) {
			child_disconnect(c, "Too many authentication failures");
			child_finish(c, EXIT_CHILD_AUTH_FAIL);
			break;
		}
		if (rc == SSH_ERROR || !ssh_is_connected(c->session)) {
			log_info("connection closed by the client%s", c->authenticated ? "" :
			    c->kex_done ? " during authentication" : " during the key exchange");
			child_finish(c, c->authenticated ? EXIT_CHILD_OK :
			    c->kex_done ? EXIT_CHILD_AUTH_FAIL : EXIT_CHILD_HANDSHAKE);
			break;
		}
		if (c->deadline_armed && deadline_ms(c) == 0) {
			log_info("handshake timeout (%d s) %s", c->cfg->server.handshake_timeout,
			    c->kex_done ? "during authentication" : "during the key exchange");
			/* Before the KEX ends there is no one to tell: just close. */
			if (c->kex_done)
				child_disconnect(c, "Authentication timeout");
			else
				ssh_silent_disconnect(c->session);
			child_finish(c, c->kex_done ? EXIT_CHILD_AUTH_FAIL : EXIT_CHILD_HANDSHAKE);
		}
	}
	return c->exit_code;
}

static int
child_serve(struct child *c)
{
	int rc;

	if (sodium_init() < 0) {
		log_error("libsodium initialisation failed");
		return EXIT_CHILD_INTERNAL;
	}
	if (connid_new(c->connid, sizeof(c->connid)) != 0)
		return EXIT_CHILD_INTERNAL;
	log_set_connid(c->connid);
	if (child_config(c) != 0)
		return EXIT_CHILD_CONFIG;
	/* Before the first byte from the network is parsed. */
	if (sandbox_child_apply() != 0)
		return EXIT_CHILD_INTERNAL;
	deadline_arm(c);
	if ((rc = child_peer(c)) != 0)
		return rc;
	if (auth_init(c) != 0)
		return EXIT_CHILD_CONFIG;
	if ((rc = child_ssh_setup(c)) != 0)
		return rc;
	return child_loop(c);
}

static void
child_cleanup(struct child *c)
{
	channel_free_all(c);
	/* gRPC last among the users of the loop: its fd leaves the event first. */
	workspace_free(c);
	if (c->event != NULL) {
		if (c->session != NULL)
			ssh_event_remove_session(c->event, c->session);
		if (c->monitor_fd >= 0)
			ssh_event_remove_fd(c->event, c->monitor_fd);
		ssh_event_free(c->event);
	}
	if (c->lowat != NULL) {
		log_debug("client socket: SO_RCVLOWAT set %lu times", rcvlowat_times_set(c->lowat));
		rcvlowat_free(c->lowat);
	}
	if (c->session != NULL) {
		if (ssh_is_connected(c->session)) {
			if (c->exit_code == EXIT_CHILD_INTERNAL)
				ssh_session_set_disconnect_message(c->session, "Internal error");
			ssh_disconnect(c->session);
		}
		ssh_free(c->session);
	}
	if (c->bind != NULL)
		ssh_bind_free(c->bind);
	kexsign_free(c->keys);
	config_free(c->cfg);
	free(c->user);
	ssh_finalize();
}

int
child_main(const struct proxy_args *a)
{
	struct child c;
	int code;

	/* Data messages are 128 KiB buffers: with glibc's defaults each one
	 * moves the heap top up and back (brk, page faults, page frees). */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 16 << 20);
	memset(&c, 0, sizeof(c));
	c.args = a;
	c.monitor_fd = -1;
	c.exit_code = -1;
	if (!is_connected_stream(PRIVSEP_CLIENT_FD)) {
		log_error("fd %d is not a connected stream socket: --child serves one connection "
		    "passed on fd %d (by the listener, systemd Accept=yes or inetd)",
		    PRIVSEP_CLIENT_FD, PRIVSEP_CLIENT_FD);
		return EXIT_CHILD_INTERNAL;
	}
	if (is_monitor_socket(PRIVSEP_MONITOR_FD)) {
		c.monitor_fd = PRIVSEP_MONITOR_FD;
		if (geteuid() == 0)
			log_warn("the child runs as root: privsep.user should name an unprivileged user");
	} else if (geteuid() == 0) {
		return child_become_monitor(a);
	} else {
		log_warn("no monitor: this child holds the host private key; for debugging only");
	}
	code = child_serve(&c);
	child_finish(&c, code);
	child_cleanup(&c);
	log_debug("exit %d", code);
	return code;
}
