/* The child's seccomp-BPF sandbox: a deny-list of what a compromised child must
 * never do (exec, ptrace, namespaces, mounts, modules, id changes, netlink, ...). */
#include "autoconf.h"

#include <endian.h>
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "daemon/log.h"
#include "privsep/sandbox.h"

/*
 * A deny-list, not an allow-list: the child runs libssh, gRPC core, nats.c,
 * OpenSSL, libsodium, glibc's resolver and, in CI, ASan/UBSan; an allow-list
 * one syscall short would kill sessions in production. Every refused call is
 * one that no library in the child makes (the child never execs, never forks
 * a helper, never changes ids): EPERM where a probing library should see a
 * plain refusal, SIGSYS for the process where only an exploit would ask.
 * Other children run as the same user: signals, pidfds and resource limits
 * may name only this process (tkill: its main thread).
 */

#if defined(__x86_64__) && !defined(__ILP32__)
#define SANDBOX_ARCH		AUDIT_ARCH_X86_64
#define SANDBOX_ARCH_NAME	"x86_64"
#elif defined(__aarch64__)
#define SANDBOX_ARCH		AUDIT_ARCH_AARCH64
#define SANDBOX_ARCH_NAME	"aarch64"
#endif

#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS	0x80000000U
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC
#define SECCOMP_FILTER_FLAG_TSYNC	1
#endif

#define RET_DENY	(SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))
#define RET_ENOSYS	(SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA))
#define RET_KILL	SECCOMP_RET_KILL_PROCESS

/* Namespaces a clone(2) could create: threads never ask for one. */
#define CLONE_NEW_ANY	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | \
	CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

#if __BYTE_ORDER == __LITTLE_ENDIAN
#define ARG_LO(n)	(offsetof(struct seccomp_data, args[(n)]))
#else
#define ARG_LO(n)	(offsetof(struct seccomp_data, args[(n)]) + sizeof(uint32_t))
#endif

#ifdef SANDBOX_ARCH

struct sandbox_rule {
	int nr;
	uint32_t action;
};

static const struct sandbox_rule sandbox_rules[] = {
	/* Running anything else: the child only ever serves its connection. */
	{ __NR_execve, RET_DENY },
	{ __NR_execveat, RET_DENY },
	/* glibc's pthread_create falls back to clone(2), which is checked below,
	 * when clone3 is "not implemented"; its struct cannot be inspected here. */
#ifdef __NR_clone3
	{ __NR_clone3, RET_ENOSYS },
#endif
	/* Other processes' memory and files (siblings run as the same user). */
#ifndef SANDBOX_ALLOWS_PTRACE
	{ __NR_ptrace, RET_DENY },
#endif
	{ __NR_process_vm_readv, RET_DENY },
	{ __NR_process_vm_writev, RET_DENY },
	{ __NR_kcmp, RET_DENY },
#ifdef __NR_pidfd_getfd
	{ __NR_pidfd_getfd, RET_DENY },
#endif
#ifdef __NR_process_madvise
	{ __NR_process_madvise, RET_DENY },
#endif
	/* Namespaces and the file system tree. */
	{ __NR_unshare, RET_DENY },
	{ __NR_setns, RET_DENY },
	{ __NR_mount, RET_DENY },
	{ __NR_umount2, RET_DENY },
	{ __NR_pivot_root, RET_DENY },
	{ __NR_chroot, RET_DENY },
#ifdef __NR_open_tree
	{ __NR_open_tree, RET_DENY },
	{ __NR_move_mount, RET_DENY },
	{ __NR_fsopen, RET_DENY },
	{ __NR_fsconfig, RET_DENY },
	{ __NR_fsmount, RET_DENY },
	{ __NR_fspick, RET_DENY },
#endif
#ifdef __NR_mount_setattr
	{ __NR_mount_setattr, RET_DENY },
#endif
	{ __NR_name_to_handle_at, RET_DENY },
	{ __NR_open_by_handle_at, RET_DENY },
	/* Identity: the child keeps the privsep user's ids for good. */
	{ __NR_setuid, RET_DENY },
	{ __NR_setgid, RET_DENY },
	{ __NR_setreuid, RET_DENY },
	{ __NR_setregid, RET_DENY },
	{ __NR_setresuid, RET_DENY },
	{ __NR_setresgid, RET_DENY },
	{ __NR_setgroups, RET_DENY },
	{ __NR_setfsuid, RET_DENY },
	{ __NR_setfsgid, RET_DENY },
	/* Kernel attack surface that nothing in the child uses. */
	{ __NR_bpf, RET_DENY },
	{ __NR_perf_event_open, RET_DENY },
	{ __NR_userfaultfd, RET_DENY },
	{ __NR_keyctl, RET_DENY },
	{ __NR_add_key, RET_DENY },
	{ __NR_request_key, RET_DENY },
#ifdef __NR_io_uring_setup
	{ __NR_io_uring_setup, RET_DENY },
	{ __NR_io_uring_enter, RET_DENY },
	{ __NR_io_uring_register, RET_DENY },
#endif
	{ __NR_personality, RET_DENY },
	/* Files: devices and ownership. */
#ifdef __NR_mknod
	{ __NR_mknod, RET_DENY },
#endif
	{ __NR_mknodat, RET_DENY },
#ifdef __NR_chown
	{ __NR_chown, RET_DENY },
#endif
#ifdef __NR_lchown
	{ __NR_lchown, RET_DENY },
#endif
	{ __NR_fchown, RET_DENY },
	{ __NR_fchownat, RET_DENY },
	/* The machine: clock, console, quotas, kernel log. */
	{ __NR_settimeofday, RET_DENY },
	{ __NR_clock_settime, RET_DENY },
	{ __NR_adjtimex, RET_DENY },
	{ __NR_clock_adjtime, RET_DENY },
	{ __NR_quotactl, RET_DENY },
#ifdef __NR_quotactl_fd
	{ __NR_quotactl_fd, RET_DENY },
#endif
	{ __NR_syslog, RET_DENY },
	{ __NR_vhangup, RET_DENY },
	/* Never legitimate for any user-space library: end the process. */
	{ __NR_kexec_load, RET_KILL },
#ifdef __NR_kexec_file_load
	{ __NR_kexec_file_load, RET_KILL },
#endif
	{ __NR_init_module, RET_KILL },
	{ __NR_finit_module, RET_KILL },
	{ __NR_delete_module, RET_KILL },
	{ __NR_reboot, RET_KILL },
	{ __NR_swapon, RET_KILL },
	{ __NR_swapoff, RET_KILL },
	{ __NR_acct, RET_KILL },
#ifdef __NR_iopl
	{ __NR_iopl, RET_KILL },
#endif
#ifdef __NR_ioperm
	{ __NR_ioperm, RET_KILL },
#endif
#ifdef __NR_uselib
	{ __NR_uselib, RET_KILL },
#endif
};

