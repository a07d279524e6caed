# privsep/: the per-connection monitor, both ends of the monitor protocol,
# host keys, the privilege drop before the child's execv and the child's
# seccomp sandbox.
noinst_LIBRARIES += libprivsep.a
libprivsep_a_SOURCES = privsep/privsep.h \
	privsep/hostkey.c privsep/hostkey.h \
	privsep/monitor.c privsep/monitor.h \
	privsep/monitor-msg.c privsep/monitor-msg.h \
	privsep/monitor-policy.c privsep/monitor-policy.h \
	privsep/monitor-wrap.c privsep/monitor-wrap.h \
	privsep/authkeys.c privsep/authkeys.h \
	privsep/privdrop.c privsep/privdrop.h \
	privsep/sandbox-seccomp.c privsep/sandbox.h
libprivsep_a_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
