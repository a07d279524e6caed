/* workspaced's event loop: poll(2) over watched fds and timers on the main thread,
 * plus a mutex-protected queue that other threads fill and signal through an eventfd. */
#include "autoconf.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/monotime.h"
#include "contrib/workspaced/wsd-loop.h"

struct wsd_posted {
	struct wsd_tag *tag;
	int ok;
};

struct wsd_loop {
	int efd;
	/* Filled by any thread under mu; swapped out whole by the loop thread. */
	pthread_mutex_t mu;
	struct wsd_posted *q;
	size_t nq, capq;
	int signalled;

	struct wsd_posted *spare;	/* the other half of the swap */
	size_t capspare;

	struct wsd_watch **watches;	/* stopped entries are NULL until compacted */
	size_t nwatches, capwatches;
	struct pollfd *pfds;
	size_t cappfds;

	struct wsd_timer **timers;
	size_t ntimers, captimers;

	void (*idle)(void *);
	void *idle_arg;
};

int
wsd_loop_new(struct wsd_loop **loopp)
{
	struct wsd_loop *loop;

	if ((loop = calloc(1, sizeof(*loop))) == NULL)
		return -ENOMEM;
	if ((loop->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		int err = -errno;
		free(loop);
		return err;
	}
	pthread_mutex_init(&loop->mu, NULL);
	*loopp = loop;
	return 0;
}

void
wsd_loop_set_idle(struct wsd_loop *loop, void (*fn)(void *), void *arg)
{
	loop->idle = fn;
	loop->idle_arg = arg;
}

void
wsd_loop_free(struct wsd_loop *loop)
{
	if (loop == NULL)
		return;
	close(loop->efd);
	pthread_mutex_destroy(&loop->mu);
	free(loop->q);
	free(loop->spare);
	free(loop->watches);
	free(loop->pfds);
	free(loop->timers);
	free(loop);
}

void
wsd_loop_post(struct wsd_loop *loop, struct wsd_tag *tag, int ok)
{
	uint64_t one = 1;

	pthread_mutex_lock(&loop->mu);
	if (loop->nq == loop->capq) {
		size_t cap = loop->capq ? loop->capq * 2 : 64;
		struct wsd_posted *q = realloc(loop->q, cap * sizeof(*q));

		/* A lost completion would leak a call forever: no way to go on. */
		if (q == NULL)
			abort();
		loop->q = q;
		loop->capq = cap;
	}
	loop->q[loop->nq].tag = tag;
	loop->q[loop->nq].ok = ok;
	loop->nq++;
	/* One wake-up per batch of completions, not per completion. */
	if (!loop->signalled) {
		loop->signalled = 1;
		if (write(loop->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			abort();
	}
	pthread_mutex_unlock(&loop->mu);
}

/* Runs every queued completion; returns how many ran. The two buffers swap
 * so posting threads never wait for the handlers. */
static size_t
loop_drain(struct wsd_loop *loop)
{
	struct wsd_posted *q;
	size_t n, i, cap;
	uint64_t v;

	pthread_mutex_lock(&loop->mu);
	q = loop->q;
	n = loop->nq;
	cap = loop->capq;
	loop->q = loop->spare;
	loop->capq = loop->capspare;
	loop->nq = 0;
	if (loop->signalled) {
		loop->signalled = 0;
		(void)!read(loop->efd, &v, sizeof(v));
	}
	pthread_mutex_unlock(&loop->mu);
	/* Only this thread touches the spare. */
	loop->spare = NULL;
	loop->capspare = 0;

	for (i = 0; i < n; i++)
		q[i].tag->done(q[i].tag, q[i].ok);

	loop->spare = q;
	loop->capspare = cap;
	return n;
}

static int
loop_pending(struct wsd_loop *loop)
{
	int n;

	pthread_mutex_lock(&loop->mu);
	n = loop->nq != 0;
	pthread_mutex_unlock(&loop->mu);
	return n;
}

void
wsd_watch_init(struct wsd_watch *w, int fd, void (*cb)(struct wsd_watch *, short))
{
	w->fd = fd;
	w->events = 0;
	w->slot = -1;
	w->cb = cb;
}

int
wsd_watch_set(struct wsd_loop *loop, struct wsd_watch *w, short events)
{
	if (events == 0 || w->fd < 0) {
		if (w->slot >= 0)
			loop->watches[w->slot] = NULL;
		w->slot = -1;
		w->events = 0;
		return 0;
	}
	if (w->slot < 0) {
		if (loop->nwatches == loop->capwatches) {
			size_t cap = loop->capwatches ? loop->capwatches * 2 : 32;
			struct wsd_watch **ws = realloc(loop->watches, cap * sizeof(*ws));

			if (ws == NULL)
				return -ENOMEM;
			loop->watches = ws;
			loop->capwatches = cap;
		}
		w->slot = (int)loop->nwatches;
		loop->watches[loop->nwatches++] = w;
	}
	w->events = events;
	return 0;
}

void
wsd_timer_init(struct wsd_timer *t, void (*cb)(struct wsd_timer *))
{
	t->due_ms = 0;
	t->slot = -1;
	t->cb = cb;
}

int
wsd_timer_start(struct wsd_loop *loop, struct wsd_timer *t, unsigned int ms)
{
	t->due_ms = monotime_ms() + ms;
	if (t->slot >= 0)
		return 0;
	if (loop->ntimers == loop->captimers) {
		size_t cap = loop->captimers ? loop->captimers * 2 : 16;
		struct wsd_timer **ts = realloc(loop->timers, cap * sizeof(*ts));

		if (ts == NULL)
			return -ENOMEM;
		loop->timers = ts;
		loop->captimers = cap;
	}
	t->slot = (int)loop->ntimers;
	loop->timers[loop->ntimers++] = t;
	return 0;
}

void
wsd_timer_stop(struct wsd_loop *loop, struct wsd_timer *t)
{
	if (t->slot >= 0)
		loop->timers[t->slot] = NULL;
	t->slot = -1;
}

/* Drops stopped entries so the arrays only hold live ones. */
static void
loop_compact(struct wsd_loop *loop)
{
	size_t i, j;

	for (i = j = 0; i < loop->nwatches; i++) {
		if (loop->watches[i] == NULL)
			continue;
		loop->watches[j] = loop->watches[i];
		loop->watches[j]->slot = (int)j;
		j++;
	}
	loop->nwatches = j;
	for (i = j = 0; i < loop->ntimers; i++) {
		if (loop->timers[i] == NULL)
			continue;
		loop->timers[j] = loop->timers[i];
		loop->timers[j]->slot = (int)j;
		j++;
	}
	loop->ntimers = j;
}

static void
loop_fire_timers(struct wsd_loop *loop)
{
	uint64_t now = monotime_ms();
	size_t i, n = loop->ntimers;

	for (i = 0; i < n; i++) {
		struct wsd_timer *t = loop->timers[i];

		if (t == NULL || t->due_ms > now)
			continue;
		wsd_timer_stop(loop, t);
		t->cb(t);
	}
}

int
wsd_loop_run_once(struct wsd_loop *loop, int max_wait_ms)
{
	size_t i, n;
	int timeout = max_wait_ms, r;
	uint64_t now;

	loop_drain(loop);
	if (loop->idle != NULL)
		loop->idle(loop->idle_arg);
	loop_compact(loop);

	now = monotime_ms();
	for (i = 0; i < loop->ntimers; i++) {
		uint64_t due = loop->timers[i]->due_ms;
		int left = due <= now ? 0 : (int)(due - now > 3600000 ? 3600000 : due - now);

		if (timeout < 0 || left < timeout)
			timeout = left;
	}
	if (loop_pending(loop))
		timeout = 0;

	n = loop->nwatches;
	if (n + 1 > loop->cappfds) {
		struct pollfd *p = realloc(loop->pfds, (n + 1) * 2 * sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		loop->pfds = p;
		loop->cappfds = (n + 1) * 2;
	}
	loop->pfds[0].fd = loop->efd;
	loop->pfds[0].events = POLLIN;
	loop->pfds[0].revents = 0;
	for (i = 0; i < n; i++) {
		loop->pfds[i + 1].fd = loop->watches[i]->fd;
		loop->pfds[i + 1].events = loop->watches[i]->events;
		loop->pfds[i + 1].revents = 0;
	}

	r = poll(loop->pfds, n + 1, timeout);
	if (r < 0 && errno != EINTR)
		return -errno;

	/* Completions first: a finished send usually unblocks a reader below. */
	if (r > 0 && loop->pfds[0].revents)
		loop_drain(loop);
	for (i = 0; r > 0 && i < n; i++) {
		struct wsd_watch *w = loop->watches[i];
		short rev = loop->pfds[i + 1].revents;

		/* Stopped (or changed) during this round: its revents are stale. */
		if (w == NULL || rev == 0)
			continue;
		rev &= (short)(w->events | POLLERR | POLLHUP | POLLNVAL);
		if (rev != 0)
			w->cb(w, rev);
	}
	loop_fire_timers(loop);
	return 0;
}
