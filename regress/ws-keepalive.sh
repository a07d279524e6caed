#	regress/ws-keepalive.sh: OpenSSH's keepalive@openssh.com global requests
#	(ServerAliveInterval) get replies, so a quiet session is not dropped.

tid="ws-keepalive: ServerAliveInterval=1 ServerAliveCountMax=2 over a quiet 5 s command"
. "$(dirname "$0")/test-exec.sh"
. "$(dirname "$0")/ws-lib.sh"

ws_setup

# Unanswered keepalives end the client after 2 intervals ("Timeout, server
# not responding", exit 255): surviving 5 s means each one got a reply.
ssh_try alice -o ServerAliveInterval=1 -o ServerAliveCountMax=2 'sleep 5; echo done'
expect_rc "quiet session" 0
expect_file "quiet session" "$SCRATCH/ssh.out" "done"
grep -q "Timeout, server" "$SCRATCH/ssh.err" &&
	fail "the client timed the server out: $(grep "Timeout" "$SCRATCH/ssh.err")"

# A quiet held connection (ssh -N) survives 5 s of keepalives as well.
session_open ka alice -o ServerAliveInterval=1 -o ServerAliveCountMax=2
sleep 5
pid_alive "$(session_pid ka)" || fail "ssh -N with ServerAliveInterval=1 exited: $(grep -v '^debug' "$SCRATCH/session.ka.log" | tail -n 3)"
session_exec ka 'echo still-here'
expect_rc "command after 5 s of keepalives" 0
expect_file "command after 5 s of keepalives" "$SCRATCH/ssh.out" "still-here"
session_close ka
