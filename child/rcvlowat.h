/* SO_RCVLOWAT on the client's socket while the client streams to us
 * (child/rcvlowat.c). */
#ifndef CHILD_RCVLOWAT_H
#define CHILD_RCVLOWAT_H

#include <stdbool.h>
#include <stdint.h>

#include <libssh/libssh.h>

/*
 * Why: during an upload the ssh client's packets arrive a few KiB at a time
 * and the loop woke for each one (a -L upload: ~7000 wake-ups per 256 MiB,
 * 18% of the child's CPU in the scheduler), and each wake-up sent the
 * workspace a smaller message. While the client streams (a read took all
 * libssh reads at once), the socket only reports readable once
 * RCVLOWAT_BYTES are queued and the loop sleeps at most RCVLOWAT_WAIT_MS.
 * When that passes without a byte while some are queued (a pause, the end of
 * the stream), the mark drops to 1 for one read (Linux wakes a poller at once
 * when data is waiting) and comes back with it; RCVLOWAT_IDLE_MS without a
 * byte end it. Interactive traffic never turns it on.
 */
#define RCVLOWAT_BYTES		65536	/* libssh's read per POLLIN (MAX_BUF_SIZE) */
#define RCVLOWAT_WAIT_MS	1
#define RCVLOWAT_IDLE_MS	50

/* The decision, apart from the socket (unit-tested). */
enum rcvlowat_state { RCVLOWAT_S_OFF, RCVLOWAT_S_ON, RCVLOWAT_S_DRAIN };

struct rcvlowat_policy {
	enum rcvlowat_state state;
	uint64_t prev_in;		/* bytes read from the client so far */
	uint64_t last_in_ms;		/* when the last of them came */
	uint64_t last_check_ms;		/* when the queued bytes were last counted */
};

/* What the socket's mark must become; CHECK: count the queued bytes and tell
 * rcvlowat_policy_queued(). */
enum rcvlowat_change { RCVLOWAT_KEEP, RCVLOWAT_SET, RCVLOWAT_CLEAR, RCVLOWAT_CHECK };

/* After a loop turn: in_bytes read from the client in all by now_ms. */
enum rcvlowat_change rcvlowat_policy_step(struct rcvlowat_policy *p, uint64_t now_ms,
    uint64_t in_bytes);
/* After CHECK: queued bytes wait below the mark (CLEAR for one read) or not. */
enum rcvlowat_change rcvlowat_policy_queued(struct rcvlowat_policy *p, uint64_t now_ms,
    int queued);
/* The poll timeout to use instead of ms (-1: none) while the mark is set. */
int rcvlowat_policy_poll_ms(const struct rcvlowat_policy *p, int ms);

struct rcvlowat;

/* Counts the session's socket reads (ssh_set_counters) for fd, its socket. */
int rcvlowat_new(struct rcvlowat **rp, ssh_session session, int fd);
int rcvlowat_poll_ms(const struct rcvlowat *r, int ms);
/* After each poll: sets SO_RCVLOWAT as the policy says. */
void rcvlowat_update(struct rcvlowat *r);
/* How many times the mark was set (the connection's end logs it). */
unsigned long rcvlowat_times_set(const struct rcvlowat *r);
/* Before the session is freed, or after: the counter is unset first. */
void rcvlowat_free(struct rcvlowat *r);

#endif
