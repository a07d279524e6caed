# child/: the per-connection SSH server (ssh-proxy --child). Channel kinds are
# one file each (channel-*.c), identity backends too (auth-*.c).
noinst_LIBRARIES += libchild.a
libchild_a_SOURCES = child/child.c child/child.h \
	child/connid.c child/connid.h \
	child/proxyhdr.c child/proxyhdr.h child/peer.c \
	child/kexsign.c child/rcvlowat.c child/rcvlowat.h \
	child/auth.c child/auth.h child/auth-static.c \
	child/channel.c child/channel.h child/channel-session.c \
	child/session.h child/session-run.c \
	child/workspace.c child/workspace.h \
	child/pump.c child/pump.h child/pump-held.c child/pump-held.h \
	child/channel-tcpip.c child/channel-streamlocal.c \
	child/agent.c child/agent.h
libchild_a_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)

# The workspace Handshake against an in-process k8shelld (regress/unit/test-workspace.c).
check_PROGRAMS += regress/unit/test-workspace
TESTS += regress/unit/test-workspace
regress_unit_test_workspace_SOURCES = regress/unit/test-workspace.c child/workspace.c \
	regress/unit/gsrv-thread.c regress/unit/gsrv-thread.h
regress_unit_test_workspace_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS) $(CMOCKA_CFLAGS)
regress_unit_test_workspace_LDADD = libproto.a libcommon.a $(DEP_LIBS) $(CMOCKA_LIBS)

# The client socket's SO_RCVLOWAT policy (regress/unit/test-rcvlowat.c).
check_PROGRAMS += regress/unit/test-rcvlowat
TESTS += regress/unit/test-rcvlowat
regress_unit_test_rcvlowat_SOURCES = regress/unit/test-rcvlowat.c \
	child/rcvlowat.c child/rcvlowat.h
regress_unit_test_rcvlowat_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS) $(CMOCKA_CFLAGS)
regress_unit_test_rcvlowat_LDADD = libcommon.a $(DEP_LIBS) $(CMOCKA_LIBS)

# Upload messages held for sending (regress/unit/test-pump-held.c).
check_PROGRAMS += regress/unit/test-pump-held
TESTS += regress/unit/test-pump-held
regress_unit_test_pump_held_SOURCES = regress/unit/test-pump-held.c \
	child/pump-held.c child/pump-held.h
regress_unit_test_pump_held_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS) $(CMOCKA_CFLAGS)
regress_unit_test_pump_held_LDADD = libproto.a libcommon.a $(DEP_LIBS) $(CMOCKA_LIBS)
