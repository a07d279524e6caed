/* Upload messages held for sending (child/pump-held.c), shared by the
 * forwarding pump and the exec/shell session. */
#ifndef CHILD_PUMP_HELD_H
#define CHILD_PUMP_HELD_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/grpc-common.h"

struct channel;

/*
 * Upload bytes held for sending, shared with session-run.c: read from libssh
 * straight into data messages (grpcc_dbuf) of at most chunk bytes, then sent
 * one per completed send. All that libssh holds is read at once: after a read
 * libssh tops the client's window up whatever it still holds, so partial reads
 * behind a slow workspace would let the client send without bound.
 */
struct pump_held {
	struct grpcc_dbuf **msgs;
	size_t next, n, cap;
	bool reading;			/* inside pump_held_read() */
	/* Filled by the data callback when nothing read from libssh is held:
	 * copied once from the packet, so libssh need not buffer the bytes
	 * (and copy them again) until they can be sent. */
	struct grpcc_dbuf *fill;
	unsigned int waited;		/* loop turns fill was held back (pump_held_wait) */
};

/* Reads the pending bytes libssh holds for ch into h (empty before); *nread
 * says how many came (fewer when libssh held fewer). Returns 0, or -1 (logged)
 * when the read failed or memory ran out. */
int pump_held_read(struct pump_held *h, struct channel *ch, size_t pending, size_t chunk,
    size_t *nread);
/* Bytes taken earlier wait in h (or are being read, or being filled). */
bool pump_held_busy(const struct pump_held *h);
/* The data callback's bytes: copies up to chunk bytes in all into h->fill
 * when no message read from libssh is held; returns how many (0: they stay in
 * libssh). The run hook sends the filled message with pump_held_pop(). */
size_t pump_held_fill(struct pump_held *h, const void *data, size_t len, size_t chunk);
/* Whether to hold a partly filled message back for this loop turn, because
 * the client's socket (fd) already has more bytes: they are most likely this
 * stream's next packets, and one message instead of two halves the messages
 * (and the workspace's wake-ups) of a fast upload. Never more than
 * PUMP_HELD_WAIT_TURNS turns in a row, so bytes behind other channels'
 * traffic (a keystroke during an upload) wait at most that long. */
#define PUMP_HELD_WAIT_TURNS	2
bool pump_held_wait(struct pump_held *h, int fd);
/* The oldest held message (taken), then the filled one; NULL when none is left. */
struct grpcc_dbuf *pump_held_pop(struct pump_held *h);
void pump_held_clear(struct pump_held *h);

#endif
