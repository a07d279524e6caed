#	regress/ws-exitstatus.sh: exec exit statuses through ssh-proxy to workspaced:
#	0, 7, 200, 254, 127 (not found), and commands killed by SIGKILL and SIGTERM.

tid="ws-exitstatus: exec exit status 0, 7, 200, 254, 127; killed by a signal"
. "$(dirname "$0")/test-exec.sh"
. "$(dirname "$0")/ws-lib.sh"

ws_setup

for st in 0 7 200 254; do
	ssh_try alice "echo status-$st; exit $st"
	expect_rc "exit $st" "$st"
	expect_file "exit $st: stdout" "$SCRATCH/ssh.out" "status-$st"
	expect_file "exit $st: stderr" "$SCRATCH/ssh.err" ""
done

ssh_try alice "true"
expect_rc "true" 0
ssh_try alice "false"
expect_rc "false" 1

# A command that does not exist: the shell's 127 and its message on stderr.
ssh_try alice "no-such-command-ws-$$"
expect_rc "missing command" 127
grep -q "no-such-command-ws-$$.*not found" "$SCRATCH/ssh.err" ||
	fail "missing command: no 'not found' on stderr: $(head -c 300 "$SCRATCH/ssh.err")"

# Killed by a signal: the workspace reports 128+N as the exit status (OpenSSH's
# client exits with it), or the proxy sends exit-signal, which OpenSSH's client
# does not turn into a status: it then exits 255 and logs the request.
for sig in KILL:9 TERM:15; do
	name=${sig%%:*}
	num=${sig##*:}
	ssh_try -L DEBUG1 alice "echo before-$name; kill -$name \$\$; echo after-$name"
	want=$((128 + num))
	if [ "$SSH_RC" = "$want" ]; then
		:
	elif [ "$SSH_RC" = 255 ] && grep -q "rtype exit-signal" "$SCRATCH/ssh.err"; then
		verbose "SIG$name: the proxy sent exit-signal (ssh exits 255)"
	else
		fail "SIG$name: ssh exit $SSH_RC, expected $want (or 255 with exit-signal): $(grep -v '^debug' "$SCRATCH/ssh.err" | head -c 300)"
	fi
	expect_file "SIG$name: stdout" "$SCRATCH/ssh.out" "before-$name"
done

pid_alive "$PROXY_PID" || fail "listener died"
pid_alive "$WS_PID" || fail "workspaced died"
