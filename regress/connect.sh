#	regress/connect.sh: login with the right key; the host key is checked strictly
#	against known_hosts made from its .pub, for Ed25519, ECDSA P-256 and RSA.

tid="connect: login and strict host key check for ed25519, ecdsa, rsa host keys"
. "$(dirname "$0")/test-exec.sh"

require_cmd socat

banner=$(expected_banner)
[ -n "$banner" ] || fatal "cannot derive the version string from '$PROXY -v': $("$PROXY" -v 2>&1)"
make_user alice

for kt in ed25519 ecdsa rsa; do
	case $kt in
	ed25519) algs=ssh-ed25519; other=ecdsa ;;
	ecdsa) algs=ecdsa-sha2-nistp256; other=rsa ;;
	rsa) algs=rsa-sha2-512,rsa-sha2-256; other=ed25519 ;;
	esac
	HOSTKEYS=
	make_hostkey $kt
	# ECDSA through the list-only key server.hostKeys, the others through the
	# Go key server.serverKey.
	HOSTKEYS_ONLY=no
	[ $kt = ecdsa ] && HOSTKEYS_ONLY=yes
	PROXY_PORT=
	start_proxy

	got=$(read_banner "$PROXY_PORT")
	[ "$got" = "$banner" ] || fail "$kt: version string '$got', expected '$banner'"

	expect_login "$kt host key" alice -o HostKeyAlgorithms="$algs" true
	# The host key offered is the one in the .pub: ssh prints its fingerprint.
	ssh_try -L DEBUG1 alice -o HostKeyAlgorithms="$algs" true
	fp=$($SSHKEYGEN -l -f "$SCRATCH/host_$kt.pub" | awk '{ print $2 }')
	grep -q "Server host key: .* $fp" "$SCRATCH/ssh.err" ||
		fail "$kt: ssh did not see host key $fp: $(grep 'Server host key' "$SCRATCH/ssh.err")"

	# Control: a known_hosts line with another key must make ssh refuse.
	$SSHKEYGEN -q -t $kt -N '' -f "$SCRATCH/other_$kt" || fatal "ssh-keygen"
	write_known_hosts "$SCRATCH/other_$kt"
	ssh_try alice -o HostKeyAlgorithms="$algs" true
	[ "$SSH_RC" = 255 ] || fail "$kt: wrong known_hosts key accepted (ssh exit $SSH_RC)"
	grep -q "Host key verification failed" "$SCRATCH/ssh.err" ||
		fail "$kt: wrong known_hosts key: no 'Host key verification failed': $(head -c 300 "$SCRATCH/ssh.err")"
	rm -f "$SCRATCH/other_$kt" "$SCRATCH/other_$kt.pub"

	stop_proxy
done

# All three keys in one listener: the client picks each by HostKeyAlgorithms.
# This listener logs in the default format: one JSON object per line.
HOSTKEYS=
HOSTKEYS_ONLY=no
for kt in ed25519 ecdsa rsa; do
	make_hostkey $kt
done
PROXY_PORT=
PROXY_LOG=$SCRATCH/proxy-json.log
PROXY_LOGTEXT=no
start_proxy
for algs in ssh-ed25519 ecdsa-sha2-nistp256 rsa-sha2-256; do
	expect_login "three host keys, $algs" alice -o HostKeyAlgorithms="$algs" true
done
stop_proxy
PROXY_LOGTEXT=yes

json_re='^\{"time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z","level":"(debug|info|warn|error|fatal)","component":"[a-z]+","pid":[0-9]+,.*\}$'
bad=$(grep -c -v -E "$json_re" "$PROXY_LOG")
[ "$bad" = 0 ] || fail "$bad log lines are not JSON objects: $(grep -v -E "$json_re" "$PROXY_LOG" | head -n 3)"
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import json, sys
for n, line in enumerate(sys.stdin, 1):
    json.loads(line)' <"$PROXY_LOG" 2>"$SCRATCH/json.err" ||
		fail "log line does not parse as JSON: $(tail -n 1 "$SCRATCH/json.err")"
fi
# Every child line names its connection (spec/flows.md: proxyID-pid-26 base32).
nchild=$(grep -c '"component":"child"' "$PROXY_LOG")
[ "$nchild" -ge 3 ] || fail "expected lines from 3 children, found $nchild lines"
noconn=$(grep '"component":"child"' "$PROXY_LOG" |
    grep -c -v -E '"conn":"[a-z0-9]+-[0-9]+-[a-z2-7]{26}"')
[ "$noconn" = 0 ] || fail "$noconn child log lines without a connection id: $(grep '"component":"child"' "$PROXY_LOG" | grep -v '"conn":' | head -n 2)"
