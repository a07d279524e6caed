/* Test-side gRPC client for workspaced: drives one completion queue from the test
 * thread; every helper pumps completions until the operation it waits for is done. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include "contrib/workspaced/tests/wsdt-client.h"

enum { T_START, T_SEND, T_RECV, T_STATUS, T_CLOSE };

static grpc_channel *chan;
static grpc_completion_queue *cq;

int
wsdt_init(const char *target)
{
	grpc_channel_credentials *creds;

	grpc_init();
	cq = grpc_completion_queue_create_for_next(NULL);
	creds = grpc_insecure_credentials_create();
	chan = grpc_channel_create(target, creds, NULL);
	grpc_channel_credentials_release(creds);
	return chan != NULL ? 0 : -1;
}

void
wsdt_shutdown(void)
{
	grpc_channel_destroy(chan);
	grpc_completion_queue_shutdown(cq);
	while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
	    GRPC_QUEUE_SHUTDOWN)
		;
	grpc_completion_queue_destroy(cq);
	grpc_shutdown();
}

static gpr_timespec
deadline_ms(int ms)
{
	return gpr_time_add(gpr_now(GPR_CLOCK_REALTIME), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

int
wsdt_pump(int timeout_ms)
{
	grpc_event ev = grpc_completion_queue_next(cq, deadline_ms(timeout_ms), NULL);
	struct wsdt_tag *t;
	struct wsdt_call *c;

	if (ev.type != GRPC_OP_COMPLETE)
		return 0;
	t = ev.tag;
	c = t->call;
	switch (t->kind) {
	case T_START:
		c->start_busy = 0;
		break;
	case T_SEND:
		c->send_busy = 0;
		grpc_byte_buffer_destroy(c->send_bb);
		c->send_bb = NULL;
		break;
	case T_RECV:
		c->recv_busy = 0;
		c->recv_ready = 1;
		c->recv_ok = ev.success;
		break;
	case T_STATUS:
		c->status_done = 1;
		c->details_str = grpc_slice_to_c_string(c->details);
		break;
	case T_CLOSE:
		c->close_busy = 0;
		break;
	}
	return 1;
}

struct wsdt_call *
wsdt_call_start(const char *method, const char *const *md, int timeout_ms)
{
	struct wsdt_call *c = calloc(1, sizeof(*c));
	grpc_metadata mds[8];
	grpc_op ops[2];
	size_t n = 0;
	grpc_slice m = grpc_slice_from_static_string(method);

	c->t_start = (struct wsdt_tag){ c, T_START };
	c->t_send = (struct wsdt_tag){ c, T_SEND };
	c->t_recv = (struct wsdt_tag){ c, T_RECV };
	c->t_status = (struct wsdt_tag){ c, T_STATUS };
	c->t_close = (struct wsdt_tag){ c, T_CLOSE };
	c->gcall = grpc_channel_create_call(chan, NULL, GRPC_PROPAGATE_DEFAULTS, cq, m, NULL,
	    deadline_ms(timeout_ms > 0 ? timeout_ms : 30000), NULL);
	grpc_slice_unref(m);
	grpc_metadata_array_init(&c->init_md);
	grpc_metadata_array_init(&c->trail_md);
	memset(mds, 0, sizeof(mds));
	for (; md != NULL && md[2 * n] != NULL && n < 8; n++) {
		mds[n].key = grpc_slice_from_static_string(md[2 * n]);
		mds[n].value = grpc_slice_from_static_string(md[2 * n + 1]);
	}
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[0].data.send_initial_metadata.count = n;
	ops[0].data.send_initial_metadata.metadata = mds;
	ops[1].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[1].data.recv_initial_metadata.recv_initial_metadata = &c->init_md;
	if (grpc_call_start_batch(c->gcall, ops, 2, &c->t_start, NULL) != GRPC_CALL_OK)
		abort();
	c->start_busy = 1;
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[0].data.recv_status_on_client.trailing_metadata = &c->trail_md;
	ops[0].data.recv_status_on_client.status = &c->status;
	ops[0].data.recv_status_on_client.status_details = &c->details;
	if (grpc_call_start_batch(c->gcall, ops, 1, &c->t_status, NULL) != GRPC_CALL_OK)
		abort();
	return c;
}

int
wsdt_send_start(struct wsdt_call *c, const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	grpc_slice s = grpc_slice_malloc(len);
	grpc_op op;

	protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(s));
	c->send_bb = grpc_raw_byte_buffer_create(&s, 1);
	grpc_slice_unref(s);
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_SEND_MESSAGE;
	op.data.send_message.send_message = c->send_bb;
	if (grpc_call_start_batch(c->gcall, &op, 1, &c->t_send, NULL) != GRPC_CALL_OK)
		return -1;
	c->send_busy = 1;
	return 0;
}

int
wsdt_send(struct wsdt_call *c, const ProtobufCMessage *msg)
{
	while (c->send_busy)
		wsdt_pump(1000);
	return wsdt_send_start(c, msg);
}

int
wsdt_close_send(struct wsdt_call *c)
{
	grpc_op op;

	while (c->send_busy)
		wsdt_pump(1000);
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	if (grpc_call_start_batch(c->gcall, &op, 1, &c->t_close, NULL) != GRPC_CALL_OK)
		return -1;
	c->close_busy = 1;
	return 0;
}

int
wsdt_recv_start(struct wsdt_call *c)
{
	grpc_op op;

	if (c->recv_busy || c->recv_ready)
		return 0;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_MESSAGE;
	op.data.recv_message.recv_message = &c->recv_bb;
	if (grpc_call_start_batch(c->gcall, &op, 1, &c->t_recv, NULL) != GRPC_CALL_OK)
		return -1;
	c->recv_busy = 1;
	return 0;
}

int
wsdt_recv_take(struct wsdt_call *c, const ProtobufCMessageDescriptor *d, ProtobufCMessage **msg)
{
	grpc_byte_buffer_reader rd;
	grpc_slice s;

	if (!c->recv_ready)
		return 0;
	c->recv_ready = 0;
	*msg = NULL;
	if (c->recv_bb == NULL)
		return 1;
	grpc_byte_buffer_reader_init(&rd, c->recv_bb);
	s = grpc_byte_buffer_reader_readall(&rd);
	grpc_byte_buffer_reader_destroy(&rd);
	grpc_byte_buffer_destroy(c->recv_bb);
	c->recv_bb = NULL;
	*msg = protobuf_c_message_unpack(d, NULL, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
	grpc_slice_unref(s);
	if (*msg == NULL) {
		fprintf(stderr, "wsdt: unparsable %s\n", d->name);
		abort();
	}
	return 1;
}

ProtobufCMessage *
wsdt_recv(struct wsdt_call *c, const ProtobufCMessageDescriptor *d, int timeout_ms, int *ended)
{
	gpr_timespec end = deadline_ms(timeout_ms);
	ProtobufCMessage *msg;

	*ended = 0;
	if (wsdt_recv_start(c) < 0) {
		*ended = 1;
		return NULL;
	}
	while (!c->recv_ready) {
		if (gpr_time_cmp(gpr_now(GPR_CLOCK_REALTIME), end) > 0)
			return NULL;
		wsdt_pump(100);
	}
	wsdt_recv_take(c, d, &msg);
	if (msg == NULL)
		*ended = 1;
	return msg;
}

int
wsdt_status(struct wsdt_call *c, int timeout_ms)
{
	gpr_timespec end = deadline_ms(timeout_ms);

	while (!c->status_done) {
		if (gpr_time_cmp(gpr_now(GPR_CLOCK_REALTIME), end) > 0)
			return -1;
		wsdt_pump(100);
	}
	return (int)c->status;
}

void
wsdt_cancel(struct wsdt_call *c)
{
	grpc_call_cancel(c->gcall, NULL);
}

void
wsdt_call_free(struct wsdt_call *c)
{
	if (!c->status_done)
		grpc_call_cancel(c->gcall, NULL);
	while (c->start_busy || c->send_busy || c->recv_busy || c->close_busy || !c->status_done)
		wsdt_pump(1000);
	if (c->recv_bb != NULL)
		grpc_byte_buffer_destroy(c->recv_bb);
	grpc_metadata_array_destroy(&c->init_md);
	grpc_metadata_array_destroy(&c->trail_md);
	grpc_slice_unref(c->details);
	gpr_free(c->details_str);
	grpc_call_unref(c->gcall);
	free(c);
}

int
wsdt_unary(const char *method, const char *const *md, const ProtobufCMessage *req,
    const ProtobufCMessageDescriptor *d, ProtobufCMessage **resp, char **details)
{
	struct wsdt_call *c = wsdt_call_start(method, md, 10000);
	ProtobufCMessage *m;
	int ended, st;

	*resp = NULL;
	wsdt_send(c, req);
	wsdt_close_send(c);
	m = wsdt_recv(c, d, 10000, &ended);
	st = wsdt_status(c, 10000);
	if (st == GRPC_STATUS_OK)
		*resp = m;
	else if (m != NULL)
		protobuf_c_message_free_unpacked(m, NULL);
	if (details != NULL)
		*details = strdup(c->details_str != NULL ? c->details_str : "");
	wsdt_call_free(c);
	return st;
}
