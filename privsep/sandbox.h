/* The child's syscall sandbox: a seccomp deny-list the child installs on itself
 * (all threads) once it has its configuration and before it parses the network. */
#ifndef PRIVSEP_SANDBOX_H
#define PRIVSEP_SANDBOX_H

#define SANDBOX_E_NNP		-1	/* PR_SET_NO_NEW_PRIVS failed */
#define SANDBOX_E_DUMPABLE	-2	/* PR_SET_DUMPABLE failed */
#define SANDBOX_E_INSTALL	-3	/* seccomp(2) refused the filter */
#define SANDBOX_E_TSYNC		-4	/* another thread could not take the filter */
#define SANDBOX_E_PROG		-5	/* the filter does not fit its buffer (a bug) */

/* LeakSanitizer stops the world at exit with ptrace from a cloned task and
 * toggles PR_SET_DUMPABLE: sanitizer builds leave both to it. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ALLOWS_PTRACE	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ALLOWS_PTRACE	1
#endif
#endif

/*
 * Makes the process non-dumpable (no /proc/PID/mem or ptrace from other
 * processes of the privsep user), sets NO_NEW_PRIVS and installs the filter
 * on every thread. What it refuses is listed in sandbox-seccomp.c. On an
 * architecture without a filter it warns and returns 0. Logs its failures.
 * Returns 0 or a SANDBOX_E_* code.
 */
int sandbox_child_apply(void);
const char *sandbox_strerror(int err);

#endif
