/* Resolves the user a workspaced process runs as, with its groups, in the parent:
 * the forked child may only make async-signal-safe calls (no NSS lookups). */
#include "autoconf.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contrib/workspaced/wsd-user.h"

void
wsd_user_free(struct wsd_user *user)
{
	if (user == NULL)
		return;
	free(user->name);
	free(user->home);
	free(user->shell);
	free(user->groups);
	free(user);
}

static int
user_groups(struct wsd_user *user)
{
	int n = 16;

	for (;;) {
		gid_t *g = realloc(user->groups, (size_t)n * sizeof(*g));
		int want = n;

		if (g == NULL)
			return -ENOMEM;
		user->groups = g;
		if (getgrouplist(user->name, user->gid, g, &want) >= 0) {
			user->ngroups = want;
			return 0;
		}
		if (want <= n)
			want = n * 2;
		if (want > 65536)
			return -E2BIG;
		n = want;
	}
}

int
wsd_user_lookup(const char *as_user, const char *default_user, struct wsd_user **userp)
{
	struct passwd pw, *res = NULL;
	struct wsd_user *user;
	const char *name = as_user != NULL && as_user[0] != '\0' ? as_user : default_user;
	long bufsz = sysconf(_SC_GETPW_R_SIZE_MAX);
	char *buf;
	int r;

	*userp = NULL;
	if (bufsz < 1024)
		bufsz = 16384;
	if ((buf = malloc((size_t)bufsz)) == NULL)
		return -ENOMEM;
	if (name != NULL)
		r = getpwnam_r(name, &pw, buf, (size_t)bufsz, &res);
	else
		r = getpwuid_r(geteuid(), &pw, buf, (size_t)bufsz, &res);
	if (r != 0 || res == NULL) {
		free(buf);
		return r != 0 ? -r : -ENOENT;
	}
	if (geteuid() != 0 && pw.pw_uid != geteuid()) {
		free(buf);
		return -EPERM;
	}
	if ((user = calloc(1, sizeof(*user))) == NULL) {
		free(buf);
		return -ENOMEM;
	}
	user->uid = pw.pw_uid;
	user->gid = pw.pw_gid;
	user->switch_ids = geteuid() == 0;
	user->name = strdup(pw.pw_name);
	user->home = strdup(pw.pw_dir != NULL && pw.pw_dir[0] != '\0' ? pw.pw_dir : "/");
	user->shell = strdup(pw.pw_shell != NULL && pw.pw_shell[0] != '\0' ? pw.pw_shell : "/bin/sh");
	free(buf);
	if (user->name == NULL || user->home == NULL || user->shell == NULL) {
		wsd_user_free(user);
		return -ENOMEM;
	}
	if (user->switch_ids && (r = user_groups(user)) < 0) {
		wsd_user_free(user);
		return r;
	}
	*userp = user;
	return 0;
}
