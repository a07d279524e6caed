#	regress/ws-stall.sh: a client that stops reading (SIGSTOP) in the middle of
#	twelve downloads on one connection (through socat with a 64 KiB receive
#	buffer, so megabytes wait in the proxy's socket). The pause must reach the
#	commands in the workspace (SSH windows -> gRPC flow control -> pipes)
#	instead of piling up in the proxy: its child's peak RSS stays bounded and it
#	does not spin. Its loop must keep serving the gRPC connection: workspaced
#	pings every second here and drops a proxy that does not answer within a
#	second, which would end every download. Once the client reads again every
#	byte arrives. (A child stuck in a blocking send() is what that guards
#	against; loopback does not get there reliably, see child.c.)

tid="ws-stall: a stopped client pauses 12 downloads end to end (bounded RSS, gRPC still served), then gets every byte"
. "$(dirname "$0")/test-exec.sh"
. "$(dirname "$0")/ws-lib.sh"

# Odd sizes tell our commands from those of scenarios running alongside.
N=67108859
CHANNELS=12
STALL_S=3
SSH_TIMEOUT=300
WS_ARGS="--keepalive-ms 1000"
ws_setup

require_cmd socat
session_open st alice -o "ProxyCommand=socat - TCP:$LOOPBACK:$PROXY_PORT,rcvbuf=65536"
child=$(the_child) || fatal "no child for the session"
# The ssh process itself (session_pid may be the shell that started it).
master=$("$SSH" -F /dev/null -o ControlPath="$SCRATCH/ctl.st" -O check "$HOSTKEY_ALIAS" 2>&1 |
    sed -n 's/.*(pid=\([0-9][0-9]*\)).*/\1/p')
[ -n "$master" ] || fatal "no pid from ssh -O check"

dl_pids=
i=1
while [ $i -le $CHANNELS ]; do
	(timeout "$SSH_TIMEOUT" "$SSH" -F /dev/null -o ControlMaster=no \
	    -o ControlPath="$SCRATCH/ctl.st" -o BatchMode=yes -o LogLevel=ERROR \
	    "$HOSTKEY_ALIAS" "head -c $N /dev/zero" </dev/null 2>"$SCRATCH/dl$i.err" |
	    wc -c >"$SCRATCH/dl$i.out") &
	dl_pids="$dl_pids $!"
	track_pid $!
	i=$((i + 1))
done

# The commands in the workspace (the ssh clients name them too).
heads() {
	_h=0
	for _p in $(proc_descendants "$WS_PID"); do
		case $(proc_cmdline "$_p") in
		"head -c $N /dev/zero"*) _h=$((_h + 1)) ;;
		esac
	done
	echo $_h
}
all_started() {
	[ "$(heads)" -eq $CHANNELS ]
}
wait_for 30 all_started ||
	fatal "the $CHANNELS downloads did not all start: $(heads) running"
# Each sends 64 MiB; stop the client while they are well under way.
sleep 0.3
kill -STOP "$master"
verbose "client $master stopped with $(heads) downloads running"

# Let every buffer on the way fill, then watch the child for STALL_S seconds:
# 4 s in all, two of workspaced's keepalive deadlines.
sleep 1
t0=$(cpu_ticks "$child")
sleep "$STALL_S"
t1=$(cpu_ticks "$child")
running=$(heads)
hwm=$(proc_status "$child" VmHWM)
kill -CONT "$master"
verbose "during the stall: child CPU $((t1 - t0)) ticks in ${STALL_S} s, peak RSS $hwm, $running downloads still running"

# All stalled: the commands wait to write, none could hand its 64 MiB off
# to a buffer somewhere on the way.
[ "$running" -eq $CHANNELS ] ||
	fail "only $running of $CHANNELS commands still running while the client was stopped: their output was buffered on the way"
# A child waiting in poll uses next to nothing; one spinning uses all 3 s.
[ $((t1 - t0)) -lt $((STALL_S * 100 / 3)) ] ||
	fail "the child used $((t1 - t0)) CPU ticks in the ${STALL_S} s the client was stopped"
expect_rss_below "$hwm" "with a stopped client"

for p in $dl_pids; do
	wait "$p"
done
i=1
while [ $i -le $CHANNELS ]; do
	expect_file "download $i after the client resumed: bytes" "$SCRATCH/dl$i.out" "$N"
	i=$((i + 1))
done
pid_alive "$child" || fail "the child ended"
session_close st
