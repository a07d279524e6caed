#!/bin/sh
# contrib/libssh/tests/streamlocal.sh: "ssh -L sock:path" reaches a libssh server
# as a parsed SSH_CHANNEL_DIRECT_STREAMLOCAL open (patch 0002) and is echoed.
tid="libssh direct-streamlocal"
. "${top_srcdir:-.}/contrib/libssh/tests/test-lib.sh"
command -v socat >/dev/null 2>&1 || { echo "SKIP: socat not found"; exit 77; }

make_key ed25519 ed25519 256
head -c 262144 /dev/urandom >"$tmp/in" || fail "cannot make test data"

trace "ssh -N -L $tmp/fwd.sock:/some/remote/path"
start_server streamlocal ed25519 -s "$tmp/ed25519" -a ssh-ed25519 -l 32 \
	-d /some/remote/path
ssh_client_bg -N -o HostKeyAlgorithms=ssh-ed25519 -o ExitOnForwardFailure=yes \
	-L "$tmp/fwd.sock:/some/remote/path" user@127.0.0.1 \
	</dev/null >"$tmp/client.out" 2>"$tmp/client.err"
i=0
while [ ! -S "$tmp/fwd.sock" ]; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "ssh did not create the forwarded socket"
	kill -0 "$client_pid" 2>/dev/null || fail "ssh exited early"
	sleep 0.1
done

timeout 30 socat -t 10 - "UNIX-CONNECT:$tmp/fwd.sock" <"$tmp/in" >"$tmp/out" ||
	fail "socat failed"
srv=0
wait_server || srv=$?
[ $srv -eq 0 ] || fail "server exit status $srv"
cmp -s "$tmp/in" "$tmp/out" ||
	fail "echo differs: sent $(wc -c <"$tmp/in") bytes, got $(wc -c <"$tmp/out")"
# The server checked the open itself: subtype, destination, port 0.
grep -q "channel open subtype=6 destination=/some/remote/path port=0\$" "$tmp/server.err" ||
	fail "server did not log the parsed open"
[ "$(cat "$tmp/server.out")" = "opens=1
sign_calls=1" ] || fail "server reported '$(cat "$tmp/server.out")'"

# A malformed open (no reserved fields) must not reach the application and
# must be refused: libssh answers SSH_MSG_CHANNEL_OPEN_FAILURE for the sender
# channel, which OpenSSH, never having opened it, treats as fatal.
trace "malformed direct-streamlocal open"
kill "$client_pid" 2>/dev/null || true
wait "$client_pid" 2>/dev/null || true
client_pid=
start_server badopen ed25519 -s "$tmp/ed25519" -a ssh-ed25519 -l 32
rc=0
ssh_client -N -o HostKeyAlgorithms=ssh-ed25519 user@127.0.0.1 \
	</dev/null >"$tmp/client.out" 2>"$tmp/client.err" || rc=$?
srv=0
wait_server || srv=$?
[ $rc -eq 255 ] || fail "badopen: client exit status $rc, want 255"
[ $srv -eq 0 ] || fail "badopen: server exit status $srv"
# The client's reason comes back in its SSH_MSG_DISCONNECT, logged by libssh.
grep -q "SSH_MSG_DISCONNECT: 2:open failure packet referred to nonexistent channel 4242\$" \
	"$tmp/server.err" ||
	fail "badopen: the client did not get SSH_MSG_CHANNEL_OPEN_FAILURE for channel 4242"
[ "$(cat "$tmp/server.out")" = "opens=0
sign_calls=1" ] || fail "badopen: server reported '$(cat "$tmp/server.out")'"

trace "ok"
