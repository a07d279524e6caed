/* Spawning and reaping for workspaced. The child half runs between fork and exec
 * in a multi-threaded process, so it makes async-signal-safe calls only. */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "daemon/log.h"
#include "contrib/workspaced/wsd-loop.h"
#include "contrib/workspaced/wsd-proc.h"
#include "contrib/workspaced/wsd-relay.h"
#include "contrib/workspaced/wsd-user.h"

struct wsd_proc {
	struct wsd_procs *procs;
	struct wsd_proc *next, *prev;
	pid_t pid;		/* also the process group id (the child calls setsid) */
	int exited;
	int released;
	int session_sweep;	/* a pty: job-control groups may hang off the session */
	struct wsd_timer kill_timer;
	wsd_proc_exit_cb cb;
	void *arg;
};

struct wsd_procs {
	struct wsd_loop *loop;
	struct wsd_proc *head;
	size_t count;
};

static const struct {
	const char *name;
	int sig;
} signames[] = {
	{ "ABRT", SIGABRT }, { "ALRM", SIGALRM }, { "FPE", SIGFPE }, { "HUP", SIGHUP },
	{ "ILL", SIGILL }, { "INT", SIGINT }, { "KILL", SIGKILL }, { "PIPE", SIGPIPE },
	{ "QUIT", SIGQUIT }, { "SEGV", SIGSEGV }, { "TERM", SIGTERM }, { "USR1", SIGUSR1 },
	{ "USR2", SIGUSR2 }, { "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "TSTP", SIGTSTP },
	{ "WINCH", SIGWINCH },
};

int
wsd_signal_from_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return SIGTERM;
	if (strncmp(name, "SIG", 3) == 0)
		name += 3;
	for (i = 0; i < sizeof(signames) / sizeof(signames[0]); i++)
		if (strcmp(name, signames[i].name) == 0)
			return signames[i].sig;
	return SIGTERM;
}

int
wsd_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

int
wsd_procs_new(struct wsd_loop *loop, struct wsd_procs **procsp)
{
	struct wsd_procs *procs;

	if ((procs = calloc(1, sizeof(*procs))) == NULL)
		return -ENOMEM;
	procs->loop = loop;
	/* Orphans of our sessions become our children, so nothing escapes the reaper. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_warn("cannot become a child subreaper: %s", strerror(errno));
	*procsp = procs;
	return 0;
}

size_t
wsd_procs_count(const struct wsd_procs *procs)
{
	return procs->count;
}

static void
proc_unlink_free(struct wsd_proc *proc)
{
	struct wsd_procs *procs = proc->procs;

	wsd_timer_stop(procs->loop, &proc->kill_timer);
	if (proc->prev != NULL)
		proc->prev->next = proc->next;
	else
		procs->head = proc->next;
	if (proc->next != NULL)
		proc->next->prev = proc->prev;
	procs->count--;
	free(proc);
}

void
wsd_procs_free(struct wsd_procs *procs)
{
	if (procs == NULL)
		return;
	while (procs->head != NULL)
		proc_unlink_free(procs->head);
	free(procs);
}

pid_t
wsd_proc_pid(const struct wsd_proc *proc)
{
	return proc->pid;
}

int
wsd_proc_signal(struct wsd_proc *proc, int sig)
{
	if (kill(-proc->pid, sig) == 0)
		return 0;
	/* The child may not have called setsid yet: its group does not exist. */
	if (errno == ESRCH && !proc->exited && kill(proc->pid, sig) == 0)
		return 0;
	return -errno;
}

static int
proc_group_alive(const struct wsd_proc *proc)
{
	return kill(-proc->pid, 0) == 0 || errno == EPERM;
}

/* Signals every process of the session proc leads (sig 0: just counts them).
 * An interactive shell puts its jobs in process groups of their own; only the
 * session still ties them to us. */
