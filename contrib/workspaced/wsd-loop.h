/* workspaced's single-threaded event loop: poll(2) over fds, timers, and a queue
 * of completions handed over by other threads (gRPC's completion queue) via an eventfd. */
#ifndef WSD_LOOP_H
#define WSD_LOOP_H

#include <stddef.h>
#include <stdint.h>

#define wsd_container_of(p, type, member) \
	((type *)(void *)((char *)(p) - offsetof(type, member)))

struct wsd_loop;

/* Every completion (gRPC batch tag, resolver result) starts with this. */
struct wsd_tag {
	void (*done)(struct wsd_tag *tag, int ok);
};

struct wsd_watch {
	int fd;
	short events;		/* POLLIN | POLLOUT; 0 while stopped */
	int slot;		/* index in the loop; -1 while stopped */
	void (*cb)(struct wsd_watch *w, short revents);
};

struct wsd_timer {
	uint64_t due_ms;
	int slot;
	void (*cb)(struct wsd_timer *t);
};

int wsd_loop_new(struct wsd_loop **loopp);
/* Called on the loop thread before it sleeps and after each wake-up: lets the
 * owner of a completion queue take what is already there without a thread hop. */
void wsd_loop_set_idle(struct wsd_loop *loop, void (*fn)(void *), void *arg);
void wsd_loop_free(struct wsd_loop *loop);
/* Runs ready work once, waiting at most max_wait_ms (-1: until something happens). */
int wsd_loop_run_once(struct wsd_loop *loop, int max_wait_ms);
/* Any thread: queue tag->done(tag, ok) for the loop thread. */
void wsd_loop_post(struct wsd_loop *loop, struct wsd_tag *tag, int ok);

void wsd_watch_init(struct wsd_watch *w, int fd, void (*cb)(struct wsd_watch *, short));
/* events 0 stops the watch; a stopped watch costs nothing. */
int wsd_watch_set(struct wsd_loop *loop, struct wsd_watch *w, short events);

void wsd_timer_init(struct wsd_timer *t, void (*cb)(struct wsd_timer *));
int wsd_timer_start(struct wsd_loop *loop, struct wsd_timer *t, unsigned int ms);
void wsd_timer_stop(struct wsd_loop *loop, struct wsd_timer *t);


#endif
