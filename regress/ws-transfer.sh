#	regress/ws-transfer.sh: bulk exec transfers: 64 MiB each way (sha256 match)
#	and 1 GiB each way through one connection with the child's peak RSS bounded.

tid="ws-transfer: 64 MiB each way with sha256, 1 GiB each way with bounded child RSS"
. "$(dirname "$0")/test-exec.sh"
. "$(dirname "$0")/ws-lib.sh"

SSH_TIMEOUT=300
# --debug: the child logs at its end how often the client's socket got
# SO_RCVLOWAT (child/rcvlowat.c), checked after the uploads.
WS_PROXY_ARGS=--debug
ws_setup

head -c 67108864 /dev/urandom >"$SCRATCH/src.bin" || fatal "cannot make the 64 MiB file"
want=$(sha256_of "$SCRATCH/src.bin")

ws_run "$SCRATCH/src.bin" alice "cat >'$SCRATCH/up.bin'"
expect_rc "64 MiB upload" 0
expect_eq "64 MiB upload: sha256 of the written file" "$(sha256_of "$SCRATCH/up.bin")" "$want"
rm -f "$SCRATCH/up.bin"
# The upload streamed: its connection's child set the mark at least once,
# and the stream's last bytes (below it) still arrived (the sha256 above).
wait_for 10 grep -q "SO_RCVLOWAT set [0-9]* times" "$PROXY_LOG" ||
	fail "no 'SO_RCVLOWAT set N times' from the upload's child"
n=$(sed -n 's/.*SO_RCVLOWAT set \([0-9]*\) times.*/\1/p' "$PROXY_LOG" | head -n 1)
[ "${n:-0}" -gt 0 ] || fail "the upload's child never set SO_RCVLOWAT (${n:-none})"
verbose "64 MiB upload: SO_RCVLOWAT set $n times"

ssh_try alice "cat '$SCRATCH/src.bin'"
expect_rc "64 MiB download" 0
expect_eq "64 MiB download: sha256" "$(sha256_of "$SCRATCH/ssh.out")" "$want"
rm -f "$SCRATCH/ssh.out" "$SCRATCH/src.bin"

# 1 GiB each way over one connection, so one child serves both; its VmHWM is
# read while the connection is still open.
session_open big alice
child=$(the_child) || fatal "no child for the session"
before=$(proc_status "$child" VmHWM)

mkfifo "$SCRATCH/zero.fifo" || fatal "mkfifo"
head -c 1073741824 /dev/zero >"$SCRATCH/zero.fifo" &
track_pid $!
mux_run big "$SCRATCH/zero.fifo" 'wc -c'
expect_rc "1 GiB upload" 0
expect_file "1 GiB upload: bytes the command read" "$SCRATCH/ssh.out" "1073741824"
verbose "child $child VmHWM after the 1 GiB upload: $(proc_status "$child" VmHWM)"

timeout "$SSH_TIMEOUT" "$SSH" -F /dev/null -o ControlMaster=no -o ControlPath="$SCRATCH/ctl.big" \
    -o BatchMode=yes -o LogLevel=ERROR "$HOSTKEY_ALIAS" 'head -c 1073741824 /dev/zero' \
    </dev/null 2>"$SCRATCH/ssh.err" | wc -c >"$SCRATCH/ssh.out"
expect_file "1 GiB download: bytes received" "$SCRATCH/ssh.out" "1073741824"

pid_alive "$child" || fatal "the child $child ended during the transfers"
after=$(proc_status "$child" VmHWM)
verbose "child $child VmHWM: $before before, $after after the 1 GiB download"
expect_rss_below "$after" "after 1 GiB each way (before: $before)"
session_close big
