#!/bin/sh
# contrib/libssh/tests/data-path.sh: bytes sent and received through the copy-free data path
# (patches 0006-0008) arrive intact, with every cipher family, MAC mode and callback appetite.
tid="libssh data path"
. "${top_srcdir:-.}/contrib/libssh/tests/test-lib.sh"

for tool in sha256sum cmp socat; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not found"; exit 77; }
done

make_key ed25519 ed25519 256
# A few MiB that end mid-packet, random so that a misplaced byte shows.
size=$((3 * 1024 * 1024 + 12345))
head -c "$size" /dev/urandom >"$tmp/data" || fail "cannot make the test data"
want=$(sha256sum <"$tmp/data" | cut -d ' ' -f 1)

# server CONSUME: a transfer server whose data callbacks take all, none or
# parts. With slow=1 its socket is nonblocking with a small send buffer and
# the client connects through socat with a small receive buffer: writes after
# POLLOUT come out short and the rest is queued.
server() {
	start_server transfer ed25519 -s "$tmp/ed25519" -a ssh-ed25519 -l 32 -c "$1" \
		${slow:+-N} ${queue:+-Q $queue}
}

# finish WHAT: the server must have ended well after one channel.
finish() {
	srv=0
	wait_server || srv=$?
	[ $srv -eq 0 ] || fail "$1: server exit status $srv"
	grep -q '^opens=1$' "$tmp/server.out" || fail "$1: server reported '$(cat "$tmp/server.out")'"
}

# up CONSUME CIPHER MAC [ssh options...]: the client's stdin, hashed by the server.
up() {
	consume=$1 cipher=$2 mac=$3
	shift 3
	server "$consume"
	rc=0
	ssh_client -o HostKeyAlgorithms=ssh-ed25519 -o Ciphers="$cipher" -o MACs="$mac" \
		"$@" user@127.0.0.1 sink <"$tmp/data" >"$tmp/client.out" 2>"$tmp/client.err" || rc=$?
	[ $rc -eq 0 ] || fail "up $cipher $mac $consume: client exit status $rc"
	got=$(tr -d '\r' <"$tmp/client.out")
	[ "$got" = "bytes=$size sha256=$want" ] ||
		fail "up $cipher $mac $consume: server got '$got', want 'bytes=$size sha256=$want'"
	finish "up $cipher $mac $consume"
	calls=$(sed -n 's/.*data callback calls \([0-9]*\/[0-9]*\).*/\1/p' "$tmp/server.err")
	case $consume/$calls in
	all/0/0 | partial/*/0 | none/[1-9]*) fail "up $cipher $consume: data callback calls $calls" ;;
	esac
	trace "up   $cipher $mac${*:+ $*} ($consume, callback calls $calls): ok"
}

# down COMMAND CIPHER MAC [ssh options...]: the server's stdout (or stderr), compared.
down() {
	cmd=$1 cipher=$2 mac=$3
	shift 3
	server all
	rc=0
	if [ "$cmd" = send-stderr ]; then
		ssh_client -o HostKeyAlgorithms=ssh-ed25519 -o Ciphers="$cipher" -o MACs="$mac" \
			"$@" user@127.0.0.1 "$cmd $tmp/data" </dev/null >"$tmp/client.out" \
			2>"$tmp/down" || rc=$?
		[ ! -s "$tmp/client.out" ] || fail "down $cmd: stdout got data"
	elif [ -n "${slow:-}" ]; then
		ssh_client -o HostKeyAlgorithms=ssh-ed25519 -o Ciphers="$cipher" -o MACs="$mac" \
			-o ProxyCommand="socat - TCP:127.0.0.1:%p,rcvbuf=4096" \
			"$@" user@127.0.0.1 "$cmd $tmp/data" </dev/null >"$tmp/down" \
			2>"$tmp/client.err" || rc=$?
	else
		ssh_client -o HostKeyAlgorithms=ssh-ed25519 -o Ciphers="$cipher" -o MACs="$mac" \
			"$@" user@127.0.0.1 "$cmd $tmp/data" </dev/null >"$tmp/down" \
			2>"$tmp/client.err" || rc=$?
	fi
	[ $rc -eq 0 ] || fail "down $cmd $cipher $mac: client exit status $rc"
	cmp -s "$tmp/data" "$tmp/down" ||
		fail "down $cmd $cipher $mac: got $(wc -c <"$tmp/down") bytes," \
			"sha256 $(sha256sum <"$tmp/down" | cut -d ' ' -f 1), want $size, $want"
	finish "down $cmd $cipher $mac"
	trace "down $cipher $mac${*:+ $*} ($cmd${slow:+, short writes}): ok"
}

# AEAD ciphers (the MAC is implied), CTR and CBC with MAC-then-encrypt and
# encrypt-then-MAC, and the 8-byte blocks of 3DES.
for alg in aes128-gcm@openssh.com:hmac-sha2-256 aes256-gcm@openssh.com:hmac-sha2-256 \
	chacha20-poly1305@openssh.com:hmac-sha2-256 aes128-ctr:hmac-sha2-256 \
	aes128-ctr:hmac-sha2-256-etm@openssh.com aes256-ctr:hmac-sha2-512-etm@openssh.com \
	aes256-cbc:hmac-sha2-512 aes128-cbc:hmac-sha1-etm@openssh.com 3des-cbc:hmac-sha1; do
	cipher=${alg%%:*} mac=${alg#*:}
	up partial "$cipher" "$mac"
	down send "$cipher" "$mac"
done

# What the callbacks take: everything, nothing (no data callback at all).
up all aes128-gcm@openssh.com hmac-sha2-256
up none aes128-gcm@openssh.com hmac-sha2-256
# Extended data (stderr) down; short writes and queued packets.
down send-stderr chacha20-poly1305@openssh.com hmac-sha2-256
slow=1 down send aes128-ctr hmac-sha2-256-etm@openssh.com
slow=1 down send aes256-gcm@openssh.com hmac-sha2-256
# Writing ahead of a slow socket (patch 0010): the queue grows, stays bounded
# by what ssh_get_pending_output() reports, and every byte arrives in order.
queue=65536
slow=1 down send aes128-gcm@openssh.com hmac-sha2-256
peak=$(sed -n 's/.*queue peak \([0-9]*\).*/\1/p' "$tmp/server.err")
[ -n "$peak" ] && [ "$peak" -gt 0 ] ||
	fail "write-ahead: libssh reported no queued bytes ($(tail -n 1 "$tmp/server.err"))"
# One write (patch-server's SEND_CHUNK, 100000 bytes, and its packets'
# headers and MACs) can land on a queue just under the bound.
[ "$peak" -le $((queue + 100000 + 1024)) ] ||
	fail "write-ahead: $peak bytes queued, bound $queue"
trace "write-ahead: queue peak $peak (bound $queue)"
queue=
# Rekeys while data flows (packets are queued during the exchange) and
# compression, which rewrites the packet buffer.
up partial chacha20-poly1305@openssh.com hmac-sha2-256 -o RekeyLimit=256K
down send aes128-ctr hmac-sha2-256 -o RekeyLimit=256K
up partial aes128-gcm@openssh.com hmac-sha2-256 -o Compression=yes
down send aes128-gcm@openssh.com hmac-sha2-256 -o Compression=yes

trace "ok"
