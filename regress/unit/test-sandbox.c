/* Unit tests for privsep/sandbox: in forked processes, what the seccomp filter
 * refuses (against an unsandboxed control) and what the child's libraries still need. */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/log.h"
#include "privsep/sandbox.h"

/* Exit status of a probe process that could not install the sandbox. */
#define NO_SANDBOX	100
/* run_probe's encoding of "killed by signal N". */
#define KILLED(sig)	(1000 + (sig))
/* Not compared: the unsandboxed result depends on the host (root, sysctls). */
#define ANY		-1

/* A probe returns 0 for success or the errno of the refused call. */
typedef int (*probe_fn)(void);

static char tmpdir[64];

/* Runs fn in a forked process, sandboxed or not; returns its exit status
 * or KILLED(signal). Every probe is bounded by an alarm. */
static int
run_probe(probe_fn fn, int sandboxed)
{
	pid_t pid;
	int st;

	fflush(NULL);
	if ((pid = fork()) < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		alarm(10);
		if (sandboxed && sandbox_child_apply() != 0)
			_exit(NO_SANDBOX);
		_exit(fn());
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			fail_msg("waitpid: %s", strerror(errno));
	}
	if (WIFSIGNALED(st))
		return KILLED(WTERMSIG(st));
	return WEXITSTATUS(st);
}

static int
result(long rc)
{
	return rc < 0 ? errno : 0;
}

/* --- what the filter refuses --- */

static int
p_execve(void)
{
	char *argv[] = { "true", NULL }, *envp[] = { NULL };

	/* Unsandboxed this becomes /bin/true and exits 0. */
	execve("/bin/true", argv, envp);
	return errno;
}

static int
p_execveat(void)
{
	char *argv[] = { "true", NULL }, *envp[] = { NULL };

	syscall(SYS_execveat, AT_FDCWD, "/bin/true", argv, envp, 0);
	return errno;
}

static int
p_ptrace(void)
{
	return result(ptrace(PTRACE_TRACEME, 0, NULL, NULL));
}

static int
p_process_vm_readv(void)
{
	char src[8] = "sandbox", dst[8];
	struct iovec l = { dst, sizeof(dst) }, r = { src, sizeof(src) };

	return result(process_vm_readv(getpid(), &l, 1, &r, 1, 0));
}

static int
p_netlink(void)
{
	return result(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0));
}

static int
p_packet(void)
{
	return result(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
}

static int
p_unshare(void)
{
	/* No flags: succeeds for anyone, so only the filter can refuse it. */
	return result(unshare(0));
}

static int
p_setns(void)
{
	return result(setns(-1, 0));
}

static int
p_clone_newuser(void)
{
	long rc = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);

	if (rc == 0)
		_exit(0);	/* a forked copy in a new user namespace */
	if (rc > 0) {
		waitpid((pid_t)rc, NULL, 0);
		return 0;
	}
	return errno;
}

#ifdef SYS_clone3
static int
p_clone3(void)
{
	/* A NULL struct is EINVAL unsandboxed: only the filter says ENOSYS. */
	return result(syscall(SYS_clone3, NULL, 0));
}
#endif

static int
p_setuid(void)
{
	/* To the current uid: permitted to anyone, refused by the filter. */
	return result(syscall(SYS_setuid, getuid()));
}

static int
p_setresgid(void)
{
	return result(syscall(SYS_setresgid, -1, -1, -1));
}

static int
p_fchown(void)
{
	char path[128];
	int fd, rc;

	snprintf(path, sizeof(path), "%s/chown-%ld", tmpdir, (long)getpid());
	if ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return 200;
	rc = result(fchown(fd, (uid_t)-1, (gid_t)-1));
	close(fd);
	unlink(path);
	return rc;
}

static int
p_mknod(void)
{
	char path[128];
	int rc;

	snprintf(path, sizeof(path), "%s/fifo-%ld", tmpdir, (long)getpid());
	rc = result(mknodat(AT_FDCWD, path, S_IFIFO | 0600, 0));
	unlink(path);
	return rc;
}

