#!/bin/sh
# contrib/libssh/tests/disconnect.sh: ssh_disconnect() on a server delivers its
# SSH_MSG_DISCONNECT before closing (patch 0004), so OpenSSH shows the reason.
tid="libssh disconnect message"
. "${top_srcdir:-.}/contrib/libssh/tests/test-lib.sh"

make_key ed25519 ed25519 256
for k in k1 k2 k3 k4; do
	make_key "$k" ed25519 256
done

# The server refuses three keys, then disconnects as after MaxAuthTries, right
# after the poll turn that wrote the last refusal. Before the patch the packet
# stayed in libssh's buffer when the socket closed: the client saw only EOF.
# Twenty rounds, as the loss depended on when POLLOUT had last been seen.
round=1
while [ $round -le 20 ]; do
	start_server authfail ed25519 -s "$tmp/ed25519" -a ssh-ed25519 -l 32 \
		-n 3 -m "Too many authentication failures"
	rc=0
	ssh_pubkey=yes ssh_client -o HostKeyAlgorithms=ssh-ed25519 \
		-i "$tmp/k1" -i "$tmp/k2" -i "$tmp/k3" -i "$tmp/k4" user@127.0.0.1 true \
		</dev/null >"$tmp/client.out" 2>"$tmp/client.err" || rc=$?
	srv=0
	wait_server || srv=$?
	[ $rc -eq 255 ] || fail "round $round: client exit status $rc, want 255"
	[ $srv -eq 0 ] || fail "round $round: server exit status $srv"
	# OpenSSH logs the peer's disconnect at ERROR; its lines end in CR LF.
	got=$(tr -d '\r' <"$tmp/client.err")
	want="Received disconnect from 127.0.0.1 port $port:11: Too many authentication failures"
	[ "$got" = "$want" ] || fail "round $round: client logged '$got', want '$want'"
	[ "$(cat "$tmp/server.out")" = "opens=0
pubkey_msgs=3
sign_calls=1" ] || fail "round $round: server reported '$(cat "$tmp/server.out")'"
	round=$((round + 1))
done
trace "20 rounds: the client got the reason every time"

trace "ok"
