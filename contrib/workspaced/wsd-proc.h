/* Processes workspaced starts: fork+exec into a new session (one process group),
 * optional pty, user switch, reaping, and the SIGHUP-then-SIGKILL end of a group. */
#ifndef WSD_PROC_H
#define WSD_PROC_H

#include <stddef.h>
#include <sys/types.h>

struct wsd_loop;
struct wsd_user;
struct wsd_procs;
struct wsd_proc;

/* How long a released group has between SIGHUP and SIGKILL. */
#define WSD_KILL_GRACE_MS 1000

struct wsd_spawn {
	const char *path;
	char *const *argv;
	char *const *envp;
	const struct wsd_user *user;
	int use_pty;
	unsigned int cols, rows;	/* 0: 80x24 */
	int merge_stderr;		/* without a pty: one pipe for stdout and stderr */
};

/* Our ends, non-blocking and close-on-exec; -1 when unused. With a pty, out is
 * the master and in a dup of it. */
struct wsd_stdio {
	int in, out, err;
	char pty[64];
};

/* status as from waitpid(2). */
typedef void (*wsd_proc_exit_cb)(void *arg, int status);

/* Exec failures show in the child: one line on its stderr, exit 127 (not found)
 * or 126 (not executable). Returns -errno when no process could be started. */
int wsd_proc_spawn(struct wsd_procs *procs, const struct wsd_spawn *sp, struct wsd_stdio *io,
    wsd_proc_exit_cb cb, void *arg, struct wsd_proc **procp);
pid_t wsd_proc_pid(const struct wsd_proc *proc);
/* Signals the whole process group. */
int wsd_proc_signal(struct wsd_proc *proc, int sig);
/* The owner is done: no more callbacks; SIGHUP the group now, SIGKILL it after
 * WSD_KILL_GRACE_MS if anything is left (with a pty: anything left in the
 * session, e.g. a shell's jobs), reap it, free it. */
void wsd_proc_release(struct wsd_proc *proc);

int wsd_procs_new(struct wsd_loop *loop, struct wsd_procs **procsp);
/* After SIGCHLD: reaps every exited child (ours and adopted orphans). */
void wsd_procs_reap(struct wsd_procs *procs);
/* Shutdown: SIGKILL every group we still know. */
void wsd_procs_kill_all(struct wsd_procs *procs);
size_t wsd_procs_count(const struct wsd_procs *procs);
void wsd_procs_free(struct wsd_procs *procs);

/* SSH signal name ("INT", "TERM", ...; "SIG" prefix tolerated); unknown -> SIGTERM. */
int wsd_signal_from_name(const char *name);
/* Exit status, or 128 + signal number when the process was killed. */
int wsd_exit_code(int status);

#endif
