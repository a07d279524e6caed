#	regress/ws-streamlocal.sh: direct-streamlocal@openssh.com (ssh -L local.sock:
#	remote.sock): a Unix echo server in the workspace, reached through the proxy.

tid="ws-streamlocal: ssh -L /local.sock:/workspace.sock to a Unix echo server"
. "$(dirname "$0")/test-exec.sh"
. "$(dirname "$0")/ws-lib.sh"

require_cmd socat
ws_setup

WSOCK=$SCRATCH/ws-echo.sock
LSOCK=$SCRATCH/local.sock
socat "UNIX-LISTEN:$WSOCK,fork" EXEC:cat >"$SCRATCH/echo.log" 2>&1 &
track_pid $!
wait_for 10 test -S "$WSOCK" || fatal "the echo server did not create $WSOCK"

ssh_cmd -L DEBUG1 alice -N -o ExitOnForwardFailure=yes -L "$LSOCK:$WSOCK" </dev/null \
    >"$SCRATCH/fwd.out" 2>"$SCRATCH/fwd.log" &
fwd=$!
track_pid $fwd
wait_for 15 test -S "$LSOCK" ||
	fatal "ssh did not create $LSOCK: $(grep -v '^debug' "$SCRATCH/fwd.log" | tail -n 3)"

# echo_via SOCK FILE HOLD: sends FILE, keeps the write side open HOLD seconds
# (no half-close: the echo must come back while the stream is open).
echo_via() {
	(cat "$2"; sleep "$3") | timeout 30 socat - "UNIX-CONNECT:$1"
}

printf 'hello-%s\n' "$$" >"$SCRATCH/small"
got=$(echo_via "$LSOCK" "$SCRATCH/small" 1)
expect_eq "small echo" "$got" "hello-$$"

head -c 1048576 /dev/urandom >"$SCRATCH/big"
echo_via "$LSOCK" "$SCRATCH/big" 3 >"$SCRATCH/big.back"
expect_eq "1 MiB echo: sha256" "$(sha256_of "$SCRATCH/big.back")" "$(sha256_of "$SCRATCH/big")"

# Two at once.
echo_via "$LSOCK" "$SCRATCH/big" 3 >"$SCRATCH/big.1" &
p1=$!
echo_via "$LSOCK" "$SCRATCH/small" 2 >"$SCRATCH/small.2"
wait $p1
expect_eq "concurrent 1 MiB echo: sha256" "$(sha256_of "$SCRATCH/big.1")" "$(sha256_of "$SCRATCH/big")"
expect_file "concurrent small echo" "$SCRATCH/small.2" "hello-$$"

# A path where nothing listens: the connection is closed, the client lives on.
ssh_cmd alice -N -o ExitOnForwardFailure=yes -L "$SCRATCH/dead-local.sock:$SCRATCH/nothing.sock" \
    </dev/null >/dev/null 2>"$SCRATCH/fwd-dead.log" &
fwd2=$!
track_pid $fwd2
wait_for 15 test -S "$SCRATCH/dead-local.sock" || fatal "ssh did not create dead-local.sock"
got=$(echo_via "$SCRATCH/dead-local.sock" "$SCRATCH/small" 2)
expect_eq "socket path with no listener: nothing echoed" "$got" ""
pid_alive "$fwd2" || fail "the ssh client exited after a failed streamlocal connection"
pid_alive "$fwd" || fail "the first ssh client exited"
kill "$fwd" "$fwd2" 2>/dev/null
