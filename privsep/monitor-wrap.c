/* The child's end of the monitor protocol: each mm_* sends one request and
 * blocks for its answer on the monitor socket (fd 4). */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "privsep/monitor-msg.h"
#include "privsep/monitor-wrap.h"

/* Sends req and receives the answer of type want into *ans, borrowing from
 * *bufp (malloc'd here, MONITOR_MSG_MAX bytes; the caller frees it). */
static int
mm_request(int fd, const struct monitor_msg *req, enum monitor_msg_type want,
    struct monitor_msg *ans, uint8_t **bufp)
{
	int r;

	*bufp = NULL;
	if ((r = monitor_msg_send(fd, req)) != 0)
		return r;
	if ((*bufp = malloc(MONITOR_MSG_MAX)) == NULL)
		return MONITOR_MSG_E_NOMEM;
	if ((r = monitor_msg_recv(fd, *bufp, ans)) != 0)
		return r;
	if (ans->type == MONITOR_ANS_ERROR) {
		log_warn("monitor could not answer %s: %s (code %u)",
		    monitor_msg_type_name((int)req->type), ans->errmsg, ans->code);
		return MONITOR_MSG_E_REFUSED;
	}
	if (ans->type != want)
		return MONITOR_MSG_E_UNEXPECTED;
	return 0;
}

/* Copies the answer's data into a new allocation (NUL-terminated for text). */
static int
take_data(const struct monitor_msg *ans, uint8_t **out, size_t *len)
{
	if ((*out = malloc(ans->dlen + 1)) == NULL)
		return MONITOR_MSG_E_NOMEM;
	if (ans->dlen > 0)
		memcpy(*out, ans->data, ans->dlen);
	(*out)[ans->dlen] = '\0';
	*len = ans->dlen;
	return 0;
}

int
mm_config(int fd, char **text, size_t *len)
{
	struct monitor_msg req = { .type = MONITOR_REQ_CONFIG }, ans;
	uint8_t *buf, *out = NULL;
	int r;

	*text = NULL;
	*len = 0;
	if ((r = mm_request(fd, &req, MONITOR_ANS_CONFIG, &ans, &buf)) == 0 &&
	    (r = take_data(&ans, &out, len)) == 0)
		*text = (char *)out;
	/* The packet held the resolved config, secrets included. */
	if (buf != NULL) {
		explicit_bzero(buf, MONITOR_MSG_MAX);
		free(buf);
	}
	return r;
}

int
mm_hostkeys_count(int fd, size_t *n)
{
	struct monitor_msg req = { .type = MONITOR_REQ_HOSTKEYS_COUNT }, ans;
	uint8_t *buf;
	int r;

	if ((r = mm_request(fd, &req, MONITOR_ANS_HOSTKEYS_COUNT, &ans, &buf)) == 0)
		*n = ans.count;
	free(buf);
	return r;
}

int
mm_hostkeys_pubblob(int fd, size_t idx, uint8_t **blob, size_t *len)
{
	struct monitor_msg req = { .type = MONITOR_REQ_HOSTKEY_PUB }, ans;
	uint8_t *buf;
	int r;

	*blob = NULL;
	*len = 0;
	if (idx >= MONITOR_KEYS_MAX)
		return MONITOR_MSG_E_RANGE;
	req.idx = (uint32_t)idx;
	if ((r = mm_request(fd, &req, MONITOR_ANS_HOSTKEY_PUB, &ans, &buf)) == 0)
		r = take_data(&ans, blob, len);
	free(buf);
	return r;
}

int
mm_hostkeys_sign(int fd, size_t idx, const char *alg, const uint8_t *data, size_t dlen,
    uint8_t **sig, size_t *siglen)
{
	struct monitor_msg req = { .type = MONITOR_REQ_SIGN }, ans;
	uint8_t *buf;
	int r;

	*sig = NULL;
	*siglen = 0;
	if (idx >= MONITOR_KEYS_MAX)
		return MONITOR_MSG_E_RANGE;
	if (alg == NULL || strlen(alg) > MONITOR_ALG_MAX)
		return MONITOR_MSG_E_LENGTH;
	req.idx = (uint32_t)idx;
	memcpy(req.alg, alg, strlen(alg) + 1);
	req.data = data;
	req.dlen = dlen;
	if ((r = mm_request(fd, &req, MONITOR_ANS_SIGN, &ans, &buf)) == 0)
		r = take_data(&ans, sig, siglen);
	free(buf);
	return r;
}

int
mm_user_key_allowed(int fd, const char *user, const uint8_t *blob, size_t len)
{
	struct monitor_msg req = { .type = MONITOR_REQ_KEY_ALLOWED }, ans;
	uint8_t *buf;
	int r;

	if (user == NULL || strlen(user) > MONITOR_USER_MAX)
		return MONITOR_MSG_E_LENGTH;
	memcpy(req.user, user, strlen(user) + 1);
	req.data = blob;
	req.dlen = len;
	if ((r = mm_request(fd, &req, MONITOR_ANS_KEY_ALLOWED, &ans, &buf)) == 0)
		r = ans.allowed ? 1 : 0;
	free(buf);
	return r;
}

int
mm_authenticated(int fd, const char *user)
{
	struct monitor_msg req = { .type = MONITOR_REQ_AUTHENTICATED }, ans;
	uint8_t *buf;
	int r;

	if (user == NULL || strlen(user) > MONITOR_USER_MAX)
		return MONITOR_MSG_E_LENGTH;
	memcpy(req.user, user, strlen(user) + 1);
	r = mm_request(fd, &req, MONITOR_ANS_AUTHENTICATED, &ans, &buf);
	free(buf);
	return r;
}
