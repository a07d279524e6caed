/* ws-sigclient: an SSH client (libssh) that runs one exec, sends it a `signal`
 * request once its output shows a marker, and prints how the command ended. */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#define SIGCLIENT_POLL_MS	100

struct sigclient {
	const char *port, *user, *key, *hostpub, *wait, *signame;
	int timeout;
	char seen[4096];		/* stdout so far, to find the marker */
	size_t nseen;
	int signalled;
	int exit_status;		/* -1 until exit-status arrives */
	char exit_signal[64];		/* "" until exit-signal arrives */
};

static void
usage(void)
{
	fprintf(stderr, "usage: ws-sigclient -p PORT -l USER -i KEY -K HOSTKEY.pub [-w MARKER]\n"
	    "                    [-s SIGNAL] [-t SECONDS] COMMAND\n"
	    "Runs COMMAND; once MARKER appears on its stdout (at once without -w) sends\n"
	    "the signal request SIGNAL (default TERM); prints the output, then\n"
	    "\"exit-status N\" or \"exit-signal NAME\". Exit 0, or 2 on an SSH error.\n");
	exit(2);
}

static void
sigclient_status(ssh_session s, ssh_channel ch, int status, void *userdata)
{
	struct sigclient *sc = userdata;

	(void)s;
	(void)ch;
	sc->exit_status = status;
}

static void
sigclient_signal(ssh_session s, ssh_channel ch, const char *signal, int core,
    const char *errmsg, const char *lang, void *userdata)
{
	struct sigclient *sc = userdata;

	(void)s;
	(void)ch;
	(void)core;
	(void)errmsg;
	(void)lang;
	snprintf(sc->exit_signal, sizeof(sc->exit_signal), "%s", signal != NULL ? signal : "?");
}

/* Only the server's key in HOSTPUB is accepted. */
static int
sigclient_hostkey(ssh_session s, const char *hostpub)
{
	ssh_key srv = NULL, want = NULL;
	int r = -1;

	if (ssh_get_server_publickey(s, &srv) != SSH_OK)
		fprintf(stderr, "ws-sigclient: no server host key\n");
	else if (ssh_pki_import_pubkey_file(hostpub, &want) != SSH_OK)
		fprintf(stderr, "ws-sigclient: cannot read %s\n", hostpub);
	else if (ssh_key_cmp(srv, want, SSH_KEY_CMP_PUBLIC) != 0)
		fprintf(stderr, "ws-sigclient: host key does not match %s\n", hostpub);
	else
		r = 0;
	ssh_key_free(srv);
	ssh_key_free(want);
	return r;
}

static int
sigclient_login(ssh_session s, const struct sigclient *sc)
{
	ssh_key key = NULL;
	int r;

	if (ssh_connect(s) != SSH_OK) {
		fprintf(stderr, "ws-sigclient: connect: %s\n", ssh_get_error(s));
		return -1;
	}
	if (sigclient_hostkey(s, sc->hostpub) != 0)
		return -1;
	if (ssh_pki_import_privkey_file(sc->key, NULL, NULL, NULL, &key) != SSH_OK) {
		fprintf(stderr, "ws-sigclient: cannot read key %s\n", sc->key);
		return -1;
	}
	r = ssh_userauth_publickey(s, NULL, key);
	ssh_key_free(key);
	if (r != SSH_AUTH_SUCCESS) {
		fprintf(stderr, "ws-sigclient: authentication failed: %s\n", ssh_get_error(s));
		return -1;
	}
	return 0;
}

/* Copies what is readable on one stream; stdout is also searched for the marker. */
static int
sigclient_drain(ssh_channel ch, struct sigclient *sc, int is_stderr)
{
	char buf[16384];
	size_t room;
	int n;

	n = ssh_channel_read_timeout(ch, buf, sizeof(buf), is_stderr, is_stderr ? 0 : SIGCLIENT_POLL_MS);
	if (n == SSH_ERROR)
		return -1;
	if (n <= 0)
		return 0;
	if (fwrite(buf, 1, (size_t)n, is_stderr ? stderr : stdout) != (size_t)n)
		return -1;
	fflush(is_stderr ? stderr : stdout);
	if (!is_stderr) {
		room = sizeof(sc->seen) - 1 - sc->nseen;
		if ((size_t)n > room)
			n = (int)room;
		memcpy(sc->seen + sc->nseen, buf, (size_t)n);
		sc->nseen += (size_t)n;
		sc->seen[sc->nseen] = '\0';
	}
	return 0;
}

