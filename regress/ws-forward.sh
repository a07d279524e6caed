#	regress/ws-forward.sh: direct-tcpip through the workspace: ssh -L to a loopback
#	HTTP server, ssh -W as a ProxyCommand (VS Code's way in), ssh -D (SOCKS), and
#	server.maxDirectTCPIPConnections.

tid="ws-forward: -L to an HTTP server, -W as ProxyCommand, -D with curl --socks5-hostname, direct-tcpip limit"
. "$(dirname "$0")/test-exec.sh"
. "$(dirname "$0")/ws-lib.sh"

require_cmd curl python3 socat
# The ssh -N forwards below live longer than one command's default bound.
SSH_TIMEOUT=180
# Per-connection limit on direct-tcpip channels (checked at the end).
MAXFWD=6
WS_SERVER_EXTRA="  maxDirectTCPIPConnections: $MAXFWD"
ws_setup

# The HTTP server in the "workspace" (this machine), serving one known file.
mkdir -p "$SCRATCH/www"
head -c 3000000 /dev/urandom >"$SCRATCH/www/blob.bin"
want=$(sha256_of "$SCRATCH/www/blob.bin")
echo "hello-$$" >"$SCRATCH/www/hello.txt"
HTTP_PORT=$(free_port)
python3 -m http.server --bind "$LOOPBACK" --directory "$SCRATCH/www" "$HTTP_PORT" \
    >"$SCRATCH/http.log" 2>&1 &
track_pid $!
wait_for 10 port_listening "$HTTP_PORT" || fatal "the HTTP server did not listen on $HTTP_PORT"

# fwd_open NAME SSH-ARGS...: ssh -N with forwards; waits for its local port.
fwd_open() {
	_fo_n=$1
	_fo_p=$2
	shift 2
	ssh_cmd -L DEBUG1 alice -N -o ExitOnForwardFailure=yes "$@" </dev/null \
	    >"$SCRATCH/fwd.$_fo_n.out" 2>"$SCRATCH/fwd.$_fo_n.log" &
	eval "fwd_$_fo_n=\$!"
	track_pid $!
	wait_for 15 port_listening "$_fo_p" ||
		fatal "$_fo_n: local port $_fo_p not listening: $(grep -v '^debug' "$SCRATCH/fwd.$_fo_n.log" | tail -n 3)"
}

# -L: curl through the forward; the body must be the file, byte for byte.
LPORT=$(free_port)
fwd_open L "$LPORT" -L "$LPORT:$LOOPBACK:$HTTP_PORT"
got=$(curl -sS --max-time 20 "http://$LOOPBACK:$LPORT/hello.txt" 2>"$SCRATCH/curl.err")
expect_eq "-L: hello.txt" "$got" "hello-$$"
curl -sS --max-time 30 -o "$SCRATCH/blob.L" "http://$LOOPBACK:$LPORT/blob.bin" 2>"$SCRATCH/curl.err" ||
	fail "-L: curl blob.bin failed: $(cat "$SCRATCH/curl.err")"
expect_eq "-L: sha256 of blob.bin" "$(sha256_of "$SCRATCH/blob.L" 2>/dev/null)" "$want"
# Several at once over the same connection.
for i in 1 2 3 4 5; do
	curl -sS --max-time 30 -o "$SCRATCH/par.$i" "http://$LOOPBACK:$LPORT/blob.bin" 2>/dev/null &
	eval "par_$i=\$!"
done
for i in 1 2 3 4 5; do
	eval "wait \$par_$i" || fail "-L: parallel fetch $i failed"
	expect_eq "-L: parallel fetch $i sha256" "$(sha256_of "$SCRATCH/par.$i" 2>/dev/null)" "$want"
done
# A destination nobody listens on: the channel ends, curl gets no response.
DEAD_PORT=$(free_port)
LPORT2=$(free_port)
kill "$fwd_L" 2>/dev/null
fwd_open L2 "$LPORT2" -L "$LPORT2:$LOOPBACK:$DEAD_PORT"
curl -sS --max-time 10 "http://$LOOPBACK:$LPORT2/" >"$SCRATCH/dead.out" 2>"$SCRATCH/curl.err"
rc=$?
[ "$rc" = 52 ] || [ "$rc" = 56 ] ||
	fail "-L to a closed port: curl exit $rc, expected 52 or 56 (empty reply / connection reset): $(cat "$SCRATCH/curl.err")"
pid_alive "$fwd_L2" || fail "-L to a closed port: the ssh client exited"
kill "$fwd_L2" 2>/dev/null

