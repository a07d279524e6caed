#	regress/logingrace.sh: server.SSHHandshakeTimeout bounds the time to log in:
#	idle and stalled connections are closed; an authenticated session outlives it.

tid="logingrace: unauthenticated connections closed after SSHHandshakeTimeout"
. "$(dirname "$0")/test-exec.sh"

require_cmd socat

make_hostkey ed25519
make_user alice
HANDSHAKE_TIMEOUT=2
start_proxy

# closes_in NAME LOW HIGH: the connection NAME (opened just before t0) ends
# between LOW and HIGH ms after t0.
closes_in() {
	wait_for 10 pid_dead "$(tcp_idle_pid "$1")"
	t=$(($(now_ms) - t0))
	verbose "$1 closed after $t ms"
	pid_alive "$(tcp_idle_pid "$1")" && fail "$1 still open after 10 s"
	[ "$t" -ge "$2" ] || fail "$1 closed after $t ms, before the ${HANDSHAKE_TIMEOUT} s grace time"
	[ "$t" -le "$3" ] || fail "$1 closed after $t ms, expected at most $3 ms"
}

# Never sends a version line.
t0=$(now_ms)
tcp_idle_open idle "$PROXY_PORT"
closes_in idle 1500 6000
tcp_idle_has_banner idle || fail "idle connection got no version line before the close"

# Sends a version line, then stalls in the key exchange.
t0=$(now_ms)
tcp_stall_open stall "$PROXY_PORT"
closes_in stall 1500 6000

# The listener learns how each connection ended: the child's exit code, 3
# (handshake timed out in the child) or 4 (grace time, killed by the monitor).
ended_timeout() {
	[ "$(grep -c -E "listener.*connection ended .*exit=(3|4)( |$)" "$PROXY_LOG")" -ge 2 ]
}
wait_for 5 ended_timeout ||
	fail "expected two listener lines 'connection ended ... exit=3|4': $(grep "connection ended" "$PROXY_LOG")"

# An authenticated session is not subject to the grace time.
session_open s1 alice
sleep 4
pid_alive "$(session_pid s1)" || fail "the authenticated session was closed after the grace time"
session_works s1 || fail "authenticated session after 4 s: ssh exit $SSH_RC: $(head -c 300 "$SCRATCH/ssh.err")"
session_close s1

pid_alive "$PROXY_PID" || fail "listener died"
expect_login "after the timeouts" alice true
stop_proxy
