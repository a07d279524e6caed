#	regress/ws-unix.sh: the workspace on a Unix socket (workspaced --listen
#	unix:PATH --socket-mode, provisioner.static.address unix:PATH): commands
#	and bulk data both ways through the sandboxed child; a socket the child's
#	user may not connect to gives the user a readable message and status 1.

tid="ws-unix: k8shelld on a Unix socket, and one the child may not use"
. "$(dirname "$0")/test-exec.sh"
. "$(dirname "$0")/ws-lib.sh"

[ "${WS_PEER:-proxy}" = proxy ] || skip "the workspace socket is the proxy's alone"

make_hostkey ed25519
make_user alice
# The proxy's child runs as privsep.user, not as workspaced's owner: 666.
start_workspaced_unix 666
SOCK=$WS_SOCK
expect_eq "socket mode" "$(stat -c %a "$SOCK")" 666
ws_config
start_proxy

ssh_try alice 'echo over-unix'
expect_rc "exec over the Unix socket" 0
expect_file "exec over the Unix socket: stdout" "$SCRATCH/ssh.out" "over-unix"
grep -q "workspace at unix:$SOCK ready" "$PROXY_LOG" || fail "no 'workspace at unix:... ready' in the proxy log"

# 64 MiB each way: on this transport gRPC finishes sends on its own threads,
# which no fd shows (proto/grpc-poll.h); every byte must still arrive.
ws_roundtrip 67108864 "64 MiB over the Unix socket"

# Owner-only: the child (not root) may not connect.
stop_workspaced
start_workspaced_unix 600
expect_eq "socket mode" "$(stat -c %a "$SOCK")" 600
ssh_try alice 'echo hi'
expect_rc "socket the child may not use" 1
grep -qi "workspace unreachable" "$SCRATCH/ssh.err" ||
	fail "no 'workspace unreachable' on stderr: '$(head -c 300 "$SCRATCH/ssh.err")'"
grep -q "^hi" "$SCRATCH/ssh.out" && fail "the command ran"
grep -q "unix:$SOCK: Permission denied" "$PROXY_LOG" ||
	fail "the proxy log does not say why: $(grep handshake "$PROXY_LOG" | tail -n 1)"

# The proxy kept serving: the socket opened up again, the next login works.
chmod 666 "$SOCK"
ssh_try alice 'echo again'
expect_rc "after the refusal" 0
expect_file "after the refusal: stdout" "$SCRATCH/ssh.out" "again"
