# contrib/libssh/tests/test-lib.sh: helpers shared by the libssh patch tests:
# a scratch dir, host keys, the one-connection test server and the OpenSSH client.

: "${tid:=libssh patch test}"
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
server_bin=$top_builddir/contrib/libssh/tests/patch-server
server_pid=
client_pid=

fail() {
	echo "FAIL: $tid: $*" >&2
	for f in "$tmp"/server.err "$tmp"/client.err; do
		[ -s "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }
	done
	exit 1
}

trace() {
	echo "$tid: $*"
}

cleanup() {
	for pid in $client_pid $server_pid; do
		kill "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}

for tool in ssh ssh-keygen timeout; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not found"; exit 77; }
done
[ -x "$server_bin" ] || { echo "ERROR: $server_bin not built" >&2; exit 99; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/libssh-patch.XXXXXX")
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# make_key NAME TYPE BITS: OpenSSH format for Ed25519 (the only one ssh-keygen
# writes), PKCS#8 for the others so the test's signer can load them.
make_key() {
	if [ "$2" = ed25519 ]; then
		ssh-keygen -q -t ed25519 -N '' -C '' -f "$tmp/$1" || fail "ssh-keygen $1"
	else
		ssh-keygen -q -t "$2" -b "$3" -m PKCS8 -N '' -C '' -f "$tmp/$1" ||
			fail "ssh-keygen $1"
	fi
}

# start_server MODE KEY [server options...]: sets server_pid and port.
start_server() {
	mode=$1 key=$2
	shift 2
	rm -f "$tmp/port"
	# shellcheck disable=SC2086 # e.g. PATCH_SERVER_WRAPPER="valgrind -q ..."
	${PATCH_SERVER_WRAPPER:-} "$server_bin" "$mode" -k "$tmp/$key.pub" -p "$tmp/port" "$@" \
		>"$tmp/server.out" 2>"$tmp/server.err" &
	server_pid=$!
	i=0
	while [ ! -s "$tmp/port" ]; do
		i=$((i + 1))
		[ $i -le 100 ] || fail "server did not start"
		kill -0 "$server_pid" 2>/dev/null || fail "server exited early"
		sleep 0.1
	done
	port=$(cat "$tmp/port")
	# The client trusts exactly the .pub file: StrictHostKeyChecking=yes.
	echo "[127.0.0.1]:$port $(cut -d ' ' -f 1,2 "$tmp/$key.pub")" >"$tmp/known_hosts"
}

# wait_server: the server's exit status, after at most 60 s.
wait_server() {
	i=0
	while kill -0 "$server_pid" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 600 ]; then
			kill "$server_pid"
			fail "server did not exit"
		fi
		sleep 0.1
	done
	wait_rc=0
	wait "$server_pid" || wait_rc=$?
	server_pid=
	return $wait_rc
}

# ssh_client [ssh options and command...]: the real OpenSSH client, no user
# config, trusting only known_hosts, authenticating with "none" (and with the
# keys given with -i when ssh_pubkey=yes).
ssh_client() {
	set -- -F /dev/null -p "$port" \
		-o UserKnownHostsFile="$tmp/known_hosts" \
		-o GlobalKnownHostsFile=/dev/null \
		-o StrictHostKeyChecking=yes \
		-o BatchMode=yes \
		-o IdentityAgent=none \
		-o PubkeyAuthentication="${ssh_pubkey:-no}" \
		-o IdentitiesOnly=yes \
		-o PasswordAuthentication=no \
		-o KbdInteractiveAuthentication=no \
		-o ConnectTimeout=10 \
		-o LogLevel=ERROR \
		"$@"
	if [ "$ssh_bg" = 1 ]; then
		# client_pid is timeout's own pid, which passes a kill on to ssh.
		(exec timeout 60 ssh "$@") &
		client_pid=$!
	else
		timeout 60 ssh "$@"
	fi
}

# ssh_client_bg: ssh_client in the background; sets client_pid.
ssh_client_bg() {
	ssh_bg=1
	ssh_client "$@"
	ssh_bg=0
}
ssh_bg=0
