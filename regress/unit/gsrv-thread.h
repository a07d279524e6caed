/* Test helper: runs a started gsrv server's dispatch loop on its own thread,
 * so a unit test's client side can drive real gRPC over loopback. */
#ifndef REGRESS_GSRV_THREAD_H
#define REGRESS_GSRV_THREAD_H

struct gsrv;
struct gsrv_thread;

/* Takes gs (already started); it is freed on the thread when stopped. 0 or -1. */
int gsrv_thread_start(struct gsrv *gs, struct gsrv_thread **out);
/* Stops the loop, frees the server on its thread and joins it. */
void gsrv_thread_stop(struct gsrv_thread *t);

#endif
