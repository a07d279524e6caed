#	regress/drain.sh: SIGTERM stops accepting at once; sessions outlive the
#	listener (drainTimeout 0) or are ended after server.drainTimeout seconds.

tid="drain: SIGTERM closes the listening socket; sessions survive or drain"
. "$(dirname "$0")/test-exec.sh"


make_hostkey ed25519
make_user alice

# drainTimeout 0 (default): the listener exits at once, the session stays.
start_proxy
session_open s1 alice
set -- $(children_of "$PROXY_PID")
[ $# = 1 ] || fatal "expected one child for the session, found $#"
child=$1
kill -TERM "$PROXY_PID"
wait_for 5 pid_dead "$PROXY_PID" || fail "listener still running 5 s after SIGTERM with drainTimeout 0"
port_listening "$PROXY_PORT" && fail "port $PROXY_PORT still listening after SIGTERM"
pid_alive "$child" || fail "the session's child died with the listener"
session_works s1 || fail "session after the listener exited: ssh exit $SSH_RC: $(head -c 300 "$SCRATCH/ssh.err")"
session_close s1
wait_for 5 pid_dead "$child" || fail "child $child still running after the session ended"

# drainTimeout 2: the socket closes at once, the session lasts about 2 s more.
SERVER_EXTRA='  drainTimeout: 2'
PROXY_PORT=
start_proxy
session_open s2 alice
t0=$(now_ms)
kill -TERM "$PROXY_PID"
wait_for 2 port_closed || fail "port $PROXY_PORT still listening after SIGTERM"
ssh_try alice true
[ "$SSH_RC" = 255 ] || fail "login during the drain: ssh exit $SSH_RC, expected 255"
pid_alive "$PROXY_PID" || fail "listener exited at once despite drainTimeout 2 and an open session"
session_works s2 || fail "session during the drain: ssh exit $SSH_RC: $(head -c 300 "$SCRATCH/ssh.err")"
wait_for 10 pid_dead "$(session_pid s2)" || fail "session still open 10 s after SIGTERM with drainTimeout 2"
t=$(($(now_ms) - t0))
verbose "session ended $t ms after SIGTERM"
[ "$t" -ge 1500 ] || fail "session ended after $t ms, before the 2 s drain timeout"
wait_for 10 pid_dead "$PROXY_PID" || fail "listener still running after the drain"
