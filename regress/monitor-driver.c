/* Drives the real monitor_run() against a fake child: this same program re-exec'd
 * with "child CASE", talking the monitor protocol on fd 4 and reporting on fd 3. */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon/config.h"
#include "daemon/log.h"
#include "privsep/hostkey.h"
#include "privsep/monitor-msg.h"
#include "privsep/monitor-wrap.h"
#include "privsep/monitor.h"
#include "privsep/privsep.h"
#include "regress/sshsig-verify.h"

#define REPORT_FD	PRIVSEP_CLIENT_FD
#define MON_FD		PRIVSEP_MONITOR_FD
#define CONFIG_TEXT	"server:\n  port: 2222\n"
#define KEYS		3	/* ed25519, ecdsa (P-256), rsa */

static const char *const key_names[KEYS] = { "ed25519", "ecdsa", "rsa" };

/* ---- the fake child ---- */

static void
report(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (write(REPORT_FD, buf, (size_t)n) != n)
		_exit(100);
}

/* Signs a random datum of dlen bytes with key idx and alg, verifies it. */
static int
sign_verify(size_t idx, const char *alg, size_t dlen)
{
	uint8_t data[64], *pub, *sig;
	size_t publen, siglen;
	int r;

	randombytes_buf(data, sizeof(data));
	if ((r = mm_hostkeys_pubblob(MON_FD, idx, &pub, &publen)) != 0)
		return r;
	if ((r = mm_hostkeys_sign(MON_FD, idx, alg, data, dlen, &sig, &siglen)) == 0) {
		r = sshsig_verify(pub, publen, alg, sig, siglen, data, dlen) == 0 ? 0 : -100;
		free(sig);
	}
	free(pub);
	return r;
}

/* Sends a raw packet, then waits for an answer that must never come. */
static int
send_raw_and_wait(const void *pkt, size_t len)
{
	uint8_t buf[64];

	report("sent\n");
	if (send(MON_FD, pkt, len, 0) != (ssize_t)len)
		return 1;
	if (recv(MON_FD, buf, sizeof(buf), 0) >= 0)
		report("answered\n");
	return 0;
}

/* Which fds are open from PRIVSEP_FIRST_FREE_FD up ("none" if none). */
static void
high_fds(char *out, size_t len)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	size_t off = 0;

	out[0] = '\0';
	if (d == NULL) {
		snprintf(out, len, "unknown");
		return;
	}
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] == '.' || fd < PRIVSEP_FIRST_FREE_FD || fd == dirfd(d))
			continue;
		off += (size_t)snprintf(out + off, len - off, "%s%d", off ? "," : "", fd);
		if (off >= len)
			break;
	}
	closedir(d);
	if (out[0] == '\0')
		snprintf(out, len, "none");
}

static const char *
errname(int e)
{
	return e == EACCES ? "EACCES" : e == EPERM ? "EPERM" : e == 0 ? "opened" : "other";
}

