/* Privilege drop between fork and execv of the child: the fixed fd layout,
 * closefrom, setgroups/setgid/setuid with a check that root cannot come back. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/log.h"
#include "privsep/privdrop.h"
#include "privsep/privsep.h"

int
privdrop_lookup(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	errno = 0;
	if (user == NULL || *user == '\0' || (pw = getpwnam(user)) == NULL) {
		log_error("privsep user \"%s\" not found%s%s", user ? user : "",
		    errno ? ": " : "", errno ? strerror(errno) : "");
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

static void
close_from(int lowfd)
{
#if defined(HAVE_CLOSEFROM)
	closefrom(lowfd);
#else
	struct rlimit rl;
	long max = 1024;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0) == 0)
		return;
#endif
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		max = (long)rl.rlim_cur;
	for (long fd = lowfd; fd < max; fd++)
		close((int)fd);
#endif
}

int
privdrop_fds(int conn_fd, int mon_fd)
{
	int c, m = -1;

	/* Either fd may already sit on 3 or 4: park both above the fixed slots
	 * first so neither dup2 overwrites the other. */
	if ((c = fcntl(conn_fd, F_DUPFD_CLOEXEC, PRIVSEP_SCRATCH_FD)) < 0) {
		log_error("fcntl(F_DUPFD_CLOEXEC): %s", strerror(errno));
		return -1;
	}
	if (mon_fd >= 0 && (m = fcntl(mon_fd, F_DUPFD_CLOEXEC, PRIVSEP_SCRATCH_FD)) < 0) {
		log_error("fcntl(F_DUPFD_CLOEXEC): %s", strerror(errno));
		return -1;
	}
	/* dup2 clears FD_CLOEXEC on the target: these two survive execv. */
	if (dup2(c, PRIVSEP_CLIENT_FD) < 0 ||
	    (m >= 0 && dup2(m, PRIVSEP_MONITOR_FD) < 0)) {
		log_error("dup2: %s", strerror(errno));
		return -1;
	}
	close_from(m >= 0 ? PRIVSEP_FIRST_FREE_FD : PRIVSEP_MONITOR_FD);
	return 0;
}

int
privdrop_user(bool drop, uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (drop) {
		if (uid == 0) {
			log_error("refusing to run the child as root: privsep.user must be unprivileged");
			return -1;
		}
		if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 ||
		    setresuid(uid, uid, uid) != 0) {
			log_error("dropping privileges to uid %lu gid %lu: %s", (unsigned long)uid,
			    (unsigned long)gid, strerror(errno));
			return -1;
		}
		/* Belt and braces, as OpenSSH's permanently_set_uid(): all ids
		 * changed, no supplementary groups, and root is gone for good. */
		if (getresuid(&ru, &eu, &su) != 0 || ru != uid || eu != uid || su != uid ||
		    getresgid(&rg, &eg, &sg) != 0 || rg != gid || eg != gid || sg != gid ||
		    getgroups(0, NULL) != 0) {
			log_error("privilege drop to uid %lu gid %lu did not take effect",
			    (unsigned long)uid, (unsigned long)gid);
			return -1;
		}
		if (setuid(0) != -1 || seteuid(0) != -1) {
			log_error("privilege drop failed: could regain root");
			return -1;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		log_error("prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
		return -1;
	}
	return 0;
}
