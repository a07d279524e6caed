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
ssh_client -N -o HostKeyAlgorithms=ssh-ed25519 -o ExitOnForwardFailure=yes \
	-L "$tmp/fwd.sock:/some/remote/path" user@127.0.0.1 \
	</dev/null >"$tmp/client.out" 2>"$tmp/client.err" &
client_pid=$!
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

trace "ok"
