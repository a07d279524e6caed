/* gRPC core's I/O on the caller's own thread: finds the epoll set grpc_init()
 * creates, and drains a completion queue without blocking. */
#include "autoconf.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <grpc/support/time.h>

#include "proto/grpc-poll.h"

#define GRPCP_MAX_FD	1024		/* grpc_init() runs early: its fds are low */

/* An fd is an epoll set when deleting an fd it does not hold fails with ENOENT
 * (anything else fails with EBADF, EINVAL or EPERM). */
static bool
is_epoll(int fd, int probe)
{
	return fd != probe && epoll_ctl(fd, EPOLL_CTL_DEL, probe, NULL) < 0 && errno == ENOENT;
}

int
grpcp_init(void)
{
	bool before[GRPCP_MAX_FD] = { false };
	int probe, fd, found = -1, n = 0;

	if ((probe = eventfd(0, EFD_CLOEXEC)) < 0) {
		grpc_init();
		return -1;
	}
	for (fd = 3; fd < GRPCP_MAX_FD; fd++)
		before[fd] = is_epoll(fd, probe);
	grpc_init();
	for (fd = 3; fd < GRPCP_MAX_FD; fd++) {
		if (before[fd] || !is_epoll(fd, probe))
			continue;
		found = fd;
		n++;
	}
	close(probe);
	return n == 1 ? found : -1;
}

int
grpcp_drain(grpc_completion_queue *cq, int max, void (*done)(void *tag, int ok, void *arg),
    void *arg)
{
	grpc_event ev;
	int n = 0, empty = 0;

	while (n < max && empty < GRPCP_EMPTY_ROUNDS) {
		ev = grpc_completion_queue_next(cq, gpr_inf_past(GPR_CLOCK_MONOTONIC), NULL);
		switch (ev.type) {
		case GRPC_OP_COMPLETE:
			empty = 0;
			n++;
			done(ev.tag, ev.success, arg);
			break;
		case GRPC_QUEUE_SHUTDOWN:
			return -1;
		default:
			empty++;
			break;
		}
	}
	return n;
}

int
grpcp_tick_ms(uint64_t last_done_ms, uint64_t now_ms, int max_ms)
{
	uint64_t since = now_ms > last_done_ms ? now_ms - last_done_ms : 0;

	if (since < GRPCP_TICK_MIN_MS)
		return GRPCP_TICK_MIN_MS;
	return since < (uint64_t)max_ms ? (int)since : max_ms;
}
