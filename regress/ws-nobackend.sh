#	regress/ws-nobackend.sh: the workspace is unreachable: a readable message and a
#	non-zero status, quickly; the proxy keeps serving and recovers when it is back.

tid="ws-nobackend: workspaced down gives a message and status 1, later logins work"
. "$(dirname "$0")/test-exec.sh"
. "$(dirname "$0")/ws-lib.sh"

make_hostkey ed25519
make_user alice
# The address of a workspace that is not running yet.
WS_PORT=$(free_port)
ws_config
start_proxy

start=$(now_ms)
ssh_try alice 'echo hi'
took=$(($(now_ms) - start))
expect_rc "exec, workspace down" 1
expect_file "exec, workspace down: stdout" "$SCRATCH/ssh.out" ""
grep -qi "workspace" "$SCRATCH/ssh.err" ||
	fail "exec, workspace down: no message naming the workspace on stderr: '$(head -c 300 "$SCRATCH/ssh.err")'"
[ "$took" -lt 8000 ] || fail "exec, workspace down: took $took ms (the handshake deadline is 5 s)"
verbose "exec, workspace down: $took ms: $(head -n 1 "$SCRATCH/ssh.err")"

# A shell: the message reaches the user too, and the channel ends.
printf 'echo hi\nexit 0\n' >"$SCRATCH/script"
start=$(now_ms)
ws_run "$SCRATCH/script" alice
took=$(($(now_ms) - start))
[ "$SSH_RC" = 0 ] && fail "shell, workspace down: ssh exit 0"
grep -qi "workspace" "$SCRATCH/ssh.out" "$SCRATCH/ssh.err" ||
	fail "shell, workspace down: no message naming the workspace: out '$(head -c 200 "$SCRATCH/ssh.out")' err '$(head -c 200 "$SCRATCH/ssh.err")'"
grep -q "^hi" "$SCRATCH/ssh.out" && fail "shell, workspace down: the command ran"
[ "$took" -lt 8000 ] || fail "shell, workspace down: took $took ms"

# A connection opened while the workspace is down retries on its next channel.
session_open s1 alice
session_exec s1 'echo hi'
expect_rc "held connection, workspace down" 1

start_workspaced "$WS_PORT"
pid_alive "$PROXY_PID" || fatal "the listener died"
ssh_try alice 'echo back'
expect_rc "exec, workspace back" 0
expect_file "exec, workspace back" "$SCRATCH/ssh.out" "back"
session_exec s1 'echo back-s1'
expect_rc "held connection, workspace back" 0
expect_file "held connection, workspace back" "$SCRATCH/ssh.out" "back-s1"
session_close s1

# The workspace dies under a running command (SIGKILL: no goodbye on the
# stream): the channel ends with a non-zero status, not a hang.
tag=60.$(rand_tag)
ssh_cmd alice "echo started; sleep $tag" </dev/null >"$SCRATCH/long.out" 2>"$SCRATCH/long.err" &
job=$!
track_pid $job
wait_for 15 grep -q started "$SCRATCH/long.out" || fatal "the long command did not start"
kill -9 "$WS_PID"
wait_for 15 pid_dead "$job" || fail "the client still waits 15 s after workspaced died"
wait "$job"
rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] ||
	fail "command whose workspace died: ssh exit $rc, expected non-zero (not the timeout's 124)"
verbose "command whose workspace died: ssh exit $rc: $(head -n 1 "$SCRATCH/long.err")"
# The orphaned sleep of the dead workspaced.
kill $(pids_with_cmdline "sleep $tag") 2>/dev/null
pid_alive "$PROXY_PID" || fail "the listener died"
