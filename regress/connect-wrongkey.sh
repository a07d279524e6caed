#	regress/connect-wrongkey.sh: a key nobody authorized and an unknown user are
#	refused (ssh exit 255) and the listener keeps serving good logins.

tid="connect-wrongkey: wrong key and unknown user refused, listener keeps serving"
. "$(dirname "$0")/test-exec.sh"


make_hostkey ed25519
make_user alice
make_user bob
make_key mallory
start_proxy

expect_login "before the refusals" alice true
expect_refused "alice with mallory's key" -k "$SCRATCH/user_mallory" alice true
expect_refused "alice with bob's key" -k "$SCRATCH/user_bob" alice true
expect_refused "unknown user carol with alice's key" -k "$SCRATCH/user_alice" carol true
expect_refused "unknown user root" -k "$SCRATCH/user_alice" root true
# MaxAuthTries (default 6): the right key after 4 wrong ones still logs in;
# after 8 wrong ones the connection is already closed.
keys=
for k in k1 k2 k3 k4 k5 k6 k7 k8; do
	make_key $k
	keys="$keys -o IdentityFile=$SCRATCH/user_$k"
done
# shellcheck disable=SC2086
ssh_try -k "$SCRATCH/user_k1" alice -o IdentityFile="$SCRATCH/user_k2" \
    -o IdentityFile="$SCRATCH/user_k3" -o IdentityFile="$SCRATCH/user_k4" \
    -o IdentityFile="$SCRATCH/user_alice" true
case $SSH_RC in
255|124) fail "right key after 4 wrong ones: ssh exit $SSH_RC: $(head -c 300 "$SCRATCH/ssh.err")" ;;
esac
# shellcheck disable=SC2086
ssh_try -k "$SCRATCH/user_mallory" alice $keys -o IdentityFile="$SCRATCH/user_alice" true
[ "$SSH_RC" = 255 ] || fail "right key after 9 wrong ones: ssh exit $SSH_RC, expected 255"
grep -q "Too many authentication failures" "$SCRATCH/ssh.err" ||
	fail "right key after 9 wrong ones: $(head -c 300 "$SCRATCH/ssh.err")"
grep -q "too many authentication failures" "$PROXY_LOG" ||
	fail "no 'too many authentication failures' line in the proxy log"

pid_alive "$PROXY_PID" || fatal "listener died after the refusals"
expect_login "alice after the refusals" alice true
expect_login "bob after the refusals" bob true
# Refused connections leave no process behind.
wait_for 5 no_children_of "$PROXY_PID" ||
	fail "children left after the logins ended: $(children_of "$PROXY_PID")"
stop_proxy
