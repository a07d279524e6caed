#!/bin/sh
#	contrib/workspaced/tests/workspaced.sh: starts ./workspaced on free loopback ports
#	and runs every wsd-test case against it over real gRPC; no process may outlive it.
tid="workspaced: the k8shelld API over loopback gRPC"

set -u
if [ -z "${top_builddir:-}" ]; then
	top_builddir=$(cd "$(dirname "$0")/../../.." && pwd)
fi
WSD=$top_builddir/workspaced
CLIENT=$top_builddir/contrib/workspaced/tests/wsd-test
WSD_PREFIX=
RESULT=0
PIDS=
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/wsd-regress.XXXXXX") || exit 1

fail() {
	RESULT=1
	echo "FAIL: $tid: $*"
}

cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# start_wsd NAME [ARGS...]: sets ADDR and WSD_PID.
start_wsd() {
	_n=$1
	shift
	$WSD_PREFIX "$WSD" --listen 127.0.0.1:0 --logtext --debug "$@" \
	    >"$SCRATCH/$_n.out" 2>"$SCRATCH/$_n.log" &
	WSD_PID=$!
	PIDS="$PIDS $WSD_PID"
	ADDR=
	_i=0
	while [ $_i -lt 100 ] && [ -z "$ADDR" ]; do
		ADDR=$(sed -n 's/^workspaced listening on //p' "$SCRATCH/$_n.out")
		[ -n "$ADDR" ] && break
		kill -0 "$WSD_PID" 2>/dev/null || break
		sleep 0.1
		_i=$((_i + 1))
	done
	if [ -z "$ADDR" ]; then
		cat "$SCRATCH/$_n.log"
		fail "$_n did not start"
		exit 1
	fi
}

# stop_wsd NAME PID: SIGTERM must end it cleanly (exit 0; leaks fail under ASan).
stop_wsd() {
	kill -TERM "$2"
	wait "$2"
	_rc=$?
	if [ $_rc -ne 0 ]; then
		tail -40 "$SCRATCH/$1.log"
		fail "$1 exited with $_rc after SIGTERM"
	fi
}

run_case() {
	echo "run: $1"
	if ! "$CLIENT" "$ADDR" "$@"; then
		tail -30 "$SCRATCH/main.log"
		fail "case $1"
	fi
}

# Usage errors exit 2 before anything starts.
"$WSD" >/dev/null 2>&1
[ $? -eq 2 ] || fail "no --listen: expected exit 2"

start_wsd main
MAIN_PID=$WSD_PID
for c in handshake exec-basic exec-env exec-exitcodes exec-ids exec-stdin exec-signal \
    exec-pty exec-drain exec-cancel exec-user shell-pty shell-pipe shell-resize shell-cancel \
    portforward unix-dial unix-listen; do
	run_case $c
done
stop_wsd main "$MAIN_PID"

# With --token-file every call needs "authorization: Bearer <token>".
printf 'tok-%s\n' "$$" >"$SCRATCH/token"
start_wsd auth --token-file "$SCRATCH/token"
echo "run: auth"
"$CLIENT" "$ADDR" auth "tok-$$" || fail "case auth"
stop_wsd auth "$WSD_PID"

# Not root: as_user may only name ourselves (PermissionDenied otherwise).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 &&
    setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups test -x "$WSD"; then
	WSD_PREFIX="setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups"
	start_wsd nonroot
	echo "run: exec-user-nonroot"
	"$CLIENT" "$ADDR" exec-user-nonroot nobody || fail "case exec-user-nonroot"
	stop_wsd nonroot "$WSD_PID"
else
	echo "skipped: exec-user-nonroot (needs root, setpriv, and a build nobody can run)"
fi

exit $RESULT
