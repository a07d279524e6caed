/* Test helper: a gsrv dispatch loop on its own thread, stopped through an
 * eventfd. Shared by the unit tests that need an in-process k8shelld. */
#include "autoconf.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "proto/grpc-server.h"
#include "regress/unit/gsrv-thread.h"

struct gsrv_thread {
	struct gsrv *gs;
	pthread_t thread;
	int stopfd;
};

static void *
gsrv_thread_main(void *arg)
{
	struct gsrv_thread *t = arg;
	struct pollfd pfd[2];

	pfd[0].fd = gsrv_fd(t->gs);
	pfd[0].events = POLLIN;
	pfd[1].fd = t->stopfd;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents & POLLIN)
			break;
		if (pfd[0].revents & POLLIN)
			gsrv_dispatch(t->gs);
	}
	/* gsrv is single-threaded: it is freed where it was dispatched. */
	gsrv_free(t->gs);
	return NULL;
}

int
gsrv_thread_start(struct gsrv *gs, struct gsrv_thread **out)
{
	struct gsrv_thread *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	t->gs = gs;
	if ((t->stopfd = eventfd(0, EFD_CLOEXEC)) < 0) {
		free(t);
		return -1;
	}
	if (pthread_create(&t->thread, NULL, gsrv_thread_main, t) != 0) {
		close(t->stopfd);
		free(t);
		return -1;
	}
	*out = t;
	return 0;
}

void
gsrv_thread_stop(struct gsrv_thread *t)
{
	uint64_t one = 1;

	while (write(t->stopfd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	pthread_join(t->thread, NULL);
	close(t->stopfd);
	free(t);
}