/* The header, 10 argument-checked calls and 2 instructions per rule. */
#define SANDBOX_PROG_MAX	(80 + 2 * (sizeof(sandbox_rules) / sizeof(sandbox_rules[0])))

struct sandbox_prog {
	struct sock_filter insn[SANDBOX_PROG_MAX];
	size_t len;
	bool overflow;
};

static void
emit(struct sandbox_prog *p, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
	if (p->len >= SANDBOX_PROG_MAX) {
		p->overflow = true;
		return;
	}
	p->insn[p->len++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
}

static void
emit_ret(struct sandbox_prog *p, uint32_t action)
{
	emit(p, BPF_RET | BPF_K, action, 0, 0);
}

/* "nr" whose first argument (as a 32-bit int) is one of vals returns
 * on_match, any other value on_other. Expects the syscall number in A and
 * leaves it there when nr does not match. */
static void
emit_arg0_in(struct sandbox_prog *p, int nr, const uint32_t *vals, uint8_t n,
    uint32_t on_match, uint32_t on_other)
{
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, (uint8_t)(n + 3));
	emit(p, BPF_LD | BPF_W | BPF_ABS, ARG_LO(0), 0, 0);
	for (uint8_t i = 0; i < n; i++)
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, vals[i], (uint8_t)(n - i), 0);
	emit_ret(p, on_other);
	emit_ret(p, on_match);
}

/* "nr" with any of mask's bits in its first argument: deny. */
static void
emit_arg0_bits(struct sandbox_prog *p, int nr, uint32_t mask)
{
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 4);
	emit(p, BPF_LD | BPF_W | BPF_ABS, ARG_LO(0), 0, 0);
	emit(p, BPF_JMP | BPF_JSET | BPF_K, mask, 0, 1);
	emit_ret(p, RET_DENY);
	emit_ret(p, SECCOMP_RET_ALLOW);
}

static int
sandbox_build(struct sandbox_prog *p)
{
	static const uint32_t bad_domains[] = { AF_NETLINK, AF_PACKET };
	static const int self_only[] = { __NR_kill, __NR_tgkill, __NR_tkill,
	    __NR_rt_sigqueueinfo, __NR_rt_tgsigqueueinfo,
#ifdef __NR_pidfd_open
	    __NR_pidfd_open,
#endif
	};
#ifndef SANDBOX_ALLOWS_PTRACE
	static const uint32_t bad_prctl[] = { PR_SET_DUMPABLE };
#endif
	/* Installed per process: the filter knows whose pid is "self". */
	const uint32_t self[] = { 0, (uint32_t)getpid() };

	memset(p, 0, sizeof(*p));
	/* Another ABI (int 0x80 on x86_64) would index another syscall table. */
	emit(p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch), 0, 0);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, SANDBOX_ARCH, 1, 0);
	emit_ret(p, RET_KILL);
	emit(p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr), 0, 0);
