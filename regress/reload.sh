#	regress/reload.sh: SIGHUP re-execs the listener in place with the new config;
#	a session open across the reload keeps working and new logins use the new config.

tid="reload: SIGHUP keeps live sessions, same listener pid, new config applies"
. "$(dirname "$0")/test-exec.sh"


make_hostkey ed25519
make_user alice
start_proxy
exe_before=$(readlink "/proc/$PROXY_PID/exe")

session_open s1 alice
session_works s1 || fail "session before the reload: ssh exit $SSH_RC"
set -- $(children_of "$PROXY_PID")
[ $# = 1 ] || fatal "expected one child for the session, found $#"
child=$1
monitor=$(proc_ppid "$child")

# bob is not in the config yet.
make_user bob
USERS=alice
expect_refused "bob before the reload" bob true

# The new config authorizes bob; the reload must pick it up.
USERS="alice bob"
write_config
listening_before=$(grep -c "listening on .*$PROXY_PORT" "$PROXY_LOG")
kill -HUP "$PROXY_PID" || fatal "cannot signal the listener"
wait_for 10 proxy_listening "$listening_before" ||
	fatal "no new 'listening on' line within 10 s of SIGHUP"
verbose "reloaded: $(grep "listening on" "$PROXY_LOG" | tail -n 1)"

pid_alive "$PROXY_PID" || fatal "listener $PROXY_PID gone after SIGHUP"
[ "$(readlink "/proc/$PROXY_PID/exe")" = "$exe_before" ] ||
	fail "listener runs '$(readlink "/proc/$PROXY_PID/exe")' after SIGHUP, expected '$exe_before'"
case " $(proc_cmdline "$PROXY_PID") " in
*" --config $CFG "*) ;;
*) fail "listener command line after SIGHUP: '$(proc_cmdline "$PROXY_PID")'" ;;
esac

# The old session: same processes, and a new channel over it still works.
pid_alive "$(session_pid s1)" || fail "the ssh client of the old session exited"
pid_alive "$child" || fail "the old session's child $child died on SIGHUP"
pid_alive "$monitor" || fail "the old session's monitor $monitor died on SIGHUP"
session_works s1 || fail "old session after the reload: ssh exit $SSH_RC: $(head -c 300 "$SCRATCH/ssh.err")"

expect_login "alice after the reload" alice true
expect_login "bob after the reload (new config)" bob true

# A second reload while the first session is still open.
listening_before=$(grep -c "listening on .*$PROXY_PORT" "$PROXY_LOG")
kill -HUP "$PROXY_PID"
wait_for 10 proxy_listening "$listening_before" || fail "no 'listening on' line after the second SIGHUP"
session_works s1 || fail "old session after the second reload: ssh exit $SSH_RC"
expect_login "alice after the second reload" alice true

# A broken config on SIGHUP: the listener keeps the running one and says why.
printf 'server:\n  port: twenty\n' >"$CFG"
kill -HUP "$PROXY_PID"
wait_for 10 grep -q "keeping the running configuration" "$PROXY_LOG" ||
	fail "no 'keeping the running configuration' line after SIGHUP with a bad config"
grep -q "$CFG:2:.*server.port" "$PROXY_LOG" ||
	fail "the reload error does not name $CFG:2 and server.port: $(grep -i error "$PROXY_LOG" | tail -n 1)"
pid_alive "$PROXY_PID" || fatal "listener died on SIGHUP with a bad config"
expect_login "bob after a rejected reload" bob true
session_works s1 || fail "old session after a rejected reload: ssh exit $SSH_RC"

session_close s1
wait_for 5 pid_dead "$child" || fail "child $child still running after the session ended"
stop_proxy
