/* The static identity backend: users and their authorized_keys files from
 * identity.static.users. The monitor answers when there is one (it can read the files). */
#include "autoconf.h"

#include <string.h>

#include "child/auth.h"
#include "child/child.h"
#include "daemon/config.h"
#include "daemon/log.h"
#include "privsep/authkeys.h"
#include "privsep/monitor-msg.h"
#include "privsep/monitor-wrap.h"

static int
static_key_allowed(struct child *c, const char *user, const uint8_t *blob, size_t len)
{
	const struct config_static_user *u = NULL;
	int rc;

	if (c->monitor_fd >= 0) {
		rc = mm_user_key_allowed(c->monitor_fd, user, blob, len);
		/* The monitor could not read the file (it logged why): grants nothing. */
		return rc == MONITOR_MSG_E_REFUSED ? 0 : rc;
	}
	/* Run by hand without a monitor: read the files ourselves. */
	for (size_t i = 0; i < c->cfg->identity_static.users_count; i++)
		if (strcmp(c->cfg->identity_static.users[i].name, user) == 0)
			u = &c->cfg->identity_static.users[i];
	if (u == NULL || u->authorized_keys == NULL || u->authorized_keys[0] == '\0')
		return 0;
	rc = authkeys_match_file(u->authorized_keys, blob, len);
	if (rc < 0) {
		/* Same answer as a wrong key: an unreadable file grants nothing. */
		log_warn("%s: %s", u->authorized_keys, authkeys_strerror(rc));
		return 0;
	}
	return rc;
}

static int
static_authenticated(struct child *c, const char *user)
{
	return c->monitor_fd >= 0 ? mm_authenticated(c->monitor_fd, user) : 0;
}

const struct auth_backend auth_static = {
	.name = "static",
	.key_allowed = static_key_allowed,
	.authenticated = static_authenticated,
};
