#	regress/connect-wrongkey.sh: a key nobody authorized and an unknown user are
#	refused (ssh exit 255) and the listener keeps serving good logins.

tid="connect-wrongkey: wrong key and unknown user refused, listener keeps serving"
. "$(dirname "$0")/test-exec.sh"

require_root

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
# Several keys offered, none authorized: refused within MaxAuthTries.
for k in k1 k2 k3; do
	make_key $k
done
ssh_try -k "$SCRATCH/user_mallory" alice -o IdentityFile="$SCRATCH/user_k1" \
    -o IdentityFile="$SCRATCH/user_k2" -o IdentityFile="$SCRATCH/user_k3" true
[ "$SSH_RC" = 255 ] || fail "four unauthorized keys: ssh exit $SSH_RC, expected 255"

pid_alive "$PROXY_PID" || fatal "listener died after the refusals"
expect_login "alice after the refusals" alice true
expect_login "bob after the refusals" bob true
# Refused connections leave no process behind.
wait_for 5 no_children_of "$PROXY_PID" ||
	fail "children left after the logins ended: $(children_of "$PROXY_PID")"
stop_proxy
