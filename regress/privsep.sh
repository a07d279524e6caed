#	regress/privsep.sh: the per-connection child runs as the unprivileged user with
#	no way to the host keys: not by uid, not by an open fd, not in its memory.

tid="privsep: child unprivileged, cannot read host keys, holds no key bytes"
. "$(dirname "$0")/test-exec.sh"

require_root
require_cmd setpriv
need_prog memscan
need_prog keysecret

user=${PRIVSEP_USER:-nobody}
uid=$(id -u "$user") || skip "no user '$user'"
gid=$(id -g "$user")

make_hostkey ed25519
make_hostkey ecdsa
make_user alice
start_proxy
session_open s1 alice

kids=$(children_of "$PROXY_PID")
set -- $kids
[ $# = 1 ] || fatal "expected one --child process below the listener, found: '$kids'"
child=$1
monitor=$(proc_ppid "$child")
[ "$(proc_ppid "$monitor")" = "$PROXY_PID" ] ||
	fail "the child's parent $monitor is not a monitor forked by the listener $PROXY_PID"
verbose "listener $PROXY_PID, monitor $monitor, child $child: $(proc_cmdline "$child")"

# Credentials of the child: all four uids and gids, no groups, no way back up.
[ "$(proc_status "$child" Uid)" = "$uid $uid $uid $uid" ] ||
	fail "child Uid: '$(proc_status "$child" Uid)', expected $uid x4"
[ "$(proc_status "$child" Gid)" = "$gid $gid $gid $gid" ] ||
	fail "child Gid: '$(proc_status "$child" Gid)', expected $gid x4"
[ -z "$(proc_status "$child" Groups)" ] ||
	fail "child has supplementary groups: '$(proc_status "$child" Groups)'"
[ "$(proc_status "$child" NoNewPrivs)" = 1 ] ||
	fail "child NoNewPrivs: '$(proc_status "$child" NoNewPrivs)', expected 1"
for cap in CapPrm CapEff CapAmb; do
	[ "$(proc_status "$child" $cap)" = 0000000000000000 ] ||
		fail "child $cap: '$(proc_status "$child" $cap)', expected none"
done
# The monitor keeps root: it answers the signing requests.
[ "$(proc_status "$monitor" Uid)" = "0 0 0 0" ] ||
	fail "monitor Uid: '$(proc_status "$monitor" Uid)', expected root"

# fd 3 is the client connection, fd 4 the monitor socket; no key file is open.
for fd in 3 4; do
	case $(readlink "/proc/$child/fd/$fd") in
	socket:*) ;;
	*) fail "child fd $fd is '$(readlink "/proc/$child/fd/$fd")', expected a socket" ;;
	esac
done
for f in /proc/"$child"/fd/*; do
	case $(readlink "$f") in
	"$SCRATCH"/host_*) fail "child has a host key file open: $f -> $(readlink "$f")" ;;
	esac
done

# With the child's credentials the key files cannot be opened (the .pub can:
# control that setpriv really runs the command).
for k in $HOSTKEYS; do
	setpriv --reuid="$uid" --regid="$gid" --clear-groups cat "$k.pub" >/dev/null 2>&1 ||
		fail "control: $user cannot read $k.pub"
	if setpriv --reuid="$uid" --regid="$gid" --clear-groups cat "$k" \
	    >"$SCRATCH/cat.out" 2>"$SCRATCH/cat.err"; then
		fail "$user can read host key $k"
	fi
	grep -q "Permission denied" "$SCRATCH/cat.err" ||
		fail "reading $k as $user: expected EACCES, got: $(cat "$SCRATCH/cat.err")"
done

# Control: the scan reads the child's memory (its argv holds the config path).
"$memscan" "$child" "$(printf '%s' "$CFG" | od -An -v -tx1 | tr -d ' \n')" \
    >"$SCRATCH/scan-child-control.out" 2>&1 ||
	fail "control: memscan does not find the config path in the child's memory"

# Memory: the Ed25519 seed is in the monitor (control) and nowhere in the
# child; the ECDSA scalar likewise, in either byte order (a bignum's words
# are little-endian in memory).
seed=$("$keysecret" "$SCRATCH/host_ed25519") || fatal "keysecret ed25519"
"$memscan" "$monitor" "$seed" >"$SCRATCH/scan-monitor-ed25519.out" 2>&1 ||
	fail "control: the Ed25519 seed is not in the monitor's memory"
"$memscan" "$child" "$seed" >"$SCRATCH/scan-child-ed25519.out" 2>&1
case $? in
1) ;;
0) fail "the Ed25519 seed is in the child's memory: $(head -n 3 "$SCRATCH/scan-child-ed25519.out")" ;;
*) fail "memscan of the child failed: $(cat "$SCRATCH/scan-child-ed25519.out")" ;;
esac

d=$("$keysecret" "$SCRATCH/host_ecdsa") || fatal "keysecret ecdsa"
dr=$("$keysecret" -r "$SCRATCH/host_ecdsa") || fatal "keysecret -r ecdsa"
"$memscan" "$monitor" "$d" "$dr" >"$SCRATCH/scan-monitor-ecdsa.out" 2>&1 ||
	fail "control: the ECDSA scalar is not in the monitor's memory"
"$memscan" "$child" "$d" "$dr" >"$SCRATCH/scan-child-ecdsa.out" 2>&1
case $? in
1) ;;
0) fail "the ECDSA scalar is in the child's memory: $(head -n 3 "$SCRATCH/scan-child-ecdsa.out")" ;;
*) fail "memscan of the child failed: $(cat "$SCRATCH/scan-child-ecdsa.out")" ;;
esac

# Nor the key files' text: every base64 line of both private key files, but
# for lines made only of public-key bytes that happen to align with the
# public key's own base64 (the child may hold that text: it is public).
lines=
for k in $HOSTKEYS; do
	pub=$(cat "$k.pub")
	for l in $(grep -v -e '^-----' "$k" | awk 'length($0) >= 40'); do
		case $pub in
		*"$l"*) trace "skipping public line $l"; continue ;;
		esac
		lines="$lines $(printf '%s' "$l" | od -An -v -tx1 | tr -d ' \n')"
	done
done
# shellcheck disable=SC2086
"$memscan" "$child" $lines >"$SCRATCH/scan-child-text.out" 2>&1
case $? in
1) ;;
0) fail "the child holds private key file text: $(grep found "$SCRATCH/scan-child-text.out" | head -n 3)" ;;
*) fail "memscan of the child failed: $(cat "$SCRATCH/scan-child-text.out")" ;;
esac

# The session still works after being inspected, and both processes go away
# when it ends.
session_works s1 || fail "session after the scan: ssh exit $SSH_RC: $(head -c 300 "$SCRATCH/ssh.err")"
session_close s1
wait_for 5 pid_dead "$child" || fail "child $child still running after the session ended"
wait_for 5 pid_dead "$monitor" || fail "monitor $monitor still running after the session ended"
stop_proxy
