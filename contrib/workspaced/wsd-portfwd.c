/* SshService.PortForward: resolves and connects the destination (off the loop
 * thread when a name must be looked up), then bridges the TCP connection to the stream. */
#include "autoconf.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/log.h"
#include "proto/k8shelld.pb-c.h"
#include "contrib/workspaced/wsd-bridge.h"
#include "contrib/workspaced/wsd-call.h"
#include "contrib/workspaced/wsd-handlers.h"
#include "contrib/workspaced/wsd-loop.h"

struct portfwd {
	struct wsd_bridge *b;
	char dest[300];			/* "host:port" for messages */
	struct addrinfo *res, *cur;
	int fd;				/* connect in progress */
	struct wsd_watch cwatch;
	int last_err;
};

/* A name lookup on its own thread; it holds the call until its result is handled. */
struct resolve_job {
	struct wsd_tag tag;
	struct wsd_loop *loop;
	struct wsd_call *call;
	struct portfwd *pf;
	char *host;
	char port[8];
	struct addrinfo *res;
	int gai;
};

static void portfwd_connect_next(struct portfwd *pf);

static void
portfwd_cleanup(struct wsd_bridge *b)
{
	struct portfwd *pf = wsd_bridge_state(b);

	if (pf == NULL)
		return;
	wsd_watch_set(wsd_call_loop(wsd_bridge_call(b)), &pf->cwatch, 0);
	if (pf->fd >= 0)
		close(pf->fd);
	pf->fd = -1;
	if (pf->res != NULL)
		freeaddrinfo(pf->res);
	pf->res = pf->cur = NULL;
}

static void
portfwd_connected(struct portfwd *pf)
{
	int fd = pf->fd, one = 1;

	pf->fd = -1;
	wsd_watch_set(wsd_call_loop(wsd_bridge_call(pf->b)), &pf->cwatch, 0);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	log_debug("portforward: connected to %s", pf->dest);
	wsd_bridge_attach(pf->b, fd);
}

