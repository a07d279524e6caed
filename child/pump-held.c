/* Upload messages held for sending: bytes from the data callback or read from
 * libssh, in grpcc_dbuf messages, until the run hook sends them. */
#include "autoconf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <libssh/libssh.h>

#include "child/channel.h"
#include "child/pump-held.h"
#include "daemon/log.h"

int
pump_held_read(struct pump_held *h, struct channel *ch, size_t pending, size_t chunk,
    size_t *nread)
{
	size_t i, need, room;
	int r = 0;

	*nread = 0;
	if (h->next < h->n)
		abort();	/* bytes held already would be overtaken */
	h->next = h->n = 0;
	if (pending == 0)
		return 0;
	/* Every message first: running out of memory halfway would leave the
	 * window widened by the reads already made. */
	need = (pending + chunk - 1) / chunk;
	if (need > h->cap) {
		struct grpcc_dbuf **m = reallocarray(h->msgs, need, sizeof(*m));

		if (m == NULL)
			goto nomem;
		h->msgs = m;
		h->cap = need;
	}
	for (i = 0; i < need; i++) {
		room = pending - i * chunk < chunk ? pending - i * chunk : chunk;
		if (grpcc_dbuf_new(room, &h->msgs[i]) != 0) {
			while (i > 0)
				grpcc_dbuf_free(h->msgs[--i]);
			goto nomem;
		}
	}
	/* libssh polls the socket only when it holds nothing: stop at the
	 * first short read, and keep the data callback out meanwhile. */
	h->reading = true;
	for (i = 0; i < need; i++) {
		room = grpcc_dbuf_cap(h->msgs[i]);
		r = ssh_channel_read_nonblocking(ch->ssh, grpcc_dbuf_ptr(h->msgs[i]),
		    (uint32_t)room, 0);
		if (r <= 0)
			break;
		grpcc_dbuf_set_len(h->msgs[i], (size_t)r);
		*nread += (size_t)r;
		h->n = i + 1;
		if ((size_t)r < room)
			break;
	}
	h->reading = false;
	for (i = h->n; i < need; i++)
		grpcc_dbuf_free(h->msgs[i]);
	if (r < 0 && h->n == 0) {
		log_info("%s: read from the client: %s", ch->id, ssh_get_error(ch->c->session));
		return -1;
	}
	return 0;
nomem:
	log_error("%s: out of memory", ch->id);
	return -1;
}

bool
pump_held_busy(const struct pump_held *h)
{
	return h->reading || h->next < h->n || h->fill != NULL;
}

size_t
pump_held_fill(struct pump_held *h, const void *data, size_t len, size_t chunk)
{
	size_t have, n;

	/* Messages read from libssh go first; bytes behind them wait there. */
	if (h->reading || h->next < h->n)
		return 0;
	if (h->fill == NULL && grpcc_dbuf_new(chunk, &h->fill) != 0) {
		h->fill = NULL;
		return 0;	/* out of memory: libssh keeps them */
	}
	have = grpcc_dbuf_len(h->fill);
	n = grpcc_dbuf_cap(h->fill) - have;
	if (n > len)
		n = len;
	memcpy(grpcc_dbuf_ptr(h->fill) + have, data, n);
	grpcc_dbuf_set_len(h->fill, have + n);
	return n;
}

bool
pump_held_wait(struct pump_held *h, int fd)
{
	int n = 0;

	if (h->fill == NULL || h->next < h->n || h->waited >= PUMP_HELD_WAIT_TURNS ||
	    grpcc_dbuf_len(h->fill) >= grpcc_dbuf_cap(h->fill) ||
	    ioctl(fd, FIONREAD, &n) != 0 || n <= 0)
		return false;
	h->waited++;
	return true;
}

struct grpcc_dbuf *
pump_held_pop(struct pump_held *h)
{
	struct grpcc_dbuf *b;

	h->waited = 0;
	if (h->next < h->n)
		return h->msgs[h->next++];
	b = h->fill;
	h->fill = NULL;
	return b;
}

void
pump_held_clear(struct pump_held *h)
{
	grpcc_dbuf_free(h->fill);
	h->fill = NULL;
	while (h->next < h->n)
		grpcc_dbuf_free(h->msgs[h->next++]);
	free(h->msgs);
	h->msgs = NULL;
	h->next = h->n = h->cap = 0;
	h->waited = 0;
}
