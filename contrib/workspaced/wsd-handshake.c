/* SystemService.Handshake: the proxy's liveness check before it opens channels;
 * workspaced always accepts and names its version. */
#include "autoconf.h"

#include "daemon/log.h"
#include "proto/k8shelld.pb-c.h"
#include "contrib/workspaced/wsd-call.h"
#include "contrib/workspaced/wsd-handlers.h"

#define WSD_SERVER_VERSION "workspaced/" PACKAGE_VERSION

void
wsd_handshake_start(struct wsd_call *call, const uint8_t *data, size_t len)
{
	K8shelld__HandshakeResponse resp = K8SHELLD__HANDSHAKE_RESPONSE__INIT;
	K8shelld__HandshakeRequest *req;

	if ((req = k8shelld__handshake_request__unpack(NULL, len, data)) == NULL) {
		wsd_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT, "malformed HandshakeRequest");
		return;
	}
	log_debug("handshake from client version \"%s\"", req->client_version);
	k8shelld__handshake_request__free_unpacked(req, NULL);
	resp.server_version = WSD_SERVER_VERSION;
	resp.accepted = 1;
	wsd_call_reply(call, &resp.base);
}
