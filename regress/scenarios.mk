# regress/scenarios.mk: the shell scenarios (real OpenSSH client against the
# real binary on loopback), their harness and the small C helpers they use.

REGRESS_SCENARIOS = \
	regress/connect.sh \
	regress/connect-wrongkey.sh \
	regress/privsep.sh \
	regress/reload.sh \
	regress/cfgerr.sh \
	regress/child-byhand.sh \
	regress/sockact.sh \
	regress/maxstartups.sh \
	regress/logingrace.sh \
	regress/drain.sh \
	regress/listen.sh \
	regress/sandbox.sh \
	regress/proxyproto.sh

TESTS += $(REGRESS_SCENARIOS)
dist_noinst_SCRIPTS += $(REGRESS_SCENARIOS) regress/test-exec.sh
EXTRA_DIST += regress/README

# memscan: finds byte patterns in another process's memory (privsep scenario).
# keysecret: prints the secret bytes of an OpenSSH private key file.
# fd3sock: runs a program with a TCP connection on fd 3 (--child by hand).
check_PROGRAMS += regress/memscan regress/keysecret regress/fd3sock
regress_memscan_SOURCES = regress/memscan.c
regress_keysecret_SOURCES = regress/keysecret.c
regress_fd3sock_SOURCES = regress/fd3sock.c