static int
proc_session_signal(const struct wsd_proc *proc, int sig)
{
	char path[64], buf[512], *p;
	struct dirent *de;
	int n = 0, fd, sid;
	ssize_t len;
	pid_t pid;
	DIR *d;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if ((pid = (pid_t)atoi(de->d_name)) <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		/* pid (comm) state ppid pgrp session ...; comm may hold spaces and ')'. */
		if ((p = strrchr(buf, ')')) == NULL ||
		    sscanf(p + 1, " %*c %*d %*d %d", &sid) != 1 || sid != (int)proc->pid)
			continue;
		if (sig == 0 || kill(pid, sig) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* Anything of ours still running: the process group, or with a pty the session. */
static int
proc_alive(const struct wsd_proc *proc)
{
	return !proc->exited || proc_group_alive(proc) ||
	    (proc->session_sweep && proc_session_signal(proc, 0) > 0);
}

static void
proc_kill_timer(struct wsd_timer *t)
{
	struct wsd_proc *proc = wsd_container_of(t, struct wsd_proc, kill_timer);

	if (proc_alive(proc)) {
		log_debug("process group %d still alive: SIGKILL", (int)proc->pid);
		wsd_proc_signal(proc, SIGKILL);
		if (proc->session_sweep)
			proc_session_signal(proc, SIGKILL);
	}
	if (proc->exited)
		proc_unlink_free(proc);
	/* else freed when reaped */
}

void
wsd_proc_release(struct wsd_proc *proc)
{
	if (proc == NULL)
		return;
	proc->released = 1;
	proc->cb = NULL;
	proc->arg = NULL;
	if (!proc_alive(proc)) {
		proc_unlink_free(proc);
		return;
	}
	wsd_proc_signal(proc, SIGHUP);
	wsd_proc_signal(proc, SIGCONT);
	if (wsd_timer_start(proc->procs->loop, &proc->kill_timer, WSD_KILL_GRACE_MS) < 0) {
		wsd_proc_signal(proc, SIGKILL);
		if (proc->exited)
			proc_unlink_free(proc);
	}
}

void
wsd_procs_kill_all(struct wsd_procs *procs)
{
	struct wsd_proc *p;

	for (p = procs->head; p != NULL; p = p->next)
		wsd_proc_signal(p, SIGKILL);
}

void
wsd_procs_reap(struct wsd_procs *procs)
{
	struct wsd_proc *p;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (p = procs->head; p != NULL && p->pid != pid; p = p->next)
			;
		if (p == NULL || p->exited)
			continue;	/* an adopted orphan */
		p->exited = 1;
		if (p->cb != NULL)
			p->cb(p->arg, status);
		else if (p->released && p->kill_timer.slot < 0)
			proc_unlink_free(p);
	}
}

/* --- child side: async-signal-safe only --- */

static size_t
cat_str(char *buf, size_t off, size_t cap, const char *s)
{
	while (*s != '\0' && off + 1 < cap)
		buf[off++] = *s++;
	return off;
}

static void
child_fail(const char *what, const char *arg, int err)
{
	char line[512];
	size_t n = 0;
	const char *desc = strerrordesc_np(err);

	n = cat_str(line, n, sizeof(line), "workspaced: ");
	n = cat_str(line, n, sizeof(line), what);
	if (arg != NULL) {
		n = cat_str(line, n, sizeof(line), " ");
		n = cat_str(line, n, sizeof(line), arg);
	}
	n = cat_str(line, n, sizeof(line), ": ");
	n = cat_str(line, n, sizeof(line), desc != NULL ? desc : "error");
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

__attribute__((noreturn)) static void
spawn_child(const struct wsd_spawn *sp, int fd0, int fd1, int fd2, int ctty)
{
	struct sigaction sa;
	sigset_t none;
	int err, sig;

	/* Dispositions we changed (SIGPIPE ignored) would survive exec. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &sa, NULL);
	(void)setsid();
	if (ctty >= 0)
		(void)ioctl(ctty, TIOCSCTTY, 0);
	if (dup2(fd0, STDIN_FILENO) < 0 || dup2(fd1, STDOUT_FILENO) < 0 ||
	    dup2(fd2, STDERR_FILENO) < 0)
		_exit(1);
	closefrom(STDERR_FILENO + 1);
	if (sp->user != NULL && sp->user->switch_ids) {
		if (setgroups((size_t)sp->user->ngroups, sp->user->groups) < 0) {
			child_fail("setgroups for", sp->user->name, errno);
			_exit(1);
		}
		if (setgid(sp->user->gid) < 0 || setuid(sp->user->uid) < 0) {
			child_fail("cannot switch to user", sp->user->name, errno);
			_exit(1);
		}
	}
	if (sp->user == NULL || chdir(sp->user->home) < 0)
		(void)!chdir("/");
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(sp->path, sp->argv, sp->envp);
	err = errno;
	child_fail("exec", sp->path, err);
	_exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
}

/*
 * A pipe holds 64 KiB by default: a command's output then never leaves more
 * than that for one read, and a 128 KiB stdin message never goes in one
 * write. Room for two WSD_CHUNKs lets output messages fill up (download CPU
 * per byte down by about a third in the child and here). Best effort: past
 * the per-user pipe quota a pipe keeps the default size.
 */
#define WSD_PIPE_SIZE	(2 * WSD_CHUNK)

static void
pipe_grow(int fd)
{
	(void)fcntl(fd, F_SETPIPE_SZ, WSD_PIPE_SIZE);
}

static void
close_fds(int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}

int
wsd_proc_spawn(struct wsd_procs *procs, const struct wsd_spawn *sp, struct wsd_stdio *io,
    wsd_proc_exit_cb cb, void *arg, struct wsd_proc **procp)
{
	/* ours: in, out, err; theirs: 0, 1, 2 (with a pty all three are the slave) */
	int mine[3] = { -1, -1, -1 }, theirs[3] = { -1, -1, -1 }, p[2], i, err;
	struct wsd_proc *proc;
	pid_t pid;

	io->in = io->out = io->err = -1;
	io->pty[0] = '\0';
	if ((proc = calloc(1, sizeof(*proc))) == NULL)
		return -ENOMEM;
	if (sp->use_pty) {
		struct winsize ws;
		int master, slave;

		memset(&ws, 0, sizeof(ws));
		ws.ws_col = (unsigned short)(sp->cols ? sp->cols : 80);
		ws.ws_row = (unsigned short)(sp->rows ? sp->rows : 24);
		if (openpty(&master, &slave, NULL, NULL, &ws) < 0)
			goto fail;
		mine[1] = master;
		theirs[0] = slave;
		if (ttyname_r(slave, io->pty, sizeof(io->pty)) != 0)
			io->pty[0] = '\0';
		if ((mine[0] = fcntl(master, F_DUPFD_CLOEXEC, 3)) < 0 ||
		    fcntl(slave, F_SETFD, FD_CLOEXEC) < 0)
			goto fail;
		/* The terminal belongs to the user it runs for, as sshd sets it up. */
		if (sp->user != NULL && sp->user->switch_ids &&
		    (fchown(slave, sp->user->uid, (gid_t)-1) < 0 || fchmod(slave, 0620) < 0))
			goto fail;
	} else {
		if (pipe2(p, O_CLOEXEC) < 0)
			goto fail;
		theirs[0] = p[0];
		mine[0] = p[1];
		pipe_grow(p[1]);
		if (pipe2(p, O_CLOEXEC) < 0)
			goto fail;
		mine[1] = p[0];
		theirs[1] = p[1];
		pipe_grow(p[0]);
		if (!sp->merge_stderr) {
			if (pipe2(p, O_CLOEXEC) < 0)
				goto fail;
			mine[2] = p[0];
			theirs[2] = p[1];
			pipe_grow(p[0]);
		}
	}
	for (i = 0; i < 3; i++)
		if (mine[i] >= 0 && fcntl(mine[i], F_SETFL, O_NONBLOCK) < 0)
			goto fail;

	if ((pid = fork()) < 0)
		goto fail;
	if (pid == 0) {
		if (sp->use_pty)
			spawn_child(sp, theirs[0], theirs[0], theirs[0], theirs[0]);
		spawn_child(sp, theirs[0], theirs[1], theirs[2] >= 0 ? theirs[2] : theirs[1], -1);
	}
	close_fds(theirs, 3);
	proc->procs = procs;
	proc->pid = pid;
	proc->cb = cb;
	proc->arg = arg;
	proc->session_sweep = sp->use_pty;
	wsd_timer_init(&proc->kill_timer, proc_kill_timer);
	proc->next = procs->head;
	if (procs->head != NULL)
		procs->head->prev = proc;
	procs->head = proc;
	procs->count++;
	io->in = mine[0];
	io->out = mine[1];
	io->err = mine[2];
	*procp = proc;
	log_debug("started %s as pid %d%s%s", sp->path, (int)pid, sp->use_pty ? " on " : "",
	    sp->use_pty ? io->pty : "");
	return 0;
fail:
	err = -errno;
	close_fds(mine, 3);
	close_fds(theirs, 3);
	free(proc);
	io->pty[0] = '\0';
	return err;
}
