#	regress/maxstartups.sh: with maxStartups "2:100:2", two unauthenticated
#	connections make the listener drop the third at once; a slot frees on close.

tid="maxstartups: the connection over the unauthenticated limit is dropped"
. "$(dirname "$0")/test-exec.sh"

require_cmd socat

make_hostkey ed25519
make_user alice
# The idle connections must outlive the test's waits.
HANDSHAKE_TIMEOUT=60
SERVER_EXTRA='  maxStartups: "2:100:2"'
start_proxy

banner=$(expected_banner)
tcp_idle_open idle1 "$PROXY_PORT"
tcp_idle_open idle2 "$PROXY_PORT"
# A version line means a child serves the connection and the listener counts it.
wait_for 10 tcp_idle_has_banner idle1 || fatal "idle1 got no version line"
wait_for 10 tcp_idle_has_banner idle2 || fatal "idle2 got no version line"
[ "$(tcp_idle_banner idle1)" = "$banner" ] || fail "idle1 version line '$(tcp_idle_banner idle1)'"

# The third: closed at once, before any version line.
for n in 3 4; do
	t0=$(now_ms)
	timeout 10 socat -u "TCP:$LOOPBACK:$PROXY_PORT" STDOUT >"$SCRATCH/third.out" 2>"$SCRATCH/third.err"
	rc=$?
	t=$(($(now_ms) - t0))
	verbose "connection $n: socat exit $rc after $t ms, $(wc -c <"$SCRATCH/third.out") bytes"
	[ "$rc" = 124 ] && fail "connection $n over the limit was not closed within 10 s"
	[ "$t" -lt 3000 ] || fail "connection $n over the limit took $t ms to close, expected < 3000"
	[ -s "$SCRATCH/third.out" ] &&
		fail "connection $n over the limit got data: $(head -c 100 "$SCRATCH/third.out")"
done
# A full login is refused too while both slots are held.
ssh_try alice true
[ "$SSH_RC" = 255 ] || fail "login while full: ssh exit $SSH_RC, expected 255"

# The idle ones are still served.
pid_alive "$(tcp_idle_pid idle1)" || fail "idle1 was closed by the drop of later connections"
pid_alive "$(tcp_idle_pid idle2)" || fail "idle2 was closed by the drop of later connections"

# Closing one frees a slot once its child has exited.
tcp_idle_close idle1
ok=no
for i in 1 2 3 4 5 6 7 8 9 10; do
	if ssh_login_ok alice true; then
		ok=yes
		break
	fi
	sleep 0.5
done
[ $ok = yes ] || fail "no login within 5 s of closing an idle connection: ssh exit $SSH_RC: $(head -c 300 "$SCRATCH/ssh.err")"
verbose "login after freeing a slot: attempt $i"

tcp_idle_close idle2
stop_proxy
