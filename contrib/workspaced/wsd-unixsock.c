/* SshService.UnixSocket: DIAL connects to a socket path and bridges it; LISTEN
 * creates the socket (agent forwarding) and relays its clients one after another. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/log.h"
#include "proto/k8shelld.pb-c.h"
#include "contrib/workspaced/wsd-bridge.h"
#include "contrib/workspaced/wsd-call.h"
#include "contrib/workspaced/wsd-handlers.h"
#include "contrib/workspaced/wsd-server.h"
#include "contrib/workspaced/wsd-user.h"

#define WSD_UNIX_BACKLOG 16

static int
unixsock_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	memcpy(sun->sun_path, path, strlen(path));
	return 0;
}

static void
unixsock_dial(struct wsd_bridge *b, const char *path)
{
	struct sockaddr_un sun;
	char msg[200];
	int fd;

	(void)unixsock_addr(path, &sun);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		snprintf(msg, sizeof(msg), "dial %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		wsd_bridge_fail(b, GRPC_STATUS_UNAVAILABLE, msg);
		return;
	}
	wsd_bridge_attach(b, fd);
}

/* The socket belongs to the workspace user; only that user may connect to it.
 * lchown: the path may sit in a directory others can write to. */
static int
unixsock_own(struct wsd_call *call, const char *path)
{
	struct wsd_user *user;
	int r;

	if (geteuid() != 0)
		return 0;
	if ((r = wsd_user_lookup(NULL, wsd_server_default_user(wsd_call_server(call)), &user)) < 0)
		return r;
	r = lchown(path, user->uid, user->gid) < 0 ? -errno : 0;
	wsd_user_free(user);
	return r;
}

/* Only a stale socket is replaced: a LISTEN request must never delete a file. */
static int
unixsock_clear(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	return unlink(path) < 0 ? -errno : 0;
}

/* The socket is bound under a temporary name, made ready (listening, owned by the
 * user, 0700 from the start) and only then renamed into place: a client that sees
 * the path can connect. */
static int
unixsock_make(struct wsd_call *call, const char *path, int *fdp)
{
	struct sockaddr_un sun;
	char tmp[sizeof(sun.sun_path)];
	mode_t mask;
	int fd, r = 0, n;

	*fdp = -1;
	n = snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	if ((r = unixsock_clear(path)) < 0 || (r = unixsock_clear(tmp)) < 0)
		return r;
	(void)unixsock_addr(tmp, &sun);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	mask = umask(0077);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		r = -errno;
	umask(mask);
	if (r == 0) {
		if (listen(fd, WSD_UNIX_BACKLOG) < 0)
			r = -errno;
		else if ((r = unixsock_own(call, tmp)) == 0 &&
		    renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) < 0)
			r = -errno;
		if (r < 0)
			(void)unlink(tmp);
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	*fdp = fd;
	return 0;
}

static void
unixsock_listen(struct wsd_bridge *b, const char *path)
{
	char msg[200], *copy = NULL;
	int fd = -1, r;

	if ((r = unixsock_make(wsd_bridge_call(b), path, &fd)) == 0 &&
	    (copy = strdup(path)) == NULL) {
		(void)unlink(path);
		close(fd);
		r = -ENOMEM;
	}
	if (r < 0) {
		snprintf(msg, sizeof(msg), "listen on %s: %s", path, strerror(-r));
		wsd_bridge_fail(b, GRPC_STATUS_UNAVAILABLE, msg);
		return;
	}
	wsd_bridge_listen(b, fd, copy);
}

static void
unixsock_open(struct wsd_bridge *b, const K8shelld__UnixSocketStartRequest *st)
{
	struct wsd_call *call = wsd_bridge_call(b);
	const char *id = wsd_call_metadata(call, "unixsocket-id");
	struct sockaddr_un sun;

	wsd_bridge_set_opened(b);
	if (st == NULL || unixsock_addr(st->socketpath, &sun) < 0) {
		wsd_bridge_fail(b, GRPC_STATUS_INVALID_ARGUMENT, "bad socketPath");
		return;
	}
	log_info("unixsocket %s: %s %s", id != NULL ? id : "-",
	    st->mode == K8SHELLD__UNIX_SOCKET_MODE__UNIX_SOCKET_MODE_DIAL ? "dial" : "listen",
	    st->socketpath);
	if (st->mode == K8SHELLD__UNIX_SOCKET_MODE__UNIX_SOCKET_MODE_DIAL)
		unixsock_dial(b, st->socketpath);
	else if (st->mode == K8SHELLD__UNIX_SOCKET_MODE__UNIX_SOCKET_MODE_LISTEN)
		unixsock_listen(b, st->socketpath);
	else
		wsd_bridge_fail(b, GRPC_STATUS_INVALID_ARGUMENT, "unknown UnixSocketMode");
}

static void
unixsock_message(struct wsd_bridge *b, const uint8_t *data, size_t len)
{
	K8shelld__UnixSocketRequest *req;

	if ((req = k8shelld__unix_socket_request__unpack(NULL, len, data)) == NULL) {
		wsd_bridge_fail(b, GRPC_STATUS_INVALID_ARGUMENT, "malformed UnixSocketRequest");
		return;
	}
	if (!wsd_bridge_opened(b)) {
		if (req->request_case != K8SHELLD__UNIX_SOCKET_REQUEST__REQUEST_START_REQUEST)
			wsd_bridge_fail(b, GRPC_STATUS_INVALID_ARGUMENT,
			    "the first UnixSocketRequest must be start_request");
		else
			unixsock_open(b, req->start_request);
	} else if (req->request_case == K8SHELLD__UNIX_SOCKET_REQUEST__REQUEST_DATA)
		wsd_bridge_data(b, req->data.data, req->data.len);
	else if (req->request_case == K8SHELLD__UNIX_SOCKET_REQUEST__REQUEST_START_REQUEST)
		wsd_bridge_fail(b, GRPC_STATUS_INVALID_ARGUMENT, "start_request sent twice");
	else
		wsd_call_recv(wsd_bridge_call(b));
	k8shelld__unix_socket_request__free_unpacked(req, NULL);
}

static const struct wsd_bridge_kind unixsock_kind = {
	.name = "unixsocket",
	.idkey = "unixsocket-id",
	.first = "the first UnixSocketRequest must be start_request",
	.message = unixsock_message,
	.cleanup = NULL,
};

void
wsd_unixsock_start(struct wsd_call *call)
{
	wsd_bridge_start(call, &unixsock_kind);
}
