#!/bin/sh
# contrib/libssh/tests/open-failure.sh: a channel open refused with
# ssh_message_channel_request_open_reply_failure() (patch 0003) reaches OpenSSH
# with its reason code and description; the default refusal is unchanged.
tid="libssh channel open failure reason"
. "${top_srcdir:-.}/contrib/libssh/tests/test-lib.sh"

make_key ed25519 ed25519 256

# refuse_case WHAT WANT [server options...]: ssh -W opens one direct-tcpip
# channel; the server refuses it; the client's log line must be exactly WANT.
refuse_case() {
	what=$1 want=$2
	shift 2
	trace "$what"
	start_server refuse ed25519 -s "$tmp/ed25519" -a ssh-ed25519 -l 32 "$@"
	rc=0
	# -v after the library's LogLevel=ERROR: OpenSSH logs the failure at INFO.
	ssh_client -v -o HostKeyAlgorithms=ssh-ed25519 -W 127.0.0.1:9 user@127.0.0.1 \
		</dev/null >"$tmp/client.out" 2>"$tmp/client.err" || rc=$?
	srv=0
	wait_server || srv=$?
	[ $rc -eq 255 ] || fail "$what: client exit status $rc, want 255"
	[ $srv -eq 0 ] || fail "$what: server exit status $srv"
	# OpenSSH ends its log lines with CR LF.
	got=$(tr -d '\r' <"$tmp/client.err" | grep '^channel 0: open failed: ')
	[ "$got" = "$want" ] || fail "$what: client logged '$got', want '$want'"
	# -W gives up on the failed open; the reply was sent once and worked,
	# and the same call on the userauth message was refused (SSH_ERROR).
	[ "$(cat "$tmp/server.out")" = "opens=1
refuse_rc=0
misuse_rc=-1
sign_calls=1" ] || fail "$what: server reported '$(cat "$tmp/server.out")'"
	grep -q "Not a channel open request" "$tmp/server.err" ||
		fail "$what: no error recorded for the misuse"
}

refuse_case "resource shortage with a description" \
	"channel 0: open failed: resource shortage: maximum direct-tcpip connections exceeded (15)" \
	-r 4 -t "maximum direct-tcpip connections exceeded (15)"
refuse_case "unknown channel type" \
	"channel 0: open failed: unknown channel type: channel type not supported" \
	-r 3 -t "channel type not supported"
refuse_case "connect failed without a description" \
	"channel 0: open failed: connect failed: " -r 2
# ssh_message_reply_default() goes through the new function with the old
# reason (administratively prohibited) and an empty description.
refuse_case "default reply" \
	"channel 0: open failed: administratively prohibited: " -r default

trace "ok"
