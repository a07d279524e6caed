# regress/unit/privsep.mk: privsep tests: the monitor codec, host keys and the
# signing policy, authorized_keys matching, the child's seccomp sandbox, the
# real monitor driven end to end (regress/monitor-sign.sh), and two fuzz
# targets replayed on their corpora.
check_PROGRAMS += regress/unit/test-monitor-msg regress/unit/test-hostkey \
	regress/unit/test-authkeys regress/unit/test-sandbox regress/monitor-driver \
	regress/fuzz/fuzz-monitor-msg regress/fuzz/fuzz-authkeys
TESTS += regress/unit/test-monitor-msg regress/unit/test-hostkey \
	regress/unit/test-authkeys regress/unit/test-sandbox regress/monitor-sign.sh \
	regress/fuzz/fuzz-monitor-msg.sh regress/fuzz/fuzz-authkeys.sh
dist_noinst_SCRIPTS += regress/monitor-sign.sh \
	regress/fuzz/fuzz-monitor-msg.sh regress/fuzz/fuzz-authkeys.sh
EXTRA_DIST += regress/fuzz/corpus/monitor-msg regress/fuzz/corpus/authkeys

PRIVSEP_TEST_LIBS = libprivsep.a libcommon.a $(DEP_LIBS) $(CMOCKA_LIBS)

regress_unit_test_monitor_msg_SOURCES = regress/unit/test-monitor-msg.c
regress_unit_test_monitor_msg_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS) $(CMOCKA_CFLAGS)
regress_unit_test_monitor_msg_LDADD = $(PRIVSEP_TEST_LIBS)

regress_unit_test_hostkey_SOURCES = regress/unit/test-hostkey.c \
	regress/sshsig-verify.c regress/sshsig-verify.h
regress_unit_test_hostkey_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS) $(CMOCKA_CFLAGS)
regress_unit_test_hostkey_LDADD = $(PRIVSEP_TEST_LIBS)

regress_unit_test_authkeys_SOURCES = regress/unit/test-authkeys.c
regress_unit_test_authkeys_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS) $(CMOCKA_CFLAGS)
regress_unit_test_authkeys_LDADD = $(PRIVSEP_TEST_LIBS)

regress_unit_test_sandbox_SOURCES = regress/unit/test-sandbox.c
regress_unit_test_sandbox_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS) $(CMOCKA_CFLAGS)
regress_unit_test_sandbox_LDADD = $(PRIVSEP_TEST_LIBS)

regress_monitor_driver_SOURCES = regress/monitor-driver.c \
	regress/sshsig-verify.c regress/sshsig-verify.h
regress_monitor_driver_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
regress_monitor_driver_LDADD = libprivsep.a libcommon.a $(DEP_LIBS)

regress_fuzz_fuzz_monitor_msg_SOURCES = regress/fuzz/fuzz-monitor-msg.c \
	regress/fuzz/standalone.c
regress_fuzz_fuzz_monitor_msg_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
regress_fuzz_fuzz_monitor_msg_LDADD = libprivsep.a libcommon.a $(DEP_LIBS)

regress_fuzz_fuzz_authkeys_SOURCES = regress/fuzz/fuzz-authkeys.c \
	regress/fuzz/standalone.c
regress_fuzz_fuzz_authkeys_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
regress_fuzz_fuzz_authkeys_LDADD = libprivsep.a libcommon.a $(DEP_LIBS)
