/* Agent forwarding (spec/flows.md §8d): a UnixSocket LISTEN stream in the workspace
 * bridged to one server-opened auth-agent@openssh.com channel per session. */
#ifndef CHILD_AGENT_H
#define CHILD_AGENT_H

struct channel;

/*
 * For a session channel that got auth-agent-req@openssh.com and starts its
 * shell (or exec): asks the client for an auth-agent@openssh.com channel and
 * has the workspace listen on sock_path (k8shelld UnixSocket LISTEN, metadata
 * unixsocket-id: ux_id), then relays bytes both ways.
 *
 * k8shelld hands its local clients (ssh-add, git) to the one stream one after
 * the other with no framing, so ONE agent channel carries them all in turn:
 * this works because the agent protocol is request/response and each client
 * reads its whole answer before it leaves. A client that leaves in the middle
 * of a request would leave the reply to the next one; that is k8shelld's
 * contract (spec/k8shelld.md UnixSocket), not something the proxy can fix.
 *
 * ux_id is the session's "ux-<connId><seq>" id (the same connId as its sh- id:
 * k8shelld pairs them by their "base"), sock_path "/var/run/ssh-agent-<ux_id>.sock",
 * both copied. The agent channel lives in the connection's channel list; a
 * second call for the same session is refused. Safe to call from a libssh
 * callback or a run hook. Returns 0, or -1 (logged) when nothing was started.
 */
int agent_start(struct channel *session, const char *ux_id, const char *sock_path);

/* The session is ending (call it from the session's free hook at the latest):
 * cancels the LISTEN stream and closes the agent channel. A no-op when the
 * session has no agent. */
void agent_stop(struct channel *session);

#endif
