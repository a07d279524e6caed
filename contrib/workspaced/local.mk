# contrib/workspaced: a k8shelld-compatible workspace daemon (gRPC C-core server)
# running shells, commands and forwards on the local machine; ./workspaced after make.
bin_PROGRAMS += workspaced
workspaced_SOURCES = \
	contrib/workspaced/wsd-main.c \
	contrib/workspaced/wsd-loop.c contrib/workspaced/wsd-loop.h \
	contrib/workspaced/wsd-server.c contrib/workspaced/wsd-server.h \
	contrib/workspaced/wsd-call.c contrib/workspaced/wsd-call.h \
	contrib/workspaced/wsd-handlers.h \
	contrib/workspaced/wsd-handshake.c \
	contrib/workspaced/wsd-shell.c contrib/workspaced/wsd-resize.c \
	contrib/workspaced/wsd-exec.c \
	contrib/workspaced/wsd-session.c contrib/workspaced/wsd-session.h \
	contrib/workspaced/wsd-proc.c contrib/workspaced/wsd-proc.h \
	contrib/workspaced/wsd-user.c contrib/workspaced/wsd-env.c contrib/workspaced/wsd-user.h \
	contrib/workspaced/wsd-relay.c contrib/workspaced/wsd-relay.h \
	contrib/workspaced/wsd-bridge.c contrib/workspaced/wsd-bridge.h \
	contrib/workspaced/wsd-portfwd.c contrib/workspaced/wsd-unixsock.c
workspaced_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
workspaced_LDADD = libproto.a libcommon.a $(DEP_LIBS)

# Tests: a gRPC client driving a real ./workspaced over loopback, one case per run.
check_PROGRAMS += contrib/workspaced/tests/wsd-test
contrib_workspaced_tests_wsd_test_SOURCES = contrib/workspaced/tests/wsd-test.c \
	contrib/workspaced/tests/wsdt-client.c contrib/workspaced/tests/wsdt-client.h
contrib_workspaced_tests_wsd_test_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
contrib_workspaced_tests_wsd_test_LDADD = libproto.a $(DEP_LIBS)
EXTRA_DIST += contrib/workspaced/README.md
TESTS += contrib/workspaced/tests/workspaced.sh
dist_noinst_SCRIPTS += contrib/workspaced/tests/workspaced.sh
