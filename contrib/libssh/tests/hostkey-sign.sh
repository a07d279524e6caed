#!/bin/sh
# contrib/libssh/tests/hostkey-sign.sh: a libssh server holding only public host
# keys signs every KEX and rekey through hostkey_sign_function (patch 0001).
tid="libssh hostkey_sign_function"
. "${top_srcdir:-.}/contrib/libssh/tests/test-lib.sh"

make_key ed25519 ed25519 256
make_key ecdsa256 ecdsa 256
make_key ecdsa384 ecdsa 384
make_key rsa rsa 2048
head -c 4194304 /dev/urandom >"$tmp/4m" || fail "cannot make test data"

# check KEY HOSTKEYALG KEX SIGALG DATALEN INPUT MIN_SIGNS [ssh options]:
# one connection running "exec" over INPUT; signatures come from the callback.
check() {
	key=$1 hkalg=$2 kex=$3 sigalg=$4 datalen=$5 input=$6 min_signs=$7
	shift 7
	trace "$key: $hkalg, $kex, $(wc -c <"$input") bytes $*"
	start_server sign "$key" -s "$tmp/$key" -a "$sigalg" -l "$datalen"
	rc=0
	ssh_client -o HostKeyAlgorithms="$hkalg" -o KexAlgorithms="$kex" "$@" \
		user@127.0.0.1 "probe $key" <"$input" >"$tmp/client.out" \
		2>"$tmp/client.err" || rc=$?
	srv=0
	wait_server || srv=$?
	[ $rc -eq 7 ] || fail "$key: client exit status $rc, want 7"
	[ $srv -eq 0 ] || fail "$key: server exit status $srv"
	want="exec=probe $key bytes=$(wc -c <"$input" | tr -d ' ')"
	[ "$(cat "$tmp/client.out")" = "$want" ] ||
		fail "$key: client got '$(cat "$tmp/client.out")', want '$want'"
	calls=$(sed -n 's/^sign_calls=//p' "$tmp/server.out")
	[ -n "$calls" ] || fail "$key: server did not report its sign calls"
	# Each call was checked by the server: sig_alg, datalen, public-only key.
	n=$(grep -c "sign call [0-9]*: sig_alg=$sigalg datalen=$datalen private=0\$" \
		"$tmp/server.err")
	[ "$n" = "$calls" ] || fail "$key: $n well-formed sign calls of $calls"
	if [ "$min_signs" -eq 1 ]; then
		[ "$calls" -eq 1 ] || fail "$key: $calls sign calls, want 1 (no rekey)"
	else
		[ "$calls" -ge "$min_signs" ] ||
			fail "$key: $calls sign calls, want >= $min_signs (rekeys)"
	fi
}

# Every KEX code path (curve25519.c, ecdh_crypto.c, dh.c, dh-gex.c) and key type.
check ed25519 ssh-ed25519 curve25519-sha256 ssh-ed25519 32 /dev/null 1
check ecdsa256 ecdsa-sha2-nistp256 ecdh-sha2-nistp256 ecdsa-sha2-nistp256 32 /dev/null 1
check ecdsa384 ecdsa-sha2-nistp384 ecdh-sha2-nistp384 ecdsa-sha2-nistp384 48 /dev/null 1
check rsa rsa-sha2-512 diffie-hellman-group16-sha512 rsa-sha2-512 64 /dev/null 1
check rsa rsa-sha2-256 diffie-hellman-group14-sha256 rsa-sha2-256 32 /dev/null 1
check ecdsa256 ecdsa-sha2-nistp256 diffie-hellman-group-exchange-sha256 ecdsa-sha2-nistp256 32 /dev/null 1

# Rekeys: 4 MiB with RekeyLimit=1M means at least three more key exchanges.
check ed25519 ssh-ed25519 curve25519-sha256 ssh-ed25519 32 "$tmp/4m" 4 -o RekeyLimit=1M
check ecdsa256 ecdsa-sha2-nistp256 ecdh-sha2-nistp256 ecdsa-sha2-nistp256 32 "$tmp/4m" 4 -o RekeyLimit=1M
check rsa rsa-sha2-512 curve25519-sha256 rsa-sha2-512 32 "$tmp/4m" 4 -o RekeyLimit=1M

# check_kex_fails NAME KEY HOSTKEYALG CALLS ERROR MODE [server options]: the
# server cannot produce a valid host key signature, so the KEX fails cleanly on
# both sides (no crash, client exit 255) after CALLS calls of the callback, and
# libssh reported ERROR before sending anything.
check_kex_fails() {
	name=$1 key=$2 hkalg=$3 want_calls=$4 want_error=$5 mode=$6
	shift 6
	trace "$key: $name"
	start_server "$mode" "$key" "$@"
	rc=0
	ssh_client -o HostKeyAlgorithms="$hkalg" user@127.0.0.1 true \
		</dev/null >"$tmp/client.out" 2>"$tmp/client.err" || rc=$?
	srv=0
	wait_server || srv=$?
	[ $rc -eq 255 ] || fail "$name: client exit status $rc, want 255"
	[ $srv -eq 0 ] || fail "$name: server exit status $srv"
	grep -q "^kex=failed sign_calls=$want_calls error=" "$tmp/server.out" ||
		fail "$name: server reported '$(cat "$tmp/server.out")'"
	[ ! -s "$tmp/client.out" ] || fail "$name: client printed output"
	grep -q "$want_error" "$tmp/server.err" || fail "$name: no '$want_error' logged"
}

check_kex_fails "public-only key without the callback" ed25519 ssh-ed25519 0 \
	"Could not get the public key from the private key" nosign
check_kex_fails "callback returns SSH_ERROR" ed25519 ssh-ed25519 1 \
	"Host key sign callback failed" sign \
	-s "$tmp/ed25519" -a ssh-ed25519 -l 32 -f error
check_kex_fails "callback returns a short signature" ed25519 ssh-ed25519 1 \
	"Host key sign callback returned an invalid signature" sign \
	-s "$tmp/ed25519" -a ssh-ed25519 -l 32 -f short
check_kex_fails "callback names another algorithm" rsa rsa-sha2-512 1 \
	"Host key sign callback returned an invalid signature" sign \
	-s "$tmp/rsa" -a rsa-sha2-512 -l 32 -f alg

trace "ok"
