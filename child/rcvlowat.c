/* SO_RCVLOWAT on the client's socket while the client streams to us: fewer,
 * fuller wake-ups during uploads (see child/rcvlowat.h). */
#include "autoconf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "child/rcvlowat.h"
#include "daemon/log.h"
#include "daemon/monotime.h"

struct rcvlowat {
	int fd;
	ssh_session session;
	struct ssh_counter_struct counter;	/* libssh adds every socket read */
	struct rcvlowat_policy policy;
	unsigned long times_set;
	bool broken;			/* setsockopt failed: stay off */
};

enum rcvlowat_change
rcvlowat_policy_step(struct rcvlowat_policy *p, uint64_t now_ms, uint64_t in_bytes)
{
	enum rcvlowat_change ch;
	uint64_t got;

	if (in_bytes != p->prev_in) {
		got = in_bytes - p->prev_in;
		p->prev_in = in_bytes;
		p->last_in_ms = now_ms;
		switch (p->state) {
		case RCVLOWAT_S_OFF:
			/* A read that took all libssh reads at once: more was queued. */
			if (got < RCVLOWAT_BYTES)
				return RCVLOWAT_KEEP;
			/* FALLTHROUGH */
		case RCVLOWAT_S_DRAIN:
			p->state = RCVLOWAT_S_ON;
			return RCVLOWAT_SET;
		default:
			return RCVLOWAT_KEEP;
		}
	}
	if (p->state == RCVLOWAT_S_OFF)
		return RCVLOWAT_KEEP;
	if (now_ms - p->last_in_ms >= RCVLOWAT_IDLE_MS) {
		ch = p->state == RCVLOWAT_S_ON ? RCVLOWAT_CLEAR : RCVLOWAT_KEEP;
		p->state = RCVLOWAT_S_OFF;	/* draining: the mark is 1 already */
		return ch;
	}
	if (p->state == RCVLOWAT_S_ON && now_ms - p->last_in_ms >= RCVLOWAT_WAIT_MS &&
	    now_ms - p->last_check_ms >= RCVLOWAT_WAIT_MS)
		return RCVLOWAT_CHECK;
	return RCVLOWAT_KEEP;
}

enum rcvlowat_change
rcvlowat_policy_queued(struct rcvlowat_policy *p, uint64_t now_ms, int queued)
{
	p->last_check_ms = now_ms;
	if (p->state != RCVLOWAT_S_ON || queued <= 0)
		return RCVLOWAT_KEEP;
	p->state = RCVLOWAT_S_DRAIN;
	return RCVLOWAT_CLEAR;
}

int
rcvlowat_policy_poll_ms(const struct rcvlowat_policy *p, int ms)
{
	if (p->state == RCVLOWAT_S_ON && (ms < 0 || ms > RCVLOWAT_WAIT_MS))
		return RCVLOWAT_WAIT_MS;
	return ms;
}

int
rcvlowat_new(struct rcvlowat **rp, ssh_session session, int fd)
{
	struct rcvlowat *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -ENOMEM;
	r->fd = fd;
	r->session = session;
	ssh_set_counters(session, &r->counter, NULL);
	*rp = r;
	return 0;
}

int
rcvlowat_poll_ms(const struct rcvlowat *r, int ms)
{
	if (r == NULL)
		return ms;
	return rcvlowat_policy_poll_ms(&r->policy, ms);
}

void
rcvlowat_update(struct rcvlowat *r)
{
	enum rcvlowat_change ch;
	uint64_t now;
	int v, queued = 0;

	if (r == NULL || r->broken)
		return;
	now = monotime_ms();
	ch = rcvlowat_policy_step(&r->policy, now, r->counter.in_bytes);
	if (ch == RCVLOWAT_CHECK) {
		if (ioctl(r->fd, FIONREAD, &queued) < 0)
			queued = 1;	/* let poll say what is there */
		ch = rcvlowat_policy_queued(&r->policy, now, queued);
	}
	switch (ch) {
	case RCVLOWAT_SET:
		v = RCVLOWAT_BYTES;
		r->times_set++;
		break;
	case RCVLOWAT_CLEAR:
		v = 1;
		break;
	default:
		return;
	}
	if (setsockopt(r->fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v)) < 0) {
		log_debug("SO_RCVLOWAT %d on the client socket: %s (not used again)", v,
		    strerror(errno));
		r->broken = true;
		r->policy.state = RCVLOWAT_S_OFF;
		v = 1;
		(void)setsockopt(r->fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v));
	}
}

unsigned long
rcvlowat_times_set(const struct rcvlowat *r)
{
	return r == NULL ? 0 : r->times_set;
}

void
rcvlowat_free(struct rcvlowat *r)
{
	if (r == NULL)
		return;
	if (r->session != NULL)
		ssh_set_counters(r->session, NULL, NULL);
	free(r);
}