static void
portfwd_connect_cb(struct wsd_watch *w, short revents)
{
	struct portfwd *pf = wsd_container_of(w, struct portfwd, cwatch);
	socklen_t len = sizeof(int);
	int err = 0;

	(void)revents;
	if (getsockopt(pf->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0) {
		portfwd_connected(pf);
		return;
	}
	pf->last_err = err;
	wsd_watch_set(wsd_call_loop(wsd_bridge_call(pf->b)), &pf->cwatch, 0);
	close(pf->fd);
	pf->fd = -1;
	pf->cur = pf->cur->ai_next;
	portfwd_connect_next(pf);
}

/* Tries the remaining addresses in order; the last error is what the client sees. */
static void
portfwd_connect_next(struct portfwd *pf)
{
	struct wsd_loop *loop = wsd_call_loop(wsd_bridge_call(pf->b));
	char msg[400];

	for (; pf->cur != NULL; pf->cur = pf->cur->ai_next) {
		struct addrinfo *ai = pf->cur;

		pf->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (pf->fd < 0) {
			pf->last_err = errno;
			continue;
		}
		if (connect(pf->fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			portfwd_connected(pf);
			return;
		}
		if (errno == EINPROGRESS) {
			wsd_watch_init(&pf->cwatch, pf->fd, portfwd_connect_cb);
			wsd_watch_set(loop, &pf->cwatch, POLLOUT);
			return;
		}
		pf->last_err = errno;
		close(pf->fd);
		pf->fd = -1;
	}
	snprintf(msg, sizeof(msg), "connect to %s: %s", pf->dest,
	    strerror(pf->last_err ? pf->last_err : EHOSTUNREACH));
	wsd_bridge_fail(pf->b, GRPC_STATUS_UNAVAILABLE, msg);
}

static void
portfwd_resolved(struct portfwd *pf, struct addrinfo *res, int gai)
{
	char msg[400];

	if (gai != 0) {
		snprintf(msg, sizeof(msg), "resolve %s: %s", pf->dest, gai_strerror(gai));
		wsd_bridge_fail(pf->b, GRPC_STATUS_UNAVAILABLE, msg);
		return;
	}
	pf->res = pf->cur = res;
	portfwd_connect_next(pf);
}

static void *
resolve_thread(void *arg)
{
	struct resolve_job *job = arg;
	struct addrinfo hints;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	job->gai = getaddrinfo(job->host, job->port, &hints, &job->res);
	wsd_loop_post(job->loop, &job->tag, 1);
	return NULL;
}

static void
resolve_done(struct wsd_tag *tag, int ok)
{
	struct resolve_job *job = wsd_container_of(tag, struct resolve_job, tag);
	struct wsd_call *call = job->call;

	(void)ok;
	if (wsd_call_ended(call)) {
		if (job->gai == 0)
			freeaddrinfo(job->res);
	} else
		portfwd_resolved(job->pf, job->gai == 0 ? job->res : NULL, job->gai);
	free(job->host);
	free(job);
	wsd_call_unhold(call);
}

static void
portfwd_open(struct wsd_bridge *b, const K8shelld__Destination *d)
{
	struct wsd_call *call = wsd_bridge_call(b);
	const char *host = d != NULL && d->ip != NULL && d->ip[0] != '\0' ? d->ip : "localhost";
	struct addrinfo hints, *res = NULL;
	struct resolve_job *job;
	struct portfwd *pf;
	pthread_attr_t attr;
	pthread_t t;
	int gai;

	wsd_bridge_set_opened(b);
	if (d == NULL || d->port == 0 || d->port > 65535) {
		wsd_bridge_fail(b, GRPC_STATUS_INVALID_ARGUMENT, "destination port out of range");
		return;
	}
	if ((pf = calloc(1, sizeof(*pf))) == NULL) {
		wsd_bridge_fail(b, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	pf->b = b;
	pf->fd = -1;
	wsd_watch_init(&pf->cwatch, -1, portfwd_connect_cb);
	wsd_bridge_set_state(b, pf);
	snprintf(pf->dest, sizeof(pf->dest), strchr(host, ':') != NULL ? "[%s]:%u" : "%s:%u",
	    host, d->port);
	log_info("portforward %s: to %s", wsd_call_metadata(call, "portforward-id") ?
	    wsd_call_metadata(call, "portforward-id") : "-", pf->dest);

	/* Addresses resolve at once; names go to a thread so the loop never blocks on DNS. */
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((job = calloc(1, sizeof(*job))) == NULL) {
		wsd_bridge_fail(b, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	snprintf(job->port, sizeof(job->port), "%u", d->port);
	gai = getaddrinfo(host, job->port, &hints, &res);
	if (gai != EAI_NONAME) {
		free(job);
		portfwd_resolved(pf, res, gai);
		return;
	}
	job->tag.done = resolve_done;
	job->loop = wsd_call_loop(call);
	job->call = call;
	job->pf = pf;
	if ((job->host = strdup(host)) == NULL) {
		free(job);
		wsd_bridge_fail(b, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	wsd_call_hold(call);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, resolve_thread, job) != 0) {
		pthread_attr_destroy(&attr);
		free(job->host);
		free(job);
		wsd_bridge_fail(b, GRPC_STATUS_RESOURCE_EXHAUSTED, "cannot start a resolver thread");
		wsd_call_unhold(call);
		return;
	}
	pthread_attr_destroy(&attr);
}

static void
portfwd_message(struct wsd_bridge *b, const uint8_t *data, size_t len)
{
	struct wsd_call *call = wsd_bridge_call(b);
	K8shelld__PortForwardRequest *req;

	if ((req = k8shelld__port_forward_request__unpack(NULL, len, data)) == NULL) {
		wsd_bridge_fail(b, GRPC_STATUS_INVALID_ARGUMENT, "malformed PortForwardRequest");
		return;
	}
	if (!wsd_bridge_opened(b)) {
		if (req->request_case != K8SHELLD__PORT_FORWARD_REQUEST__REQUEST_DESTINATION)
			wsd_bridge_fail(b, GRPC_STATUS_INVALID_ARGUMENT,
			    "the first PortForwardRequest must be destination");
		else
			portfwd_open(b, req->destination);
	} else if (req->request_case == K8SHELLD__PORT_FORWARD_REQUEST__REQUEST_DATA)
		wsd_bridge_data(b, req->data.data, req->data.len);
	else if (req->request_case == K8SHELLD__PORT_FORWARD_REQUEST__REQUEST_DESTINATION)
		wsd_bridge_fail(b, GRPC_STATUS_INVALID_ARGUMENT, "destination sent twice");
	else
		wsd_call_recv(call);
	k8shelld__port_forward_request__free_unpacked(req, NULL);
}

static const struct wsd_bridge_kind portfwd_kind = {
	.name = "portforward",
	.idkey = "portforward-id",
	.first = "the first PortForwardRequest must be destination",
	.message = portfwd_message,
	.cleanup = portfwd_cleanup,
};

void
wsd_portfwd_start(struct wsd_call *call)
{
	wsd_bridge_start(call, &portfwd_kind);
}
