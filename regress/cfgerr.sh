#	regress/cfgerr.sh: `ssh-proxy -t` accepts a good config and rejects bad ones
#	with exit 1 and a message naming the file, the line and the key.

tid="cfgerr: config errors name file, line and key; exit 1 before listening"
. "$(dirname "$0")/test-exec.sh"


make_hostkey ed25519
make_user alice
write_config
good=$(cat "$CFG")

# check_bad NAME LINE KEY: the config in $SCRATCH/NAME.yaml must fail -t with
# exit 1 and a message holding "NAME.yaml:LINE:" and KEY.
check_bad() {
	f=$SCRATCH/$1.yaml
	"$PROXY" -t --config "$f" >"$SCRATCH/$1.out" 2>"$SCRATCH/$1.err" </dev/null
	rc=$?
	msg=$(cat "$SCRATCH/$1.out" "$SCRATCH/$1.err")
	[ "$rc" = 1 ] || fail "$1: -t exit $rc, expected 1: $msg"
	case $msg in
	*"$f:$2:"*) ;;
	*) fail "$1: message does not name $f:$2: $msg" ;;
	esac
	case $msg in
	*"$3"*) ;;
	*) fail "$1: message does not name the key '$3': $msg" ;;
	esac
	verbose "$1: $(echo "$msg" | head -n 1)"
}

"$PROXY" -t --config "$CFG" >"$SCRATCH/good.out" 2>&1 </dev/null
rc=$?
[ "$rc" = 0 ] || fail "good config: -t exit $rc: $(cat "$SCRATCH/good.out")"
grep -q "configuration OK" "$SCRATCH/good.out" ||
	fail "good config: no 'configuration OK': $(cat "$SCRATCH/good.out")"

# An unknown key (line 3: under server:, after port:).
printf '%s\n' "$good" | sed '2a\  bogusKey: 1' >"$SCRATCH/unknown.yaml"
check_bad unknown 3 bogusKey

# A wrong type: the port is line 2 of every generated config.
printf '%s\n' "$good" | sed 's/^  port: .*/  port: twenty/' >"$SCRATCH/type.yaml"
check_bad type 2 port

# A bad boolean (accepted leniently by libcyaml unless checked).
printf '%s\n' "$good" | sed '2a\  forking: maybe' >"$SCRATCH/bool.yaml"
check_bad bool 3 forking

# A value of the wrong shape: a mapping where a list is expected.
printf '%s\n' "$good" | sed '2a\  hostKeys: { a: b }' >"$SCRATCH/shape.yaml"
check_bad shape 3 hostKeys

# A port out of range.
printf '%s\n' "$good" | sed 's/^  port: .*/  port: 70000/' >"$SCRATCH/range.yaml"
check_bad range 2 port

# ${VAR} substitution: an unset variable is an error naming it; a set one works.
printf '%s\n' "$good" | sed 's/^  port: .*/  port: ${SSH_PROXY_REGRESS_UNSET}/' >"$SCRATCH/env.yaml"
unset SSH_PROXY_REGRESS_UNSET
check_bad env 2 SSH_PROXY_REGRESS_UNSET
SSH_PROXY_REGRESS_PORT=$PROXY_PORT
export SSH_PROXY_REGRESS_PORT
printf '%s\n' "$good" | sed 's/^  port: .*/  port: ${SSH_PROXY_REGRESS_PORT}/' >"$SCRATCH/envok.yaml"
"$PROXY" -t --config "$SCRATCH/envok.yaml" >"$SCRATCH/envok.out" 2>&1 </dev/null ||
	fail "port from \${SSH_PROXY_REGRESS_PORT}: -t failed: $(cat "$SCRATCH/envok.out")"

# !file: a value read from a file next to the config.
printf '%s\n' "$PROXY_PORT" >"$SCRATCH/port.txt"
printf '%s\n' "$good" | sed 's/^  port: .*/  port: !file port.txt/' >"$SCRATCH/file.yaml"
"$PROXY" -t --config "$SCRATCH/file.yaml" >"$SCRATCH/file.out" 2>&1 </dev/null ||
	fail "port from !file port.txt: -t failed: $(cat "$SCRATCH/file.out")"
printf '%s\n' "$good" | sed 's/^  port: .*/  port: !file missing.txt/' >"$SCRATCH/nofile.yaml"
check_bad nofile 2 missing.txt

# A missing host key file is a config error too.
printf '%s\n' "$good" | sed "s|^  serverKey: .*|  serverKey: $SCRATCH/nokey|" >"$SCRATCH/nokey.yaml"
"$PROXY" -t --config "$SCRATCH/nokey.yaml" >"$SCRATCH/nokey.out" 2>&1 </dev/null
rc=$?
[ "$rc" = 1 ] || fail "missing host key: -t exit $rc, expected 1"
grep -q "$SCRATCH/nokey" "$SCRATCH/nokey.out" ||
	fail "missing host key: message does not name the file: $(cat "$SCRATCH/nokey.out")"

# A missing config file.
"$PROXY" -t --config "$SCRATCH/absent.yaml" >"$SCRATCH/absent.out" 2>&1 </dev/null
rc=$?
[ "$rc" = 1 ] || fail "missing config file: -t exit $rc, expected 1"
grep -q "$SCRATCH/absent.yaml" "$SCRATCH/absent.out" ||
	fail "missing config file: message does not name it: $(cat "$SCRATCH/absent.out")"

# Without -t a bad config stops the proxy before it listens.
timeout 10 "$PROXY" --config "$SCRATCH/type.yaml" --logtext >"$SCRATCH/start.log" 2>&1 </dev/null
rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "bad config without -t: exit $rc, expected non-zero"
grep -q "listening on" "$SCRATCH/start.log" && fail "bad config without -t: the proxy listened"
port_listening "$PROXY_PORT" && fail "bad config without -t: port $PROXY_PORT is open"
grep -q "$SCRATCH/type.yaml:2:" "$SCRATCH/start.log" ||
	fail "bad config without -t: no message naming the line: $(head -n 3 "$SCRATCH/start.log")"
