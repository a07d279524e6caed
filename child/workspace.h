/* The connection's workspace: where k8shelld is (static provisioner), the gRPC
 * channel to it and the Handshake, done once and shared by every channel. */
#ifndef CHILD_WORKSPACE_H
#define CHILD_WORKSPACE_H

#include <stddef.h>

#include "child/child.h"
#include "proto/grpc-call.h"

/*
 * spec/flows.md §3 step 7 and §6: the first channel that needs the workspace
 * starts the Handshake (5 s); every channel asking meanwhile waits for the same
 * result. Success is kept for the connection; a failure is not remembered: the
 * next request retries. Everything runs on the loop thread.
 */
struct workspace_waiter;

/* error == NULL: ready, chan usable for calls (valid until the connection
 * ends); else a one-line user-facing message without line terminator, e.g.
 * "workspace unreachable, retry shortly". */
typedef void (*workspace_ready_cb)(struct child *c, struct gcall_chan *chan,
    const char *error, void *arg);

/* cb may run before this returns (already connected, or a failure known at
 * once). Otherwise *wp (when wp != NULL) is the pending wait, valid until cb
 * runs: a channel that closes first cancels it with workspace_waiter_cancel().
 * Returns 0, or -1 when out of memory (cb not called). */
int workspace_request(struct child *c, workspace_ready_cb cb, void *arg,
    struct workspace_waiter **wp);
/* cb will not run; NULL is a no-op. */
void workspace_waiter_cancel(struct workspace_waiter *w);

/* Byte accounting per spec k8shelld.md "Byte accounting": bytes_in = payloads
 * sent to k8shelld, bytes_out = payloads received from it. */
void workspace_count(struct child *c, size_t bytes_in, size_t bytes_out);

/* The user the workspace runs things as ("" = workspace default). */
const char *workspace_as_user(const struct child *c);

/* gRPC's I/O runs on the loop thread: the loop waits at most
 * workspace_tick_ms() (-1: no limit) and after each poll calls
 * workspace_tick() with that value, which takes gRPC's completions when that
 * much time has passed without a dispatch. */
int workspace_tick_ms(const struct child *c);
void workspace_tick(struct child *c, int tick);

/* At connection end, after every channel is freed: cancels the Handshake,
 * frees the gRPC channel and context (gcall_ctx_free) and unregisters the fd. */
void workspace_free(struct child *c);

#endif