static int
p_chroot(void)
{
	/* The path is looked up first: ENOENT unsandboxed, root or not. */
	return result(chroot("/nonexistent-sandbox-test"));
}

static int
p_clock_settime(void)
{
	struct timespec ts = { 0, 0 };

	/* An invalid clock: EINVAL unsandboxed, the clock is never touched. */
	return result(syscall(SYS_clock_settime, 999, &ts));
}

static int
p_personality(void)
{
	/* 0xffffffff only queries. */
	return result(syscall(SYS_personality, 0xffffffffUL));
}

static int
p_keyctl(void)
{
	return result(syscall(SYS_keyctl, 9999, 0, 0, 0, 0));
}

static int
p_set_dumpable(void)
{
	return result(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
}

static int
p_get_dumpable(void)
{
	return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
}

/* Signals and limits: only to ourselves; the parent stands for a sibling
 * child of the same user (signal 0 only checks permission). */
static int
p_kill_other(void)
{
	return result(kill(getppid(), 0));
}

static int
p_kill_group(void)
{
	return result(kill(0, 0));
}

static int
p_tgkill_other(void)
{
	return result(syscall(SYS_tgkill, getppid(), getppid(), 0));
}

static int
p_tkill_other(void)
{
	return result(syscall(SYS_tkill, getppid(), 0));
}

static int
p_sigqueue_other(void)
{
	union sigval v = { .sival_int = 1 };

	return result(sigqueue(getppid(), 0, v));
}

#ifdef SYS_pidfd_open
static int
p_pidfd_other(void)
{
	return result(syscall(SYS_pidfd_open, getppid(), 0));
}
#endif

static int
p_prlimit_other(void)
{
	struct rlimit rl;

	return result(prlimit(getppid(), RLIMIT_NOFILE, NULL, &rl));
}

struct denied_case {
	const char *name;
	probe_fn fn;
	int control;	/* unsandboxed result, or ANY */
	int sandboxed;
};

static void
test_denied(void **state)
{
	int root = geteuid() == 0;
#ifdef SANDBOX_ALLOWS_PTRACE
	int ptrace_want = 0, dumpable_want = 0;
#else
	int ptrace_want = EPERM, dumpable_want = EPERM;
#endif
	const struct denied_case cases[] = {
		{ "execve", p_execve, 0, EPERM },
		{ "execveat", p_execveat, 0, EPERM },
		{ "ptrace(TRACEME)", p_ptrace, 0, ptrace_want },
		{ "process_vm_readv", p_process_vm_readv, 0, EPERM },
		{ "socket(AF_NETLINK)", p_netlink, 0, EPERM },
		{ "socket(AF_PACKET)", p_packet, root ? 0 : EPERM, EPERM },
		{ "unshare(0)", p_unshare, 0, EPERM },
		{ "setns", p_setns, EBADF, EPERM },
		{ "clone(CLONE_NEWUSER)", p_clone_newuser, ANY, EPERM },
#ifdef SYS_clone3
		{ "clone3", p_clone3, EINVAL, ENOSYS },
#endif
		{ "setuid(getuid())", p_setuid, 0, EPERM },
		{ "setresgid(-1,-1,-1)", p_setresgid, 0, EPERM },
		{ "fchown(-1,-1)", p_fchown, 0, EPERM },
		{ "mknodat(FIFO)", p_mknod, 0, EPERM },
		{ "chroot", p_chroot, ENOENT, EPERM },
		{ "clock_settime", p_clock_settime, EINVAL, EPERM },
		{ "personality(query)", p_personality, 0, EPERM },
		{ "keyctl", p_keyctl, ANY, EPERM },
		{ "prctl(PR_SET_DUMPABLE)", p_set_dumpable, 0, dumpable_want },
		{ "kill(parent, 0)", p_kill_other, 0, EPERM },
		{ "kill(0, 0)", p_kill_group, 0, EPERM },
		{ "tgkill(parent)", p_tgkill_other, 0, EPERM },
		{ "tkill(parent)", p_tkill_other, 0, EPERM },
		{ "sigqueue(parent)", p_sigqueue_other, 0, EPERM },
#ifdef SYS_pidfd_open
		{ "pidfd_open(parent)", p_pidfd_other, 0, EPERM },
#endif
		{ "prlimit(parent)", p_prlimit_other, 0, EPERM },
		/* Not a refusal: the value of the flag, cleared by the sandbox. */
		{ "prctl(PR_GET_DUMPABLE)", p_get_dumpable, 1, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct denied_case *t = &cases[i];
		int got;

		if (t->control != ANY) {
			got = run_probe(t->fn, 0);
			if (got != t->control)
				print_error("%s unsandboxed: %d, expected %d\n", t->name, got, t->control);
			assert_int_equal(got, t->control);
		}
		got = run_probe(t->fn, 1);
		if (got != t->sandboxed)
			print_error("%s sandboxed: %d, expected %d\n", t->name, got, t->sandboxed);
		assert_int_equal(got, t->sandboxed);
	}
}

/* --- what ends the process --- */

static int
p_init_module(void)
{
	return result(syscall(SYS_init_module, NULL, 0UL, ""));
}

static int
p_reboot(void)
{
	/* Bad magic: EINVAL (or EPERM) if it ever got through. */
	return result(syscall(SYS_reboot, 0, 0, 0, NULL));
}

static int
p_x32(void)
{
	return result(syscall(0x40000000L | SYS_getpid));
}

#if defined(__x86_64__)
static int
p_int80(void)
{
	long r;

	/* getpid through the i386 entry point. */
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
	return r == (long)getpid() ? 0 : 1;
}
#endif

static void
test_killed(void **state)
{
	(void)state;
	assert_int_equal(run_probe(p_init_module, 1), KILLED(SIGSYS));
	assert_int_equal(run_probe(p_reboot, 1), KILLED(SIGSYS));
#if defined(__x86_64__)
	assert_int_equal(run_probe(p_x32, 1), KILLED(SIGSYS));
	/* Another ABI on the same CPU: killed by the arch check. Control first:
	 * a kernel without IA-32 emulation faults on int 0x80 by itself. */
	if (run_probe(p_int80, 0) == 0)
		assert_int_equal(run_probe(p_int80, 1), KILLED(SIGSYS));
	else
		print_message("no IA-32 emulation: int 0x80 arch check not exercised\n");
#else
	(void)p_x32;
#endif
}

/* --- what the child's libraries need --- */

static void *
thread_main(void *arg)
{
	*(int *)arg = 42;
	return arg;
}

static int
p_threads(void)
{
	pthread_t t[4];
	int v[4] = { 0, 0, 0, 0 };
	void *ret;

	/* glibc tries clone3 first: this is its ENOSYS fallback to clone. */
	for (int i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, thread_main, &v[i]) != 0)
			return 10 + i;
	for (int i = 0; i < 4; i++)
		if (pthread_join(t[i], &ret) != 0 || ret != &v[i] || v[i] != 42)
			return 20 + i;
	return 0;
}

static int
p_tcp_loopback(void)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int l, c, a;
	char buf[4];

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 10;
	if (bind(l, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(l, 1) != 0 ||
	    getsockname(l, (struct sockaddr *)&sin, &sl) != 0)
		return 11;
	if ((c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 12;
	if (connect(c, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		return 13;
	if ((a = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0)
		return 14;
	if (write(c, "ping", 4) != 4 || read(a, buf, 4) != 4 || memcmp(buf, "ping", 4) != 0)
		return 15;
	close(a);
	close(c);
	close(l);
	return 0;
}

static int
p_other_sockets(void)
{
	int fd, sv[2];

	/* gRPC probes IPv6 and talks to k8shelld over either family. */
	if ((fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return errno == EAFNOSUPPORT ? 0 : 10;
	close(fd);
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return 11;
	close(fd);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return 12;
	close(sv[0]);
	close(sv[1]);
	return 0;
}

static int
p_event_fds(void)
{
	struct itimerspec its = { { 0, 0 }, { 0, 1000000 } };
	struct epoll_event ev = { .events = EPOLLIN }, out;
	uint64_t v = 1;
	int efd, tfd, ep;

	if ((efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		return 10;
	if ((tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC)) < 0)
		return 11;
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return 12;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) != 0)
		return 13;
	if (write(efd, &v, sizeof(v)) != sizeof(v) || epoll_wait(ep, &out, 1, 1000) != 1)
		return 14;
	if (read(efd, &v, sizeof(v)) != sizeof(v) || v != 1)
		return 15;
	if (timerfd_settime(tfd, 0, &its, NULL) != 0 || read(tfd, &v, sizeof(v)) != sizeof(v))
		return 16;
	close(ep);
	close(tfd);
	close(efd);
	return 0;
}

static int
p_memory(void)
{
	size_t len = 1 << 20;
	unsigned char rnd[32];
	char *p, *q;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return 10;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 11;
	memset(p, 0x5a, len);
	if (mprotect(p, len, PROT_READ) != 0 || madvise(p, len, MADV_DONTNEED) != 0 ||
	    munmap(p, len) != 0)
		return 12;
	/* glibc malloc: brk for small, mmap for large blocks. */
	if ((q = malloc(64)) == NULL)
		return 13;
	free(q);
	if ((q = malloc(8 << 20)) == NULL)
		return 14;
	memset(q, 1, 8 << 20);
	free(q);
	return 0;
}

static int
p_files_and_dns(void)
{
	struct addrinfo hints, *res = NULL;
	char buf[64];
	int fd, rc;

	if ((fd = open("/etc/hosts", O_RDONLY | O_CLOEXEC)) < 0)
		return 10;
	if (read(fd, buf, sizeof(buf)) <= 0)
		return 11;
	close(fd);
	/* AI_ADDRCONFIG asks glibc for the interfaces over netlink: refused,
	 * it must fall back to assuming both families. */
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	if ((rc = getaddrinfo("localhost", "22", &hints, &res)) != 0)
		return 12;
	freeaddrinfo(res);
	return 0;
}

static int
p_misc(void)
{
	stack_t ss;
	char name[16];

	/* What sanitizer runtimes and threads do at any time. */
	memset(&ss, 0, sizeof(ss));
	ss.ss_size = SIGSTKSZ;
	if ((ss.ss_sp = malloc(ss.ss_size)) == NULL)
		return 10;
	if (sigaltstack(&ss, NULL) != 0)
		return 11;
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	free(ss.ss_sp);
	if (prctl(PR_SET_NAME, "probe", 0, 0, 0) != 0 || prctl(PR_GET_NAME, name, 0, 0, 0) != 0 ||
	    strcmp(name, "probe") != 0)
		return 12;
	if (sched_yield() != 0)
		return 13;
	if (readlink("/proc/self/exe", name, sizeof(name)) <= 0)
		return 14;
	return 0;
}

static volatile sig_atomic_t got_usr1;

static void
on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static void *
thread_wait(void *arg)
{
	return arg;
}

static int
p_signal_self(void)
{
	struct sigaction sa;
	struct rlimit rl;
	pthread_t t;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	if (sigaction(SIGUSR1, &sa, NULL) != 0)
		return 10;
	/* raise: tgkill on our own pid and thread. */
	if (raise(SIGUSR1) != 0 || !got_usr1)
		return 11;
	if (kill(getpid(), 0) != 0 || syscall(SYS_tkill, getpid(), 0) != 0)
		return 12;
	if (pthread_create(&t, NULL, thread_wait, NULL) != 0 ||
	    pthread_kill(t, 0) != 0 || pthread_join(t, NULL) != 0)
		return 13;
	/* getrlimit and setrlimit are prlimit64 on pid 0. */
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || setrlimit(RLIMIT_NOFILE, &rl) != 0 ||
	    prlimit(getpid(), RLIMIT_NOFILE, NULL, &rl) != 0)
		return 14;
	return 0;
}

/* /proc/self/status as the sandbox.sh scenario reads it for the child. */
static int
p_status(void)
{
	char line[128];
	int mode = -1, filters = -1;
	FILE *f;

	if ((f = fopen("/proc/self/status", "re")) == NULL)
		return 10;
	while (fgets(line, sizeof(line), f) != NULL) {
		sscanf(line, "Seccomp: %d", &mode);
		sscanf(line, "Seccomp_filters: %d", &filters);
	}
	fclose(f);
	return mode == 2 && filters >= 1 ? 0 : 11;
}

static void
test_allowed(void **state)
{
	const struct {
		const char *name;
		probe_fn fn;
	} cases[] = {
		{ "threads", p_threads },
		{ "tcp loopback", p_tcp_loopback },
		{ "other sockets", p_other_sockets },
		{ "eventfd, timerfd, epoll", p_event_fds },
		{ "memory and getrandom", p_memory },
		{ "files and getaddrinfo", p_files_and_dns },
		{ "sigaltstack, prctl, sched_yield, readlink", p_misc },
		{ "signals and limits for ourselves", p_signal_self },
		{ "Seccomp: 2 in /proc/self/status", p_status },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = run_probe(cases[i].fn, 1);

		if (got != 0)
			print_error("%s sandboxed: %d, expected 0\n", cases[i].name, got);
		assert_int_equal(got, 0);
	}
}

/* --- a thread started before the filter gets it too (TSYNC) --- */

struct tsync {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int applied;
	int result;
};

static void *
tsync_thread(void *arg)
{
	struct tsync *t = arg;

	pthread_mutex_lock(&t->mu);
	while (!t->applied)
		pthread_cond_wait(&t->cv, &t->mu);
	pthread_mutex_unlock(&t->mu);
	t->result = result(unshare(0));
	return NULL;
}

static int
p_tsync(void)
{
	static struct tsync t = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, -1 };
	pthread_t th;

	if (pthread_create(&th, NULL, tsync_thread, &t) != 0)
		return 10;
	if (sandbox_child_apply() != 0)
		return NO_SANDBOX;
	pthread_mutex_lock(&t.mu);
	t.applied = 1;
	pthread_cond_signal(&t.cv);
	pthread_mutex_unlock(&t.mu);
	pthread_join(th, NULL);
	return t.result;
}

static void
test_tsync(void **state)
{
	(void)state;
	/* Not sandboxed by run_probe: the probe installs it with a thread running. */
	assert_int_equal(run_probe(p_tsync, 0), EPERM);
}

static void
test_strerror(void **state)
{
	(void)state;
	assert_string_equal(sandbox_strerror(0), "no error");
	assert_string_equal(sandbox_strerror(SANDBOX_E_NNP), "cannot set NO_NEW_PRIVS");
	assert_string_equal(sandbox_strerror(SANDBOX_E_DUMPABLE), "cannot clear the dumpable flag");
	assert_string_equal(sandbox_strerror(SANDBOX_E_INSTALL), "seccomp refused the filter");
	assert_string_equal(sandbox_strerror(SANDBOX_E_TSYNC), "a thread could not take the filter");
	assert_string_equal(sandbox_strerror(SANDBOX_E_PROG), "the filter does not fit its buffer");
	assert_string_equal(sandbox_strerror(-99), "unknown sandbox error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_denied),
		cmocka_unit_test(test_killed),
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_tsync),
		cmocka_unit_test(test_strerror),
	};
	int rc;

#if !defined(__x86_64__) && !defined(__aarch64__)
	/* No filter on this architecture (the child warns): nothing to test. */
	return 77;
#endif
	log_init("test-sandbox", 1, LOG_LEVEL_WARN);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-sandbox.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(tmpdir);
	return rc;
}