#if defined(__x86_64__)
	/* x32 calls share the arch value; their numbers carry this bit. */
	emit(p, BPF_JMP | BPF_JGE | BPF_K, 0x40000000U, 0, 1);
	emit_ret(p, RET_KILL);
#endif
	/* Netlink would reconfigure nothing unprivileged, but it is a large
	 * kernel surface and nothing here needs it (glibc's getaddrinfo copes
	 * without it); packet sockets are never ours. */
	emit_arg0_in(p, __NR_socket, bad_domains, 2, RET_DENY, SECCOMP_RET_ALLOW);
	emit_arg0_bits(p, __NR_clone, CLONE_NEW_ANY);
	/* Sibling children run as the same user: signal only ourselves (raise,
	 * pthread_kill and abort name our own pid), no process groups, no -1. */
	for (size_t i = 0; i < sizeof(self_only) / sizeof(self_only[0]); i++)
		emit_arg0_in(p, self_only[i], self + 1, 1, SECCOMP_RET_ALLOW, RET_DENY);
	/* Resource limits: our own (pid 0 is how glibc asks), never a sibling's. */
	emit_arg0_in(p, __NR_prlimit64, self, 2, SECCOMP_RET_ALLOW, RET_DENY);
#ifndef SANDBOX_ALLOWS_PTRACE
	/* Non-dumpable must stay so. */
	emit_arg0_in(p, __NR_prctl, bad_prctl, 1, RET_DENY, SECCOMP_RET_ALLOW);
#endif
	for (size_t i = 0; i < sizeof(sandbox_rules) / sizeof(sandbox_rules[0]); i++) {
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)sandbox_rules[i].nr, 0, 1);
		emit_ret(p, sandbox_rules[i].action);
	}
	emit_ret(p, SECCOMP_RET_ALLOW);
	return p->overflow ? SANDBOX_E_PROG : 0;
}

static int
sandbox_install(void)
{
	struct sandbox_prog p;
	struct sock_fprog fprog;
	long rc;

	if (sandbox_build(&p) != 0) {
		log_error("seccomp filter larger than %zu instructions", (size_t)SANDBOX_PROG_MAX);
		return SANDBOX_E_PROG;
	}
	fprog.len = (unsigned short)p.len;
	fprog.filter = p.insn;
	log_debug("installing the seccomp filter (%s, %zu instructions, %zu denied calls%s)",
	    SANDBOX_ARCH_NAME, p.len, sizeof(sandbox_rules) / sizeof(sandbox_rules[0]),
#ifdef SANDBOX_ALLOWS_PTRACE
	    "; ptrace left to the sanitizer"
#else
	    ""
#endif
	    );
	rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fprog);
	if (rc < 0) {
		log_error("seccomp(SECCOMP_SET_MODE_FILTER): %s", strerror(errno));
		return SANDBOX_E_INSTALL;
	}
	if (rc > 0) {
		log_error("seccomp: thread %ld cannot take the filter", rc);
		return SANDBOX_E_TSYNC;
	}
	return 0;
}

#endif /* SANDBOX_ARCH */

int
sandbox_child_apply(void)
{
	/* Idempotent: the privilege drop set it already, a child started by
	 * hand unprivileged did not, and seccomp requires it. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		log_error("prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
		return SANDBOX_E_NNP;
	}
	/* Siblings run as the same user: keep them out of /proc/PID/mem. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		log_error("prctl(PR_SET_DUMPABLE): %s", strerror(errno));
		return SANDBOX_E_DUMPABLE;
	}
#ifdef SANDBOX_ARCH
	return sandbox_install();
#else
	log_warn("no seccomp filter for this architecture: the child runs without a syscall sandbox");
	return 0;
#endif
}

const char *
sandbox_strerror(int err)
{
	switch (err) {
	case 0:
		return "no error";
	case SANDBOX_E_NNP:
		return "cannot set NO_NEW_PRIVS";
	case SANDBOX_E_DUMPABLE:
		return "cannot clear the dumpable flag";
	case SANDBOX_E_INSTALL:
		return "seccomp refused the filter";
	case SANDBOX_E_TSYNC:
		return "a thread could not take the filter";
	case SANDBOX_E_PROG:
		return "the filter does not fit its buffer";
	default:
		return "unknown sandbox error";
	}
}
