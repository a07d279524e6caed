# regress/unit/config.mk: the config loader's unit tests, and its fuzz target
# replayed on the seed corpus (regress/fuzz/corpus/config) by make check.
check_PROGRAMS += regress/unit/test-config regress/fuzz/fuzz-config
TESTS += regress/unit/test-config regress/unit/fuzz-config-corpus.sh

regress_unit_test_config_SOURCES = regress/unit/test-config.c
regress_unit_test_config_CPPFLAGS = $(AM_CPPFLAGS) \
	-DCONFIG_TESTDIR='"$(abs_top_srcdir)/regress/unit/configs"' \
	-DCONFIG_ETCDIR='"$(abs_top_srcdir)/etc"'
regress_unit_test_config_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS) $(CMOCKA_CFLAGS)
regress_unit_test_config_LDADD = libcommon.a $(DEP_LIBS) $(CMOCKA_LIBS)

# No main() in fuzz-config.c: clang -fsanitize=fuzzer builds it as is.
regress_fuzz_fuzz_config_SOURCES = regress/fuzz/fuzz-config.c regress/fuzz/standalone.c
regress_fuzz_fuzz_config_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
regress_fuzz_fuzz_config_LDADD = libcommon.a $(DEP_LIBS)

dist_noinst_SCRIPTS += regress/unit/fuzz-config-corpus.sh
EXTRA_DIST += regress/unit/configs regress/fuzz/corpus/config \
	etc/config.yaml etc/config-minimal.yaml
