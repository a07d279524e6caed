/* SshService.Shell: the login shell of the user for the session-id in the
 * metadata, on a pty or pipes; start_response, data both ways, then terminate. */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/log.h"
#include "proto/grpc-common.h"
#include "proto/k8shelld.pb-c.h"
#include "contrib/workspaced/wsd-call.h"
#include "contrib/workspaced/wsd-handlers.h"
#include "contrib/workspaced/wsd-proc.h"
#include "contrib/workspaced/wsd-server.h"
#include "contrib/workspaced/wsd-session.h"
#include "contrib/workspaced/wsd-user.h"

struct shell {
	struct wsd_call *call;
	struct wsd_session *sess;	/* NULL until start_request */
};

static grpc_byte_buffer *
shell_pack(const K8shelld__ShellResponse *r)
{
	size_t len = k8shelld__shell_response__get_packed_size(r);
	grpc_slice s = grpc_slice_malloc(len);
	grpc_byte_buffer *bb;

	k8shelld__shell_response__pack(r, GRPC_SLICE_START_PTR(s));
	bb = grpc_raw_byte_buffer_create(&s, 1);
	grpc_slice_unref(s);
	return bb;
}

static grpc_byte_buffer *
shell_first(const char *pty)
{
	K8shelld__ShellResponse r = K8SHELLD__SHELL_RESPONSE__INIT;
	K8shelld__ShellStartResponse start = K8SHELLD__SHELL_START_RESPONSE__INIT;

	start.pty = (char *)(pty != NULL ? pty : "");
	r.response_case = K8SHELLD__SHELL_RESPONSE__RESPONSE_START_RESPONSE;
	r.start_response = &start;
	return shell_pack(&r);
}

static grpc_byte_buffer *
shell_last(int code)
{
	K8shelld__ShellResponse r = K8SHELLD__SHELL_RESPONSE__INIT;

	(void)code;	/* the Shell stream has no exit status */
	r.response_case = K8SHELLD__SHELL_RESPONSE__RESPONSE_TERMINATE;
	r.terminate = 1;
	return shell_pack(&r);
}

static const struct wsd_session_conf shell_conf = {
	.out_field = 2,		/* ShellResponse.data; stderr shares it */
	.err_field = 0,
	.first = shell_first,
	.last = shell_last,
};

/* The user's login shell; cmdShell when the account has none that runs. */
static const char *
shell_path(const struct wsd_user *user, const char *cmd_shell)
{
	if (access(user->shell, X_OK) == 0 || cmd_shell == NULL || cmd_shell[0] == '\0')
		return user->shell;
	return cmd_shell;
}

