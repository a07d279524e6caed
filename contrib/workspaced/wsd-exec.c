/* SshService.Exec: `shell -c command` for the exec-id in the metadata, with
 * stdin, signals and resizes from the stream and stdout, stderr, exit_code back. */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "proto/grpc-common.h"
#include "proto/k8shelld.pb-c.h"
#include "contrib/workspaced/wsd-call.h"
#include "contrib/workspaced/wsd-handlers.h"
#include "contrib/workspaced/wsd-proc.h"
#include "contrib/workspaced/wsd-server.h"
#include "contrib/workspaced/wsd-session.h"
#include "contrib/workspaced/wsd-user.h"

struct exec {
	struct wsd_call *call;
	struct wsd_session *sess;	/* NULL until command_details */
};

static grpc_byte_buffer *
exec_first(const char *pty)
{
	K8shelld__ExecResponse r = K8SHELLD__EXEC_RESPONSE__INIT;
	size_t len;
	grpc_slice s;
	grpc_byte_buffer *bb;

	if (pty == NULL || pty[0] == '\0')
		return NULL;
	r.response_case = K8SHELLD__EXEC_RESPONSE__RESPONSE_PTY;
	r.pty = (char *)pty;
	len = k8shelld__exec_response__get_packed_size(&r);
	s = grpc_slice_malloc(len);
	k8shelld__exec_response__pack(&r, GRPC_SLICE_START_PTR(s));
	bb = grpc_raw_byte_buffer_create(&s, 1);
	grpc_slice_unref(s);
	return bb;
}

static grpc_byte_buffer *
exec_last(int code)
{
	K8shelld__ExecResponse r = K8SHELLD__EXEC_RESPONSE__INIT;
	uint8_t buf[16];
	size_t len;
	grpc_slice s;
	grpc_byte_buffer *bb;

	r.response_case = K8SHELLD__EXEC_RESPONSE__RESPONSE_EXIT_CODE;
	r.exit_code = code;
	len = k8shelld__exec_response__pack(&r, buf);
	s = grpc_slice_from_copied_buffer((const char *)buf, len);
	bb = grpc_raw_byte_buffer_create(&s, 1);
	grpc_slice_unref(s);
	return bb;
}

static const struct wsd_session_conf exec_conf = {
	.out_field = 1,		/* ExecResponse.stdout */
	.err_field = 2,		/* ExecResponse.stderr */
	.first = exec_first,
	.last = exec_last,
};

