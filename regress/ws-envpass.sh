#	regress/ws-envpass.sh: env requests (SendEnv, SetEnv) reach the command;
#	USER and LOGNAME are the authenticated user (spec/k8shelld.md environment list).

tid="ws-envpass: SendEnv/SetEnv values and USER/LOGNAME in the workspace"
. "$(dirname "$0")/test-exec.sh"
. "$(dirname "$0")/ws-lib.sh"

ws_setup

FOO="bar-$$ with spaces"
export FOO
ssh_try alice -o SendEnv=FOO 'printf "%s\n" "$FOO"'
expect_rc "SendEnv FOO" 0
expect_file "SendEnv FOO" "$SCRATCH/ssh.out" "$FOO"

ssh_try alice -o SetEnv="WS_ONE=1 WS_TWO=two=2" 'printf "%s|%s\n" "$WS_ONE" "$WS_TWO"'
expect_rc "SetEnv" 0
expect_file "SetEnv" "$SCRATCH/ssh.out" "1|two=2"

# Without SendEnv nothing is passed.
ssh_try alice 'printf "[%s]\n" "${FOO-unset}"'
expect_rc "no SendEnv" 0
expect_file "no SendEnv" "$SCRATCH/ssh.out" "[unset]"

ssh_try alice 'printf "%s %s\n" "$USER" "$LOGNAME"'
expect_rc "USER/LOGNAME" 0
expect_file "USER/LOGNAME" "$SCRATCH/ssh.out" "alice alice"

# A client USER is dropped: the login variables are the proxy's.
USER=mallory
export USER
ssh_try alice -o SendEnv=USER 'printf "%s\n" "$USER"'
expect_file "client USER ignored" "$SCRATCH/ssh.out" "alice"
