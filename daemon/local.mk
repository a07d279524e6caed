# daemon/: the listener process and what every process shares (log, config).

# Shared by listener, monitor and child: logging and the config loader.
noinst_LIBRARIES += libcommon.a
libcommon_a_SOURCES = daemon/log.c daemon/log.h daemon/monotime.h \
	daemon/config.c daemon/config-prepass.c daemon/config.h \
	daemon/config-int.h
libcommon_a_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)

bin_PROGRAMS += ssh-proxy
ssh_proxy_SOURCES = daemon/main.c daemon/proxy.h daemon/proxy.c \
	daemon/listener.c daemon/listener.h daemon/srclimit.c daemon/srclimit.h
ssh_proxy_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
# Order matters for static archives: users before what they use.
ssh_proxy_LDADD = libchild.a libproto.a libprivsep.a libcommon.a $(DEP_LIBS)