static void
shell_spawn(struct shell *sh, const K8shelld__ShellStartRequest *st)
{
	struct wsd_server *srv = wsd_call_server(sh->call);
	struct wsd_user *user = NULL;
	struct wsd_spawn sp;
	const char *path, *base;
	char *argv[2], argv0[256], msg[256], **env;
	int r;

	if ((r = wsd_user_lookup(st->as_user, wsd_server_default_user(srv), &user)) < 0) {
		snprintf(msg, sizeof(msg), "cannot run as user \"%s\": %s", st->as_user,
		    r == -EPERM ? "workspaced does not run as root" : strerror(-r));
		wsd_call_finish(sh->call, r == -EPERM ? GRPC_STATUS_PERMISSION_DENIED :
		    r == -ENOENT ? GRPC_STATUS_NOT_FOUND : GRPC_STATUS_INTERNAL, msg);
		return;
	}
	path = shell_path(user, st->cmdshell);
	base = strrchr(path, '/');
	/* A leading '-' makes it a login shell, as sshd starts it. */
	snprintf(argv0, sizeof(argv0), "-%s", base != NULL ? base + 1 : path);
	argv[0] = argv0;
	argv[1] = NULL;
	if ((env = wsd_env_build(user, st->setenvvars, st->n_setenvvars)) == NULL) {
		wsd_user_free(user);
		wsd_call_finish(sh->call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	memset(&sp, 0, sizeof(sp));
	sp.path = path;
	sp.argv = argv;
	sp.envp = env;
	sp.user = user;
	sp.use_pty = st->usepty;
	sp.cols = st->width;
	sp.rows = st->height;
	sp.merge_stderr = 1;
	log_info("shell %s as %s: %s%s", wsd_call_metadata(sh->call, "session-id"), user->name,
	    path, st->usepty ? " with a pty" : "");
	r = wsd_session_new(sh->call, &sp, &shell_conf, &sh->sess);
	wsd_env_free(env);
	wsd_user_free(user);
	if (r < 0) {
		wsd_call_finish(sh->call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	wsd_call_recv(sh->call);
}

static void
shell_message(struct wsd_call *call, const uint8_t *data, size_t len)
{
	struct shell *sh = wsd_call_impl(call);
	K8shelld__ShellRequest *req;

	if ((req = k8shelld__shell_request__unpack(NULL, len, data)) == NULL) {
		wsd_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT, "malformed ShellRequest");
		return;
	}
	switch (req->request_case) {
	case K8SHELLD__SHELL_REQUEST__REQUEST_START_REQUEST:
		if (sh->sess != NULL)
			wsd_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT,
			    "start_request sent twice");
		else
			shell_spawn(sh, req->start_request);
		break;
	case K8SHELLD__SHELL_REQUEST__REQUEST_DATA:
		if (sh->sess == NULL)
			wsd_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT,
			    "the first ShellRequest must be start_request");
		else
			wsd_session_input(sh->sess, req->data.data, req->data.len);
		break;
	default:
		wsd_call_recv(call);
		break;
	}
	k8shelld__shell_request__free_unpacked(req, NULL);
}

/* ShellRequest.data, in place. */
static void
shell_data(struct wsd_call *call, struct grpcc_data *d)
{
	struct shell *sh = wsd_call_impl(call);

	if (sh->sess == NULL) {
		grpcc_data_free(d);
		wsd_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT,
		    "the first ShellRequest must be start_request");
		return;
	}
	wsd_session_input_data(sh->sess, d);
}

static void
shell_halfclose(struct wsd_call *call)
{
	struct shell *sh = wsd_call_impl(call);

	if (sh->sess == NULL)
		wsd_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT,
		    "stream closed before start_request");
	else
		wsd_session_eof(sh->sess);
}

static void
shell_sent(struct wsd_call *call)
{
	struct shell *sh = wsd_call_impl(call);

	if (sh->sess != NULL)
		wsd_session_sent(sh->sess);
}

static void
shell_cancelled(struct wsd_call *call)
{
	struct shell *sh = wsd_call_impl(call);

	log_info("shell %s: cancelled by the client", wsd_call_metadata(call, "session-id"));
	wsd_session_free(sh->sess);
	sh->sess = NULL;
}

static void
shell_destroy(struct wsd_call *call)
{
	struct shell *sh = wsd_call_impl(call);

	wsd_session_free(sh->sess);
	free(sh);
}

static const struct wsd_call_ops shell_ops = {
	.message = shell_message,
	.data_fields = GRPCC_FIELD(K8SHELLD__SHELL_REQUEST__REQUEST_DATA),
	.data = shell_data,
	.halfclose = shell_halfclose,
	.sent = shell_sent,
	.cancelled = shell_cancelled,
	.destroy = shell_destroy,
};

int
wsd_shell_pty(struct wsd_call *shell_call)
{
	struct shell *sh = wsd_call_impl(shell_call);

	if (sh == NULL || sh->sess == NULL)
		return -1;
	return wsd_session_pty(sh->sess);
}

void
wsd_shell_start(struct wsd_call *call)
{
	const char *id = wsd_call_metadata(call, "session-id");
	struct shell *sh;

	if (id == NULL || id[0] == '\0') {
		wsd_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT, "missing session-id metadata");
		return;
	}
	if (wsd_server_claim_id(wsd_call_server(call), call, "session", id) < 0) {
		wsd_call_finish(call, GRPC_STATUS_ALREADY_EXISTS, "session-id already in use");
		return;
	}
	if ((sh = calloc(1, sizeof(*sh))) == NULL) {
		wsd_call_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	sh->call = call;
	wsd_call_set_handler(call, &shell_ops, sh);
	wsd_call_recv(call);
}
