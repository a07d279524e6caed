#	regress/proxyproto.sh: server.proxyProtocol: a PROXY v1 header from a relay
#	sets the logged client address; no header still works; a bad one is closed.

tid="proxyproto: PROXY v1 header (whole, split, UNKNOWN), none, malformed"
. "$(dirname "$0")/test-exec.sh"
. "$(dirname "$0")/ws-lib.sh"

require_cmd socat

make_hostkey ed25519
make_user alice
start_workspaced
WS_SERVER_EXTRA="  proxyProtocol: true"
ws_config
start_proxy

# relay MODE: what a load balancer in front of the proxy does, as a
# ProxyCommand: a header (by MODE) and then the client's bytes, unchanged.
relay=$SCRATCH/relay
cat >"$relay" <<EOF
#!/bin/sh
case \$1 in
good) hdr='PROXY TCP4 203.0.113.7 127.0.0.1 40000 $PROXY_PORT\\r\\n' ;;
split) hdr= ;;
unknown) hdr='PROXY UNKNOWN\\r\\n' ;;
bad) hdr='PROXY TCP4 bad\\r\\n' ;;
none) hdr= ;;
*) echo "relay: unknown mode \$1" >&2; exit 2 ;;
esac
# The pipeline runs in the background so that this shell can let go of
# ssh's pipes: socat's exit must be ssh's end of file.
exec 3<&0
{
	printf '%b' "\$hdr"
	if [ "\$1" = split ]; then
		# The header in three writes: the child must wait for all of it.
		printf 'PRO'
		sleep 0.3
		printf 'XY TCP6 2001:db8::7 ::1 '
		sleep 0.3
		printf '40001 $PROXY_PORT\\r\\n'
	fi
	exec cat <&3
} | socat - TCP:$LOOPBACK:$PROXY_PORT &
exec 0<&- 1>&- 3<&-
wait
EOF
chmod 755 "$relay"

# login_via MODE COMMAND: runs COMMAND through the relay; SSH_RC, ssh.{out,err}.
login_via() {
	ssh_try alice -o ProxyCommand="$relay $1" "$2"
}

# connection_logged TEXT: a child logged "connection from TEXT" since the
# log had $1 lines (the second argument).
connection_logged() {
	tail -n +"$(($2 + 1))" "$PROXY_LOG" | grep -q "connection from $1"
}

# closing_logged N: since line N the child logged that it closed a
# connection for a malformed PROXY header.
closing_logged() {
	tail -n +"$(($1 + 1))" "$PROXY_LOG" | grep -q "closing: PROXY header has malformed fields"
}

log_lines() {
	wc -l <"$PROXY_LOG"
}

# A header: the child takes the client address from it.
n=$(log_lines)
login_via good "echo via-header"
expect_rc "with a PROXY header" 0
expect_file "with a PROXY header: stdout" "$SCRATCH/ssh.out" "via-header"
connection_logged "203.0.113.7 port 40000" "$n" ||
	fail "with a PROXY header: no 'connection from 203.0.113.7 port 40000' in the log: $(tail -n +"$((n + 1))" "$PROXY_LOG" | grep 'connection from')"
# The text log carries the relay as via= (JSON field) next to the client.
tail -n +"$((n + 1))" "$PROXY_LOG" | grep "connection from 203.0.113.7" | grep -q "via=127.0.0.1" ||
	fail "with a PROXY header: the relay's address is not logged as via=127.0.0.1: $(tail -n +"$((n + 1))" "$PROXY_LOG" | grep 'connection from')"

# The same header in pieces, IPv6 this time.
n=$(log_lines)
login_via split "echo split-header"
expect_rc "with a split PROXY header" 0
expect_file "with a split PROXY header: stdout" "$SCRATCH/ssh.out" "split-header"
connection_logged "2001:db8::7 port 40001" "$n" ||
	fail "with a split PROXY header: no 'connection from 2001:db8::7 port 40001' in the log: $(tail -n +"$((n + 1))" "$PROXY_LOG" | grep 'connection from')"

# PROXY UNKNOWN: the socket's own peer is kept.
n=$(log_lines)
login_via unknown "echo unknown-header"
expect_rc "with PROXY UNKNOWN" 0
expect_file "with PROXY UNKNOWN: stdout" "$SCRATCH/ssh.out" "unknown-header"
connection_logged "127.0.0.1 port" "$n" ||
	fail "with PROXY UNKNOWN: no 'connection from 127.0.0.1' in the log"

# No header at all, through the relay and directly: the peek at the first
# bytes must leave every one of them to the SSH version exchange.
for how in relay direct; do
	n=$(log_lines)
	if [ $how = relay ]; then
		login_via none "echo no-header"
	else
		ssh_try alice "echo no-header"
	fi
	expect_rc "without a header ($how)" 0
	expect_file "without a header ($how): stdout" "$SCRATCH/ssh.out" "no-header"
	connection_logged "127.0.0.1 port" "$n" ||
		fail "without a header ($how): no 'connection from 127.0.0.1' in the log"
done

# A malformed header: the connection is closed before SSH starts, and the
# child says why.
n=$(log_lines)
login_via bad "echo never"
expect_rc "with a malformed header" 255
[ ! -s "$SCRATCH/ssh.out" ] || fail "with a malformed header: output '$(head -c 100 "$SCRATCH/ssh.out")'"
wait_for 5 closing_logged "$n" ||
	fail "with a malformed header: no 'closing: PROXY header has malformed fields' in the log: $(tail -n +"$((n + 1))" "$PROXY_LOG" | grep -i 'proxy' | head -n 3)"

# The listener goes on serving.
pid_alive "$PROXY_PID" || fail "listener died after the malformed header"
login_via good "echo after-bad"
expect_rc "after the malformed header" 0
expect_file "after the malformed header: stdout" "$SCRATCH/ssh.out" "after-bad"
stop_proxy