/* The fd layout and the privileges the child runs with. */
static void
report_process(const char *keydir, const char *inode, bool ids)
{
	char path[512], fds[256];
	struct stat st;
	int type = 0, fd, e;
	socklen_t tl = sizeof(type);
	size_t n = 0;

	if (ids) {
		snprintf(path, sizeof(path), "%s/ed25519", keydir);
		fd = open(path, O_RDONLY);
		e = fd < 0 ? errno : 0;
		if (fd >= 0)
			close(fd);
		report("uid=%lu euid=%lu gid=%lu groups=%d nnp=%d key=%s ", (unsigned long)getuid(),
		    (unsigned long)geteuid(), (unsigned long)getgid(), getgroups(0, NULL),
		    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), errname(e));
		snprintf(path, sizeof(path), "/proc/%ld/mem", (long)getppid());
		fd = open(path, O_RDONLY);
		e = fd < 0 ? errno : 0;
		if (fd >= 0)
			close(fd);
		report("monitor-mem=%s ", errname(e));
	}
	report("fd3=%s ", fstat(REPORT_FD, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    (unsigned long)st.st_ino == strtoul(inode, NULL, 10) ? "conn" : "wrong");
	report("fd4=%s ", getsockopt(MON_FD, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 &&
	    type == SOCK_SEQPACKET ? "seqpacket" : "wrong");
	report("keys=%zu ", mm_hostkeys_count(MON_FD, &n) == 0 ? n : (size_t)99);
	high_fds(fds, sizeof(fds));
	report("high-fds=%s\n", fds);
}

static int
fake_child(const char *c, const char *keydir, const char *inode)
{
	uint8_t data[64] = { 0 }, *pub, *sig;
	size_t n, publen, siglen;
	char *text;
	int r;

	log_init("fake-child", 1, LOG_LEVEL_INFO);
	if (sodium_init() < 0)
		return 101;
	if (strcmp(c, "sign") == 0) {
		int ok = 0;

		if (mm_hostkeys_count(MON_FD, &n) != 0 || n != KEYS)
			return 102;
		ok += sign_verify(0, "ssh-ed25519", 32) == 0;
		ok += sign_verify(0, "ssh-ed25519", 64) == 0;
		ok += sign_verify(1, "ecdsa-sha2-nistp256", 32) == 0;
		ok += sign_verify(2, "rsa-sha2-256", 20) == 0;
		ok += sign_verify(2, "rsa-sha2-512", 48) == 0;
		report("verified %d\n", ok);
		return 0;
	}
	if (strcmp(c, "short") == 0) {
		report("sent\n");
		r = mm_hostkeys_sign(MON_FD, 0, "ssh-ed25519", data, 31, &sig, &siglen);
		report("answered %d\n", r);
		return 0;
	}
	if (strcmp(c, "wrongalg") == 0 || strcmp(c, "sshrsa") == 0) {
		report("sent\n");
		if (c[0] == 'w')
			r = mm_hostkeys_sign(MON_FD, 0, "ecdsa-sha2-nistp256", data, 32, &sig, &siglen);
		else
			r = mm_hostkeys_sign(MON_FD, 2, "ssh-rsa", data, 32, &sig, &siglen);
		report("answered %d\n", r);
		return 0;
	}
	if (strcmp(c, "budget") == 0) {
		for (int i = 1; i <= 2; i++)
			report("sig %d %s\n", i, sign_verify(0, "ssh-ed25519", 32) == 0 ? "ok" : "bad");
		report("sent\n");
		r = mm_hostkeys_sign(MON_FD, 0, "ssh-ed25519", data, 32, &sig, &siglen);
		report("answered %d\n", r);
		return 0;
	}
	if (strcmp(c, "malformed") == 0) {
		const uint8_t pkt[] = { MONITOR_REQ_SIGN, 0, 0, 0 };	/* idx cut short */
		return send_raw_and_wait(pkt, sizeof(pkt));
	}
	if (strcmp(c, "unexpected") == 0) {
		const uint8_t pkt[] = { MONITOR_ANS_AUTHENTICATED };
		return send_raw_and_wait(pkt, sizeof(pkt));
	}
	if (strcmp(c, "empty") == 0)
		return send_raw_and_wait("", 0);
	if (strcmp(c, "badidx") == 0) {
		report("sent\n");
		r = mm_hostkeys_pubblob(MON_FD, KEYS, &pub, &publen);
		report("answered %d\n", r);
		return 0;
	}
	if (strcmp(c, "grace") == 0 || strcmp(c, "sigterm") == 0) {
		/* Report first: the SIGTERM comes back to us at once. */
		report("waiting\n");
		if (c[0] == 's')
			kill(getppid(), SIGTERM);
		sleep(30);
		report("woke\n");
		return 0;
	}
	if (strcmp(c, "auth") == 0) {
		/* Past the 2 s grace time: authentication must have stopped it. */
		r = mm_authenticated(MON_FD, "alice");
		sleep(3);
		report("authenticated %d\n", r);
		return 0;
	}
	if (strcmp(c, "auth-twice") == 0) {
		report("first %d\n", mm_authenticated(MON_FD, "alice"));
		report("sent\n");
		r = mm_authenticated(MON_FD, "alice");
		report("answered %d\n", r);
		return 0;
	}
	if (strcmp(c, "keyallowed") == 0) {
		uint8_t *ed, *ec;
		size_t edlen, eclen;

		if (mm_hostkeys_pubblob(MON_FD, 0, &ed, &edlen) != 0 ||
		    mm_hostkeys_pubblob(MON_FD, 1, &ec, &eclen) != 0)
			return 103;
		report("alice=%d alice-ecdsa=%d bob=%d carol=%d\n",
		    mm_user_key_allowed(MON_FD, "alice", ed, edlen),
		    mm_user_key_allowed(MON_FD, "alice", ec, eclen),
		    mm_user_key_allowed(MON_FD, "bob", ed, edlen),
		    mm_user_key_allowed(MON_FD, "carol", ed, edlen));
		free(ed);
		free(ec);
		return 0;
	}
	if (strcmp(c, "config") == 0) {
		if ((r = mm_config(MON_FD, &text, &n)) != 0)
			return 104;
		report("config %s\n", n == strlen(CONFIG_TEXT) && strcmp(text, CONFIG_TEXT) == 0 ?
		    "ok" : "wrong");
		free(text);
		return 0;
	}
	if (strcmp(c, "exit42") == 0)
		return 42;
	if (strcmp(c, "signalled") == 0) {
		raise(SIGUSR1);
		return 0;
	}
	if (strcmp(c, "fds") == 0) {
		report_process(keydir, inode, false);
		return 0;
	}
	if (strcmp(c, "privdrop") == 0) {
		report_process(keydir, inode, true);
		return 0;
	}
	return 105;
}

/* ---- the monitor side ---- */

struct expect {
	const char *name;
	int rc;
	const char *report;	/* NULL: computed (privdrop, fds) */
	const char *status;	/* bytes the listener gets on status_fd */
	double min_s, max_s;	/* elapsed time bounds */
};

static const struct expect cases[] = {
	{ "sign", EXIT_CHILD_OK, "verified 5\n", "", 0, 20 },
	{ "short", EXIT_CHILD_VIOLATION, "sent\n", "", 0, 20 },
	{ "wrongalg", EXIT_CHILD_VIOLATION, "sent\n", "", 0, 20 },
	{ "sshrsa", EXIT_CHILD_VIOLATION, "sent\n", "", 0, 20 },
	{ "budget", EXIT_CHILD_VIOLATION, "sig 1 ok\nsig 2 ok\nsent\n", "", 0, 20 },
	{ "malformed", EXIT_CHILD_VIOLATION, "sent\n", "", 0, 20 },
	{ "unexpected", EXIT_CHILD_VIOLATION, "sent\n", "", 0, 20 },
	{ "empty", EXIT_CHILD_VIOLATION, "sent\n", "", 0, 20 },
	{ "badidx", EXIT_CHILD_VIOLATION, "sent\n", "", 0, 20 },
	{ "grace", EXIT_CHILD_GRACE, "waiting\n", "", 0.9, 10 },
	{ "auth", EXIT_CHILD_OK, "authenticated 0\n", "1", 2.9, 20 },
	{ "auth-twice", EXIT_CHILD_VIOLATION, "first 0\nsent\n", "1", 0, 20 },
	{ "keyallowed", EXIT_CHILD_OK, "alice=1 alice-ecdsa=0 bob=0 carol=-10\n", "", 0, 20 },
	{ "config", EXIT_CHILD_OK, "config ok\n", "", 0, 20 },
	{ "exit42", 42, "", "", 0, 20 },
	{ "signalled", EXIT_CHILD_SIGNALLED, "", "", 0, 20 },
	{ "execfail", 127, "", "", 0, 20 },
	{ "sigterm", EXIT_CHILD_OK, "waiting\n", "", 0, 10 },
	{ "fds", EXIT_CHILD_OK, NULL, "", 0, 20 },
	{ "privdrop", EXIT_CHILD_OK, NULL, "", 0, 20 },
};

static size_t
drain(int fd, char *buf, size_t cap)
{
	size_t off = 0;
	ssize_t n;

	while (off < cap - 1 && (n = read(fd, buf + off, cap - 1 - off)) > 0)
		off += (size_t)n;
	buf[off] = '\0';
	return off;
}

static int
run_case(const char *name, const char *keydir)
{
	const struct expect *x = NULL;
	char paths[KEYS][512], exe[512], inode[32], want[512], got[1024], status[16], err[512];
	char alice_keys[512], carol_keys[512];
	const char *pp[KEYS];
	struct config_static_user users[2];
	struct config cfg;
	struct monitor_params p;
	struct hostkeys *hk;
	struct passwd *pw = NULL;
	struct timespec t0, t1;
	struct stat st;
	char *argv[6];
	int conn[2], sp[2], stray, rc, failed = 0;
	double elapsed;
	ssize_t n;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strcmp(cases[i].name, name) == 0)
			x = &cases[i];
	if (x == NULL) {
		fprintf(stderr, "monitor-driver: unknown case %s\n", name);
		return 2;
	}
	if (strcmp(name, "privdrop") == 0 && (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL)) {
		printf("%s: skipped (needs root and user nobody)\n", name);
		return 77;
	}
	for (int i = 0; i < KEYS; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/%s", keydir, key_names[i]);
		pp[i] = paths[i];
	}
	if (hostkeys_load(&hk, pp, KEYS, err, sizeof(err)) != 0) {
		fprintf(stderr, "monitor-driver: %s\n", err);
		return 2;
	}
	snprintf(alice_keys, sizeof(alice_keys), "%s/alice.keys", keydir);
	snprintf(carol_keys, sizeof(carol_keys), "%s/no-such-file", keydir);
	users[0] = (struct config_static_user){ "alice", alice_keys };
	users[1] = (struct config_static_user){ "carol", carol_keys };
	memset(&cfg, 0, sizeof(cfg));
	cfg.identity_static.users = users;
	cfg.identity_static.users_count = 2;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, conn) != 0 ||
	    pipe2(sp, O_CLOEXEC) != 0 || fstat(conn[0], &st) != 0)
		return 2;
	exe[n] = '\0';
	/* Without O_CLOEXEC: only closefrom() keeps it from the child. */
	stray = open("/dev/null", O_RDONLY);
	snprintf(inode, sizeof(inode), "%lu", (unsigned long)st.st_ino);
	argv[0] = exe;
	argv[1] = (char *)"child";
	argv[2] = (char *)name;
	argv[3] = (char *)keydir;
	argv[4] = inode;
	argv[5] = NULL;

	memset(&p, 0, sizeof(p));
	p.exe = strcmp(name, "execfail") == 0 ? "/nonexistent/ssh-proxy" : exe;
	p.child_argv = argv;
	p.keys = hk;
	p.cfg = &cfg;
	p.config_text = CONFIG_TEXT;
	p.config_len = strlen(CONFIG_TEXT);
	p.login_grace = strcmp(name, "grace") == 0 ? 1 : strcmp(name, "auth") == 0 ? 2 : 20;
	p.max_signatures = strcmp(name, "budget") == 0 ? 2 : 64;
	p.status_fd = sp[1];
	if (pw != NULL) {
		p.drop = true;
		p.uid = pw->pw_uid;
		p.gid = pw->pw_gid;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = monitor_run(conn[0], &p);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	elapsed = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	drain(conn[1], got, sizeof(got));
	drain(sp[0], status, sizeof(status));
	close(conn[1]);
	close(sp[0]);
	close(stray);
	hostkeys_free(hk);

	if (x->report != NULL)
		snprintf(want, sizeof(want), "%s", x->report);
	else if (pw != NULL)
		snprintf(want, sizeof(want), "uid=%lu euid=%lu gid=%lu groups=0 nnp=1 key=EACCES "
		    "monitor-mem=EACCES fd3=conn fd4=seqpacket keys=3 high-fds=none\n",
		    (unsigned long)pw->pw_uid, (unsigned long)pw->pw_uid, (unsigned long)pw->pw_gid);
	else
		snprintf(want, sizeof(want), "fd3=conn fd4=seqpacket keys=3 high-fds=none\n");

	if (rc != x->rc) {
		printf("%s: monitor_run returned %d, expected %d\n", name, rc, x->rc);
		failed = 1;
	}
	if (strcmp(got, want) != 0) {
		printf("%s: child reported \"%s\", expected \"%s\"\n", name, got, want);
		failed = 1;
	}
	if (strcmp(status, x->status) != 0) {
		printf("%s: status fd got \"%s\", expected \"%s\"\n", name, status, x->status);
		failed = 1;
	}
	if (elapsed < x->min_s || elapsed > x->max_s) {
		printf("%s: took %.2f s, expected %.1f..%.1f s\n", name, elapsed, x->min_s, x->max_s);
		failed = 1;
	}
	printf("%s: %s (exit code %d, %.2f s)\n", name, failed ? "FAIL" : "ok", rc, elapsed);
	return failed;
}

int
main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "child") == 0)
		return fake_child(argv[2], argv[3], argv[4]);
	if (argc == 4 && strcmp(argv[1], "run") == 0) {
		log_init("monitor", 1, getenv("MONITOR_DRIVER_DEBUG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
		return run_case(argv[2], argv[3]);
	}
	fprintf(stderr, "usage: monitor-driver run CASE KEYDIR\n");
	return 2;
}
