# regress/unit/child.mk: unit tests for the child's pure modules (PROXY header,
# connection ids) and the PROXY header fuzz target replayed on its seed corpus.
check_PROGRAMS += regress/unit/test-proxyhdr regress/unit/test-connid \
	regress/fuzz/fuzz-proxyhdr
TESTS += regress/unit/test-proxyhdr regress/unit/test-connid \
	regress/fuzz/fuzz-proxyhdr.sh
dist_noinst_SCRIPTS += regress/fuzz/fuzz-proxyhdr.sh
EXTRA_DIST += regress/fuzz/corpus/proxyhdr

regress_unit_test_proxyhdr_SOURCES = regress/unit/test-proxyhdr.c \
	child/proxyhdr.c child/proxyhdr.h
regress_unit_test_proxyhdr_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
regress_unit_test_proxyhdr_LDADD = $(CMOCKA_LIBS)

regress_unit_test_connid_SOURCES = regress/unit/test-connid.c \
	child/connid.c child/connid.h
regress_unit_test_connid_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SODIUM_CFLAGS)
regress_unit_test_connid_LDADD = $(CMOCKA_LIBS) $(SODIUM_LIBS)

regress_fuzz_fuzz_proxyhdr_SOURCES = regress/fuzz/fuzz-proxyhdr.c \
	regress/fuzz/standalone.c child/proxyhdr.c child/proxyhdr.h
regress_fuzz_fuzz_proxyhdr_CFLAGS = $(AM_CFLAGS)
