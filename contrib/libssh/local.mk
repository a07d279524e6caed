# contrib/libssh/: our libssh patch series, its static build (build.sh, run by
# contrib/bootstrap) and the tests that drive the patched library with OpenSSH.
EXTRA_DIST += contrib/libssh/README contrib/libssh/series contrib/libssh/build.sh \
	contrib/libssh/0001-server-hostkey-sign-callback.patch \
	contrib/libssh/0002-server-direct-streamlocal-channel-open.patch \
	contrib/libssh/0003-server-channel-open-failure-reason.patch \
	contrib/libssh/0004-disconnect-flush-before-close.patch \
	contrib/libssh/0005-server-userauth-failure-on-bad-publickey.patch \
	contrib/libssh/0006-packet-encrypt-in-place.patch \
	contrib/libssh/0007-packet-socket-send-without-copies.patch \
	contrib/libssh/0008-channel-data-from-packet.patch \
	contrib/libssh/0009-packet-padding-random-pool.patch \
	contrib/libssh/tests/test-lib.sh \
	contrib/libssh/tests/hostkey-sign.sh contrib/libssh/tests/streamlocal.sh \
	contrib/libssh/tests/open-failure.sh contrib/libssh/tests/disconnect.sh \
	contrib/libssh/tests/auth-badsig.sh contrib/libssh/tests/data-path.sh

# One-connection libssh server the scripts run against the OpenSSH client.
check_PROGRAMS += contrib/libssh/tests/patch-server
contrib_libssh_tests_patch_server_SOURCES = contrib/libssh/tests/patch-server.c
contrib_libssh_tests_patch_server_CFLAGS = $(AM_CFLAGS) $(LIBSSH_CFLAGS) $(CRYPTO_CFLAGS)
contrib_libssh_tests_patch_server_LDADD = $(LIBSSH_LIBS) $(CRYPTO_LIBS)

TESTS += contrib/libssh/tests/hostkey-sign.sh contrib/libssh/tests/streamlocal.sh \
	contrib/libssh/tests/open-failure.sh contrib/libssh/tests/disconnect.sh \
	contrib/libssh/tests/auth-badsig.sh contrib/libssh/tests/data-path.sh
