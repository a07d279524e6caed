#	regress/ws-slowreader.sh: a command in the workspace that does not read its
#	stdin for a while, under a 256 MiB upload. The pause must reach the client
#	(pipes -> workspaced -> gRPC flow control -> the SSH window) instead of
#	piling up in the proxy: the client's producer stays blocked, the child's
#	peak RSS stays bounded and it does not spin; then every byte arrives.

tid="ws-slowreader: a command that reads late pauses an upload end to end, then gets every byte"
. "$(dirname "$0")/test-exec.sh"
. "$(dirname "$0")/ws-lib.sh"

N=268435399
PAUSE_S=4
SSH_TIMEOUT=300
ws_setup

session_open up alice
child=$(the_child) || fatal "no child for the session"

mkfifo "$SCRATCH/src.fifo" || fatal "mkfifo"
head -c $N /dev/zero >"$SCRATCH/src.fifo" &
producer=$!
track_pid $producer
(timeout "$SSH_TIMEOUT" "$SSH" -F /dev/null -o ControlMaster=no \
    -o ControlPath="$SCRATCH/ctl.up" -o BatchMode=yes -o LogLevel=ERROR \
    "$HOSTKEY_ALIAS" "sleep $PAUSE_S; wc -c" <"$SCRATCH/src.fifo" \
    >"$SCRATCH/up.out" 2>"$SCRATCH/up.err") &
uploader=$!
track_pid $uploader

# Unthrottled, 256 MiB leave in well under a second; give every buffer on the
# way a second to fill, then watch for two more while the command sleeps.
sleep 1
t0=$(cpu_ticks "$child")
sleep 2
t1=$(cpu_ticks "$child")
hwm=$(proc_status "$child" VmHWM)
verbose "while the command slept: producer alive: $(pid_alive $producer && echo yes || echo no), child CPU $((t1 - t0)) ticks in 2 s, peak RSS $hwm"

pid_alive $producer ||
	fail "the client's producer finished while the command was not reading: 256 MiB were buffered on the way"
[ $((t1 - t0)) -lt 60 ] ||
	fail "the child used $((t1 - t0)) CPU ticks in 2 s while the upload was paused"
expect_rss_below "$hwm" "with a command not reading"

wait $uploader
expect_file "upload after the command read: bytes it counted" "$SCRATCH/up.out" "$N"
pid_alive "$child" || fail "the child ended"
session_close up
