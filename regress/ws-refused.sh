#	regress/ws-refused.sh: what the proxy refuses: remote forwarding (-R, the
#	tcpip-forward global request) and X11 (x11-req); the session still works.

tid="ws-refused: ssh -R and ssh -X are refused, the session goes on"
. "$(dirname "$0")/test-exec.sh"
. "$(dirname "$0")/ws-lib.sh"

ws_setup

RPORT=$(free_port)
# With ExitOnForwardFailure the client gives up (its own status 255).
ssh_try alice -o ExitOnForwardFailure=yes -R "$RPORT:$LOOPBACK:9" 'echo ran'
expect_rc "-R with ExitOnForwardFailure" 255
grep -q "remote port forwarding failed for listen port $RPORT" "$SCRATCH/ssh.err" ||
	fail "-R: no 'remote port forwarding failed for listen port $RPORT': $(head -c 300 "$SCRATCH/ssh.err")"
port_listening "$RPORT" && fail "-R: something listens on $RPORT"

# Without it: a warning, and the command runs.
ssh_try -L INFO alice -R "$RPORT:$LOOPBACK:9" 'echo ran'
expect_rc "-R without ExitOnForwardFailure" 0
expect_file "-R without ExitOnForwardFailure: stdout" "$SCRATCH/ssh.out" "ran"
grep -q "Warning: remote port forwarding failed for listen port $RPORT" "$SCRATCH/ssh.err" ||
	fail "-R: no warning: $(head -c 300 "$SCRATCH/ssh.err")"

# Remote forwarding of a Unix socket (streamlocal-forward@openssh.com).
ssh_try alice -o ExitOnForwardFailure=yes -R "$SCRATCH/remote.sock:$LOOPBACK:9" 'echo ran'
expect_rc "-R socket with ExitOnForwardFailure" 255
grep -q "remote port forwarding failed for listen path $SCRATCH/remote.sock" "$SCRATCH/ssh.err" ||
	fail "-R socket: no 'remote port forwarding failed for listen path': $(head -c 300 "$SCRATCH/ssh.err")"

# X11: the x11-req gets a failure; the command still runs. (No xauth needed:
# ssh falls back to fake authentication data.)
DISPLAY=:77
export DISPLAY
ssh_try alice -X -o XAuthLocation=/nonexistent 'echo ran; printf "[%s]\n" "${DISPLAY-}"'
expect_rc "-X" 0
expect_file "-X: stdout" "$SCRATCH/ssh.out" "ran
[]"
grep -q "X11 forwarding request failed" "$SCRATCH/ssh.err" ||
	fail "-X: no 'X11 forwarding request failed': $(head -c 300 "$SCRATCH/ssh.err")"
