/* Who a workspaced process runs as (as_user, the default user, or ourselves)
 * and the environment it starts with. */
#ifndef WSD_USER_H
#define WSD_USER_H

#include <stddef.h>
#include <sys/types.h>

struct wsd_user {
	char *name;
	char *home;
	char *shell;		/* login shell; "/bin/sh" when the entry has none */
	uid_t uid;
	gid_t gid;
	gid_t *groups;		/* supplementary groups, resolved before fork */
	int ngroups;
	int switch_ids;		/* we are root: setgroups/setgid/setuid in the child */
};

/* as_user empty: default_user, or ourselves when that is NULL. -ENOENT for an
 * unknown user, -EPERM when not root and the user is not ourselves. */
int wsd_user_lookup(const char *as_user, const char *default_user, struct wsd_user **userp);
void wsd_user_free(struct wsd_user *user);

/* PATH, HOME, USER, LOGNAME, SHELL for user, then the client's NAME=VALUE
 * entries in order (a later name replaces an earlier one; malformed ones are
 * skipped). NULL-terminated; free with wsd_env_free(). */
char **wsd_env_build(const struct wsd_user *user, char *const *client, size_t nclient);
void wsd_env_free(char **env);

#endif
