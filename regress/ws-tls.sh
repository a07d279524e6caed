#	regress/ws-tls.sh: the workspace over TLS (workspaced --tls-cert, the
#	proxy's provisioner.static.caCertPath and serverName): commands and bulk
#	data through the sandboxed child's TLS channel; a wrong name, another CA,
#	plaintext and an unreadable CA each give the user a readable message and
#	status 1.

tid="ws-tls: k8shelld over TLS works, wrong name/plaintext/missing CA give a message"
. "$(dirname "$0")/test-exec.sh"
. "$(dirname "$0")/ws-lib.sh"

[ "${WS_PEER:-proxy}" = proxy ] || skip "TLS to the workspace is the proxy's alone"
MKCERT=$top_builddir/regress/ws-mkcert
[ -x "$MKCERT" ] || fatal "$MKCERT is not built (make check builds it)"
"$MKCERT" "$SCRATCH/ws.crt" "$SCRATCH/ws.key" workspace.test || fatal "ws-mkcert failed"
# The child runs as privsep.user: it must be able to read the CA.
chmod 644 "$SCRATCH/ws.crt"

make_hostkey ed25519
make_user alice
WS_ARGS="--tls-cert $SCRATCH/ws.crt --tls-key $SCRATCH/ws.key"
start_workspaced
grep -q "(TLS)" "$WS_LOG" || fail "workspaced does not say it serves TLS"

# proxy_with STATIC-EXTRA: a proxy whose provisioner.static has these lines.
proxy_with() {
	stop_proxy
	WS_STATIC_EXTRA=$1
	ws_config
	start_proxy
}

proxy_with "    caCertPath: $SCRATCH/ws.crt
    serverName: workspace.test"
ssh_try alice 'echo over-tls'
expect_rc "exec over TLS" 0
expect_file "exec over TLS: stdout" "$SCRATCH/ssh.out" "over-tls"
grep -q "workspace at .* ready" "$PROXY_LOG" || fail "no 'workspace ... ready' in the proxy log"

# Bulk data both ways through TLS on the child's own loop (grpc-poll).
ws_roundtrip 8388608 "8 MiB over TLS"

# expect_refused WHAT PATTERN: the last ssh_try failed with PATTERN on stderr.
expect_refused() {
	expect_rc "$1" 1
	grep -qi "$2" "$SCRATCH/ssh.err" ||
		fail "$1: no '$2' on stderr: '$(head -c 300 "$SCRATCH/ssh.err")'"
	grep -q "^hi" "$SCRATCH/ssh.out" && fail "$1: the command ran"
	verbose "$1: $(head -n 1 "$SCRATCH/ssh.err")"
}

# The certificate names workspace.test, not other.test.
proxy_with "    caCertPath: $SCRATCH/ws.crt
    serverName: other.test"
ssh_try alice 'echo hi'
expect_refused "wrong serverName" "TLS certificate was not accepted"
grep -q "handshake with .* (TLS) failed" "$PROXY_LOG" || fail "no TLS handshake failure in the proxy log"

# A CA that did not sign the workspace's certificate (same name, other key).
"$MKCERT" "$SCRATCH/other.crt" "$SCRATCH/other.key" workspace.test || fatal "ws-mkcert failed"
chmod 644 "$SCRATCH/other.crt"
proxy_with "    caCertPath: $SCRATCH/other.crt
    serverName: workspace.test"
ssh_try alice 'echo hi'
expect_refused "untrusted certificate" "TLS certificate was not accepted"

# Plaintext against a TLS workspace.
proxy_with ""
ssh_try alice 'echo hi'
expect_refused "plaintext to a TLS workspace" "workspace unreachable"

# A CA the child cannot read.
proxy_with "    caCertPath: $SCRATCH/missing-ca.crt
    serverName: workspace.test"
ssh_try alice 'echo hi'
expect_refused "missing CA file" "cannot read its CA certificate"
grep -q "provisioner.static.caCertPath .*missing-ca.crt" "$PROXY_LOG" ||
	fail "the proxy log does not name the missing CA file"
pid_alive "$PROXY_PID" || fail "the listener died"