# -W as a ProxyCommand: an HTTP request over stdio, then a second SSH login
# tunnelled through the workspace back to the proxy itself.
# stdin stays open until the server has answered: the client's EOF ends a
# forward at once (spec/k8shelld.md PortForward), with no half-close.
printf 'GET /hello.txt HTTP/1.0\r\nHost: x\r\n\r\n' >"$SCRATCH/req.txt"
mkfifo "$SCRATCH/req.fifo" || fatal "mkfifo"
(cat "$SCRATCH/req.txt"; sleep 15) >"$SCRATCH/req.fifo" &
track_pid $!
start=$(now_ms)
ws_run "$SCRATCH/req.fifo" alice -W "$LOOPBACK:$HTTP_PORT"
took=$(($(now_ms) - start))
# The server's close ends the channel: ssh does not wait for its stdin.
[ "$took" -lt 10000 ] || fail "-W: ssh ran $took ms; the server's close should end it"
expect_rc "-W HTTP request" 0
head -n 1 "$SCRATCH/ssh.out" | grep -q "^HTTP/1.0 200" ||
	fail "-W: no 'HTTP/1.0 200' status line: $(head -n 1 "$SCRATCH/ssh.out")"
expect_eq "-W: body" "$(tail -n 1 "$SCRATCH/ssh.out")" "hello-$$"

ws_ssh_script "$SCRATCH/ssh-w.sh"
ssh_try alice -o ProxyCommand="$SCRATCH/ssh-w.sh -W $LOOPBACK:$PROXY_PORT" 'echo via-jump'
expect_rc "ProxyCommand ssh -W" 0
expect_file "ProxyCommand ssh -W" "$SCRATCH/ssh.out" "via-jump"

# -D: SOCKS5 with the name resolved on the far side (localhost).
DPORT=$(free_port)
fwd_open D "$DPORT" -D "$LOOPBACK:$DPORT"
got=$(curl -sS --max-time 20 --socks5-hostname "$LOOPBACK:$DPORT" \
    "http://localhost:$HTTP_PORT/hello.txt" 2>"$SCRATCH/curl.err")
expect_eq "-D: hello.txt via socks5-hostname" "$got" "hello-$$"
curl -sS --max-time 30 --socks5-hostname "$LOOPBACK:$DPORT" -o "$SCRATCH/blob.D" \
    "http://$LOOPBACK:$HTTP_PORT/blob.bin" 2>"$SCRATCH/curl.err" ||
	fail "-D: curl blob.bin failed: $(cat "$SCRATCH/curl.err")"
expect_eq "-D: sha256 of blob.bin" "$(sha256_of "$SCRATCH/blob.D" 2>/dev/null)" "$want"
kill "$fwd_D" 2>/dev/null

# server.maxDirectTCPIPConnections: MAXFWD held forwards work, one more is
# refused (resource shortage, spec/flows.md §5), and once one ends a new one works.
ECHO_PORT=$(free_port)
socat "TCP-LISTEN:$ECHO_PORT,bind=$LOOPBACK,reuseaddr,fork" EXEC:cat >/dev/null 2>&1 &
track_pid $!
wait_for 10 port_listening "$ECHO_PORT" || fatal "the echo server did not listen"
LPORT3=$(free_port)
fwd_open M "$LPORT3" -L "$LPORT3:$LOOPBACK:$ECHO_PORT"
# hold N SECONDS: a connection through the forward that sends "ping-N" and
# stays open SECONDS; what comes back is in $SCRATCH/hold.N.
# One process per hold (sh -c), so kill_tree ends all of it and does not
# wait for a pipeline's sleep.
hold() {
	sh -c '(echo "ping-$1"; sleep "$2") | timeout 60 socat - "TCP:$3"' sh "$1" "$2" "$LOOPBACK:$LPORT3" \
	    >"$SCRATCH/hold.$1" 2>/dev/null &
	eval "hold_$1=\$!"
	track_pid $!
}
held() {
	grep -q "^ping-$1\$" "$SCRATCH/hold.$1" 2>/dev/null
}
i=0
while [ "$i" -lt "$MAXFWD" ]; do
	i=$((i + 1))
	hold "$i" 30
	wait_for 15 held "$i" || fatal "limit: forward $i of $MAXFWD got no echo"
done
over=$((MAXFWD + 1))
hold "$over" 3
wait_for 10 grep -q "open failed" "$SCRATCH/fwd.M.log"
grep -q "open failed: resource shortage: maximum direct-tcpip connections exceeded ($MAXFWD)" "$SCRATCH/fwd.M.log" ||
	fail "limit: no 'open failed: resource shortage: maximum direct-tcpip connections exceeded ($MAXFWD)': $(grep 'open failed' "$SCRATCH/fwd.M.log")"
held "$over" && fail "limit: forward $over of $MAXFWD was served"
# One ends; the next is served again.
kill_tree "$hold_1"
next=$((MAXFWD + 2))
sleep 1
hold "$next" 30
wait_for 15 held "$next" || fail "limit: after one forward ended, a new one got no echo"
kill "$fwd_M" 2>/dev/null
