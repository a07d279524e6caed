/* regress/fd3sock: runs a program with a loopback TCP connection on fd 3 and
 * relays its other end to stdin/stdout, like inetd; used as an ssh ProxyCommand. */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define FD3_CONN	3	/* where the program finds its connection (privsep.h's client fd) */
#define FD3_SCRATCH	10	/* moved here first: accept() may return 3 itself */

static void
die(const char *what)
{
	fprintf(stderr, "fd3sock: %s: %s\n", what, strerror(errno));
	exit(255);
}

/* A connected pair of TCP sockets over 127.0.0.1, so the program sees a real
 * peer address as it would behind a listener or systemd Accept=yes. */
static void
tcp_pair(int *near, int *far)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	int l;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(l, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(l, 1) != 0 ||
	    getsockname(l, (struct sockaddr *)&sin, &slen) != 0)
		die("listen on 127.0.0.1");
	if ((*near = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(*near, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		die("connect");
	if ((*far = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0)
		die("accept");
	close(l);
}

static void
exec_child(int far, char **argv)
{
	int fd, devnull;

	if ((fd = fcntl(far, F_DUPFD, FD3_SCRATCH)) < 0 || dup2(fd, FD3_CONN) != FD3_CONN)
		die("dup2 fd 3");
	/* stdout would corrupt the relay; the program's logs go to stderr. */
	if ((devnull = open("/dev/null", O_RDONLY)) < 0 || dup2(devnull, STDIN_FILENO) < 0 ||
	    dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
		die("stdio");
	for (fd = FD3_CONN + 1; fd < 1024; fd++)
		close(fd);
	execvp(argv[0], argv);
	die(argv[0]);
}

static int
copy_once(int from, int to)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof(buf)), off = 0;

	if (n <= 0)
		return n < 0 && errno == EINTR ? 1 : 0;
	while (off < n) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return 0;
		off += w;
	}
	return 1;
}

int
main(int argc, char **argv)
{
	struct pollfd pfd[2];
	int near, far, status;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: fd3sock PROGRAM [ARG ...]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	tcp_pair(&near, &far);
	if ((pid = fork()) < 0)
		die("fork");
	if (pid == 0)
		exec_child(far, argv + 1);
	close(far);

	pfd[0].fd = STDIN_FILENO;
	pfd[1].fd = near;
	pfd[0].events = pfd[1].events = POLLIN;
	while (pfd[1].fd >= 0) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR) &&
		    !copy_once(STDIN_FILENO, near)) {
			/* The client is done sending; the program still may answer. */
			shutdown(near, SHUT_WR);
			pfd[0].fd = -1;
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR) &&
		    !copy_once(near, STDOUT_FILENO))
			pfd[1].fd = -1;
	}
	close(near);
	close(STDOUT_FILENO);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