static int
sigclient_run(ssh_session s, struct sigclient *sc, const char *command)
{
	struct ssh_channel_callbacks_struct cb;
	ssh_channel ch;
	int r = -1;

	if ((ch = ssh_channel_new(s)) == NULL)
		return -1;
	memset(&cb, 0, sizeof(cb));
	cb.userdata = sc;
	cb.channel_exit_status_function = sigclient_status;
	cb.channel_exit_signal_function = sigclient_signal;
	ssh_callbacks_init(&cb);
	if (ssh_set_channel_callbacks(ch, &cb) != SSH_OK ||
	    ssh_channel_open_session(ch) != SSH_OK ||
	    ssh_channel_request_exec(ch, command) != SSH_OK) {
		fprintf(stderr, "ws-sigclient: exec: %s\n", ssh_get_error(s));
		goto out;
	}
	while (!ssh_channel_is_eof(ch) && !ssh_channel_is_closed(ch)) {
		if (sigclient_drain(ch, sc, 0) != 0 || sigclient_drain(ch, sc, 1) != 0) {
			fprintf(stderr, "ws-sigclient: read: %s\n", ssh_get_error(s));
			goto out;
		}
		if (!sc->signalled && (sc->wait == NULL || strstr(sc->seen, sc->wait) != NULL)) {
			if (ssh_channel_request_send_signal(ch, sc->signame) != SSH_OK) {
				fprintf(stderr, "ws-sigclient: signal: %s\n", ssh_get_error(s));
				goto out;
			}
			sc->signalled = 1;
		}
	}
	/* What arrived with the EOF, then the status (sent before the close). */
	while (sigclient_drain(ch, sc, 0) == 0 && sigclient_drain(ch, sc, 1) == 0 &&
	    ssh_channel_poll(ch, 0) > 0)
		;
	while (sc->exit_status == -1 && sc->exit_signal[0] == '\0' && !ssh_channel_is_closed(ch))
		if (ssh_channel_poll_timeout(ch, SIGCLIENT_POLL_MS, 0) == SSH_ERROR)
			break;
	if (!sc->signalled)
		fprintf(stderr, "ws-sigclient: the command ended before the signal was sent\n");
	if (sc->exit_signal[0] != '\0')
		printf("exit-signal %s\n", sc->exit_signal);
	else if (sc->exit_status != -1)
		printf("exit-status %d\n", sc->exit_status);
	else
		printf("no exit status\n");
	r = 0;
out:
	ssh_channel_close(ch);
	ssh_channel_free(ch);
	return r;
}

int
main(int argc, char **argv)
{
	struct sigclient sc;
	ssh_session s;
	long timeout = 20;
	int opt, r;

	memset(&sc, 0, sizeof(sc));
	sc.signame = "TERM";
	sc.exit_status = -1;
	while ((opt = getopt(argc, argv, "p:l:i:K:w:s:t:")) != -1) {
		switch (opt) {
		case 'p': sc.port = optarg; break;
		case 'l': sc.user = optarg; break;
		case 'i': sc.key = optarg; break;
		case 'K': sc.hostpub = optarg; break;
		case 'w': sc.wait = optarg; break;
		case 's': sc.signame = optarg; break;
		case 't':
			errno = 0;
			timeout = strtol(optarg, NULL, 10);
			if (errno != 0 || timeout <= 0 || timeout > 3600)
				usage();
			break;
		default: usage();
		}
	}
	if (optind != argc - 1 || sc.port == NULL || sc.user == NULL || sc.key == NULL ||
	    sc.hostpub == NULL)
		usage();
	/* The whole run is bounded: SIGALRM's default action ends the process. */
	alarm((unsigned int)timeout);

	if (ssh_init() != SSH_OK || (s = ssh_new()) == NULL)
		return 2;
	if (ssh_options_set(s, SSH_OPTIONS_HOST, "127.0.0.1") != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_PORT_STR, sc.port) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_USER, sc.user) != SSH_OK ||
	    ssh_options_parse_config(s, "/dev/null") != SSH_OK) {
		fprintf(stderr, "ws-sigclient: options: %s\n", ssh_get_error(s));
		ssh_free(s);
		return 2;
	}
	r = sigclient_login(s, &sc) == 0 && sigclient_run(s, &sc, argv[optind]) == 0 ? 0 : 2;
	ssh_disconnect(s);
	ssh_free(s);
	ssh_finalize();
	return r;
}
