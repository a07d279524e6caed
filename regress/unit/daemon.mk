# regress/unit/daemon.mk: unit tests for the listener's pure logic (daemon/srclimit).
check_PROGRAMS += regress/unit/test-srclimit
TESTS += regress/unit/test-srclimit
regress_unit_test_srclimit_SOURCES = regress/unit/test-srclimit.c \
	daemon/srclimit.c daemon/srclimit.h
regress_unit_test_srclimit_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
regress_unit_test_srclimit_LDADD = libcommon.a $(CMOCKA_LIBS)
