/* Loading what a process that spawns monitors needs: config (kept as resolved
 * text for children), host keys, the privsep user and the child's argv. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/listener.h"
#include "daemon/log.h"
#include "daemon/proxy.h"
#include "privsep/hostkey.h"
#include "privsep/privdrop.h"

/* Extra seconds before the monitor's grace timer, so the child's own
 * handshake timeout fires first and reports EXIT_CHILD_HANDSHAKE itself. */
#define PROXY_GRACE_SLACK	5
#define PROXY_MAX_HOSTKEYS	16

static void
build_child_argv(struct proxy_state *st, const struct proxy_args *a)
{
	size_t i = 0;

	st->child_argv[i++] = (char *)a->exe;
	st->child_argv[i++] = "--child";
	st->child_argv[i++] = "--config";
	st->child_argv[i++] = (char *)a->config_path;
	if (a->logtext)
		st->child_argv[i++] = "--logtext";
	if (a->level == LOG_LEVEL_DEBUG)
		st->child_argv[i++] = "--debug";
	st->child_argv[i] = NULL;
}

int
proxy_state_try(struct proxy_state *st, const struct proxy_args *a, int quiet,
    char *err, size_t errlen)
{
	const char *paths[PROXY_MAX_HOSTKEYS];
	struct config_error cerr;
	size_t npaths;
	uid_t uid = 0;
	gid_t gid = 0;
	bool drop = false;

	memset(st, 0, sizeof(*st));
	memset(&cerr, 0, sizeof(cerr));
	/* Pre-pass once and parse that text, so the children get exactly the
	 * configuration that was validated here (${VAR} and !file resolved). */
	if (config_prepass(a->config_path, &st->cfg_text, &st->cfg_len, &cerr) != 0 ||
	    config_parse(st->cfg_text, st->cfg_len, a->config_path, &st->cfg, &cerr) != 0) {
		snprintf(err, errlen, "%s", cerr.message[0] ? cerr.message : a->config_path);
		goto fail;
	}
	npaths = config_host_key_paths(st->cfg, paths, PROXY_MAX_HOSTKEYS);
	if (npaths == 0) {
		snprintf(err, errlen, "%s: no host key configured (server.serverKey or server.hostKeys)",
		    a->config_path);
		goto fail;
	}
	if (npaths > PROXY_MAX_HOSTKEYS) {
		snprintf(err, errlen, "%s: server.hostKeys: at most %d host keys are supported",
		    a->config_path, PROXY_MAX_HOSTKEYS);
		goto fail;
	}
	if (hostkeys_load(&st->keys, paths, npaths, err, errlen) != 0)
		goto fail;
	if (geteuid() == 0) {
		if (privdrop_lookup(st->cfg->privsep.user, &uid, &gid) != 0) {
			snprintf(err, errlen, "%s: privsep.user: unknown user \"%s\"",
			    a->config_path, st->cfg->privsep.user);
			goto fail;
		}
		drop = true;
	} else if (!quiet) {
		log_warn("not running as root: children run with the listener's uid %ld, "
		    "privsep.user \"%s\" is not used", (long)geteuid(), st->cfg->privsep.user);
	}

	build_child_argv(st, a);
	st->mp.exe = a->exe;
	st->mp.child_argv = st->child_argv;
	st->mp.keys = st->keys;
	st->mp.cfg = st->cfg;
	st->mp.config_text = st->cfg_text;
	st->mp.config_len = st->cfg_len;
	st->mp.drop = drop;
	st->mp.uid = uid;
	st->mp.gid = gid;
	st->mp.login_grace = st->cfg->server.handshake_timeout > 0 ?
	    st->cfg->server.handshake_timeout + PROXY_GRACE_SLACK : 0;
	st->mp.max_signatures = st->cfg->privsep.max_signatures;
	st->mp.status_fd = -1;
	return 0;
fail:
	proxy_state_free(st);
	return -1;
}

int
proxy_state_load(struct proxy_state *st, const struct proxy_args *a)
{
	char err[1024];

	if (proxy_state_try(st, a, 0, err, sizeof(err)) != 0) {
		/* Before listening: the operator reads stderr, journald reads the log. */
		fprintf(stderr, "ssh-proxy: %s\n", err);
		log_error("%s", err);
		exit(1);
	}
	return 0;
}

void
proxy_state_free(struct proxy_state *st)
{
	if (st->keys != NULL)
		hostkeys_free(st->keys);
	if (st->cfg != NULL)
		config_free(st->cfg);
	if (st->cfg_text != NULL)
		config_text_free(st->cfg_text, st->cfg_len);
	memset(st, 0, sizeof(*st));
	st->mp.status_fd = -1;
}
