# proto/: the k8shelld API (protoc-c generated into the build tree) and the
# gRPC C-core call helpers linked by the child and contrib/workspaced.

PROTO_FILES = proto/k8shelld.proto
PROTO_C = $(PROTO_FILES:.proto=.pb-c.c)
PROTO_H = $(PROTO_FILES:.proto=.pb-c.h)
BUILT_SOURCES += $(PROTO_C) $(PROTO_H)
CLEANFILES += $(PROTO_C) $(PROTO_H)
EXTRA_DIST += $(PROTO_FILES)

# One protoc-c run writes both files (a grouped GNU make pattern rule). The
# .proto is found through VPATH; the output lands in the build tree, so users
# include "proto/k8shelld.pb-c.h" (AM_CPPFLAGS has -I$(builddir)).
%.pb-c.c %.pb-c.h: %.proto
	$(AM_V_GEN)$(MKDIR_P) $(@D) && $(PROTOC_C) --proto_path=$(<D) --c_out=$(@D) $<

noinst_LIBRARIES += libproto.a
libproto_a_SOURCES = proto/grpc-common.c proto/grpc-common.h \
	proto/grpc-call.c proto/grpc-call.h \
	proto/grpc-server.c proto/grpc-server.h \
	proto/grpc-poll.c proto/grpc-poll.h
nodist_libproto_a_SOURCES = $(PROTO_C) $(PROTO_H)
libproto_a_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)

# The call layer against an in-process server (regress/unit/test-grpc-call.c).
check_PROGRAMS += regress/unit/test-grpc-call
TESTS += regress/unit/test-grpc-call
regress_unit_test_grpc_call_SOURCES = regress/unit/test-grpc-call.c \
	regress/unit/gsrv-thread.c regress/unit/gsrv-thread.h \
	regress/unit/test-cert.c regress/unit/test-cert.h
regress_unit_test_grpc_call_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS) $(CMOCKA_CFLAGS)
regress_unit_test_grpc_call_LDADD = libproto.a $(GRPC_LIBS) $(PROTOBUF_C_LIBS) \
	$(CRYPTO_LIBS) $(CMOCKA_LIBS)

# gRPC's I/O on one thread (proto/grpc-poll.h) against a real ./workspaced,
# plaintext and TLS.
check_PROGRAMS += regress/unit/test-grpc-poll
TESTS += regress/unit/test-grpc-poll
regress_unit_test_grpc_poll_SOURCES = regress/unit/test-grpc-poll.c \
	regress/unit/test-cert.c regress/unit/test-cert.h
regress_unit_test_grpc_poll_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS) $(CMOCKA_CFLAGS)
regress_unit_test_grpc_poll_LDADD = libproto.a $(GRPC_LIBS) $(PROTOBUF_C_LIBS) \
	$(CRYPTO_LIBS) $(CMOCKA_LIBS)
