#	regress/ws-signal.sh: the `signal` channel request (sent by regress/ws-sigclient,
#	as OpenSSH's ssh has no way to) reaches a running exec in the workspace.

tid="ws-signal: signal TERM/INT/HUP to a running exec ends it with the right status"
. "$(dirname "$0")/test-exec.sh"
. "$(dirname "$0")/ws-lib.sh"

ws_need_sigclient
ws_setup

# sig_run SIGNAL COMMAND: runs COMMAND, sends SIGNAL once it printed "ready";
# output (the command's stdout, then how it ended) in $SCRATCH/sig.out.
sig_run() {
	"$WS_SIGCLIENT" -t 30 -p "$PROXY_PORT" -l "$WS_LOGIN" -i "$SCRATCH/user_alice" \
	    -K "$SCRATCH/host_ed25519.pub" -w ready -s "$1" "$2" \
	    >"$SCRATCH/sig.out" 2>"$SCRATCH/sig.err"
	SIG_RC=$?
	trace "sigclient $1 '$2' -> $SIG_RC: $(tr '\n' '|' <"$SCRATCH/sig.out")"
}

# A plain command killed by the signal: status 128+N (the workspace reports
# it), or exit-signal NAME if the proxy turns it into one.
for sig in TERM:15 INT:2 HUP:1 KILL:9; do
	name=${sig%%:*}
	num=${sig##*:}
	start=$(now_ms)
	sig_run "$name" 'echo ready; exec sleep 100'
	took=$(($(now_ms) - start))
	[ "$SIG_RC" = 0 ] || fail "SIG$name: ws-sigclient exit $SIG_RC: $(cat "$SCRATCH/sig.err")"
	got=$(tr '\n' '|' <"$SCRATCH/sig.out")
	case $got in
	"ready|exit-status $((128 + num))|"|"ready|exit-signal $name|") ;;
	*) fail "SIG$name: got '$got', expected 'ready|exit-status $((128 + num))|' or 'ready|exit-signal $name|' ($(cat "$SCRATCH/sig.err"))" ;;
	esac
	[ "$took" -lt 15000 ] || fail "SIG$name: the command took $took ms to end"
done

# A shell that traps the signal runs its handler: the signal reached it.
sig_run TERM 'trap "echo got-term; exit 3" TERM; echo ready; while :; do sleep 0.1; done'
[ "$SIG_RC" = 0 ] || fail "trap: ws-sigclient exit $SIG_RC: $(cat "$SCRATCH/sig.err")"
expect_eq "trapped TERM" "$(tr '\n' '|' <"$SCRATCH/sig.out")" "ready|got-term|exit-status 3|"

# No process of the killed commands is left.
wait_for 5 ws_no_processes || fail "processes left under workspaced: $(ws_list_processes)"
