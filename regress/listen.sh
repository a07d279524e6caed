#	regress/listen.sh: server.listenAddress as a list binds every address in it
#	(IPv4 and IPv6 loopback); logins work on each.

tid="listen: listenAddress list, IPv4 and IPv6 loopback"
. "$(dirname "$0")/test-exec.sh"

grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null ||
	skip "no IPv6 loopback address (::1)"

make_hostkey ed25519
make_user alice
LISTEN_ADDRESS='["127.0.0.1", "::1"]'
start_proxy
two_lines() {
	[ "$(grep -c "listening on .*$PROXY_PORT" "$PROXY_LOG")" -ge 2 ]
}
wait_for 5 two_lines

# hex port in /proc/net/tcp6 for ::1 (four little-endian words: 0 0 0 1)
port6=$(printf '%04X' "$PROXY_PORT")
awk -v a="00000000000000000000000001000000:$port6" 'FNR > 1 && $2 == a && $4 == "0A" { f = 1 }
    END { exit !f }' /proc/net/tcp6 || fail "nothing listens on [::1]:$PROXY_PORT"
port4=$(printf '0100007F:%04X' "$PROXY_PORT")
awk -v a="$port4" 'FNR > 1 && $2 == a && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp ||
	fail "nothing listens on 127.0.0.1:$PROXY_PORT"
n=$(grep -c "listening on .*$PROXY_PORT" "$PROXY_LOG")
[ "$n" = 2 ] || fail "expected 2 'listening on' lines, found $n"

LOOPBACK=127.0.0.1
expect_login "over IPv4" alice true
LOOPBACK=::1
expect_login "over IPv6" alice true
grep -q "connection from ::1" "$PROXY_LOG" || grep -q "connection from \[::1\]" "$PROXY_LOG" ||
	fail "no 'connection from ::1' in the proxy log"
LOOPBACK=127.0.0.1
stop_proxy
