/* Authentication in the child: public keys only, counted like OpenSSH's
 * MaxAuthTries, authorised by the configured identity backend (auth.h). */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "child/auth.h"
#include "child/child.h"
#include "daemon/config.h"
#include "daemon/log.h"
#include "privsep/privsep.h"

#define AUTH_USER_MAX	256
#define AUTH_MAX_TRIES	6	/* OpenSSH's MaxAuthTries default */

int
auth_init(struct child *c)
{
	const char *addr = c->cfg->identity.address;

	if (addr != NULL && addr[0] != '\0') {
		log_error("identity.address is set (%s) but the gRPC identity backend is not "
		    "available yet; remove it to use identity.static.users", addr);
		return -1;
	}
	c->auth = &auth_static;
	return 0;
}

static int
max_tries(const struct child *c)
{
	/* The config applies the default; never let 0 lock everyone out silently. */
	return c->cfg->server.max_auth_tries > 0 ? c->cfg->server.max_auth_tries : AUTH_MAX_TRIES;
}

bool
auth_exhausted(const struct child *c)
{
	return c->auth_failures >= max_tries(c);
}

static void
auth_failed(struct child *c, const char *user, const char *method, const char *fp, bool loud)
{
	char fields[512];

	c->auth_failures++;
	snprintf(fields, sizeof(fields), "user=%s\nmethod=%s\nkey=%s\nclient=%s\nport=%d\nfailures=%d",
	    user, method, fp != NULL ? fp : "", c->peer.ip[0] ? c->peer.ip : "local",
	    c->peer.port, c->auth_failures);
	log_emit(loud ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG, __func__, fields, "authentication failed");
	if (auth_exhausted(c))
		log_warnf(fields, "too many authentication failures (maxAuthTries %d)", max_tries(c));
}

static bool
user_ok(const char *user)
{
	size_t n = user != NULL ? strnlen(user, AUTH_USER_MAX + 1) : 0;

	return n > 0 && n <= AUTH_USER_MAX;
}

/* A verified signature and an allowed key: the connection is authenticated. */
static int
auth_success(struct child *c, const char *user, const char *fp)
{
	char fields[512];
	int rc;

	if ((rc = c->auth->authenticated(c, user)) != 0) {
		log_error("identity backend %s: cannot complete login of %s (%d)", c->auth->name, user, rc);
		child_finish(c, EXIT_CHILD_INTERNAL);
		return SSH_AUTH_DENIED;
	}
	if ((c->user = strdup(user)) == NULL) {
		child_finish(c, EXIT_CHILD_INTERNAL);
		return SSH_AUTH_DENIED;
	}
	c->authenticated = true;
	c->deadline_armed = false;
	snprintf(fields, sizeof(fields), "user=%s\nkey=%s\nclient=%s\nport=%d",
	    user, fp, c->peer.ip[0] ? c->peer.ip : "local", c->peer.port);
	log_infof(fields, "user authenticated");
	return SSH_AUTH_SUCCESS;
}

int
auth_pubkey(ssh_session session, const char *user, struct ssh_key_struct *pubkey,
    char signature_state, void *userdata)
{
	struct child *c = userdata;
	uint8_t *blob = NULL;
	char *fp = NULL;
	size_t len = 0;
	int allowed, rc = SSH_AUTH_DENIED;

	(void)session;
	c->auth_attempts++;
	/* libssh stops calling once authenticated; a finishing child answers nothing. */
	if (c->authenticated || c->exit_code >= 0 || auth_exhausted(c))
		return SSH_AUTH_DENIED;
	if (!user_ok(user) || child_key_blob(pubkey, &blob, &len) != 0 ||
	    (fp = child_key_fingerprint(pubkey)) == NULL) {
		auth_failed(c, user_ok(user) ? user : "", "publickey", fp, true);
		goto out;
	}
	if (signature_state != SSH_PUBLICKEY_STATE_NONE &&
	    signature_state != SSH_PUBLICKEY_STATE_VALID) {
		auth_failed(c, user, "publickey", fp, true);
		goto out;
	}
	allowed = c->auth->key_allowed(c, user, blob, len);
	if (allowed < 0) {
		log_error("identity backend %s failed for %s (%d)", c->auth->name, user, allowed);
		child_finish(c, EXIT_CHILD_INTERNAL);
		goto out;
	}
	if (signature_state == SSH_PUBLICKEY_STATE_NONE) {
		/* A probe: PK_OK lets the client sign; it never authenticates. */
		if (allowed == 1) {
			log_debug("key %s acceptable for %s, waiting for its signature", fp, user);
			rc = SSH_AUTH_SUCCESS;
		} else {
			auth_failed(c, user, "publickey", fp, false);
		}
		goto out;
	}
	/* SSH_PUBLICKEY_STATE_VALID: libssh verified the signature over the session id. */
	if (allowed == 1)
		rc = auth_success(c, user, fp);
	else
		auth_failed(c, user, "publickey", fp, true);
out:
	free(blob);
	ssh_string_free_char(fp);
	return rc;
}

void
auth_other(struct child *c, ssh_message msg)
{
	const char *user = ssh_message_auth_user(msg);
	int sub = ssh_message_subtype(msg);
	const char *method;

	c->auth_attempts++;
	if (c->authenticated)
		return;
	switch (sub) {
	case SSH_AUTH_METHOD_NONE: method = "none"; break;
	case SSH_AUTH_METHOD_PASSWORD: method = "password"; break;
	case SSH_AUTH_METHOD_INTERACTIVE: method = "keyboard-interactive"; break;
	case SSH_AUTH_METHOD_HOSTBASED: method = "hostbased"; break;
	default: method = "unknown"; break;
	}
	/* As in OpenSSH, the client's opening "none" query is not a failure. */
	if (sub == SSH_AUTH_METHOD_NONE && c->auth_attempts == 1) {
		log_debug("auth method query (none) for %s", user_ok(user) ? user : "");
		return;
	}
	auth_failed(c, user_ok(user) ? user : "", method, NULL, sub != SSH_AUTH_METHOD_NONE);
}
