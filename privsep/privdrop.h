/* Dropping privileges in the forked child before execv: setgroups/setgid/setuid,
 * NO_NEW_PRIVS, fd layout. Runs only between fork and exec. */
#ifndef PRIVSEP_PRIVDROP_H
#define PRIVSEP_PRIVDROP_H

#include <stdbool.h>
#include <sys/types.h>

/* Resolves a user name to uid/gid. Returns 0 or -1. */
int privdrop_lookup(const char *user, uid_t *uid, gid_t *gid);
/* Moves conn_fd to PRIVSEP_CLIENT_FD and mon_fd to PRIVSEP_MONITOR_FD (mon_fd < 0: none),
 * closes everything from PRIVSEP_FIRST_FREE_FD (or 4 without a monitor). Returns 0 or -1. */
int privdrop_fds(int conn_fd, int mon_fd);
/* setgroups(0)/setgid/setuid (when drop), then PR_SET_NO_NEW_PRIVS. Returns 0 or -1. */
int privdrop_user(bool drop, uid_t uid, gid_t gid);

#endif
