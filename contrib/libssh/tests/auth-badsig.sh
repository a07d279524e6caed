#!/bin/sh
# contrib/libssh/tests/auth-badsig.sh: a signed publickey request that fails
# (bad signature, undecodable key) is answered with SSH_MSG_USERAUTH_FAILURE
# listing the methods (patch 0005); the application never sees it.
tid="libssh publickey failure reply"
. "${top_srcdir:-.}/contrib/libssh/tests/test-lib.sh"

make_key ed25519 ed25519 256

# badsig_case WHAT KIND: the server answers the client's "none" request only
# by feeding libssh a forged publickey request of KIND; the refusal of that
# request is the one reply the client gets. Without it the client waits.
badsig_case() {
	trace "$1"
	start_server badsig ed25519 -s "$tmp/ed25519" -a ssh-ed25519 -l 32 -b "$2"
	rc=0
	ssh_client -o HostKeyAlgorithms=ssh-ed25519 user@127.0.0.1 true \
		</dev/null >"$tmp/client.out" 2>"$tmp/client.err" || rc=$?
	srv=0
	wait_server || srv=$?
	[ $rc -eq 255 ] || fail "$1: client exit status $rc, want 255"
	[ $srv -eq 0 ] || fail "$1: server exit status $srv"
	got=$(tr -d '\r' <"$tmp/client.err")
	[ "$got" = "user@127.0.0.1: Permission denied (publickey)." ] ||
		fail "$1: client logged '$got'"
	[ "$(cat "$tmp/server.out")" = "opens=0
pubkey_msgs=0
sign_calls=1" ] || fail "$1: server reported '$(cat "$tmp/server.out")'"
}

badsig_case "signature that does not verify" sig
badsig_case "key of an unknown type" key

trace "ok"