static void
exec_spawn(struct exec *e, const K8shelld__CommandDetails *cd)
{
	struct wsd_server *srv = wsd_call_server(e->call);
	struct wsd_user *user = NULL;
	struct wsd_spawn sp;
	const char *shell, *base;
	char *argv[4], msg[256], **env = NULL;
	int r;

	if ((r = wsd_user_lookup(cd->as_user, wsd_server_default_user(srv), &user)) < 0) {
		snprintf(msg, sizeof(msg), "cannot run as user \"%s\": %s", cd->as_user,
		    r == -EPERM ? "workspaced does not run as root" : strerror(-r));
		wsd_call_finish(e->call, r == -EPERM ? GRPC_STATUS_PERMISSION_DENIED :
		    r == -ENOENT ? GRPC_STATUS_NOT_FOUND : GRPC_STATUS_INTERNAL, msg);
		return;
	}
	shell = cd->shell_binary != NULL && cd->shell_binary[0] != '\0' ?
	    cd->shell_binary : user->shell;
	base = strrchr(shell, '/');
	argv[0] = (char *)(base != NULL ? base + 1 : shell);
	argv[1] = "-c";
	argv[2] = cd->command;
	argv[3] = NULL;
	if ((env = wsd_env_build(user, cd->env_vars, cd->n_env_vars)) == NULL) {
		wsd_user_free(user);
		wsd_call_finish(e->call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	memset(&sp, 0, sizeof(sp));
	sp.path = shell;
	sp.argv = argv;
	sp.envp = env;
	sp.user = user;
	sp.use_pty = cd->use_pty;
	sp.cols = cd->width;
	sp.rows = cd->height;
	log_info("exec %s as %s%s: %.200s", wsd_call_metadata(e->call, "exec-id"), user->name,
	    cd->use_pty ? " with a pty" : "", cd->command);
	r = wsd_session_new(e->call, &sp, &exec_conf, &e->sess);
	wsd_env_free(env);
	wsd_user_free(user);
	if (r < 0) {
		wsd_call_finish(e->call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	wsd_call_recv(e->call);
}

static void
exec_message(struct wsd_call *call, const uint8_t *data, size_t len)
{
	struct exec *e = wsd_call_impl(call);
	K8shelld__ExecRequest *req;

	if ((req = k8shelld__exec_request__unpack(NULL, len, data)) == NULL) {
		wsd_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT, "malformed ExecRequest");
		return;
	}
	if (e->sess == NULL && req->request_case != K8SHELLD__EXEC_REQUEST__REQUEST_COMMAND_DETAILS) {
		wsd_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT,
		    "the first ExecRequest must be command_details");
		goto out;
	}
	switch (req->request_case) {
	case K8SHELLD__EXEC_REQUEST__REQUEST_COMMAND_DETAILS:
		if (e->sess != NULL) {
			wsd_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT,
			    "command_details sent twice");
			break;
		}
		exec_spawn(e, req->command_details);
		break;
	case K8SHELLD__EXEC_REQUEST__REQUEST_INPUT:
		wsd_session_input(e->sess, req->input.data, req->input.len);
		break;
	case K8SHELLD__EXEC_REQUEST__REQUEST_SIGNAL:
		log_debug("exec %s: signal %s", wsd_call_metadata(call, "exec-id"), req->signal);
		wsd_session_signal(e->sess, wsd_signal_from_name(req->signal));
		wsd_call_recv(call);
		break;
	case K8SHELLD__EXEC_REQUEST__REQUEST_RESIZE:
		if (req->resize != NULL)
			wsd_session_resize(e->sess, req->resize->width, req->resize->height);
		wsd_call_recv(call);
		break;
	default:
		/* An empty oneof, e.g. a newer field we do not know: skip it. */
		wsd_call_recv(call);
		break;
	}
out:
	k8shelld__exec_request__free_unpacked(req, NULL);
}

/* ExecRequest.input, in place. */
static void
exec_data(struct wsd_call *call, struct grpcc_data *d)
{
	struct exec *e = wsd_call_impl(call);

	if (e->sess == NULL) {
		grpcc_data_free(d);
		wsd_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT,
		    "the first ExecRequest must be command_details");
		return;
	}
	wsd_session_input_data(e->sess, d);
}

static void
exec_halfclose(struct wsd_call *call)
{
	struct exec *e = wsd_call_impl(call);

	if (e->sess == NULL)
		wsd_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT,
		    "stream closed before command_details");
	else
		wsd_session_eof(e->sess);
}

static void
exec_sent(struct wsd_call *call)
{
	struct exec *e = wsd_call_impl(call);

	if (e->sess != NULL)
		wsd_session_sent(e->sess);
}

static void
exec_cancelled(struct wsd_call *call)
{
	struct exec *e = wsd_call_impl(call);

	log_info("exec %s: cancelled by the client", wsd_call_metadata(call, "exec-id"));
	wsd_session_free(e->sess);
	e->sess = NULL;
}

static void
exec_destroy(struct wsd_call *call)
{
	struct exec *e = wsd_call_impl(call);

	wsd_session_free(e->sess);
	free(e);
}

static const struct wsd_call_ops exec_ops = {
	.message = exec_message,
	.data_fields = GRPCC_FIELD(K8SHELLD__EXEC_REQUEST__REQUEST_INPUT),
	.data = exec_data,
	.halfclose = exec_halfclose,
	.sent = exec_sent,
	.cancelled = exec_cancelled,
	.destroy = exec_destroy,
};

void
wsd_exec_start(struct wsd_call *call)
{
	const char *id = wsd_call_metadata(call, "exec-id");
	struct exec *e;

	if (id == NULL || id[0] == '\0') {
		wsd_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT, "missing exec-id metadata");
		return;
	}
	if (wsd_server_claim_id(wsd_call_server(call), call, "exec", id) < 0) {
		wsd_call_finish(call, GRPC_STATUS_ALREADY_EXISTS, "exec-id already in use");
		return;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		wsd_call_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	e->call = call;
	wsd_call_set_handler(call, &exec_ops, e);
	wsd_call_recv(call);
}
