#	regress/connect.sh: login with the right key; the host key is checked strictly
#	against known_hosts made from its .pub, for Ed25519, ECDSA P-256 and RSA.

tid="connect: login and strict host key check for ed25519, ecdsa, rsa host keys"
. "$(dirname "$0")/test-exec.sh"

require_root
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

	expect_login "$kt host key" alice -o HostKeyAlgorithms=$algs true
	# The host key offered is the one in the .pub: ssh prints its fingerprint.
	ssh_try -L DEBUG1 alice -o HostKeyAlgorithms=$algs true
	fp=$($SSHKEYGEN -l -f "$SCRATCH/host_$kt.pub" | awk '{ print $2 }')
	grep -q "Server host key: .* $fp" "$SCRATCH/ssh.err" ||
		fail "$kt: ssh did not see host key $fp: $(grep 'Server host key' "$SCRATCH/ssh.err")"

	# Control: a known_hosts line with another key must make ssh refuse.
	$SSHKEYGEN -q -t $kt -N '' -f "$SCRATCH/other_$kt" || fatal "ssh-keygen"
	write_known_hosts "$SCRATCH/other_$kt"
	ssh_try alice -o HostKeyAlgorithms=$algs true
	[ "$SSH_RC" = 255 ] || fail "$kt: wrong known_hosts key accepted (ssh exit $SSH_RC)"
	grep -q "Host key verification failed" "$SCRATCH/ssh.err" ||
		fail "$kt: wrong known_hosts key: no 'Host key verification failed': $(head -c 300 "$SCRATCH/ssh.err")"
	rm -f "$SCRATCH/other_$kt" "$SCRATCH/other_$kt.pub"

	stop_proxy
done

# All three keys in one listener: the client picks each by HostKeyAlgorithms.
HOSTKEYS=
HOSTKEYS_ONLY=no
for kt in ed25519 ecdsa rsa; do
	make_hostkey $kt
done
PROXY_PORT=
start_proxy
for algs in ssh-ed25519 ecdsa-sha2-nistp256 rsa-sha2-256; do
	expect_login "three host keys, $algs" alice -o HostKeyAlgorithms=$algs true
done
stop_proxy
