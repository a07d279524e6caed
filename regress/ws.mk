# regress/ws.mk: the workspace-channel scenarios (issue 3): the real OpenSSH
# client through ssh-proxy to ./workspaced, their helpers and the benchmark.

# Each scenario passed against the real channels before it joined this list;
# one taken out later stays distributed with a note saying why.
WS_SCENARIOS = \
	regress/ws-exitstatus.sh \
	regress/ws-stderr.sh \
	regress/ws-stdin.sh \
	regress/ws-envpass.sh \
	regress/ws-transfer.sh \
	regress/ws-stall.sh \
	regress/ws-slowreader.sh \
	regress/ws-sftp.sh \
	regress/ws-scp.sh \
	regress/ws-pty.sh \
	regress/ws-forward.sh \
	regress/ws-streamlocal.sh \
	regress/ws-agent.sh \
	regress/ws-signal.sh \
	regress/ws-cleanup.sh \
	regress/ws-keepalive.sh \
	regress/ws-refused.sh \
	regress/ws-nobackend.sh \
	regress/ws-tls.sh \
	regress/ws-unix.sh

TESTS += $(WS_SCENARIOS)
dist_noinst_SCRIPTS += $(WS_SCENARIOS) regress/ws-lib.sh regress/bench/bench.sh
# The benchmark (sh regress/bench/bench.sh) is never part of make check.
EXTRA_DIST += regress/bench/README

# ws-sigclient: a libssh client that sends the `signal` channel request,
# which OpenSSH's ssh cannot send (ws-signal.sh).
check_PROGRAMS += regress/ws-sigclient
regress_ws_sigclient_SOURCES = regress/ws-sigclient.c
regress_ws_sigclient_CFLAGS = $(AM_CFLAGS) $(LIBSSH_CFLAGS)
regress_ws_sigclient_LDADD = $(LIBSSH_LIBS)

# ws-mkcert: a self-signed certificate for workspaced --tls-cert (ws-tls.sh).
check_PROGRAMS += regress/ws-mkcert
regress_ws_mkcert_SOURCES = regress/ws-mkcert.c \
	regress/unit/test-cert.c regress/unit/test-cert.h
regress_ws_mkcert_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
regress_ws_mkcert_LDADD = $(CRYPTO_LIBS)
