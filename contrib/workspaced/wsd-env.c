/* The environment of a process workspaced starts: a login-like base for the user
 * (as sshd builds it), then the client's entries in arrival order. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contrib/workspaced/wsd-user.h"

#define WSD_PATH_USER "/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games"
#define WSD_PATH_ROOT "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct envv {
	char **v;
	size_t n, cap;
	int failed;
};

/* Takes entry ("NAME=VALUE", malloc'd); replaces an entry of the same name. */
static void
env_put(struct envv *e, char *entry)
{
	size_t i, nl;

	if (entry == NULL) {
		e->failed = 1;
		return;
	}
	nl = (size_t)(strchr(entry, '=') - entry);
	for (i = 0; i < e->n; i++) {
		if (strncmp(e->v[i], entry, nl + 1) == 0) {
			free(e->v[i]);
			e->v[i] = entry;
			return;
		}
	}
	if (e->n + 2 > e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 16;
		char **v = realloc(e->v, cap * sizeof(*v));

		if (v == NULL) {
			free(entry);
			e->failed = 1;
			return;
		}
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = entry;
	e->v[e->n] = NULL;
}

static void
env_set(struct envv *e, const char *name, const char *value)
{
	char *entry;

	if (asprintf(&entry, "%s=%s", name, value) < 0)
		entry = NULL;
	env_put(e, entry);
}

char **
wsd_env_build(const struct wsd_user *user, char *const *client, size_t nclient)
{
	struct envv e = { NULL, 0, 0, 0 };
	const char *path = getenv("PATH");
	size_t i;

	if (path == NULL || path[0] == '\0')
		path = user->uid == 0 ? WSD_PATH_ROOT : WSD_PATH_USER;
	env_set(&e, "PATH", path);
	env_set(&e, "HOME", user->home);
	env_set(&e, "USER", user->name);
	env_set(&e, "LOGNAME", user->name);
	env_set(&e, "SHELL", user->shell);
	for (i = 0; i < nclient; i++) {
		const char *eq = client[i] != NULL ? strchr(client[i], '=') : NULL;

		if (eq == NULL || eq == client[i])
			continue;
		env_put(&e, strdup(client[i]));
	}
	if (e.failed) {
		wsd_env_free(e.v);
		return NULL;
	}
	return e.v;
}

void
wsd_env_free(char **env)
{
	size_t i;

	if (env == NULL)
		return;
	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}
