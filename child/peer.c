/* The client's address: the socket peer, or the source announced by a PROXY v1
 * header read off the socket before libssh takes it (no SSH byte is consumed). */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "child/child.h"
#include "child/proxyhdr.h"

/* How long to wait before peeking again at a partial "PROXY " prefix: poll
 * cannot wait for "more" bytes than are already queued. */
#define PEER_PREFIX_WAIT_NS	10000000L

int
peer_from_socket(struct child_peer *p, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	memset(p, 0, sizeof(*p));
	p->port = -1;
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
		return PEER_E_IO;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &sin->sin_addr, p->ip, sizeof(p->ip));
		p->port = ntohs(sin->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, p->ip, sizeof(p->ip));
		p->port = ntohs(sin6->sin6_port);
	}
	return 0;
}

/* Milliseconds until deadline (0 when passed), or -1 for no deadline. */
static int
remaining_ms(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	if (deadline == NULL)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	if (ms <= 0)
		return 0;
	return ms > 60000 ? 60000 : (int)ms;
}

/* Waits for bytes; *hup tells whether the client has shut down its side. */
static int
wait_readable(int fd, const struct timespec *deadline, bool *hup)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLRDHUP };
	int ms, rc;

	for (;;) {
		if ((ms = remaining_ms(deadline)) == 0)
			return PEER_E_TIMEOUT;
		rc = poll(&pfd, 1, ms);
		if (rc > 0) {
			*hup = (pfd.revents & (POLLRDHUP | POLLHUP)) != 0;
			return 0;
		}
		if (rc < 0 && errno != EINTR)
			return PEER_E_IO;
	}
}

/* Reads exactly n bytes that a MSG_PEEK has already shown to be queued. */
static int
consume(int fd, char *buf, size_t n)
{
	while (n > 0) {
		ssize_t r = recv(fd, buf, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return PEER_E_IO;
		buf += r;
		n -= (size_t)r;
	}
	return 0;
}

int
peer_read_proxy(struct child_peer *p, int fd, const struct timespec *deadline)
{
	char buf[PROXYHDR_MAX_LEN];
	size_t have = 0;		/* bytes of buf already consumed from the socket */
	struct proxyhdr h;
	bool hup = false;
	ssize_t n;
	int rc;

	for (;;) {
		if ((rc = wait_readable(fd, deadline, &hup)) != 0)
			return rc;
		n = recv(fd, buf + have, sizeof(buf) - have, MSG_PEEK | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n < 0)
			return PEER_E_IO;
		if (n == 0)
			return have == 0 ? PEER_E_CLOSED : PEER_E_TRUNCATED;
		rc = proxyhdr_parse(buf, have + (size_t)n, &h);
		if (rc == PROXYHDR_E_NOTPROXY && have == 0)
			return 0;	/* plain SSH: every byte is still queued */
		if (rc < 0)
			return rc;
		if (rc > 0) {
			/* Take the header only; what follows is the client's SSH banner. */
			if ((rc = consume(fd, buf + have, (size_t)rc - have)) != 0)
				return rc;
			break;
		}
		/* Needs more, but the client will send nothing more. */
		if (hup)
			return PEER_E_TRUNCATED;
		if (have + (size_t)n >= PROXYHDR_SIG_LEN) {
			/* It is a PROXY header: take what we saw and wait for the rest. */
			if ((rc = consume(fd, buf + have, (size_t)n)) != 0)
				return rc;
			have += (size_t)n;
		} else {
			struct timespec ts = { 0, PEER_PREFIX_WAIT_NS };
			nanosleep(&ts, NULL);
		}
	}
	if (h.family == AF_UNSPEC)
		return 0;	/* PROXY UNKNOWN: keep the socket peer */
	snprintf(p->ip, sizeof(p->ip), "%s", h.src);
	p->port = h.src_port;
	p->proxied = true;
	return 0;
}

const char *
peer_strerror(int err)
{
	switch (err) {
	case PEER_E_TIMEOUT: return "timed out waiting for the PROXY header";
	case PEER_E_CLOSED: return "connection closed before any byte was received";
	case PEER_E_IO: return "socket error while reading the PROXY header";
	case PEER_E_TRUNCATED: return "connection closed inside the PROXY header";
	default: return proxyhdr_strerror(err);
	}
}
