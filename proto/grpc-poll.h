/* gRPC core's I/O on the caller's own thread: grpc_init() plus the epoll set of
 * its epoll1 engine, which the caller's poll loop watches instead of a CQ thread. */
#ifndef PROTO_GRPC_POLL_H
#define PROTO_GRPC_POLL_H

#include <stdint.h>

#include <grpc/grpc.h>

/*
 * Why: with a thread blocked in grpc_completion_queue_next() every message
 * costs cross-thread wake-ups (the poller thread hands each completion to the
 * loop thread, and the loop thread's batches kick the poller), and a
 * cross-CPU wake-up costs ~20 us of CPU on a VM. gRPC's epoll1 engine does its
 * socket I/O inside grpc_completion_queue_next(); when our loop polls gRPC's
 * epoll set (an epoll fd is readable while its ready list is not empty) and
 * calls grpc_completion_queue_next() with a past deadline whenever it is
 * readable, one thread does all the work.
 *
 * grpcp_init() calls grpc_init() and returns the one epoll fd that it created
 * (the engine's set), or -1 when there is not exactly one (another poll
 * strategy, e.g. GRPC_POLL_STRATEGY=poll, or another gRPC version): callers
 * then keep a thread in grpc_completion_queue_next(). Call it before this
 * process opens epoll fds of its own.
 */
int grpcp_init(void);

/* Takes what the queue has, and lets gRPC handle the I/O that is ready:
 * calls done(tag, ok, arg) for each completion, at most max of them. gRPC
 * handles one epoll event per round and a kick that found no poller eats a
 * round, so it stops after GRPCP_EMPTY_ROUNDS empty rounds in a row. Returns
 * the number of completions, or -1 once the queue is shut down and drained. */
#define GRPCP_EMPTY_ROUNDS	3
int grpcp_drain(grpc_completion_queue *cq, int max,
    void (*done)(void *tag, int ok, void *arg), void *arg);

/* Completions posted by gRPC's own threads (deadlines, keepalive) find no
 * poller to wake: loops that poll the set also drain every GRPCP_TICK_MS
 * while calls are live. */
#define GRPCP_TICK_MS		10

/*
 * The same holds during a transfer: a drain's deadline has passed, so gRPC
 * hands a combiner that another context also queued on to its own threads,
 * and what that work completes (a send, a receive) wakes nobody either (seen
 * as 250 ms stalls, seconds per 256 MiB, over a Unix socket). So a loop looks
 * again soon after activity and backs off while there is none:
 * grpcp_tick_ms() is the time since the last completion (monotonic ms, as
 * monotime_ms() gives), at least GRPCP_TICK_MIN_MS and at most max_ms. An
 * idle connection costs about log2(max_ms) extra wake-ups after its last
 * message, a busy one a wake-up per gap between messages at most.
 */
#define GRPCP_TICK_MIN_MS	1
int grpcp_tick_ms(uint64_t last_done_ms, uint64_t now_ms, int max_ms);

#endif
