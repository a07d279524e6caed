#	regress/ws-cleanup.sh: a client killed mid-command leaves nothing behind:
#	the workspace processes end, the child exits, workspaced keeps serving.

tid="ws-cleanup: kill -9 of the client ends the workspace processes (exec, pty, forward)"
. "$(dirname "$0")/test-exec.sh"
. "$(dirname "$0")/ws-lib.sh"

ws_setup

# sleeps_tagged TAG: the sleep processes (comm "sleep") whose argument is TAG.
sleeps_tagged() {
	for _st_p in $(pids_with_cmdline "sleep $1"); do
		[ "$(cat "/proc/$_st_p/comm" 2>/dev/null)" = sleep ] && echo "$_st_p"
	done
}
no_sleeps_tagged() {
	[ -z "$(sleeps_tagged "$1")" ]
}
some_sleeps_tagged() {
	[ -n "$(sleeps_tagged "$1")" ]
}

# The ssh process under the background job PID (ssh_cmd runs it under timeout).
ssh_pid_under() {
	for _sp_p in $1 $(proc_descendants "$1"); do
		[ "$(cat "/proc/$_sp_p/comm" 2>/dev/null)" = ssh ] && echo "$_sp_p"
	done
}

for how in exec pty; do
	tag=1000.$(rand_tag)
	case $how in
	exec) ssh_cmd alice "sleep $tag" </dev/null >/dev/null 2>&1 & ;;
	pty) ssh_cmd alice -tt "sleep $tag" </dev/null >/dev/null 2>&1 & ;;
	esac
	job=$!
	track_pid $job
	wait_for 15 some_sleeps_tagged "$tag" || fatal "$how: 'sleep $tag' did not start within 15 s"
	client=$(ssh_pid_under "$job")
	[ -n "$client" ] || fatal "$how: no ssh process under job $job"
	child=$(the_child) || fatal "$how: no child"
	verbose "$how: sleep $(sleeps_tagged "$tag"), ssh $client, child $child"
	kill -9 "$client"
	wait_for 10 no_sleeps_tagged "$tag" ||
		fail "$how: 'sleep $tag' still running 10 s after the client was killed: pids $(sleeps_tagged "$tag")"
	wait_for 10 pid_dead "$child" || fail "$how: child $child still running after the client was killed"
	wait "$job" 2>/dev/null
done

# A forward: the process behind a -W (socat to a listener) ends too.
tag=$(rand_tag)
PORT=$(free_port)
socat "TCP-LISTEN:$PORT,bind=$LOOPBACK,reuseaddr" "EXEC:sleep 1000.$tag" >/dev/null 2>&1 &
track_pid $!
wait_for 10 port_listening "$PORT" || fatal "socat did not listen"
mkfifo "$SCRATCH/hold" || fatal "mkfifo"
sleep 60 >"$SCRATCH/hold" &
track_pid $!
ssh_cmd alice -W "$LOOPBACK:$PORT" <"$SCRATCH/hold" >/dev/null 2>&1 &
job=$!
track_pid $job
wait_for 15 some_sleeps_tagged "1000.$tag" || fatal "-W: the forwarded connection was not made"
child=$(the_child) || fatal "-W: no child"
kill -9 "$(ssh_pid_under "$job")"
wait_for 10 pid_dead "$child" || fail "-W: child $child still running after the client was killed"
# socat's EXEC child ends when the TCP connection (held by workspaced) closes.
wait_for 10 no_sleeps_tagged "1000.$tag" ||
	fail "-W: the forwarded TCP connection is still open 10 s after the client was killed"

pid_alive "$WS_PID" || fail "workspaced died"
wait_for 5 ws_no_processes || fail "processes left under workspaced: $(ws_list_processes)"
ssh_try alice 'echo alive'
expect_rc "a new login afterwards" 0
expect_file "a new login afterwards" "$SCRATCH/ssh.out" "alive"
