#	regress/sandbox.sh: the per-connection child runs under its seccomp filter,
#	non-dumpable, and still serves logins, commands, a transfer and rekeys.

tid="sandbox: child under seccomp (Seccomp: 2), non-dumpable; logins, exec, transfer, rekey work"
. "$(dirname "$0")/test-exec.sh"
. "$(dirname "$0")/ws-lib.sh"

case $(uname -m) in
x86_64|aarch64) ;;
*) skip "no seccomp filter for $(uname -m)" ;;
esac
require_cmd sha256sum head

make_hostkey ed25519
make_user alice
start_workspaced
ws_config
start_proxy --debug

# RekeyLimit 1K or 1 s: the client rekeys on almost every command below, and
# each rekey is a host-key signature through the monitor.
session_open s1 alice -o "RekeyLimit=1K 1"
child=$(the_child) || fatal "no child for session s1"
verbose "child $child: $(proc_cmdline "$child")"

[ "$(proc_status "$child" Seccomp)" = 2 ] ||
	fail "child Seccomp: '$(proc_status "$child" Seccomp)', expected 2 (filter mode)"
nf=$(proc_status "$child" Seccomp_filters)
[ "${nf:-0}" -ge 1 ] || fail "child Seccomp_filters: '$nf', expected at least 1"
[ "$(proc_status "$child" NoNewPrivs)" = 1 ] ||
	fail "child NoNewPrivs: '$(proc_status "$child" NoNewPrivs)', expected 1"
# Every thread, the library threads started after the filter included.
for t in /proc/"$child"/task/*; do
	s=$(sed -n 's/^Seccomp:[[:space:]]*//p' "$t/status" 2>/dev/null)
	[ -z "$s" ] || [ "$s" = 2 ] || fail "child thread ${t##*/}: Seccomp '$s', expected 2"
done
# Non-dumpable: its private /proc files (mem, fd, environ) belong to root
# although it runs as another user.
cuid=$(proc_status "$child" Uid | awk '{ print $2 }')
if [ "$cuid" != 0 ]; then
	[ "$(stat -c %u "/proc/$child/mem")" = 0 ] ||
		fail "/proc/$child/mem owned by uid $(stat -c %u "/proc/$child/mem"): the child is dumpable"
fi
grep -q "installing the seccomp filter" "$PROXY_LOG" ||
	fail "no 'installing the seccomp filter' debug line in the proxy log"

# Commands over the held connection, a few seconds apart: time and data both
# trigger rekeys meanwhile.
for n in 1 2 3 4; do
	session_exec s1 "echo sandbox-$n"
	expect_rc "command $n over s1" 0
	expect_file "command $n over s1: stdout" "$SCRATCH/ssh.out" "sandbox-$n"
	sleep 1
done
kex=$(grep -c "SSH2_MSG_NEWKEYS received" "$SCRATCH/session.s1.log")
[ "$kex" -ge 3 ] || fail "expected the initial KEX and at least 2 rekeys, the client saw $kex"
[ "$(the_child)" = "$child" ] || fail "the child changed during the session"
session_close s1
wait_for 5 pid_dead "$child" || fail "child $child still running after the session ended"

# A transfer both ways through a new connection: the byte pump and gRPC's
# threads at work under the filter.
head -c 1048576 /dev/urandom >"$SCRATCH/data.in"
ws_run "$SCRATCH/data.in" alice "cat"
expect_rc "1 MiB through cat" 0
[ "$(sha256_of "$SCRATCH/ssh.out")" = "$(sha256_of "$SCRATCH/data.in")" ] ||
	fail "1 MiB through cat: sha256 differs ($(wc -c <"$SCRATCH/ssh.out") bytes back)"

ssh_try alice "exit 7"
expect_rc "exit 7" 7

# No child met the filter's kill action or any other signal.
if grep -q "died of signal" "$PROXY_LOG"; then
	fail "a child died of a signal: $(grep "died of signal" "$PROXY_LOG" | head -n 3)"
fi
pid_alive "$PROXY_PID" || fail "listener died"
stop_proxy
