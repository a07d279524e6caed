#	regress/ws-agent.sh: agent forwarding (auth-agent-req, UnixSocket LISTEN in
#	the workspace, auth-agent@openssh.com channels): ssh-add -l in a shell lists our key.

tid="ws-agent: ssh -A, then ssh-add -l in the workspace shell lists the key"
. "$(dirname "$0")/test-exec.sh"
. "$(dirname "$0")/ws-lib.sh"

require_cmd ssh-agent ssh-add
ws_setup

make_key agent
AGENT_SOCK=$SCRATCH/agent.sock
ssh-agent -a "$AGENT_SOCK" -D >"$SCRATCH/agent.log" 2>&1 &
track_pid $!
wait_for 10 test -S "$AGENT_SOCK" || fatal "ssh-agent did not create $AGENT_SOCK"
SSH_AUTH_SOCK=$AGENT_SOCK ssh-add -q "$SCRATCH/user_agent" || fatal "ssh-add failed"
fp=$($SSHKEYGEN -l -f "$SCRATCH/user_agent.pub" | awk '{ print $2 }')

# A shell (no command, no pty) reading its commands from stdin; two agent
# clients one after the other, as k8shelld relays them sequentially.
cat >"$SCRATCH/script" <<'EOS'
echo "sock=$SSH_AUTH_SOCK"
ssh-add -l; echo "rc1=$?"
ssh-add -l; echo "rc2=$?"
exit 0
EOS
# ssh_cmd's IdentityAgent=none would turn forwarding off: a script naming the agent.
WS_AGENT=$AGENT_SOCK ws_ssh_script "$SCRATCH/ssh-A.sh"
timeout "$SSH_TIMEOUT" "$SCRATCH/ssh-A.sh" -A <"$SCRATCH/script" >"$SCRATCH/ssh.out" 2>"$SCRATCH/ssh.err"
grep -q '^sock=/var/run/ssh-agent-ux-[a-z0-9]*-[0-9]*-[a-z2-7]*[0-9]*\.sock$' "$SCRATCH/ssh.out" ||
	fail "SSH_AUTH_SOCK is not /var/run/ssh-agent-ux-<connid><seq>.sock: $(grep '^sock=' "$SCRATCH/ssh.out")"
n=$(grep -c "^256 $fp regress key agent (ED25519)\$" "$SCRATCH/ssh.out")
expect_eq "ssh-add -l lines listing the key (two runs)" "$n" 2
grep -q '^rc1=0$' "$SCRATCH/ssh.out" || fail "first ssh-add -l failed: $(tr '\n' '|' <"$SCRATCH/ssh.out")"
grep -q '^rc2=0$' "$SCRATCH/ssh.out" || fail "second ssh-add -l failed: $(tr '\n' '|' <"$SCRATCH/ssh.out")"

# With -a (no forwarding) there is no agent in the workspace.
printf 'echo "sock=[${SSH_AUTH_SOCK-}]"\nexit 0\n' >"$SCRATCH/script2"
timeout "$SSH_TIMEOUT" "$SCRATCH/ssh-A.sh" -a <"$SCRATCH/script2" >"$SCRATCH/ssh.out" 2>"$SCRATCH/ssh.err"
expect_file "no -A: SSH_AUTH_SOCK" "$SCRATCH/ssh.out" "sock=[]"
